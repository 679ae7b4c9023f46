// The loss family on CUDA as the binding sees it: plain C++ (no CUDA headers), the contracts of
// native/cpu/loss/nll_loss.h on device descriptors, queued on cuda::stream().
//
// As on the CPU every target is checked (in [0, C) or ignore_index) before anything is written:
// a kernel looks for the first bad one and the host reads its verdict back (one small
// synchronous copy per call, as native/cuda/index does). The reductions sum in double, per block
// then over the blocks in a fixed order, so results are deterministic run to run.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"
#include "../../cpu/loss/nll_loss.h"

namespace dendrite::cuda {

void nll_loss_forward(const TensorDesc& out, const TensorDesc& total_weight, const TensorDesc& input, const TensorDesc& target,
                      const TensorDesc* weight, int64_t ignore_index, cpu::Reduction reduction);

void nll_loss_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& target, const TensorDesc* weight,
                       const TensorDesc& total_weight, int64_t ignore_index, cpu::Reduction reduction);

}  // namespace dendrite::cuda

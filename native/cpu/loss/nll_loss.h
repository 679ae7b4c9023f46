// Negative log-likelihood loss over class scores (log-probabilities), forward and backward, with
// class weights, an ignored target value and PyTorch's reductions. Cross-entropy is log-softmax
// (native/cpu/softmax) followed by this, as in PyTorch. One pass, no temporaries: composing it
// from gather/where/sum would take five passes and a copy of the targets.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

// Values match PyTorch's at::Reduction.
enum class Reduction : int32_t { None = 0, Mean = 1, Sum = 2 };

// input: contiguous float, (C) with a 0-d target, or (N, C, d1, ..., dk) with target
// (N, d1, ..., dk) of int32/int64, also contiguous. weight: (C) of input's dtype, or null.
// None: out has target's shape, out[n, d] = -weight[t] * input[n, t, d] (0 where t == ignore_index).
// Mean/Sum: out is 0-d; Mean divides by the summed weight of the counted targets (NaN when none).
// total_weight (0-d, input's dtype) receives that sum for the backward. Every target is checked
// (in [0, C) or ignore_index) before anything is written.
void nll_loss_forward(const TensorDesc& out, const TensorDesc& total_weight, const TensorDesc& input,
                      const TensorDesc& target, const TensorDesc* weight, int64_t ignore_index, Reduction reduction);

// grad_input (input's shape, contiguous) is written in full: -weight[t] * grad at each target
// position (grad divided by total_weight for Mean), zeros elsewhere. grad_out is 0-d for
// Mean/Sum, target-shaped (any strides) for None.
void nll_loss_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& target,
                       const TensorDesc* weight, const TensorDesc& total_weight, int64_t ignore_index, Reduction reduction);

// The scores seen as (n, c, inner): n = 1 and inner = 1 for 1-D scores.
struct NllLossDims {
  int64_t n = 1, c = 1, inner = 1;
};

// The argument checks of nll_loss_forward / nll_loss_backward (dtypes, shapes, contiguity; not
// the target values), shared by the CPU and CUDA drivers so both throw the same errors.
NllLossDims check_nll_loss_forward_args(const TensorDesc& out, const TensorDesc& total_weight, const TensorDesc& input,
                                        const TensorDesc& target, const TensorDesc* weight, Reduction reduction);
NllLossDims check_nll_loss_backward_args(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& target,
                                         const TensorDesc* weight, const TensorDesc& total_weight, Reduction reduction);

}  // namespace dendrite::cpu

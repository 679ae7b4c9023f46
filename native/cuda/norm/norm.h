// The CUDA batch-norm and embedding kernels as the bindings see them (plain C++, no CUDA
// headers). float32 and float64.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cuda {

// The contracts of native/cpu/norm/batch_norm.h. Training statistics are Welford accumulators
// (Chan et al.'s merge) in double, per channel over N x L, reduced in a fixed order, so a run is
// deterministic; they match the CPU's two double passes to rounding.
void batch_norm_forward(const TensorDesc& y, const TensorDesc& save_mean, const TensorDesc& save_invstd,
                        const TensorDesc& x, const TensorDesc* weight, const TensorDesc* bias,
                        const TensorDesc* running_mean, const TensorDesc* running_var, bool training, double momentum,
                        double eps);
void batch_norm_backward(const TensorDesc* gx, const TensorDesc* gw, const TensorDesc* gb, const TensorDesc& gy,
                         const TensorDesc& x, const TensorDesc* weight, const TensorDesc& save_mean,
                         const TensorDesc& save_invstd, bool training);

// The embedding backward, deterministic: gw [V, E] (overwritten) gets, in row v, the sum of the
// rows of gy [n, E] at the positions p where indices[p] == v, added in increasing p (the CPU's
// indexAdd order, so both devices agree bitwise). The indices (int32 / int64, n of them,
// contiguous) are sorted on the device (a stable radix sort of (index, position) pairs), and one
// warp sums each run of equal indices. Row padding_idx (-1: none) stays zero; indices outside
// [0, V) are skipped.
void embedding_backward(const TensorDesc& gw, const TensorDesc& indices, const TensorDesc& gy, int64_t padding_idx);

// max_norm renormalisation, in place: each row of weight [V, E] named in indices (once, however
// often it appears) whose norm_type-norm exceeds max_norm is scaled to max_norm, as the CPU path
// computes it (w += w * (max_norm / (norm + 1e-7) - 1)). Indices outside [0, V) are skipped.
void embedding_renorm(const TensorDesc& weight, const TensorDesc& indices, double max_norm, double norm_type);

}  // namespace dendrite::cuda

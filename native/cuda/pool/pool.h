// The CUDA pooling family as the bindings see it (plain C++, no CUDA headers): the contracts of
// native/cpu/pool/pool.h on device tensors, plus the one-dim resampling behind interpolate and
// pad on CUDA. float32 and float64; results equal the CPU's scalar path (same window clipping,
// tap and accumulation order), and every backward is a deterministic gather (no atomics).
#pragma once
#include <cstdint>
#include "../../core/tensor.h"
#include "../../cpu/pool/pool.h"

namespace dendrite::cuda {

void max_pool2d_forward(const TensorDesc& y, const TensorDesc& indices, const TensorDesc& x, const cpu::PoolParams& p);
// gx from gy through the argmax indices. Each input element sums, in output order, the
// gradients of the outputs whose index names it, looking only at the outputs whose window can
// hold it: the windows of `p` (max pooling) or, with p null, the adaptive windows. Indices
// outside the plane (impossible from the forward) are never followed.
void max_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy, const TensorDesc& indices, const cpu::PoolParams* p);

void avg_pool2d_forward(const TensorDesc& y, const TensorDesc& x, const cpu::PoolParams& p, bool count_include_pad,
                        int64_t divisor_override);
void avg_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy, const cpu::PoolParams& p, bool count_include_pad,
                         int64_t divisor_override);

void adaptive_avg_pool2d_forward(const TensorDesc& y, const TensorDesc& x);
void adaptive_avg_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy);
void adaptive_max_pool2d_forward(const TensorDesc& y, const TensorDesc& indices, const TensorDesc& x);

// Resampling along `dim` of a contiguous tensor (pool_math.cuh describes the plan): out takes x's
// shape with out.shape[dim] output rows, each one input row (weights null) or the weighted sum
// of two (weights [2 * n_out] of x's dtype). The backward writes all of gx.
void resample_forward(const TensorDesc& out, const TensorDesc& x, int dim, const TensorDesc& plan, const TensorDesc* weights);
void resample_backward(const TensorDesc& gx, const TensorDesc& gy, int dim, const TensorDesc& plan, const TensorDesc* weights);

}  // namespace dendrite::cuda

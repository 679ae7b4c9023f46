// Batch normalisation over [N, C, *] (contiguous; the trailing dims are flattened into L).
// Statistics are accumulated in double whatever the dtype.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

// x [N, C, *] seen as N x C x L (L the trailing dims flattened).
struct BatchNormLayout {
  int64_t N, C, L;
};

// The argument checks of batch_norm_forward / batch_norm_backward (dtypes, shapes, contiguity,
// the running-stat rules), shared by the CPU and CUDA drivers so both throw the same errors.
BatchNormLayout check_batch_norm_forward_args(const TensorDesc& y, const TensorDesc& save_mean,
                                              const TensorDesc& save_invstd, const TensorDesc& x,
                                              const TensorDesc* weight, const TensorDesc* bias,
                                              const TensorDesc* running_mean, const TensorDesc* running_var,
                                              bool training);
BatchNormLayout check_batch_norm_backward_args(const TensorDesc* gx, const TensorDesc* gw, const TensorDesc* gb,
                                               const TensorDesc& gy, const TensorDesc& x, const TensorDesc* weight,
                                               const TensorDesc& save_mean, const TensorDesc& save_invstd);

// training: normalises with the batch mean and biased variance of each channel; save_mean and
// save_invstd = 1 / sqrt(var + eps) receive them for the backward, and the running stats (when
// given) become (1 - momentum) * running + momentum * batch, the variance unbiased (PyTorch).
// Otherwise normalises with running_mean / running_var (required) and saves those.
// weight and bias (per channel) may be null.
void batch_norm_forward(const TensorDesc& y, const TensorDesc& save_mean, const TensorDesc& save_invstd,
                        const TensorDesc& x, const TensorDesc* weight, const TensorDesc* bias,
                        const TensorDesc* running_mean, const TensorDesc* running_var, bool training, double momentum,
                        double eps);

// Gradients for the inputs whose descriptor is given (gx, gw, gb may each be null). In training
// the batch statistics depend on x, which adds two terms to gx.
void batch_norm_backward(const TensorDesc* gx, const TensorDesc* gw, const TensorDesc* gb, const TensorDesc& gy,
                         const TensorDesc& x, const TensorDesc* weight, const TensorDesc& save_mean,
                         const TensorDesc& save_invstd, bool training);

// The float32 per-channel loops, one table per ISA (scalar reference in batch_norm.cc). Sums run
// in float lanes over blocks of at most kBatchNormBlock elements, each block's total added in
// double, so long channels keep double-accumulation accuracy.
constexpr int64_t kBatchNormBlock = 1024;
struct BatchNormTable {
  double (*sum_f32)(const float* x, int64_t n);
  // sum of (x[i] - mean)^2
  double (*sum_sq_dev_f32)(const float* x, int64_t n, float mean);
  // out[i] = x[i] * scale + shift
  void (*scale_shift_f32)(float* out, const float* x, int64_t n, float scale, float shift);
  // sum_g += sum of g[i]; sum_gx += sum of g[i] * (x[i] - mean)
  void (*grad_sums_f32)(const float* g, const float* x, int64_t n, float mean, double* sum_g, double* sum_gx);
  // out[i] = (g[i] - mdy - (x[i] - mean) * k) * a
  void (*grad_input_f32)(float* out, const float* g, const float* x, int64_t n, float mdy, float mean, float k, float a);
};
void fill_batch_norm_avx2(BatchNormTable& t);
void fill_batch_norm_avx512(BatchNormTable& t);
void fill_batch_norm_neon(BatchNormTable& t);

}  // namespace dendrite::cpu

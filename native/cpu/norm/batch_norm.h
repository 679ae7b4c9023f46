// Batch normalisation over [N, C, *] (contiguous; the trailing dims are flattened into L).
// Statistics are accumulated in double whatever the dtype.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

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

}  // namespace dendrite::cpu

// CUDA conv2d, NCHW, float32: the three kernels of native/cpu/conv/conv.h with the same
// contracts (geometry from the descriptors, OH/OW taken as given, taps outside the input read
// as zero and their gradients dropped). Plain C++: the binding includes it with the host compiler.
#pragma once
#include "../../core/tensor.h"
#include "../../cpu/conv/conv.h"

namespace dendrite::cuda {

// y = conv(x, w) (+ bias[k] on output channel k).
void conv2d_forward(const TensorDesc& y, const TensorDesc& x, const TensorDesc& w, const TensorDesc* bias,
                    const cpu::ConvParams& p);
// gx = conv^T(gy, w), overwritten (+ bias[c] on input channel c).
void conv2d_backward_input(const TensorDesc& gx, const TensorDesc& gy, const TensorDesc& w, const TensorDesc* bias,
                           const cpu::ConvParams& p);
// gw = d(sum gy * conv(x, w)) / dw, overwritten.
void conv2d_backward_weight(const TensorDesc& gw, const TensorDesc& gy, const TensorDesc& x, const cpu::ConvParams& p);

}  // namespace dendrite::cuda

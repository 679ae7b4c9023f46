// 2-D convolution, NCHW: forward and its two adjoints (input and weight gradients). Transposed
// convolution is the input adjoint run forward, so it needs no kernel of its own.
//
// The geometry comes from the descriptors: x [N, C, H, W], w [K, C/groups, R, S],
// y [N, K, OH, OW]. OH and OW are taken as given rather than derived from the other sizes: the
// adjoints of a transposed convolution with output_padding use sizes the forward formula would
// not produce. Every tap that falls outside the input reads as zero (and its gradient is
// dropped), so any sizes are memory-safe.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

struct ConvParams {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
};

// y = conv(x, w) (+ bias[k] on output channel k). float32 or float64, contiguous.
void conv2d_forward(const TensorDesc& y, const TensorDesc& x, const TensorDesc& w, const TensorDesc* bias,
                    const ConvParams& p);
// gx = conv^T(gy, w), overwritten (+ bias[c] on input channel c: the forward of a transposed
// convolution).
void conv2d_backward_input(const TensorDesc& gx, const TensorDesc& gy, const TensorDesc& w, const TensorDesc* bias,
                           const ConvParams& p);
// gw = d(sum gy * conv(x, w)) / dw, overwritten.
void conv2d_backward_weight(const TensorDesc& gw, const TensorDesc& gy, const TensorDesc& x, const ConvParams& p);

// The float32 inner loops, one table per ISA (scalar reference in conv.cc).
struct ConvTable {
  // y[i] += a * x[i]
  void (*axpy_f32)(float* y, float a, const float* x, int64_t n);
  // y[i] += b
  void (*add_scalar_f32)(float* y, float b, int64_t n);
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  // out[j] (= or +=) sum_{t < ntaps} w[t] * base[j + offsets[t]] for j < n: a stride-1
  // depthwise convolution over a zero-padded plane read as one flat row, each tap a fixed offset.
  void (*taps_f32)(float* out, const float* base, const int64_t* offsets, const float* w, int64_t ntaps, int64_t n,
                   bool accumulate);
  // dst[r * dst_stride + i] = src[offsets[r] + i] for r < rows, i < len: the rows of a GEMM
  // panel copied from a flat plane, one fixed offset per kernel tap (len is a few vectors).
  void (*gather_rows_f32)(float* dst, int64_t dst_stride, const float* src, const int64_t* offsets, int64_t rows,
                          int64_t len);
};
void fill_conv_avx2(ConvTable& t);
void fill_conv_avx512(ConvTable& t);
void fill_conv_neon(ConvTable& t);

}  // namespace dendrite::cpu

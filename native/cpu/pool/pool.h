// 2-D pooling over NCHW planes: max (with argmax indices for the backward), average, and the
// adaptive forms. Output sizes are given by the output descriptors (the TS layer applies
// PyTorch's formulas, ceil_mode included); windows are clipped to the input, so any sizes are
// memory-safe. Indices are int64 positions ih * W + iw inside each input plane, as PyTorch's.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

struct PoolParams {
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1;
  // Max pooling only: skip NaNs (TensorFlow's rule) instead of letting them win (PyTorch's).
  bool ignore_nan = false;
};

// x [N, C, H, W]; y, indices [N, C, OH, OW]. NaN wins, as in PyTorch, unless p.ignore_nan.
// [N, C, H, W] input and [N, C, OH, OW] output as N * C independent planes.
struct PoolPlanes {
  int64_t planes, H, W, OH, OW;
};

// The argument checks of the pooling drivers, shared by the CPU and CUDA ones so both throw the
// same errors: float input and output of one dtype, contiguous, 4-d, with the same N and C;
// int64 indices of the output's shape; window sizes, strides and dilations >= 1, paddings >= 0.
PoolPlanes check_pool_planes(const char* op, const TensorDesc& in, const TensorDesc& out);
void check_pool_indices(const char* op, const TensorDesc& indices, const TensorDesc& out);
void check_pool_params(const char* op, const PoolParams& p);

void max_pool2d_forward(const TensorDesc& y, const TensorDesc& indices, const TensorDesc& x, const PoolParams& p);
// gx = 0, then gx[plane][indices] += gy (the backward of max and adaptive max pooling).
void max_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy, const TensorDesc& indices);

// Each output is the window's sum over its divisor: divisor_override when > 0, else the window
// size counting padding (count_include_pad) or only the input elements in it.
void avg_pool2d_forward(const TensorDesc& y, const TensorDesc& x, const PoolParams& p, bool count_include_pad,
                        int64_t divisor_override);
void avg_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy, const PoolParams& p, bool count_include_pad,
                         int64_t divisor_override);

// Output cell o along a dim of input size I and output size O covers [floor(o*I/O), ceil((o+1)*I/O)).
void adaptive_avg_pool2d_forward(const TensorDesc& y, const TensorDesc& x);
void adaptive_avg_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy);
void adaptive_max_pool2d_forward(const TensorDesc& y, const TensorDesc& indices, const TensorDesc& x);

// The float32 inner loops over the interior of one output row (outputs whose windows lie
// inside the input along w), one table per ISA (scalar reference in pool.cc). Output i's taps
// are in[r * row_step + s * dw + i * sw] for r < rows, s < kw, numbered t = r * kw + s.
struct PoolTable {
  // out[i] = the max over the taps (NaN wins, the last NaN; ties keep the first tap), tap[i]
  // = its t as a float, i < n.
  void (*max_row_f32)(float* out, float* tap, const float* in, int64_t rows, int64_t row_step, int64_t kw, int64_t dw,
                      int64_t sw, int64_t n);
  // out[i] = (the sum over the taps, dw = 1, in tap order) / divisor, i < n.
  void (*avg_row_f32)(float* out, const float* in, int64_t rows, int64_t row_step, int64_t kw, int64_t sw, float divisor,
                      int64_t n);
};
void fill_pool_avx2(PoolTable& t);
void fill_pool_avx512(PoolTable& t);
void fill_pool_neon(PoolTable& t);

}  // namespace dendrite::cpu

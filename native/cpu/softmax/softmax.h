// Softmax and log-softmax along one dim of a contiguous tensor, forward and backward.
// Numerically stable: the row max is subtracted before exp, so [1000, 1001, 1009] is fine.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

void softmax_forward(const TensorDesc& out, const TensorDesc& in, int dim, bool log);
// grad_in = y * (g - sum(g * y))            (softmax, y = its output)
// grad_in = g - exp(y) * sum(g)             (log-softmax, y = its output)
void softmax_backward(const TensorDesc& grad_in, const TensorDesc& grad_out, const TensorDesc& out, int dim, bool log);

// A contiguous tensor seen as outer x n x inner around the softmax dim.
struct SoftmaxLayout {
  int64_t outer = 1, n = 1, inner = 1;
};

// The argument checks of softmax_forward / softmax_backward, shared by the CPU and CUDA drivers so
// both throw the same errors.
SoftmaxLayout check_softmax_forward_args(const TensorDesc& out, const TensorDesc& in, int dim, bool log);
SoftmaxLayout check_softmax_backward_args(const TensorDesc& grad_in, const TensorDesc& grad_out, const TensorDesc& out,
                                          int dim, bool log);

struct SoftmaxTable {
  void (*forward_row_f32)(float* y, const float* x, int64_t n, bool log);
  void (*backward_row_f32)(float* gx, const float* g, const float* y, int64_t n, bool log);
};
void fill_softmax_avx2(SoftmaxTable& t);
void fill_softmax_avx512(SoftmaxTable& t);
void fill_softmax_neon(SoftmaxTable& t);

}  // namespace dendrite::cpu

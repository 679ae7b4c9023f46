#include "softmax.h"
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include "../../core/dispatch.h"
#include "../../core/thread_pool.h"

namespace dendrite::cpu {
namespace {

void fill_scalar(SoftmaxTable& t) { std::memset(&t, 0, sizeof(t)); }

const SoftmaxTable& table() {
  static IsaTables<SoftmaxTable> tables(fill_scalar, DENDRITE_X86_FILLER(fill_softmax_avx2),
                                        DENDRITE_X86_FILLER(fill_softmax_avx512), DENDRITE_NEON_FILLER(fill_softmax_neon));
  return tables.active();
}

using Layout = SoftmaxLayout;


Layout layout_of(const char* op, const TensorDesc& t, int dim) {
  if (!t.is_contiguous()) fail(ErrorCode::Argument, op, "contiguous tensors", "a strided view");
  if (t.ndim == 0) return {};
  if (dim < 0 || dim >= t.ndim) fail(ErrorCode::Index, op, "dim in [0, " + std::to_string(t.ndim) + ")", std::to_string(dim));
  Layout l;
  for (int d = 0; d < dim; ++d) l.outer *= t.shape[d];
  l.n = t.shape[dim];
  for (int d = dim + 1; d < t.ndim; ++d) l.inner *= t.shape[d];
  return l;
}

void check_like(const char* op, const TensorDesc& a, const TensorDesc& b) {
  if (a.dtype != b.dtype || a.ndim != b.ndim) fail(ErrorCode::Shape, op, "tensors of one shape and dtype", "a mismatch");
  for (int d = 0; d < a.ndim; ++d)
    if (a.shape[d] != b.shape[d]) fail(ErrorCode::Shape, op, "shape " + shape_str(a.shape, a.ndim), shape_str(b.shape, b.ndim));
}

template <class T>
void forward_line(T* y, const T* x, int64_t n, int64_t s, bool log) {
  T m = -std::numeric_limits<T>::infinity();
  bool nan = false;
  for (int64_t i = 0; i < n; ++i) { T v = x[i * s]; if (std::isnan(v)) nan = true; else if (v > m) m = v; }
  if (nan) { for (int64_t i = 0; i < n; ++i) y[i * s] = std::numeric_limits<T>::quiet_NaN(); return; }
  if (std::isinf(m) && m < 0) m = 0;  // a row of all -inf: exp gives 0s, log-softmax -inf... as PyTorch (NaN)
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i * s] - m));
  if (log) {
    T lse = static_cast<T>(std::log(sum));
    for (int64_t i = 0; i < n; ++i) y[i * s] = x[i * s] - m - lse;
  } else {
    double inv = 1.0 / sum;
    for (int64_t i = 0; i < n; ++i) y[i * s] = static_cast<T>(std::exp(static_cast<double>(x[i * s] - m)) * inv);
  }
}

template <class T>
void backward_line(T* gx, const T* g, const T* y, int64_t n, int64_t s, bool log) {
  double acc = 0;
  if (log) {
    for (int64_t i = 0; i < n; ++i) acc += g[i * s];
    for (int64_t i = 0; i < n; ++i) gx[i * s] = static_cast<T>(g[i * s] - std::exp(static_cast<double>(y[i * s])) * acc);
  } else {
    for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(g[i * s]) * y[i * s];
    for (int64_t i = 0; i < n; ++i) gx[i * s] = static_cast<T>(y[i * s] * (g[i * s] - acc));
  }
}

}  // namespace

SoftmaxLayout check_softmax_forward_args(const TensorDesc& out, const TensorDesc& in, int dim, bool log) {
  const char* op = log ? "logSoftmax" : "softmax";
  if (!dtype_is_float(in.dtype)) fail(ErrorCode::DType, op, "a floating-point tensor", dtype_name(in.dtype));
  check_like(op, out, in);
  Layout l = layout_of(op, in, dim);
  layout_of(op, out, dim);
  return l;
}

SoftmaxLayout check_softmax_backward_args(const TensorDesc& grad_in, const TensorDesc& grad_out, const TensorDesc& out,
                                          int dim, bool log) {
  const char* op = log ? "logSoftmax backward" : "softmax backward";
  if (!dtype_is_float(out.dtype)) fail(ErrorCode::DType, op, "a floating-point tensor", dtype_name(out.dtype));
  check_like(op, grad_in, out);
  check_like(op, grad_out, out);
  Layout l = layout_of(op, out, dim);
  layout_of(op, grad_in, dim);
  layout_of(op, grad_out, dim);
  return l;
}

void softmax_forward(const TensorDesc& out, const TensorDesc& in, int dim, bool log) {
  const Layout l = check_softmax_forward_args(out, in, dim, log);
  int64_t lines = l.outer * l.inner;
  int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(l.n, 1));
  dispatch_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* x = in.ptr<T>();
      T* y = out.ptr<T>();
      parallel_for(0, lines, grain, [&](int64_t lo, int64_t hi) {
        for (int64_t line = lo; line < hi; ++line) {
          int64_t o = line / l.inner, i = line % l.inner;
          int64_t base = o * l.n * l.inner + i;
          if constexpr (std::is_same_v<T, float>) {
            if (l.inner == 1 && table().forward_row_f32) { table().forward_row_f32(y + base, x + base, l.n, log); continue; }
          }
          forward_line(y + base, x + base, l.n, l.inner, log);
        }
      });
    }
  });
}

void softmax_backward(const TensorDesc& grad_in, const TensorDesc& grad_out, const TensorDesc& out, int dim, bool log) {
  const Layout l = check_softmax_backward_args(grad_in, grad_out, out, dim, log);
  int64_t lines = l.outer * l.inner;
  int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(l.n, 1));
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* g = grad_out.ptr<T>();
      const T* y = out.ptr<T>();
      T* gx = grad_in.ptr<T>();
      parallel_for(0, lines, grain, [&](int64_t lo, int64_t hi) {
        for (int64_t line = lo; line < hi; ++line) {
          int64_t o = line / l.inner, i = line % l.inner;
          int64_t base = o * l.n * l.inner + i;
          if constexpr (std::is_same_v<T, float>) {
            if (l.inner == 1 && table().backward_row_f32) { table().backward_row_f32(gx + base, g + base, y + base, l.n, log); continue; }
          }
          backward_line(gx + base, g + base, y + base, l.n, l.inner, log);
        }
      });
    }
  });
}

}  // namespace dendrite::cpu

// Batch norm: one pass per statistic over each channel, threaded over channels; the float32
// passes through the per-ISA BatchNormTable, float64 in plain loops.
#include "batch_norm.h"
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include "../../core/dispatch.h"
#include "../../core/thread_pool.h"

namespace dendrite::cpu {
namespace {

using Layout = BatchNormLayout;

void check_same(const char* op, const char* what, const TensorDesc& t, const TensorDesc& x) {
  if (t.dtype != x.dtype) fail(ErrorCode::DType, op, std::string(what) + " of dtype " + dtype_name(x.dtype), dtype_name(t.dtype));
  if (!t.is_contiguous()) fail(ErrorCode::Argument, op, std::string("a contiguous ") + what, "a strided view");
  if (t.ndim != x.ndim || !std::equal(t.shape, t.shape + t.ndim, x.shape))
    fail(ErrorCode::Shape, op, std::string(what) + " of shape " + shape_str(x.shape, x.ndim), shape_str(t.shape, t.ndim));
}

void check_channel(const char* op, const char* what, const TensorDesc* t, int64_t C, DType dtype) {
  if (!t) return;
  if (t->dtype != dtype) fail(ErrorCode::DType, op, std::string(what) + " of dtype " + dtype_name(dtype), dtype_name(t->dtype));
  if (t->ndim != 1 || t->shape[0] != C)
    fail(ErrorCode::Shape, op, std::string(what) + " of shape [" + std::to_string(C) + "]", shape_str(t->shape, t->ndim));
  if (!t->is_contiguous()) fail(ErrorCode::Argument, op, std::string("a contiguous ") + what, "a strided view");
}

Layout layout_of(const char* op, const TensorDesc& x) {
  if (x.ndim < 2) fail(ErrorCode::Shape, op, "input of shape [N, C, *]", shape_str(x.shape, x.ndim));
  if (!dtype_is_float(x.dtype)) fail(ErrorCode::DType, op, "a float32 or float64 input", dtype_name(x.dtype));
  if (!x.is_contiguous()) fail(ErrorCode::Argument, op, "a contiguous input", "a strided view");
  int64_t L = 1;
  for (int i = 2; i < x.ndim; ++i) L *= x.shape[i];
  return {x.shape[0], x.shape[1], L};
}

double sum_ref(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  return s;
}
double sum_sq_dev_ref(const float* x, int64_t n, float mean) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - mean;
    s += d * d;
  }
  return s;
}
void scale_shift_ref(float* out, const float* x, int64_t n, float scale, float shift) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale + shift;
}
void grad_sums_ref(const float* g, const float* x, int64_t n, float mean, double* sum_g, double* sum_gx) {
  for (int64_t i = 0; i < n; ++i) {
    *sum_g += g[i];
    *sum_gx += static_cast<double>(g[i]) * (static_cast<double>(x[i]) - mean);
  }
}
void grad_input_ref(float* out, const float* g, const float* x, int64_t n, float mdy, float mean, float k, float a) {
  for (int64_t i = 0; i < n; ++i) out[i] = (g[i] - mdy - (x[i] - mean) * k) * a;
}

void fill_scalar(BatchNormTable& t) {
  t.sum_f32 = sum_ref;
  t.sum_sq_dev_f32 = sum_sq_dev_ref;
  t.scale_shift_f32 = scale_shift_ref;
  t.grad_sums_f32 = grad_sums_ref;
  t.grad_input_f32 = grad_input_ref;
}

const BatchNormTable& table() {
  static IsaTables<BatchNormTable> tables(fill_scalar, DENDRITE_X86_FILLER(fill_batch_norm_avx2),
                                          DENDRITE_X86_FILLER(fill_batch_norm_avx512),
                                          DENDRITE_NEON_FILLER(fill_batch_norm_neon));
  return tables.active();
}

template <class F>
decltype(auto) dispatch_float(DType dtype, F&& f) {
  if (dtype == DType::Float64) return f(double{});
  return f(float{});
}

template <class T>
const T* ptr_or_null(const TensorDesc* t) {
  return t ? t->ptr<T>() : nullptr;
}

template <class T>
void channels(const Layout& s, int64_t per_channel, T fn) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(per_channel, 1));
  parallel_for(0, s.C, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) fn(c);
  });
}

}  // namespace

BatchNormLayout check_batch_norm_forward_args(const TensorDesc& y, const TensorDesc& save_mean,
                                              const TensorDesc& save_invstd, const TensorDesc& x,
                                              const TensorDesc* weight, const TensorDesc* bias,
                                              const TensorDesc* running_mean, const TensorDesc* running_var,
                                              bool training) {
  const char* op = "batchNorm";
  const Layout s = layout_of(op, x);
  check_same(op, "output", y, x);
  check_channel(op, "save_mean", &save_mean, s.C, x.dtype);
  check_channel(op, "save_invstd", &save_invstd, s.C, x.dtype);
  check_channel(op, "weight", weight, s.C, x.dtype);
  check_channel(op, "bias", bias, s.C, x.dtype);
  check_channel(op, "running_mean", running_mean, s.C, x.dtype);
  check_channel(op, "running_var", running_var, s.C, x.dtype);
  if (!training && (!running_mean || !running_var))
    fail(ErrorCode::Argument, op, "running_mean and running_var in eval mode", "none");
  if ((running_mean == nullptr) != (running_var == nullptr))
    fail(ErrorCode::Argument, op, "both running_mean and running_var, or neither", "one of them");
  const int64_t M = s.N * s.L;
  if (training && M <= 1)
    fail(ErrorCode::Shape, op, "more than 1 value per channel when training", "input of shape " + shape_str(x.shape, x.ndim));
  return s;
}

BatchNormLayout check_batch_norm_backward_args(const TensorDesc* gx, const TensorDesc* gw, const TensorDesc* gb,
                                               const TensorDesc& gy, const TensorDesc& x, const TensorDesc* weight,
                                               const TensorDesc& save_mean, const TensorDesc& save_invstd) {
  const char* op = "batchNorm backward";
  const Layout s = layout_of(op, x);
  check_same(op, "grad_output", gy, x);
  if (gx) check_same(op, "grad_input", *gx, x);
  check_channel(op, "grad_weight", gw, s.C, x.dtype);
  check_channel(op, "grad_bias", gb, s.C, x.dtype);
  check_channel(op, "weight", weight, s.C, x.dtype);
  check_channel(op, "save_mean", &save_mean, s.C, x.dtype);
  check_channel(op, "save_invstd", &save_invstd, s.C, x.dtype);
  return s;
}

void batch_norm_forward(const TensorDesc& y, const TensorDesc& save_mean, const TensorDesc& save_invstd,
                        const TensorDesc& x, const TensorDesc* weight, const TensorDesc* bias,
                        const TensorDesc* running_mean, const TensorDesc* running_var, bool training, double momentum,
                        double eps) {
  const Layout s = check_batch_norm_forward_args(y, save_mean, save_invstd, x, weight, bias, running_mean, running_var,
                                                 training);
  const int64_t M = s.N * s.L;
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.ptr<T>();
    T* ys = y.ptr<T>();
    const T *wt = ptr_or_null<T>(weight), *bs = ptr_or_null<T>(bias);
    T *rm = running_mean ? running_mean->ptr<T>() : nullptr, *rv = running_var ? running_var->ptr<T>() : nullptr;
    T *sm = save_mean.ptr<T>(), *si = save_invstd.ptr<T>();
    constexpr bool f32 = std::is_same_v<T, float>;
    const BatchNormTable& tab = table();
    channels(s, M, [&](int64_t c) {
      double mean, invstd;
      if (training) {
        double sum = 0;
        for (int64_t n = 0; n < s.N; ++n) {
          const T* row = xs + (n * s.C + c) * s.L;
          if constexpr (f32) sum += tab.sum_f32(row, s.L);
          else for (int64_t l = 0; l < s.L; ++l) sum += row[l];
        }
        mean = sum / static_cast<double>(M);
        double sq = 0;  // second pass about the mean: no cancellation
        for (int64_t n = 0; n < s.N; ++n) {
          const T* row = xs + (n * s.C + c) * s.L;
          if constexpr (f32) {
            sq += tab.sum_sq_dev_f32(row, s.L, static_cast<float>(mean));
          } else {
            for (int64_t l = 0; l < s.L; ++l) {
              const double d = row[l] - mean;
              sq += d * d;
            }
          }
        }
        const double var = sq / static_cast<double>(M);
        invstd = 1.0 / std::sqrt(var + eps);
        if (rm) {
          rm[c] = static_cast<T>((1 - momentum) * rm[c] + momentum * mean);
          rv[c] = static_cast<T>((1 - momentum) * rv[c] + momentum * (sq / static_cast<double>(M - 1)));
        }
      } else {
        mean = rm[c];
        invstd = 1.0 / std::sqrt(static_cast<double>(rv[c]) + eps);
      }
      sm[c] = static_cast<T>(mean);
      si[c] = static_cast<T>(invstd);
      // y = x * scale + shift
      const double scale = invstd * (wt ? static_cast<double>(wt[c]) : 1.0);
      const double shift = (bs ? static_cast<double>(bs[c]) : 0.0) - mean * scale;
      const T sc = static_cast<T>(scale), sf = static_cast<T>(shift);
      for (int64_t n = 0; n < s.N; ++n) {
        const T* row = xs + (n * s.C + c) * s.L;
        T* out = ys + (n * s.C + c) * s.L;
        if constexpr (f32) tab.scale_shift_f32(out, row, s.L, sc, sf);
        else for (int64_t l = 0; l < s.L; ++l) out[l] = row[l] * sc + sf;
      }
    });
  });
}

void batch_norm_backward(const TensorDesc* gx, const TensorDesc* gw, const TensorDesc* gb, const TensorDesc& gy,
                         const TensorDesc& x, const TensorDesc* weight, const TensorDesc& save_mean,
                         const TensorDesc& save_invstd, bool training) {
  const Layout s = check_batch_norm_backward_args(gx, gw, gb, gy, x, weight, save_mean, save_invstd);
  const int64_t M = s.N * s.L;
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T *xs = x.ptr<T>(), *gys = gy.ptr<T>(), *wt = ptr_or_null<T>(weight);
    const T *sm = save_mean.ptr<T>(), *si = save_invstd.ptr<T>();
    constexpr bool f32 = std::is_same_v<T, float>;
    const BatchNormTable& tab = table();
    channels(s, M, [&](int64_t c) {
      const double mean = sm[c], invstd = si[c];
      double sum_dy = 0, sum_dy_xmu = 0;
      for (int64_t n = 0; n < s.N; ++n) {
        const T* row = xs + (n * s.C + c) * s.L;
        const T* g = gys + (n * s.C + c) * s.L;
        if constexpr (f32) {
          tab.grad_sums_f32(g, row, s.L, sm[c], &sum_dy, &sum_dy_xmu);
        } else {
          for (int64_t l = 0; l < s.L; ++l) {
            sum_dy += g[l];
            sum_dy_xmu += g[l] * (row[l] - mean);
          }
        }
      }
      if (gw) gw->ptr<T>()[c] = static_cast<T>(sum_dy_xmu * invstd);
      if (gb) gb->ptr<T>()[c] = static_cast<T>(sum_dy);
      if (!gx) return;
      const double w = wt ? static_cast<double>(wt[c]) : 1.0;
      // training: gx = (gy - mean(gy) - (x - mean) * invstd^2 * mean(gy * (x - mean))) * invstd * w
      // eval:     gx = gy * invstd * w
      const double a = invstd * w;
      const double k = training ? invstd * invstd * sum_dy_xmu / static_cast<double>(M) : 0.0;
      const double mdy = training ? sum_dy / static_cast<double>(M) : 0.0;
      T* gxs = gx->ptr<T>();
      for (int64_t n = 0; n < s.N; ++n) {
        const T* row = xs + (n * s.C + c) * s.L;
        const T* g = gys + (n * s.C + c) * s.L;
        T* out = gxs + (n * s.C + c) * s.L;
        if constexpr (f32)
          tab.grad_input_f32(out, g, row, s.L, static_cast<float>(mdy), sm[c], static_cast<float>(k), static_cast<float>(a));
        else
          for (int64_t l = 0; l < s.L; ++l) out[l] = static_cast<T>((g[l] - mdy - (row[l] - mean) * k) * a);
      }
    });
  });
}

}  // namespace dendrite::cpu

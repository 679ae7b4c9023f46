// Pooling and one-dim resampling on CUDA: one thread per output element in the forwards, one per
// input element in the backwards (a gather over the outputs whose window can hold it, see
// pool_math.cuh), grid-stride loops with int64 indices. The pooling arguments go through the CPU's
// checks (native/cpu/pool/pool.h), so both devices reject the same calls the same way.
#include <string>
#include "../core/cuda_utils.cuh"
#include "pool.h"
#include "pool_math.cuh"

namespace dendrite::cuda {
namespace {

using pool_math::Planes;
using pool_math::Window;

void check_float(const char* op, const TensorDesc& t) {
  if (t.dtype != DType::Float32 && t.dtype != DType::Float64)
    fail(ErrorCode::DType, op, "a float32 or float64 input", dtype_name(t.dtype));
}

Planes planes_of(const char* op, const TensorDesc& in, const TensorDesc& out) {
  const cpu::PoolPlanes g = cpu::check_pool_planes(op, in, out);
  return {g.planes, g.H, g.W, g.OH, g.OW};
}

Window window_of(const char* op, const cpu::PoolParams& p) {
  cpu::check_pool_params(op, p);
  return {p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dil_h, p.dil_w};
}

template <class F>
void dispatch_float(DType dtype, F&& f) {
  if (dtype == DType::Float64) f(double{});
  else f(float{});
}

__device__ __forceinline__ int64_t first_index() { return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// ---- forwards: one thread per output (plane, oh, ow), e its flat index ----------------------

template <class T>
__global__ void max_pool_forward_kernel(T* y, int64_t* indices, const T* x, Planes g, Window w, bool ignore_nan, int64_t n) {
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t ow = e % g.OW, t = e / g.OW, oh = t % g.OH, pl = t / g.OH;
    pool_math::max_pool_one(x + pl * g.H * g.W, g, w, ignore_nan, oh, ow, y + e, indices + e);
  }
}

template <class T>
__global__ void adaptive_max_forward_kernel(T* y, int64_t* indices, const T* x, Planes g, int64_t n) {
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t ow = e % g.OW, t = e / g.OW, oh = t % g.OH, pl = t / g.OH;
    pool_math::adaptive_max_one(x + pl * g.H * g.W, g, oh, ow, y + e, indices + e);
  }
}

template <class T>
__global__ void avg_pool_forward_kernel(T* y, const T* x, Planes g, Window w, bool count_include_pad, int64_t divisor_override,
                                        int64_t n) {
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t ow = e % g.OW, t = e / g.OW, oh = t % g.OH, pl = t / g.OH;
    y[e] = pool_math::avg_pool_one(x + pl * g.H * g.W, g, w, count_include_pad, divisor_override, oh, ow);
  }
}

template <class T>
__global__ void adaptive_avg_forward_kernel(T* y, const T* x, Planes g, int64_t n) {
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t ow = e % g.OW, t = e / g.OW, oh = t % g.OH, pl = t / g.OH;
    y[e] = pool_math::adaptive_avg_one(x + pl * g.H * g.W, g, oh, ow);
  }
}

// ---- backwards: one thread per input element (plane, ih, iw), writing all of gx ---------------

template <class T>
__global__ void max_pool_backward_kernel(T* gx, const T* gy, const int64_t* indices, Planes g, Window w, bool adaptive,
                                         bool empty_windows, int64_t n) {
  const int64_t P = g.OH * g.OW;
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t iw = e % g.W, t = e / g.W, ih = t % g.H, pl = t / g.H;
    gx[e] = pool_math::max_pool_grad_one(gy + pl * P, indices + pl * P, g, adaptive ? nullptr : &w, empty_windows, ih, iw);
  }
}

template <class T>
__global__ void avg_pool_backward_kernel(T* gx, const T* gy, Planes g, Window w, bool count_include_pad, int64_t divisor_override,
                                         int64_t n) {
  const int64_t P = g.OH * g.OW;
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t iw = e % g.W, t = e / g.W, ih = t % g.H, pl = t / g.H;
    gx[e] = pool_math::avg_pool_grad_one(gy + pl * P, g, w, count_include_pad, divisor_override, ih, iw);
  }
}

template <class T>
__global__ void adaptive_avg_backward_kernel(T* gx, const T* gy, Planes g, int64_t n) {
  const int64_t P = g.OH * g.OW;
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t iw = e % g.W, t = e / g.W, ih = t % g.H, pl = t / g.H;
    gx[e] = pool_math::adaptive_avg_grad_one(gy + pl * P, g, ih, iw);
  }
}

// ---- resampling ----------------------------------------------------------------------------

// out element e = (r, o, c) over [outer, n_out, inner].
template <class T>
__global__ void resample_forward_kernel(T* out, const T* x, const T* weights, pool_math::ResamplePlan p, int64_t n) {
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t c = e % p.inner, t = e / p.inner, o = t % p.n_out, r = t / p.n_out;
    out[e] = pool_math::resample_one(x, weights, p, r, o, c);
  }
}

// gx element e = (r, i, c) over [outer, n_in, inner].
template <class T>
__global__ void resample_backward_kernel(T* gx, const T* gy, const T* weights, pool_math::ResamplePlan p, int64_t n) {
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t c = e % p.inner, t = e / p.inner, i = t % p.n_in, r = t / p.n_in;
    gx[e] = pool_math::resample_grad_one(gy, weights, p, r, i, c);
  }
}

struct ResampleShape {
  int64_t outer, n_in, n_out, inner;
  int K;
};

// Validates a resampling call: `big` has n_in rows along dim (x, or gx), `small` n_out (out, or gy).
ResampleShape resample_shape(const char* op, const TensorDesc& in, const TensorDesc& out, int dim, const TensorDesc& plan,
                             const TensorDesc* weights) {
  check_float(op, in);
  if (out.dtype != in.dtype) fail(ErrorCode::DType, op, std::string("an output of dtype ") + dtype_name(in.dtype), dtype_name(out.dtype));
  if (!in.is_contiguous() || !out.is_contiguous()) fail(ErrorCode::Argument, op, "contiguous tensors", "a strided view");
  if (in.ndim < 1 || dim < 0 || dim >= in.ndim)
    fail(ErrorCode::Index, op, "dim in [0, " + std::to_string(in.ndim) + ")", std::to_string(dim));
  bool same = out.ndim == in.ndim;
  for (int d = 0; same && d < in.ndim; ++d) same = d == dim || out.shape[d] == in.shape[d];
  if (!same) fail(ErrorCode::Shape, op, "an output matching the input off dim " + std::to_string(dim), shape_str(out.shape, out.ndim));
  ResampleShape s{1, in.shape[dim], out.shape[dim], 1, weights ? 2 : 1};
  for (int d = 0; d < dim; ++d) s.outer *= in.shape[d];
  for (int d = dim + 1; d < in.ndim; ++d) s.inner *= in.shape[d];
  if (s.n_in >= INT32_MAX || s.n_out >= INT32_MAX)
    fail(ErrorCode::Shape, op, "fewer than 2^31 rows along dim", std::to_string(s.n_in) + " -> " + std::to_string(s.n_out));
  const int64_t need = s.K * (2 * s.n_out + s.n_in + 1);
  if (plan.dtype != DType::Int32 || !plan.is_contiguous() || plan.ndim != 1 || plan.shape[0] != need)
    fail(ErrorCode::Argument, op, "a contiguous int32 plan of " + std::to_string(need) + " values",
         std::string(dtype_name(plan.dtype)) + " " + shape_str(plan.shape, plan.ndim));
  if (weights && (weights->dtype != in.dtype || !weights->is_contiguous() || weights->ndim != 1 || weights->shape[0] != 2 * s.n_out))
    fail(ErrorCode::Argument, op, std::string("contiguous ") + dtype_name(in.dtype) + " weights of shape [" + std::to_string(2 * s.n_out) + "]",
         std::string(dtype_name(weights->dtype)) + " " + shape_str(weights->shape, weights->ndim));
  return s;
}

}  // namespace

void max_pool2d_forward(const TensorDesc& y, const TensorDesc& indices, const TensorDesc& x, const cpu::PoolParams& p) {
  const char* op = "maxPool2d";
  Window w = window_of(op, p);
  Planes g = planes_of(op, x, y);
  cpu::check_pool_indices(op, indices, y);
  const int64_t n = y.numel();
  if (n == 0) return;
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    max_pool_forward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(y.ptr<T>(), indices.ptr<int64_t>(), x.ptr<T>(), g, w,
                                                                      p.ignore_nan, n);
  });
  check_launch(op);
}

void max_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy, const TensorDesc& indices, const cpu::PoolParams* p) {
  const char* op = "maxPool2d backward";
  Window w{1, 1, 1, 1, 0, 0, 1, 1};
  if (p) w = window_of(op, *p);
  Planes g = planes_of(op, gx, gy);
  cpu::check_pool_indices(op, indices, gy);
  const int64_t n = gx.numel();
  if (n == 0) return;
  // Adaptive windows are never empty (H, W >= 1 here); dilated ones can be (rare: checked per row
  // and column on the host, O(OH + OW)).
  bool empty_windows = false;
  if (p) {
    for (int64_t oh = 0; oh < g.OH && !empty_windows; ++oh) empty_windows = pool_math::window_empty(oh, w.kh, w.sh, w.ph, w.dh, g.H);
    for (int64_t ow = 0; ow < g.OW && !empty_windows; ++ow) empty_windows = pool_math::window_empty(ow, w.kw, w.sw, w.pw, w.dw, g.W);
  }
  dispatch_float(gx.dtype, [&](auto tag) {
    using T = decltype(tag);
    max_pool_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(gx.ptr<T>(), gy.ptr<T>(), indices.ptr<int64_t>(), g, w,
                                                                       p == nullptr, empty_windows, n);
  });
  check_launch(op);
}

void avg_pool2d_forward(const TensorDesc& y, const TensorDesc& x, const cpu::PoolParams& p, bool count_include_pad,
                        int64_t divisor_override) {
  const char* op = "avgPool2d";
  Window w = window_of(op, p);
  Planes g = planes_of(op, x, y);
  const int64_t n = y.numel();
  if (n == 0) return;
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    avg_pool_forward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(y.ptr<T>(), x.ptr<T>(), g, w, count_include_pad,
                                                                      divisor_override, n);
  });
  check_launch(op);
}

void avg_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy, const cpu::PoolParams& p, bool count_include_pad,
                         int64_t divisor_override) {
  const char* op = "avgPool2d backward";
  Window w = window_of(op, p);
  Planes g = planes_of(op, gx, gy);
  const int64_t n = gx.numel();
  if (n == 0) return;
  dispatch_float(gx.dtype, [&](auto tag) {
    using T = decltype(tag);
    avg_pool_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(gx.ptr<T>(), gy.ptr<T>(), g, w, count_include_pad,
                                                                       divisor_override, n);
  });
  check_launch(op);
}

void adaptive_avg_pool2d_forward(const TensorDesc& y, const TensorDesc& x) {
  const char* op = "adaptiveAvgPool2d";
  Planes g = planes_of(op, x, y);
  const int64_t n = y.numel();
  if (n == 0) return;
  if (g.H < 1 || g.W < 1) fail(ErrorCode::Shape, op, "a non-empty spatial size", shape_str(x.shape, 4));
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    adaptive_avg_forward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(y.ptr<T>(), x.ptr<T>(), g, n);
  });
  check_launch(op);
}

void adaptive_avg_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy) {
  const char* op = "adaptiveAvgPool2d backward";
  Planes g = planes_of(op, gx, gy);
  const int64_t n = gx.numel();
  if (n == 0) return;
  if (g.OH < 1 || g.OW < 1) {
    check(cudaMemsetAsync(gx.data, 0, static_cast<size_t>(n) * dtype_size(gx.dtype), stream()), op);
    return;
  }
  dispatch_float(gx.dtype, [&](auto tag) {
    using T = decltype(tag);
    adaptive_avg_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(gx.ptr<T>(), gy.ptr<T>(), g, n);
  });
  check_launch(op);
}

void adaptive_max_pool2d_forward(const TensorDesc& y, const TensorDesc& indices, const TensorDesc& x) {
  const char* op = "adaptiveMaxPool2d";
  Planes g = planes_of(op, x, y);
  cpu::check_pool_indices(op, indices, y);
  const int64_t n = y.numel();
  if (n == 0) return;
  if (g.H < 1 || g.W < 1) fail(ErrorCode::Shape, op, "a non-empty spatial size", shape_str(x.shape, 4));
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    adaptive_max_forward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(y.ptr<T>(), indices.ptr<int64_t>(), x.ptr<T>(), g, n);
  });
  check_launch(op);
}

void resample_forward(const TensorDesc& out, const TensorDesc& x, int dim, const TensorDesc& plan, const TensorDesc* weights) {
  const char* op = "resample";
  ResampleShape s = resample_shape(op, x, out, dim, plan, weights);
  const int64_t n = out.numel();
  if (n == 0) return;
  pool_math::ResamplePlan p = pool_math::resample_plan(plan.ptr<int32_t>(), s.K, s.n_in, s.n_out, s.inner);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    resample_forward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(out.ptr<T>(), x.ptr<T>(), weights ? weights->ptr<T>() : nullptr,
                                                                      p, n);
  });
  check_launch(op);
}

void resample_backward(const TensorDesc& gx, const TensorDesc& gy, int dim, const TensorDesc& plan, const TensorDesc* weights) {
  const char* op = "resample backward";
  ResampleShape s = resample_shape(op, gx, gy, dim, plan, weights);
  const int64_t n = gx.numel();
  if (n == 0) return;
  pool_math::ResamplePlan p = pool_math::resample_plan(plan.ptr<int32_t>(), s.K, s.n_in, s.n_out, s.inner);
  dispatch_float(gx.dtype, [&](auto tag) {
    using T = decltype(tag);
    resample_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(gx.ptr<T>(), gy.ptr<T>(), weights ? weights->ptr<T>() : nullptr,
                                                                       p, n);
  });
  check_launch(op);
}

}  // namespace dendrite::cuda

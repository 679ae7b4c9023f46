// Pooling kernels: scalar loops over independent planes, threaded over planes. Pooling is
// bound by memory traffic, not arithmetic, so there is no per-ISA variant.
#include "pool.h"
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include "../../core/thread_pool.h"

namespace dendrite::cpu {
namespace {

struct Planes {
  int64_t planes, H, W, OH, OW;
};

void check_layout(const char* op, const char* what, const TensorDesc& t, DType dtype) {
  if (t.ndim != 4) fail(ErrorCode::Shape, op, std::string(what) + " of shape [N, C, H, W]", shape_str(t.shape, t.ndim));
  if (t.dtype != dtype) fail(ErrorCode::DType, op, std::string(what) + " of dtype " + dtype_name(dtype), dtype_name(t.dtype));
  if (!t.is_contiguous()) fail(ErrorCode::Argument, op, std::string("a contiguous ") + what, "a strided view");
}

// in [N, C, H, W] and out [N, C, OH, OW] with the same N and C.
Planes planes_of(const char* op, const TensorDesc& in, const TensorDesc& out) {
  if (!dtype_is_float(in.dtype)) fail(ErrorCode::DType, op, "a float32 or float64 input", dtype_name(in.dtype));
  check_layout(op, "input", in, in.dtype);
  check_layout(op, "output", out, in.dtype);
  if (out.shape[0] != in.shape[0] || out.shape[1] != in.shape[1])
    fail(ErrorCode::Shape, op, "output of shape [" + std::to_string(in.shape[0]) + ", " + std::to_string(in.shape[1]) + ", *, *]",
         shape_str(out.shape, 4));
  return {in.shape[0] * in.shape[1], in.shape[2], in.shape[3], out.shape[2], out.shape[3]};
}

void check_indices(const char* op, const TensorDesc& indices, const TensorDesc& out) {
  if (indices.dtype != DType::Int64) fail(ErrorCode::DType, op, "int64 indices", dtype_name(indices.dtype));
  if (!indices.is_contiguous()) fail(ErrorCode::Argument, op, "contiguous indices", "a strided view");
  if (indices.ndim != 4 || !std::equal(indices.shape, indices.shape + 4, out.shape))
    fail(ErrorCode::Shape, op, "indices of shape " + shape_str(out.shape, 4), shape_str(indices.shape, indices.ndim));
}

void check_params(const char* op, const PoolParams& p) {
  if (p.kernel_h < 1 || p.kernel_w < 1) fail(ErrorCode::Argument, op, "kernel sizes >= 1", std::to_string(p.kernel_h) + ", " + std::to_string(p.kernel_w));
  if (p.stride_h < 1 || p.stride_w < 1) fail(ErrorCode::Argument, op, "strides >= 1", std::to_string(p.stride_h) + ", " + std::to_string(p.stride_w));
  if (p.dil_h < 1 || p.dil_w < 1) fail(ErrorCode::Argument, op, "dilations >= 1", std::to_string(p.dil_h) + ", " + std::to_string(p.dil_w));
  if (p.pad_h < 0 || p.pad_w < 0) fail(ErrorCode::Argument, op, "paddings >= 0", std::to_string(p.pad_h) + ", " + std::to_string(p.pad_w));
}

template <class F>
void for_planes(int64_t planes, int64_t work_per_plane, F f) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(work_per_plane, 1));
  parallel_for(0, planes, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) f(i);
  });
}

template <class F>
decltype(auto) dispatch_float(DType dtype, F&& f) {
  if (dtype == DType::Float64) return f(double{});
  return f(float{});
}

// The window of output o along one dim: first tap, one past the last tap (before clipping).
inline int64_t adaptive_start(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
inline int64_t adaptive_end(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }

}  // namespace

void max_pool2d_forward(const TensorDesc& y, const TensorDesc& indices, const TensorDesc& x, const PoolParams& p) {
  const char* op = "maxPool2d";
  const bool ignore_nan = p.ignore_nan;
  check_params(op, p);
  Planes g = planes_of(op, x, y);
  check_indices(op, indices, y);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.ptr<T>();
    T* ys = y.ptr<T>();
    int64_t* is = indices.ptr<int64_t>();
    for_planes(g.planes, g.OH * g.OW * p.kernel_h * p.kernel_w, [&](int64_t pl) {
      const T* in = xs + pl * g.H * g.W;
      T* out = ys + pl * g.OH * g.OW;
      int64_t* idx = is + pl * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        int64_t h0 = oh * p.stride_h - p.pad_h;
        const int64_t h1 = std::min(h0 + (p.kernel_h - 1) * p.dil_h + 1, g.H);
        while (h0 < 0) h0 += p.dil_h;
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          int64_t w0 = ow * p.stride_w - p.pad_w;
          const int64_t w1 = std::min(w0 + (p.kernel_w - 1) * p.dil_w + 1, g.W);
          while (w0 < 0) w0 += p.dil_w;
          T best = -std::numeric_limits<T>::infinity();
          // An empty window (only when the caller asks for more outputs than the input has)
          // points at element 0, so the backward stays inside the plane.
          int64_t best_i = (h0 < h1 && w0 < w1) ? h0 * g.W + w0 : 0;
          for (int64_t ih = h0; ih < h1; ih += p.dil_h)
            for (int64_t iw = w0; iw < w1; iw += p.dil_w) {
              const T v = in[ih * g.W + iw];
              if (v > best || (!ignore_nan && std::isnan(v))) {
                best = v;
                best_i = ih * g.W + iw;
              }
            }
          out[oh * g.OW + ow] = best;
          idx[oh * g.OW + ow] = best_i;
        }
      }
    });
  });
}

void max_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy, const TensorDesc& indices) {
  const char* op = "maxPool2d backward";
  Planes g = planes_of(op, gx, gy);
  check_indices(op, indices, gy);
  dispatch_float(gx.dtype, [&](auto tag) {
    using T = decltype(tag);
    const int64_t HW = g.H * g.W, P = g.OH * g.OW;
    T* gxs = gx.ptr<T>();
    const T* gys = gy.ptr<T>();
    const int64_t* is = indices.ptr<int64_t>();
    for_planes(g.planes, HW + P, [&](int64_t pl) {
      T* in = gxs + pl * HW;
      std::fill(in, in + HW, T(0));
      const T* out = gys + pl * P;
      const int64_t* idx = is + pl * P;
      for (int64_t i = 0; i < P; ++i) {
        const int64_t k = idx[i];
        if (k < 0 || k >= HW) fail(ErrorCode::Index, op, "indices in [0, " + std::to_string(HW) + ")", std::to_string(k));
        in[k] += out[i];
      }
    });
  });
}

namespace {

// Window of output (oh, ow) for average pooling, clipped, with its divisor (PyTorch's rules).
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};

inline AvgWindow avg_window(int64_t oh, int64_t ow, const Planes& g, const PoolParams& p, bool count_include_pad,
                            int64_t divisor_override) {
  int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
  int64_t h1 = std::min(h0 + p.kernel_h, g.H + p.pad_h), w1 = std::min(w0 + p.kernel_w, g.W + p.pad_w);
  const int64_t padded_size = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0);
  w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, g.H);
  w1 = std::min(w1, g.W);
  const int64_t divisor = divisor_override > 0 ? divisor_override : count_include_pad ? padded_size : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, divisor};
}

}  // namespace

void avg_pool2d_forward(const TensorDesc& y, const TensorDesc& x, const PoolParams& p, bool count_include_pad,
                        int64_t divisor_override) {
  const char* op = "avgPool2d";
  check_params(op, p);
  Planes g = planes_of(op, x, y);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.ptr<T>();
    T* ys = y.ptr<T>();
    for_planes(g.planes, g.OH * g.OW * p.kernel_h * p.kernel_w, [&](int64_t pl) {
      const T* in = xs + pl * g.H * g.W;
      T* out = ys + pl * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          AvgWindow a = avg_window(oh, ow, g, p, count_include_pad, divisor_override);
          if (a.h0 >= a.h1 || a.w0 >= a.w1) {
            out[oh * g.OW + ow] = T(0);
            continue;
          }
          T sum = 0;
          for (int64_t ih = a.h0; ih < a.h1; ++ih)
            for (int64_t iw = a.w0; iw < a.w1; ++iw) sum += in[ih * g.W + iw];
          out[oh * g.OW + ow] = sum / static_cast<T>(a.divisor);
        }
    });
  });
}

void avg_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy, const PoolParams& p, bool count_include_pad,
                         int64_t divisor_override) {
  const char* op = "avgPool2d backward";
  check_params(op, p);
  Planes g = planes_of(op, gx, gy);
  dispatch_float(gx.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* gxs = gx.ptr<T>();
    const T* gys = gy.ptr<T>();
    for_planes(g.planes, g.H * g.W + g.OH * g.OW * p.kernel_h * p.kernel_w, [&](int64_t pl) {
      T* in = gxs + pl * g.H * g.W;
      std::fill(in, in + g.H * g.W, T(0));
      const T* out = gys + pl * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          AvgWindow a = avg_window(oh, ow, g, p, count_include_pad, divisor_override);
          const T share = out[oh * g.OW + ow] / static_cast<T>(a.divisor);
          for (int64_t ih = a.h0; ih < a.h1; ++ih)
            for (int64_t iw = a.w0; iw < a.w1; ++iw) in[ih * g.W + iw] += share;
        }
    });
  });
}

void adaptive_avg_pool2d_forward(const TensorDesc& y, const TensorDesc& x) {
  const char* op = "adaptiveAvgPool2d";
  Planes g = planes_of(op, x, y);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.ptr<T>();
    T* ys = y.ptr<T>();
    for_planes(g.planes, g.H * g.W + g.OH * g.OW, [&](int64_t pl) {
      const T* in = xs + pl * g.H * g.W;
      T* out = ys + pl * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
          T sum = 0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) sum += in[ih * g.W + iw];
          const int64_t count = (h1 - h0) * (w1 - w0);
          out[oh * g.OW + ow] = count > 0 ? sum / static_cast<T>(count) : T(0);
        }
      }
    });
  });
}

void adaptive_avg_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy) {
  const char* op = "adaptiveAvgPool2d backward";
  Planes g = planes_of(op, gx, gy);
  dispatch_float(gx.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* gxs = gx.ptr<T>();
    const T* gys = gy.ptr<T>();
    for_planes(g.planes, g.H * g.W + g.OH * g.OW, [&](int64_t pl) {
      T* in = gxs + pl * g.H * g.W;
      std::fill(in, in + g.H * g.W, T(0));
      const T* out = gys + pl * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
          const int64_t count = (h1 - h0) * (w1 - w0);
          if (count == 0) continue;
          const T share = out[oh * g.OW + ow] / static_cast<T>(count);
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) in[ih * g.W + iw] += share;
        }
      }
    });
  });
}

void adaptive_max_pool2d_forward(const TensorDesc& y, const TensorDesc& indices, const TensorDesc& x) {
  const char* op = "adaptiveMaxPool2d";
  Planes g = planes_of(op, x, y);
  check_indices(op, indices, y);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.ptr<T>();
    T* ys = y.ptr<T>();
    int64_t* is = indices.ptr<int64_t>();
    for_planes(g.planes, g.H * g.W + g.OH * g.OW, [&](int64_t pl) {
      const T* in = xs + pl * g.H * g.W;
      T* out = ys + pl * g.OH * g.OW;
      int64_t* idx = is + pl * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
          T best = -std::numeric_limits<T>::infinity();
          int64_t best_i = (h0 < h1 && w0 < w1) ? h0 * g.W + w0 : 0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) {
              const T v = in[ih * g.W + iw];
              if (v > best || std::isnan(v)) {
                best = v;
                best_i = ih * g.W + iw;
              }
            }
          out[oh * g.OW + ow] = best;
          idx[oh * g.OW + ow] = best_i;
        }
      }
    });
  });
}

}  // namespace dendrite::cpu

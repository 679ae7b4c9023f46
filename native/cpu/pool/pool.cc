// Pooling kernels over independent planes, threaded over planes. The float32 max and average
// forwards run each output row's interior (windows inside the input along w: no clipping)
// through the per-ISA PoolTable, L outputs at a time; the row edges, float64 and the backward
// scatters stay scalar.
#include "pool.h"
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>
#include "../../core/dispatch.h"
#include "../../core/thread_pool.h"

namespace dendrite::cpu {
namespace {

using Planes = PoolPlanes;

void check_layout(const char* op, const char* what, const TensorDesc& t, DType dtype) {
  if (t.ndim != 4) fail(ErrorCode::Shape, op, std::string(what) + " of shape [N, C, H, W]", shape_str(t.shape, t.ndim));
  if (t.dtype != dtype) fail(ErrorCode::DType, op, std::string(what) + " of dtype " + dtype_name(dtype), dtype_name(t.dtype));
  if (!t.is_contiguous()) fail(ErrorCode::Argument, op, std::string("a contiguous ") + what, "a strided view");
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

void max_row_ref(float* out, float* tap, const float* in, int64_t rows, int64_t row_step, int64_t kw, int64_t dw,
                 int64_t sw, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float* base = in + i * sw;
    float best = -std::numeric_limits<float>::infinity(), best_t = 0.0f, t = 0.0f;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t s = 0; s < kw; ++s, t += 1.0f) {
        const float v = base[r * row_step + s * dw];
        if (v > best || std::isnan(v)) best = v, best_t = t;
      }
    out[i] = best;
    tap[i] = best_t;
  }
}

void avg_row_ref(float* out, const float* in, int64_t rows, int64_t row_step, int64_t kw, int64_t sw, float divisor, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float* base = in + i * sw;
    float sum = 0.0f;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t s = 0; s < kw; ++s) sum += base[r * row_step + s];
    out[i] = sum / divisor;
  }
}

void fill_scalar(PoolTable& t) {
  t.max_row_f32 = max_row_ref;
  t.avg_row_f32 = avg_row_ref;
}

const PoolTable& table() {
  static IsaTables<PoolTable> tables(fill_scalar, DENDRITE_X86_FILLER(fill_pool_avx2),
                                     DENDRITE_X86_FILLER(fill_pool_avx512), DENDRITE_NEON_FILLER(fill_pool_neon));
  return tables.active();
}

// Outputs [lo, hi) of a row whose windows (first tap ow * stride - pad, extent (k - 1) * dil + 1)
// lie inside [0, W).
inline void interior(int64_t W, int64_t OW, int64_t k, int64_t stride, int64_t pad, int64_t dil, int64_t& lo, int64_t& hi) {
  lo = std::min<int64_t>((pad + stride - 1) / stride, OW);
  const int64_t last = W - 1 - (k - 1) * dil + pad;  // largest ow * stride allowed
  hi = last < 0 ? lo : std::clamp<int64_t>(last / stride + 1, lo, OW);
}

// The window of output o along one dim: first tap, one past the last tap (before clipping).
inline int64_t adaptive_start(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
inline int64_t adaptive_end(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }

}  // namespace

// in [N, C, H, W] and out [N, C, OH, OW] with the same N and C.
PoolPlanes check_pool_planes(const char* op, const TensorDesc& in, const TensorDesc& out) {
  if (!dtype_is_float(in.dtype)) fail(ErrorCode::DType, op, "a float32 or float64 input", dtype_name(in.dtype));
  check_layout(op, "input", in, in.dtype);
  check_layout(op, "output", out, in.dtype);
  if (out.shape[0] != in.shape[0] || out.shape[1] != in.shape[1])
    fail(ErrorCode::Shape, op, "output of shape [" + std::to_string(in.shape[0]) + ", " + std::to_string(in.shape[1]) + ", *, *]",
         shape_str(out.shape, 4));
  return {in.shape[0] * in.shape[1], in.shape[2], in.shape[3], out.shape[2], out.shape[3]};
}

void check_pool_indices(const char* op, const TensorDesc& indices, const TensorDesc& out) {
  if (indices.dtype != DType::Int64) fail(ErrorCode::DType, op, "int64 indices", dtype_name(indices.dtype));
  if (!indices.is_contiguous()) fail(ErrorCode::Argument, op, "contiguous indices", "a strided view");
  if (indices.ndim != 4 || !std::equal(indices.shape, indices.shape + 4, out.shape))
    fail(ErrorCode::Shape, op, "indices of shape " + shape_str(out.shape, 4), shape_str(indices.shape, indices.ndim));
}

void check_pool_params(const char* op, const PoolParams& p) {
  if (p.kernel_h < 1 || p.kernel_w < 1) fail(ErrorCode::Argument, op, "kernel sizes >= 1", std::to_string(p.kernel_h) + ", " + std::to_string(p.kernel_w));
  if (p.stride_h < 1 || p.stride_w < 1) fail(ErrorCode::Argument, op, "strides >= 1", std::to_string(p.stride_h) + ", " + std::to_string(p.stride_w));
  if (p.dil_h < 1 || p.dil_w < 1) fail(ErrorCode::Argument, op, "dilations >= 1", std::to_string(p.dil_h) + ", " + std::to_string(p.dil_w));
  if (p.pad_h < 0 || p.pad_w < 0) fail(ErrorCode::Argument, op, "paddings >= 0", std::to_string(p.pad_h) + ", " + std::to_string(p.pad_w));
}

void max_pool2d_forward(const TensorDesc& y, const TensorDesc& indices, const TensorDesc& x, const PoolParams& p) {
  const char* op = "maxPool2d";
  const bool ignore_nan = p.ignore_nan;
  check_pool_params(op, p);
  Planes g = check_pool_planes(op, x, y);
  check_pool_indices(op, indices, y);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.ptr<T>();
    T* ys = y.ptr<T>();
    int64_t* is = indices.ptr<int64_t>();
    int64_t lo = 0, hi = 0;
    // The SIMD rows implement PyTorch's NaN-wins rule only; TensorFlow's NaN-skipping rule
    // (ignore_nan, used by the tfjs backend) takes the scalar loop everywhere.
    if constexpr (std::is_same_v<T, float>)
      if (!ignore_nan) interior(g.W, g.OW, p.kernel_w, p.stride_w, p.pad_w, p.dil_w, lo, hi);
    const PoolTable& tab = table();
    // Tap t = r * kernel_w + s of a window sits this far from its first tap.
    std::vector<int64_t> tap_offsets(static_cast<size_t>(p.kernel_h * p.kernel_w));
    for (int64_t r = 0; r < p.kernel_h; ++r)
      for (int64_t sc = 0; sc < p.kernel_w; ++sc) tap_offsets[r * p.kernel_w + sc] = r * p.dil_h * g.W + sc * p.dil_w;
    for_planes(g.planes, g.OH * g.OW * p.kernel_h * p.kernel_w, [&](int64_t pl) {
      const T* in = xs + pl * g.H * g.W;
      T* out = ys + pl * g.OH * g.OW;
      int64_t* idx = is + pl * g.OH * g.OW;
      thread_local std::vector<float> taps;
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        int64_t h0 = oh * p.stride_h - p.pad_h;
        const int64_t h1 = std::min(h0 + (p.kernel_h - 1) * p.dil_h + 1, g.H);
        while (h0 < 0) h0 += p.dil_h;
        auto one = [&](int64_t ow) {
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
        };
        const int64_t rows = h0 < h1 ? (h1 - h0 + p.dil_h - 1) / p.dil_h : 0;
        if (rows == 0 || hi <= lo) {
          for (int64_t ow = 0; ow < g.OW; ++ow) one(ow);
          continue;
        }
        for (int64_t ow = 0; ow < lo; ++ow) one(ow);
        if constexpr (std::is_same_v<T, float>) {
          if (taps.size() < static_cast<size_t>(hi - lo)) taps.resize(static_cast<size_t>(hi - lo));
          const int64_t w_first = lo * p.stride_w - p.pad_w;
          tab.max_row_f32(out + oh * g.OW + lo, taps.data(), in + h0 * g.W + w_first, rows, p.dil_h * g.W, p.kernel_w,
                          p.dil_w, p.stride_w, hi - lo);
          const int64_t first = h0 * g.W + w_first;
          for (int64_t ow = lo; ow < hi; ++ow)
            idx[oh * g.OW + ow] = first + (ow - lo) * p.stride_w + tap_offsets[static_cast<size_t>(taps[ow - lo])];
        }
        for (int64_t ow = hi; ow < g.OW; ++ow) one(ow);
      }
    });
  });
}

void max_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy, const TensorDesc& indices) {
  const char* op = "maxPool2d backward";
  Planes g = check_pool_planes(op, gx, gy);
  check_pool_indices(op, indices, gy);
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
  check_pool_params(op, p);
  Planes g = check_pool_planes(op, x, y);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.ptr<T>();
    T* ys = y.ptr<T>();
    int64_t lo = 0, hi = 0;
    if constexpr (std::is_same_v<T, float>) interior(g.W, g.OW, p.kernel_w, p.stride_w, p.pad_w, 1, lo, hi);
    const PoolTable& tab = table();
    for_planes(g.planes, g.OH * g.OW * p.kernel_h * p.kernel_w, [&](int64_t pl) {
      const T* in = xs + pl * g.H * g.W;
      T* out = ys + pl * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        auto one = [&](int64_t ow) {
          AvgWindow a = avg_window(oh, ow, g, p, count_include_pad, divisor_override);
          if (a.h0 >= a.h1 || a.w0 >= a.w1) {
            out[oh * g.OW + ow] = T(0);
            return;
          }
          T sum = 0;
          for (int64_t ih = a.h0; ih < a.h1; ++ih)
            for (int64_t iw = a.w0; iw < a.w1; ++iw) sum += in[ih * g.W + iw];
          out[oh * g.OW + ow] = sum / static_cast<T>(a.divisor);
        };
        // Interior windows of a row share their rows and divisor.
        const AvgWindow first = avg_window(oh, lo, g, p, count_include_pad, divisor_override);
        if (hi <= lo || first.h0 >= first.h1) {
          for (int64_t ow = 0; ow < g.OW; ++ow) one(ow);
          continue;
        }
        for (int64_t ow = 0; ow < lo; ++ow) one(ow);
        if constexpr (std::is_same_v<T, float>)
          tab.avg_row_f32(out + oh * g.OW + lo, in + first.h0 * g.W + first.w0, first.h1 - first.h0, g.W, p.kernel_w,
                          p.stride_w, static_cast<float>(first.divisor), hi - lo);
        for (int64_t ow = hi; ow < g.OW; ++ow) one(ow);
      }
    });
  });
}

void avg_pool2d_backward(const TensorDesc& gx, const TensorDesc& gy, const PoolParams& p, bool count_include_pad,
                         int64_t divisor_override) {
  const char* op = "avgPool2d backward";
  check_pool_params(op, p);
  Planes g = check_pool_planes(op, gx, gy);
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
  Planes g = check_pool_planes(op, x, y);
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
  Planes g = check_pool_planes(op, gx, gy);
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
  Planes g = check_pool_planes(op, x, y);
  check_pool_indices(op, indices, y);
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

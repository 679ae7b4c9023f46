#include "roi_pool.h"
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>
#include "../../core/thread_pool.h"
#include "roi_common.h"

namespace dendrite::cpu {
namespace {

// A scaled, rounded corner as an int64; the clamp keeps the cast defined for any finite
// coordinate (the bins are clipped to the map afterwards, so far-away values act alike).
template <class T>
int64_t cell(T v, T scale) {
  T r = std::round(v * scale);
  const T limit = static_cast<T>(int64_t{1} << 40);
  return static_cast<int64_t>(std::min(std::max(r, -limit), limit));
}

// A box's bins as clipped cell ranges: rows [hs[ph], he[ph]) and columns [ws[pw], we[pw]).
template <class T>
struct PoolGeometry {
  int64_t batch = 0;
  std::vector<int64_t> hs, he, ws, we;

  void compute(const T* r, int64_t pooled_h, int64_t pooled_w, int64_t height, int64_t width, T scale) {
    batch = static_cast<int64_t>(r[0]);
    const int64_t x1 = cell(r[1], scale), y1 = cell(r[2], scale), x2 = cell(r[3], scale), y2 = cell(r[4], scale);
    const int64_t roi_w = std::max<int64_t>(x2 - x1 + 1, 1), roi_h = std::max<int64_t>(y2 - y1 + 1, 1);
    const T bin_h = static_cast<T>(roi_h) / static_cast<T>(pooled_h), bin_w = static_cast<T>(roi_w) / static_cast<T>(pooled_w);
    hs.resize(static_cast<size_t>(pooled_h));
    he.resize(hs.size());
    ws.resize(static_cast<size_t>(pooled_w));
    we.resize(ws.size());
    for (int64_t ph = 0; ph < pooled_h; ++ph) {
      hs[ph] = std::min(std::max<int64_t>(static_cast<int64_t>(std::floor(static_cast<T>(ph) * bin_h)) + y1, 0), height);
      he[ph] = std::min(std::max<int64_t>(static_cast<int64_t>(std::ceil(static_cast<T>(ph + 1) * bin_h)) + y1, 0), height);
    }
    for (int64_t pw = 0; pw < pooled_w; ++pw) {
      ws[pw] = std::min(std::max<int64_t>(static_cast<int64_t>(std::floor(static_cast<T>(pw) * bin_w)) + x1, 0), width);
      we[pw] = std::min(std::max<int64_t>(static_cast<int64_t>(std::ceil(static_cast<T>(pw + 1) * bin_w)) + x1, 0), width);
    }
  }
  // Cells the box's bins visit (bins may overlap by a cell).
  double cells() const {
    double rows = 0, cols = 0;
    for (size_t i = 0; i < hs.size(); ++i) rows += static_cast<double>(he[i] - hs[i]);
    for (size_t i = 0; i < ws.size(); ++i) cols += static_cast<double>(we[i] - ws[i]);
    return rows * cols;
  }
};

struct PoolDims {
  int64_t n, c, h, w, k, pooled_h, pooled_w;
};

// Reference: torchvision's loop over NCHW planes, one (box, channel) pair per task.
template <class T>
void forward_reference(T* out, int32_t* argmax, const T* x, const T* rois, const PoolDims& d, T scale) {
  const int64_t plane = d.h * d.w, bins = d.pooled_h * d.pooled_w;
  parallel_for(0, d.k * d.c, 8, [&](int64_t lo, int64_t hi) {
    PoolGeometry<T> g;
    int64_t geometry_of = -1;
    for (int64_t item = lo; item < hi; ++item) {
      const int64_t k = item / d.c, c = item % d.c;
      if (k != geometry_of) {
        g.compute(rois + 5 * k, d.pooled_h, d.pooled_w, d.h, d.w, scale);
        geometry_of = k;
      }
      const T* src = x + (g.batch * d.c + c) * plane;
      for (int64_t ph = 0; ph < d.pooled_h; ++ph)
        for (int64_t pw = 0; pw < d.pooled_w; ++pw) {
          const bool empty = g.he[ph] <= g.hs[ph] || g.we[pw] <= g.ws[pw];
          // torchvision starts from -FLT_MAX (for double too) and keeps the first strict max, so
          // a bin of all -inf or NaN gives -FLT_MAX with argmax -1.
          // Selects, not a branch: on noisy maps a new maximum is found often enough that a
          // branch mispredicts on about one cell in four.
          T best = empty ? T(0) : static_cast<T>(-FLT_MAX);
          int32_t best_at = -1;
          for (int64_t h = g.hs[ph]; h < g.he[ph]; ++h) {
            const T* row = src + h * d.w;
            for (int64_t w = g.ws[pw]; w < g.we[pw]; ++w) {
              const T v = row[w];
              const bool higher = v > best;
              best = higher ? v : best;
              best_at = higher ? static_cast<int32_t>(h * d.w + w) : best_at;
            }
          }
          out[item * bins + ph * d.pooled_w + pw] = best;
          argmax[item * bins + ph * d.pooled_w + pw] = best_at;
        }
    }
  });
}

// Channels-last: every cell is a contiguous row of C channels, maxed with vector compares. A
// box's results gather in (bins, C) buffers and go out transposed, one channel row at a time.
void forward_channels_last(float* out, int32_t* argmax, const float* x, const float* rois, const PoolDims& d, float scale) {
  const int64_t channels = d.c, hw = d.h * d.w, bins = d.pooled_h * d.pooled_w;
  std::vector<float> xt(static_cast<size_t>(d.n * hw * channels));
  roi_to_channels_last(xt.data(), x, d.n, channels, hw);
  const RoiTable& t = roi_table();
  parallel_for(0, d.k, 1, [&](int64_t lo, int64_t hi) {
    PoolGeometry<float> g;
    std::vector<int64_t> off;
    std::vector<float> pix, best(static_cast<size_t>(bins * channels)), arg(best.size());
    for (int64_t k = lo; k < hi; ++k) {
      g.compute(rois + 5 * k, d.pooled_h, d.pooled_w, d.h, d.w, scale);
      const float* image = xt.data() + g.batch * hw * channels;
      for (int64_t ph = 0; ph < d.pooled_h; ++ph)
        for (int64_t pw = 0; pw < d.pooled_w; ++pw) {
          off.clear();
          pix.clear();
          for (int64_t h = g.hs[ph]; h < g.he[ph]; ++h)
            for (int64_t w = g.ws[pw]; w < g.we[pw]; ++w) {
              off.push_back((h * d.w + w) * channels);
              pix.push_back(static_cast<float>(h * d.w + w));
            }
          float* b = best.data() + (ph * d.pooled_w + pw) * channels;
          float* a = arg.data() + (ph * d.pooled_w + pw) * channels;
          if (off.empty()) {
            std::fill(b, b + channels, 0.0f);
            std::fill(a, a + channels, -1.0f);
          } else {
            t.pool_max_f32(b, a, image, off.data(), pix.data(), static_cast<int64_t>(off.size()), channels);
          }
        }
      float* dst = out + k * channels * bins;
      int32_t* arg_dst = argmax + k * channels * bins;
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t bin = 0; bin < bins; ++bin) {
          dst[c * bins + bin] = best[bin * channels + c];
          arg_dst[c * bins + bin] = static_cast<int32_t>(arg[bin * channels + c]);
        }
    }
  });
}

// The vector path pays once the boxes visit more cells than an eighth of the map (the transpose
// costs about one pass); cell indices travel as floats, exact below 2^24.
constexpr double kChannelsLastCellsPerPixel = 0.125;

template <class T>
void forward(T* out, int32_t* argmax, const T* x, const T* rois, const PoolDims& d, T scale) {
  if constexpr (std::is_same_v<T, float>) {
    if (roi_table().pool_max_f32 && d.c >= 8 && d.h * d.w <= (int64_t{1} << 24)) {
      double cells = 0;
      PoolGeometry<float> g;
      for (int64_t k = 0; k < d.k; ++k) {
        g.compute(rois + 5 * k, d.pooled_h, d.pooled_w, d.h, d.w, scale);
        cells += g.cells();
      }
      if (cells >= kChannelsLastCellsPerPixel * static_cast<double>(d.n * d.h * d.w)) {
        forward_channels_last(out, argmax, x, rois, d, scale);
        return;
      }
    }
  }
  forward_reference<T>(out, argmax, x, rois, d, scale);
}

template <class T>
void backward(T* gx, const T* gy, const int32_t* argmax, const T* rois, int64_t n, int64_t n_channels, int64_t plane,
              int64_t k_boxes, int64_t bins) {
  std::fill(gx, gx + n * n_channels * plane, T(0));
  parallel_for(0, n_channels, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t k = 0; k < k_boxes; ++k) {
      const int64_t batch = static_cast<int64_t>(rois[5 * k]);
      for (int64_t c = c0; c < c1; ++c) {
        T* dst = gx + (batch * n_channels + c) * plane;
        const int64_t base = (k * n_channels + c) * bins;
        for (int64_t b = 0; b < bins; ++b)
          if (argmax[base + b] >= 0) dst[argmax[base + b]] += gy[base + b];
      }
    }
  });
}

void check_input(const char* op, const TensorDesc& t) {
  roi_check_float_contiguous(op, "input", t);
  if (t.ndim != 4) fail(ErrorCode::Shape, op, "input of shape [N, C, H, W]", shape_str(t.shape, t.ndim));
}

void check_argmax(const char* op, const TensorDesc& argmax, const int64_t* shape) {
  if (argmax.dtype != DType::Int32) fail(ErrorCode::DType, op, "an int32 argmax", dtype_name(argmax.dtype));
  if (!argmax.is_contiguous()) fail(ErrorCode::Argument, op, "a contiguous argmax", "a strided view");
  roi_check_shape(op, "argmax", argmax, shape, 4);
}

}  // namespace

void roi_pool_forward(const TensorDesc& out, const TensorDesc& argmax, const TensorDesc& input, const TensorDesc& rois,
                      int64_t pooled_h, int64_t pooled_w, double spatial_scale) {
  const char* op = "roiPool";
  check_input(op, input);
  if (pooled_h < 1 || pooled_w < 1)
    fail(ErrorCode::Argument, op, "an output size of at least 1 x 1", std::to_string(pooled_h) + " x " + std::to_string(pooled_w));
  if (!std::isfinite(spatial_scale) || !(spatial_scale > 0))
    fail(ErrorCode::Argument, op, "a finite spatialScale > 0", std::to_string(spatial_scale));
  roi_check_boxes(op, rois, input.dtype, input.shape[0]);
  if (input.shape[2] * input.shape[3] > INT32_MAX)
    fail(ErrorCode::Shape, op, "a feature map of fewer than 2^31 cells per channel", shape_str(input.shape, input.ndim));
  const int64_t shape[4] = {rois.shape[0], input.shape[1], pooled_h, pooled_w};
  roi_check_float_contiguous(op, "output", out);
  if (out.dtype != input.dtype) fail(ErrorCode::DType, op, std::string("output of dtype ") + dtype_name(input.dtype), dtype_name(out.dtype));
  roi_check_shape(op, "output", out, shape, 4);
  check_argmax(op, argmax, shape);
  if (out.numel() == 0) return;
  const PoolDims d{input.shape[0], input.shape[1], input.shape[2], input.shape[3], rois.shape[0], pooled_h, pooled_w};
  auto run = [&](auto tag) {
    using T = decltype(tag);
    forward<T>(out.ptr<T>(), argmax.ptr<int32_t>(), input.ptr<T>(), rois.ptr<T>(), d, static_cast<T>(spatial_scale));
  };
  if (input.dtype == DType::Float64) run(double{});
  else run(float{});
}

void roi_pool_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& argmax, const TensorDesc& rois) {
  const char* op = "roiPool backward";
  check_input(op, grad_input);
  const int64_t n = grad_input.shape[0], channels = grad_input.shape[1], plane = grad_input.shape[2] * grad_input.shape[3];
  roi_check_boxes(op, rois, grad_input.dtype, n);
  roi_check_float_contiguous(op, "output gradient", grad_out);
  if (grad_out.dtype != grad_input.dtype)
    fail(ErrorCode::DType, op, std::string("an output gradient of dtype ") + dtype_name(grad_input.dtype), dtype_name(grad_out.dtype));
  if (grad_out.ndim != 4) fail(ErrorCode::Shape, op, "an output gradient of shape [K, C, PH, PW]", shape_str(grad_out.shape, grad_out.ndim));
  const int64_t shape[4] = {rois.shape[0], channels, grad_out.shape[2], grad_out.shape[3]};
  roi_check_shape(op, "output gradient", grad_out, shape, 4);
  check_argmax(op, argmax, shape);
  // Every routed index must name a cell of its plane.
  const int32_t* a = argmax.ptr<int32_t>();
  for (int64_t i = 0, total = argmax.numel(); i < total; ++i)
    if (a[i] < -1 || a[i] >= plane)
      fail(ErrorCode::Index, op, "argmax values in [-1, " + std::to_string(plane) + ")", std::to_string(a[i]));
  if (grad_input.numel() == 0) return;
  const int64_t bins = shape[2] * shape[3];
  if (grad_input.dtype == DType::Float64)
    backward<double>(grad_input.ptr<double>(), grad_out.ptr<double>(), a, rois.ptr<double>(), n, channels, plane, rois.shape[0], bins);
  else
    backward<float>(grad_input.ptr<float>(), grad_out.ptr<float>(), a, rois.ptr<float>(), n, channels, plane, rois.shape[0], bins);
}

}  // namespace dendrite::cpu

#include "roi_align.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>
#include "../../core/dispatch.h"
#include "../../core/thread_pool.h"
#include "roi_common.h"

namespace dendrite::cpu {
namespace {

void fill_scalar(RoiTable& t) { std::memset(&t, 0, sizeof(t)); }

// Channels-last inner loops pay once a call does more bilinear samples than this many times
// the map's pixels (the transpose to NHWC and back costs about one pass over the map).
constexpr double kChannelsLastSamplesPerPixel = 0.125;
constexpr int64_t kMinChannelsLast = 8;

// One sample coordinate on one axis, as torchvision's bilinear_interpolate treats it: more than
// a pixel outside the map is invalid (weight 0), else clamped to the border.
template <class T>
struct AxisSample {
  int64_t lo = 0, hi = 0;
  T wlo = 0, whi = 0;
  bool valid = false;
};

template <class T>
AxisSample<T> axis_sample(T v, int64_t size) {
  AxisSample<T> s;
  if (v < T(-1) || v > static_cast<T>(size)) return s;
  if (v <= 0) v = 0;
  int64_t lo = static_cast<int64_t>(v), hi;
  if (lo >= size - 1) {
    hi = lo = size - 1;
    v = static_cast<T>(lo);
  } else {
    hi = lo + 1;
  }
  T l = v - static_cast<T>(lo);
  s.lo = lo;
  s.hi = hi;
  s.whi = l;
  s.wlo = T(1) - l;
  s.valid = true;
  return s;
}

// Samples per bin side: the fixed ratio, or the adaptive ceil(roi size / pooled size) (0 for an
// inverted box, which then has no samples). Throws past kMaxRoiAlignGrid.
template <class T>
int64_t grid_size(int64_t sampling_ratio, T roi_size, int64_t pooled, int64_t box) {
  if (sampling_ratio > 0) return sampling_ratio;
  T g = std::ceil(roi_size / static_cast<T>(pooled));
  if (!(g <= static_cast<T>(kMaxRoiAlignGrid)))
    fail(ErrorCode::Argument, "roiAlign", "an adaptive sampling grid of at most " + std::to_string(kMaxRoiAlignGrid) +
         " samples per bin side (pass samplingRatio, or a smaller box)", "box " + std::to_string(box) + " asking for " + std::to_string(static_cast<double>(g)));
  return g > 0 ? static_cast<int64_t>(g) : 0;
}

// A box's sampling geometry in feature-map cells (torchvision's roi_align_forward_kernel_impl).
template <class T>
struct RoiGeometry {
  int64_t batch = 0, grid_h = 0, grid_w = 0;
  T count = 1;
  std::vector<AxisSample<T>> ys, xs;  // [ph * grid_h + iy], [pw * grid_w + ix]

  void compute(const T* roi, int64_t box, const RoiAlignParams& p, int64_t height, int64_t width) {
    const T scale = static_cast<T>(p.spatial_scale), offset = p.aligned ? T(0.5) : T(0);
    batch = static_cast<int64_t>(roi[0]);
    T x1 = roi[1] * scale - offset, y1 = roi[2] * scale - offset;
    T rw = roi[3] * scale - offset - x1, rh = roi[4] * scale - offset - y1;
    if (!p.aligned) {
      rw = std::max(rw, T(1));
      rh = std::max(rh, T(1));
    }
    T bin_h = rh / static_cast<T>(p.pooled_h), bin_w = rw / static_cast<T>(p.pooled_w);
    grid_h = grid_size(p.sampling_ratio, rh, p.pooled_h, box);
    grid_w = grid_size(p.sampling_ratio, rw, p.pooled_w, box);
    count = static_cast<T>(std::max<int64_t>(grid_h * grid_w, 1));
    ys.resize(static_cast<size_t>(p.pooled_h * grid_h));
    xs.resize(static_cast<size_t>(p.pooled_w * grid_w));
    for (int64_t ph = 0; ph < p.pooled_h; ++ph)
      for (int64_t iy = 0; iy < grid_h; ++iy)
        ys[ph * grid_h + iy] = axis_sample<T>(
            y1 + static_cast<T>(ph) * bin_h + static_cast<T>(iy + .5f) * bin_h / static_cast<T>(grid_h), height);
    for (int64_t pw = 0; pw < p.pooled_w; ++pw)
      for (int64_t ix = 0; ix < grid_w; ++ix)
        xs[pw * grid_w + ix] = axis_sample<T>(
            x1 + static_cast<T>(pw) * bin_w + static_cast<T>(ix + .5f) * bin_w / static_cast<T>(grid_w), width);
  }

  // The valid samples of bin (ph, pw) as 4 taps each: off = pixel * stride, w = bilinear weight.
  // Returns the number of samples.
  template <class W>
  int64_t bin_taps(int64_t ph, int64_t pw, int64_t width, int64_t stride, std::vector<int64_t>& off, std::vector<W>& w) const {
    off.resize(static_cast<size_t>(4 * grid_h * grid_w));
    w.resize(off.size());
    int64_t s = 0;
    for (int64_t iy = 0; iy < grid_h; ++iy) {
      const AxisSample<T>& y = ys[ph * grid_h + iy];
      if (!y.valid) continue;
      for (int64_t ix = 0; ix < grid_w; ++ix) {
        const AxisSample<T>& x = xs[pw * grid_w + ix];
        if (!x.valid) continue;
        off[4 * s + 0] = (y.lo * width + x.lo) * stride;
        off[4 * s + 1] = (y.lo * width + x.hi) * stride;
        off[4 * s + 2] = (y.hi * width + x.lo) * stride;
        off[4 * s + 3] = (y.hi * width + x.hi) * stride;
        w[4 * s + 0] = static_cast<W>(y.wlo * x.wlo);
        w[4 * s + 1] = static_cast<W>(y.wlo * x.whi);
        w[4 * s + 2] = static_cast<W>(y.whi * x.wlo);
        w[4 * s + 3] = static_cast<W>(y.whi * x.whi);
        ++s;
      }
    }
    return s;
  }
};

struct Dims {
  int64_t n, c, h, w, k;
};

// Checks every operand, every box and every adaptive grid before any element is touched;
// returns the number of bilinear samples the call will take.
template <class T>
double validate(const char* op, const Dims& d, const TensorDesc& rois, const RoiAlignParams& p) {
  if (p.pooled_h < 1 || p.pooled_w < 1)
    fail(ErrorCode::Argument, op, "an output size of at least 1 x 1", std::to_string(p.pooled_h) + " x " + std::to_string(p.pooled_w));
  if (!std::isfinite(p.spatial_scale) || !(p.spatial_scale > 0))
    fail(ErrorCode::Argument, op, "a finite spatialScale > 0", std::to_string(p.spatial_scale));
  if (p.sampling_ratio > kMaxRoiAlignGrid)
    fail(ErrorCode::Argument, op, "samplingRatio <= " + std::to_string(kMaxRoiAlignGrid), std::to_string(p.sampling_ratio));
  roi_check_boxes(op, rois, std::is_same_v<T, double> ? DType::Float64 : DType::Float32, d.n);
  double samples = 0;
  RoiGeometry<T> g;
  const T* r = rois.ptr<T>();
  const T scale = static_cast<T>(p.spatial_scale), offset = p.aligned ? T(0.5) : T(0);
  for (int64_t k = 0; k < d.k; ++k) {
    // The grid alone (RoiGeometry::compute's first half), so huge boxes throw here, single-threaded.
    T rw = (r[5 * k + 3] * scale - offset) - (r[5 * k + 1] * scale - offset);
    T rh = (r[5 * k + 4] * scale - offset) - (r[5 * k + 2] * scale - offset);
    if (!p.aligned) {
      rw = std::max(rw, T(1));
      rh = std::max(rh, T(1));
    }
    samples += static_cast<double>(grid_size(p.sampling_ratio, rh, p.pooled_h, k)) *
               static_cast<double>(grid_size(p.sampling_ratio, rw, p.pooled_w, k));
  }
  return samples * static_cast<double>(p.pooled_h * p.pooled_w);
}

bool use_channels_last(const Dims& d, double samples) {
  return roi_table().align_gather_f32 != nullptr && d.c >= kMinChannelsLast &&
         samples >= kChannelsLastSamplesPerPixel * static_cast<double>(d.n * d.h * d.w);
}

// Reference: torchvision's loop over NCHW planes, one box per task.
template <class T>
void forward_reference(T* out, const T* x, const T* rois, const Dims& d, const RoiAlignParams& p) {
  const int64_t plane = d.h * d.w, bins = p.pooled_h * p.pooled_w;
  parallel_for(0, d.k, 1, [&](int64_t lo, int64_t hi) {
    RoiGeometry<T> g;
    std::vector<int64_t> off;
    std::vector<T> w;
    for (int64_t k = lo; k < hi; ++k) {
      g.compute(rois + 5 * k, k, p, d.h, d.w);
      const T* image = x + g.batch * d.c * plane;
      for (int64_t ph = 0; ph < p.pooled_h; ++ph)
        for (int64_t pw = 0; pw < p.pooled_w; ++pw) {
          int64_t s = g.bin_taps(ph, pw, d.w, 1, off, w);
          for (int64_t c = 0; c < d.c; ++c) {
            const T* src = image + c * plane;
            T acc = 0;
            for (int64_t i = 0; i < s; ++i)
              acc += w[4 * i] * src[off[4 * i]] + w[4 * i + 1] * src[off[4 * i + 1]] + w[4 * i + 2] * src[off[4 * i + 2]] +
                     w[4 * i + 3] * src[off[4 * i + 3]];
            out[(k * d.c + c) * bins + ph * p.pooled_w + pw] = acc / g.count;
          }
        }
    }
  });
}

template <class T>
void backward_reference(T* gx, const T* gy, const T* rois, const Dims& d, const RoiAlignParams& p) {
  const int64_t plane = d.h * d.w, bins = p.pooled_h * p.pooled_w;
  std::fill(gx, gx + d.n * d.c * plane, T(0));
  // Threads own channels, so boxes that overlap never write the same element concurrently.
  parallel_for(0, d.c, 1, [&](int64_t c0, int64_t c1) {
    RoiGeometry<T> g;
    std::vector<int64_t> off;
    std::vector<T> w;
    for (int64_t k = 0; k < d.k; ++k) {
      g.compute(rois + 5 * k, k, p, d.h, d.w);
      for (int64_t ph = 0; ph < p.pooled_h; ++ph)
        for (int64_t pw = 0; pw < p.pooled_w; ++pw) {
          int64_t s = g.bin_taps(ph, pw, d.w, 1, off, w);
          for (int64_t c = c0; c < c1; ++c) {
            T* dst = gx + (g.batch * d.c + c) * plane;
            T go = gy[(k * d.c + c) * bins + ph * p.pooled_w + pw];
            for (int64_t i = 0; i < 4 * s; ++i) dst[off[i]] += go * w[i] / g.count;
          }
        }
    }
  });
}

// Channels-last: the map is transposed to NHWC once, so every tap is a contiguous row of C
// channels and the per-ISA kernels stream it with vector FMAs.
void forward_channels_last(float* out, const float* x, const float* rois, const Dims& d, const RoiAlignParams& p) {
  const int64_t channels = d.c, hw = d.h * d.w, bins = p.pooled_h * p.pooled_w;
  std::vector<float> xt(static_cast<size_t>(d.n * hw * channels));
  roi_to_channels_last(xt.data(), x, d.n, channels, hw);
  const RoiTable& t = roi_table();
  parallel_for(0, d.k, 1, [&](int64_t lo, int64_t hi) {
    RoiGeometry<float> g;
    std::vector<int64_t> off;
    std::vector<float> w, acc(static_cast<size_t>(bins * channels));  // (bins, C): transposed on the way out
    for (int64_t k = lo; k < hi; ++k) {
      g.compute(rois + 5 * k, k, p, d.h, d.w);
      const float* image = xt.data() + g.batch * hw * channels;
      for (int64_t ph = 0; ph < p.pooled_h; ++ph)
        for (int64_t pw = 0; pw < p.pooled_w; ++pw) {
          int64_t s = g.bin_taps(ph, pw, d.w, channels, off, w);
          t.align_gather_f32(acc.data() + (ph * p.pooled_w + pw) * channels, image, off.data(), w.data(), s, channels);
        }
      const float count = g.count;
      float* dst = out + k * channels * bins;
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t bin = 0; bin < bins; ++bin) dst[c * bins + bin] = acc[bin * channels + c] / count;
    }
  });
}

void backward_channels_last(float* gx, const float* gy, const float* rois, const Dims& d, const RoiAlignParams& p) {
  const int64_t hw = d.h * d.w, bins = p.pooled_h * p.pooled_w;
  std::vector<float> gt(static_cast<size_t>(d.n * hw * d.c), 0.0f);
  const RoiTable& t = roi_table();
  // Threads own channel ranges of every row: overlapping boxes never race.
  parallel_for(0, d.c, 16, [&](int64_t c0, int64_t c1) {
    RoiGeometry<float> g;
    std::vector<int64_t> off;
    std::vector<float> w, go(static_cast<size_t>(c1 - c0));
    for (int64_t k = 0; k < d.k; ++k) {
      g.compute(rois + 5 * k, k, p, d.h, d.w);
      float* image = gt.data() + g.batch * hw * d.c + c0;
      for (int64_t ph = 0; ph < p.pooled_h; ++ph)
        for (int64_t pw = 0; pw < p.pooled_w; ++pw) {
          int64_t s = g.bin_taps(ph, pw, d.w, d.c, off, w);
          if (s == 0) continue;
          int64_t bin = ph * p.pooled_w + pw;
          for (int64_t c = c0; c < c1; ++c) go[c - c0] = gy[(k * d.c + c) * bins + bin] / g.count;
          t.align_scatter_f32(image, off.data(), w.data(), s, go.data(), c1 - c0);
        }
    }
  });
  roi_from_channels_last(gx, gt.data(), d.n, d.c, hw);
}

}  // namespace

// In tiles of kTile pixels x kTile channels, so both sides stream.
constexpr int64_t kTile = 32;
void roi_to_channels_last(float* dst, const float* src, int64_t n, int64_t c, int64_t hw) {
  int64_t tiles = (hw + kTile - 1) / kTile;
  parallel_for(0, n * tiles, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      int64_t b = t / tiles, p0 = (t % tiles) * kTile, p1 = std::min(hw, p0 + kTile);
      const float* s = src + b * c * hw;
      float* o = dst + b * hw * c;
      for (int64_t c0 = 0; c0 < c; c0 += kTile) {
        int64_t c1 = std::min(c, c0 + kTile);
        for (int64_t ch = c0; ch < c1; ++ch)
          for (int64_t px = p0; px < p1; ++px) o[px * c + ch] = s[ch * hw + px];
      }
    }
  });
}
void roi_from_channels_last(float* dst, const float* src, int64_t n, int64_t c, int64_t hw) {
  int64_t tiles = (hw + kTile - 1) / kTile;
  parallel_for(0, n * tiles, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      int64_t b = t / tiles, p0 = (t % tiles) * kTile, p1 = std::min(hw, p0 + kTile);
      const float* s = src + b * hw * c;
      float* o = dst + b * c * hw;
      for (int64_t c0 = 0; c0 < c; c0 += kTile) {
        int64_t c1 = std::min(c, c0 + kTile);
        for (int64_t ch = c0; ch < c1; ++ch)
          for (int64_t px = p0; px < p1; ++px) o[ch * hw + px] = s[px * c + ch];
      }
    }
  });
}

const RoiTable& roi_table() {
  static IsaTables<RoiTable> tables(fill_scalar, DENDRITE_X86_FILLER(fill_roi_avx2), DENDRITE_X86_FILLER(fill_roi_avx512),
                                    DENDRITE_NEON_FILLER(fill_roi_neon));
  return tables.active();
}

void roi_align_forward(const TensorDesc& out, const TensorDesc& input, const TensorDesc& rois, const RoiAlignParams& p) {
  const char* op = "roiAlign";
  roi_check_float_contiguous(op, "input", input);
  if (input.ndim != 4) fail(ErrorCode::Shape, op, "input of shape [N, C, H, W]", shape_str(input.shape, input.ndim));
  Dims d{input.shape[0], input.shape[1], input.shape[2], input.shape[3], rois.ndim > 0 ? rois.shape[0] : 0};
  roi_check_float_contiguous(op, "output", out);
  if (out.dtype != input.dtype) fail(ErrorCode::DType, op, std::string("output of dtype ") + dtype_name(input.dtype), dtype_name(out.dtype));
  dispatch_dtype(input.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      double samples = validate<T>(op, d, rois, p);
      const int64_t shape[4] = {d.k, d.c, p.pooled_h, p.pooled_w};
      roi_check_shape(op, "output", out, shape, 4);
      if (out.numel() == 0) return;
      if (d.h == 0 || d.w == 0) {  // no pixel to sample: every bin averages nothing
        std::fill(out.ptr<T>(), out.ptr<T>() + out.numel(), T(0));
        return;
      }
      if constexpr (std::is_same_v<T, float>) {
        if (use_channels_last(d, samples)) {
          forward_channels_last(out.ptr<float>(), input.ptr<float>(), rois.ptr<float>(), d, p);
          return;
        }
      }
      forward_reference<T>(out.ptr<T>(), input.ptr<T>(), rois.ptr<T>(), d, p);
    }
  });
}

void roi_align_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& rois, const RoiAlignParams& p) {
  const char* op = "roiAlign backward";
  roi_check_float_contiguous(op, "gradient", grad_input);
  if (grad_input.ndim != 4) fail(ErrorCode::Shape, op, "an input gradient of shape [N, C, H, W]", shape_str(grad_input.shape, grad_input.ndim));
  Dims d{grad_input.shape[0], grad_input.shape[1], grad_input.shape[2], grad_input.shape[3], rois.ndim > 0 ? rois.shape[0] : 0};
  roi_check_float_contiguous(op, "output gradient", grad_out);
  if (grad_out.dtype != grad_input.dtype)
    fail(ErrorCode::DType, op, std::string("an output gradient of dtype ") + dtype_name(grad_input.dtype), dtype_name(grad_out.dtype));
  dispatch_dtype(grad_input.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      double samples = validate<T>(op, d, rois, p);
      const int64_t shape[4] = {d.k, d.c, p.pooled_h, p.pooled_w};
      roi_check_shape(op, "output gradient", grad_out, shape, 4);
      if (grad_input.numel() == 0) return;
      if constexpr (std::is_same_v<T, float>) {
        if (use_channels_last(d, samples)) {
          backward_channels_last(grad_input.ptr<float>(), grad_out.ptr<float>(), rois.ptr<float>(), d, p);
          return;
        }
      }
      backward_reference<T>(grad_input.ptr<T>(), grad_out.ptr<T>(), rois.ptr<T>(), d, p);
    }
  });
}

}  // namespace dendrite::cpu

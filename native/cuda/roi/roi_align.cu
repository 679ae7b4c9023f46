// RoIAlign on CUDA with the semantics of native/cpu/roi/roi_align.cc (torchvision's): one thread
// per output bin (k, c, ph, pw), pw fastest so a warp writes a contiguous run. Each thread
// recomputes its box's geometry (a handful of flops) and walks the bin's grid_h x grid_w
// bilinear samples. The backward runs the same walk and scatters with atomicAdd into the
// feature-map gradient (overlapping boxes and neighbouring bins share cells), so its float sums
// depend on the order the atomics land in: close to, not bitwise equal with, the CPU, and not
// bitwise repeatable.
#include <cmath>
#include <string>
#include <type_traits>
#include "roi.h"
#include "roi_math.cuh"

namespace dendrite::cuda {
namespace {

using namespace roi_detail;

struct AlignArgs {
  int64_t c, h, w, pooled_h, pooled_w, sampling_ratio;
  double spatial_scale;
  bool aligned;
};

// One sample coordinate on one axis, as the CPU's axis_sample: more than a pixel outside the map
// is invalid (weight 0), else clamped to the border. NaN (a box so large its extent overflowed)
// is invalid too, where the CPU's int conversion would be undefined.
template <class T>
struct AxisSample {
  int64_t lo, hi;
  T wlo, whi;
  bool valid;
};

template <class T>
__device__ __forceinline__ AxisSample<T> axis_sample(T v, int64_t size) {
  AxisSample<T> s{0, 0, T(0), T(0), false};
  if (!(v >= T(-1) && v <= static_cast<T>(size))) return s;
  if (v <= T(0)) v = T(0);
  int64_t lo = static_cast<int64_t>(v), hi;
  if (lo >= size - 1) {
    hi = lo = size - 1;
    v = static_cast<T>(lo);
  } else {
    hi = lo + 1;
  }
  const T l = v - static_cast<T>(lo);
  s.lo = lo;
  s.hi = hi;
  s.whi = l;
  s.wlo = T(1) - l;
  s.valid = true;
  return s;
}

// A box's sampling geometry in feature cells (the CPU's RoiGeometry::compute).
template <class T>
struct AlignBox {
  int64_t batch, grid_h, grid_w;
  T x1, y1, bin_h, bin_w, count;
};

template <class T>
__device__ __forceinline__ int64_t grid_side(int64_t sampling_ratio, T extent, int64_t pooled) {
  if (sampling_ratio > 0) return sampling_ratio;
  const T g = ceil(extent / static_cast<T>(pooled));  // validated <= kMaxRoiAlignGrid on the host
  return g > T(0) ? static_cast<int64_t>(g) : 0;
}

template <class T>
__device__ __forceinline__ AlignBox<T> align_box(const T* roi, const AlignArgs& a) {
  const T scale = static_cast<T>(a.spatial_scale), offset = a.aligned ? T(0.5) : T(0);
  AlignBox<T> b;
  b.batch = static_cast<int64_t>(roi[0]);
  b.x1 = align_start(roi[1], scale, offset);
  b.y1 = align_start(roi[2], scale, offset);
  const T rw = align_extent(roi[1], roi[3], scale, offset, a.aligned);
  const T rh = align_extent(roi[2], roi[4], scale, offset, a.aligned);
  b.bin_h = rh / static_cast<T>(a.pooled_h);
  b.bin_w = rw / static_cast<T>(a.pooled_w);
  b.grid_h = grid_side(a.sampling_ratio, rh, a.pooled_h);
  b.grid_w = grid_side(a.sampling_ratio, rw, a.pooled_w);
  const int64_t samples = b.grid_h * b.grid_w;
  b.count = static_cast<T>(samples > 1 ? samples : 1);
  return b;
}

// start + bin * size + (i + .5) * size / grid, rounded step by step as the CPU expression is.
template <class T>
__device__ __forceinline__ T sample_at(T start, int64_t bin, T size, int64_t i, int64_t grid) {
  const T frac = static_cast<T>(static_cast<float>(i) + .5f);
  return add_rn(add_rn(start, mul_rn(static_cast<T>(bin), size)), mul_rn(frac, size) / static_cast<T>(grid));
}

// Flat output index -> (box, channel, ph, pw).
struct BinIndex {
  int64_t k, c, ph, pw;
};
__device__ __forceinline__ BinIndex bin_of(int64_t idx, const AlignArgs& a) {
  BinIndex b;
  b.pw = idx % a.pooled_w;
  idx /= a.pooled_w;
  b.ph = idx % a.pooled_h;
  idx /= a.pooled_h;
  b.c = idx % a.c;
  b.k = idx / a.c;
  return b;
}

template <class T>
__global__ void roi_align_forward_kernel(T* out, const T* x, const T* rois, AlignArgs a, int64_t total) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t plane = a.h * a.w;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const BinIndex bin = bin_of(idx, a);
    const AlignBox<T> box = align_box(rois + 5 * bin.k, a);
    const T* src = x + (box.batch * a.c + bin.c) * plane;
    T acc = 0;
    for (int64_t iy = 0; iy < box.grid_h; ++iy) {
      const AxisSample<T> y = axis_sample(sample_at(box.y1, bin.ph, box.bin_h, iy, box.grid_h), a.h);
      if (!y.valid) continue;
      for (int64_t ix = 0; ix < box.grid_w; ++ix) {
        const AxisSample<T> xs = axis_sample(sample_at(box.x1, bin.pw, box.bin_w, ix, box.grid_w), a.w);
        if (!xs.valid) continue;
        const T w0 = y.wlo * xs.wlo, w1 = y.wlo * xs.whi, w2 = y.whi * xs.wlo, w3 = y.whi * xs.whi;
        acc += w0 * src[y.lo * a.w + xs.lo] + w1 * src[y.lo * a.w + xs.hi] + w2 * src[y.hi * a.w + xs.lo] +
               w3 * src[y.hi * a.w + xs.hi];
      }
    }
    out[idx] = acc / box.count;
  }
}

template <class T>
__global__ void roi_align_backward_kernel(T* gx, const T* gy, const T* rois, AlignArgs a, int64_t total) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t plane = a.h * a.w;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const BinIndex bin = bin_of(idx, a);
    const AlignBox<T> box = align_box(rois + 5 * bin.k, a);
    T* dst = gx + (box.batch * a.c + bin.c) * plane;
    const T go = gy[idx];
    for (int64_t iy = 0; iy < box.grid_h; ++iy) {
      const AxisSample<T> y = axis_sample(sample_at(box.y1, bin.ph, box.bin_h, iy, box.grid_h), a.h);
      if (!y.valid) continue;
      for (int64_t ix = 0; ix < box.grid_w; ++ix) {
        const AxisSample<T> xs = axis_sample(sample_at(box.x1, bin.pw, box.bin_w, ix, box.grid_w), a.w);
        if (!xs.valid) continue;
        // The CPU's go * w / count per tap, taps in the same order (two may name one cell).
        atomicAdd(dst + y.lo * a.w + xs.lo, go * (y.wlo * xs.wlo) / box.count);
        atomicAdd(dst + y.lo * a.w + xs.hi, go * (y.wlo * xs.whi) / box.count);
        atomicAdd(dst + y.hi * a.w + xs.lo, go * (y.whi * xs.wlo) / box.count);
        atomicAdd(dst + y.hi * a.w + xs.hi, go * (y.whi * xs.whi) / box.count);
      }
    }
  }
}

// The CPU's validate(): options first, then the boxes' layout (their values on the device).
void check_params(const char* op, const cpu::RoiAlignParams& p) {
  if (p.pooled_h < 1 || p.pooled_w < 1)
    fail(ErrorCode::Argument, op, "an output size of at least 1 x 1", std::to_string(p.pooled_h) + " x " + std::to_string(p.pooled_w));
  if (!std::isfinite(p.spatial_scale) || !(p.spatial_scale > 0))
    fail(ErrorCode::Argument, op, "a finite spatialScale > 0", std::to_string(p.spatial_scale));
  if (p.sampling_ratio > cpu::kMaxRoiAlignGrid)
    fail(ErrorCode::Argument, op, "samplingRatio <= " + std::to_string(cpu::kMaxRoiAlignGrid), std::to_string(p.sampling_ratio));
}

AlignArgs args_of(const TensorDesc& map, const cpu::RoiAlignParams& p) {
  return AlignArgs{map.shape[1], map.shape[2], map.shape[3], p.pooled_h, p.pooled_w, p.sampling_ratio, p.spatial_scale, p.aligned};
}

}  // namespace

void roi_align_forward(const TensorDesc& out, const TensorDesc& input, const TensorDesc& rois, const cpu::RoiAlignParams& p) {
  const char* op = "roiAlign";
  cpu::roi_check_float_contiguous(op, "input", input);
  if (input.ndim != 4) fail(ErrorCode::Shape, op, "input of shape [N, C, H, W]", shape_str(input.shape, input.ndim));
  cpu::roi_check_float_contiguous(op, "output", out);
  if (out.dtype != input.dtype) fail(ErrorCode::DType, op, std::string("output of dtype ") + dtype_name(input.dtype), dtype_name(out.dtype));
  check_params(op, p);
  check_box_layout(op, rois, input.dtype);
  const int64_t k = rois.shape[0];
  const int64_t shape[4] = {k, input.shape[1], p.pooled_h, p.pooled_w};
  cpu::roi_check_shape(op, "output", out, shape, 4);
  check_boxes_on_device(op, rois, input.shape[0], &p, nullptr, 0);
  const int64_t total = out.numel();
  if (total == 0) return;
  cudaStream_t s = stream();
  if (input.shape[2] == 0 || input.shape[3] == 0) {  // no pixel to sample: every bin averages nothing
    check(cudaMemsetAsync(out.data, 0, static_cast<size_t>(total) * dtype_size(out.dtype), s), op);
    return;
  }
  const AlignArgs a = args_of(input, p);
  if (input.dtype == DType::Float64)
    roi_align_forward_kernel<double><<<grid_for(total), kThreads, 0, s>>>(out.ptr<double>(), input.ptr<double>(), rois.ptr<double>(), a, total);
  else
    roi_align_forward_kernel<float><<<grid_for(total), kThreads, 0, s>>>(out.ptr<float>(), input.ptr<float>(), rois.ptr<float>(), a, total);
  check_launch(op);
}

void roi_align_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& rois,
                        const cpu::RoiAlignParams& p) {
  const char* op = "roiAlign backward";
  cpu::roi_check_float_contiguous(op, "gradient", grad_input);
  if (grad_input.ndim != 4)
    fail(ErrorCode::Shape, op, "an input gradient of shape [N, C, H, W]", shape_str(grad_input.shape, grad_input.ndim));
  cpu::roi_check_float_contiguous(op, "output gradient", grad_out);
  if (grad_out.dtype != grad_input.dtype)
    fail(ErrorCode::DType, op, std::string("an output gradient of dtype ") + dtype_name(grad_input.dtype), dtype_name(grad_out.dtype));
  check_params(op, p);
  check_box_layout(op, rois, grad_input.dtype);
  const int64_t k = rois.shape[0];
  const int64_t shape[4] = {k, grad_input.shape[1], p.pooled_h, p.pooled_w};
  cpu::roi_check_shape(op, "output gradient", grad_out, shape, 4);
  check_boxes_on_device(op, rois, grad_input.shape[0], &p, nullptr, 0);
  const int64_t n = grad_input.numel();
  if (n == 0) return;
  cudaStream_t s = stream();
  check(cudaMemsetAsync(grad_input.data, 0, static_cast<size_t>(n) * dtype_size(grad_input.dtype), s), op);
  const int64_t total = grad_out.numel();
  if (total == 0) return;
  const AlignArgs a = args_of(grad_input, p);
  if (grad_input.dtype == DType::Float64)
    roi_align_backward_kernel<double><<<grid_for(total), kThreads, 0, s>>>(grad_input.ptr<double>(), grad_out.ptr<double>(),
                                                                          rois.ptr<double>(), a, total);
  else
    roi_align_backward_kernel<float><<<grid_for(total), kThreads, 0, s>>>(grad_input.ptr<float>(), grad_out.ptr<float>(),
                                                                         rois.ptr<float>(), a, total);
  check_launch(op);
}

}  // namespace dendrite::cuda

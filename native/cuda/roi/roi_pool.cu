// RoI max pooling on CUDA with the semantics of native/cpu/roi/roi_pool.cc (torchvision's): one
// thread per output bin (k, c, ph, pw), pw fastest; the bin's cells are scanned row by row from
// -FLT_MAX keeping the first strict maximum, so value and argmax equal the CPU's exactly. The
// backward routes each bin's gradient to its argmax cell with atomicAdd (bins of overlapping
// boxes can share a cell; float sums then depend on the order the atomics land in).
#include <cfloat>
#include <cmath>
#include <string>
#include "roi.h"
#include "roi_math.cuh"

namespace dendrite::cuda {
namespace {

using namespace roi_detail;

struct PoolArgs {
  int64_t c, h, w, pooled_h, pooled_w;
  double spatial_scale;
};

// A scaled, rounded corner as the CPU's cell(): round half away from zero, clamped to +-2^40 so
// the conversion is defined for any finite coordinate.
template <class T>
__device__ __forceinline__ int64_t cell(T v, T scale) {
  T r;
  if constexpr (std::is_same_v<T, float>) r = roundf(mul_rn(v, scale));
  else r = round(mul_rn(v, scale));
  const T limit = static_cast<T>(int64_t{1} << 40);
  r = r < -limit ? -limit : r;
  r = r > limit ? limit : r;
  return static_cast<int64_t>(r);
}

__device__ __forceinline__ int64_t clip(int64_t v, int64_t hi) { return v < 0 ? 0 : (v > hi ? hi : v); }

// The clipped cell range [start, end) of bin p of a box spanning [c1, c2] cells on one axis.
template <class T>
__device__ __forceinline__ void bin_range(int64_t c1, int64_t c2, int64_t p, int64_t pooled, int64_t size, int64_t* start, int64_t* end) {
  const int64_t extent = c2 - c1 + 1 > 1 ? c2 - c1 + 1 : 1;
  const T bin = static_cast<T>(extent) / static_cast<T>(pooled);
  *start = clip(static_cast<int64_t>(floor(mul_rn(static_cast<T>(p), bin))) + c1, size);
  *end = clip(static_cast<int64_t>(ceil(mul_rn(static_cast<T>(p + 1), bin))) + c1, size);
}

template <class T>
__global__ void roi_pool_forward_kernel(T* out, int32_t* argmax, const T* x, const T* rois, PoolArgs a, int64_t total) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t plane = a.h * a.w;
  const T scale = static_cast<T>(a.spatial_scale);
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    int64_t rest = idx;
    const int64_t pw = rest % a.pooled_w;
    rest /= a.pooled_w;
    const int64_t ph = rest % a.pooled_h;
    rest /= a.pooled_h;
    const int64_t c = rest % a.c, k = rest / a.c;
    const T* r = rois + 5 * k;
    const int64_t batch = static_cast<int64_t>(r[0]);
    int64_t hs, he, ws, we;
    bin_range<T>(cell(r[2], scale), cell(r[4], scale), ph, a.pooled_h, a.h, &hs, &he);
    bin_range<T>(cell(r[1], scale), cell(r[3], scale), pw, a.pooled_w, a.w, &ws, &we);
    const bool empty = he <= hs || we <= ws;
    // torchvision starts from -FLT_MAX (for double too): a bin of all -inf or NaN gives -FLT_MAX, argmax -1.
    T best = empty ? T(0) : static_cast<T>(-FLT_MAX);
    int32_t best_at = -1;
    const T* src = x + (batch * a.c + c) * plane;
    for (int64_t hh = hs; hh < he; ++hh)
      for (int64_t ww = ws; ww < we; ++ww) {
        const T v = src[hh * a.w + ww];
        if (v > best) {
          best = v;
          best_at = static_cast<int32_t>(hh * a.w + ww);
        }
      }
    out[idx] = best;
    argmax[idx] = best_at;
  }
}

template <class T>
__global__ void roi_pool_backward_kernel(T* gx, const T* gy, const int32_t* argmax, const T* rois, int64_t channels, int64_t plane,
                                         int64_t bins, int64_t total) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int32_t at = argmax[idx];
    if (at < 0) continue;
    const int64_t kc = idx / bins;  // k * C + c
    const int64_t k = kc / channels, c = kc - k * channels;
    const int64_t batch = static_cast<int64_t>(rois[5 * k]);
    atomicAdd(gx + (batch * channels + c) * plane + at, gy[idx]);
  }
}

void check_input(const char* op, const TensorDesc& t) {
  cpu::roi_check_float_contiguous(op, "input", t);
  if (t.ndim != 4) fail(ErrorCode::Shape, op, "input of shape [N, C, H, W]", shape_str(t.shape, t.ndim));
}

void check_argmax(const char* op, const TensorDesc& argmax, const int64_t* shape) {
  if (argmax.dtype != DType::Int32) fail(ErrorCode::DType, op, "an int32 argmax", dtype_name(argmax.dtype));
  if (!argmax.is_contiguous()) fail(ErrorCode::Argument, op, "a contiguous argmax", "a strided view");
  cpu::roi_check_shape(op, "argmax", argmax, shape, 4);
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
  check_box_layout(op, rois, input.dtype);
  if (input.shape[2] * input.shape[3] > INT32_MAX)
    fail(ErrorCode::Shape, op, "a feature map of fewer than 2^31 cells per channel", shape_str(input.shape, input.ndim));
  const int64_t shape[4] = {rois.shape[0], input.shape[1], pooled_h, pooled_w};
  cpu::roi_check_float_contiguous(op, "output", out);
  if (out.dtype != input.dtype) fail(ErrorCode::DType, op, std::string("output of dtype ") + dtype_name(input.dtype), dtype_name(out.dtype));
  cpu::roi_check_shape(op, "output", out, shape, 4);
  check_argmax(op, argmax, shape);
  check_boxes_on_device(op, rois, input.shape[0], nullptr, nullptr, 0);
  const int64_t total = out.numel();
  if (total == 0) return;
  const PoolArgs a{input.shape[1], input.shape[2], input.shape[3], pooled_h, pooled_w, spatial_scale};
  cudaStream_t s = stream();
  if (input.dtype == DType::Float64)
    roi_pool_forward_kernel<double><<<grid_for(total), kThreads, 0, s>>>(out.ptr<double>(), argmax.ptr<int32_t>(), input.ptr<double>(),
                                                                        rois.ptr<double>(), a, total);
  else
    roi_pool_forward_kernel<float><<<grid_for(total), kThreads, 0, s>>>(out.ptr<float>(), argmax.ptr<int32_t>(), input.ptr<float>(),
                                                                       rois.ptr<float>(), a, total);
  check_launch(op);
}

void roi_pool_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& argmax, const TensorDesc& rois) {
  const char* op = "roiPool backward";
  check_input(op, grad_input);
  const int64_t n = grad_input.shape[0], channels = grad_input.shape[1], plane = grad_input.shape[2] * grad_input.shape[3];
  check_box_layout(op, rois, grad_input.dtype);
  cpu::roi_check_float_contiguous(op, "output gradient", grad_out);
  if (grad_out.dtype != grad_input.dtype)
    fail(ErrorCode::DType, op, std::string("an output gradient of dtype ") + dtype_name(grad_input.dtype), dtype_name(grad_out.dtype));
  if (grad_out.ndim != 4) fail(ErrorCode::Shape, op, "an output gradient of shape [K, C, PH, PW]", shape_str(grad_out.shape, grad_out.ndim));
  const int64_t shape[4] = {rois.shape[0], channels, grad_out.shape[2], grad_out.shape[3]};
  cpu::roi_check_shape(op, "output gradient", grad_out, shape, 4);
  check_argmax(op, argmax, shape);
  check_boxes_on_device(op, rois, n, nullptr, &argmax, plane);
  if (grad_input.numel() == 0) return;
  cudaStream_t s = stream();
  check(cudaMemsetAsync(grad_input.data, 0, static_cast<size_t>(grad_input.numel()) * dtype_size(grad_input.dtype), s), op);
  const int64_t total = grad_out.numel();
  if (total == 0) return;
  const int64_t bins = shape[2] * shape[3];
  if (grad_input.dtype == DType::Float64)
    roi_pool_backward_kernel<double><<<grid_for(total), kThreads, 0, s>>>(grad_input.ptr<double>(), grad_out.ptr<double>(),
                                                                         argmax.ptr<int32_t>(), rois.ptr<double>(), channels, plane, bins, total);
  else
    roi_pool_backward_kernel<float><<<grid_for(total), kThreads, 0, s>>>(grad_input.ptr<float>(), grad_out.ptr<float>(),
                                                                        argmax.ptr<int32_t>(), rois.ptr<float>(), channels, plane, bins, total);
  check_launch(op);
}

}  // namespace dendrite::cuda

// What the roi family's .cu files share: arithmetic that rounds like the CPU reference, and the
// host-side checks and box validation that mirror native/cpu/roi/roi_common.h.
//
// nvcc contracts a * b + c into one fma by default; the CPU reference (scalar x86-64 code) rounds
// the product first. Where a rounding decides something discrete — a sample's cell, a bin's
// range, whether an IoU beats the threshold — the kernels use the _rn intrinsics below, which
// are never contracted, so they decide exactly as the CPU does.
#pragma once
#include <cfloat>
#include <cmath>
#include <string>
#include <type_traits>
#include "../../cpu/roi/roi_align.h"
#include "../../cpu/roi/roi_common.h"
#include "../core/cuda_utils.cuh"

namespace dendrite::cuda::roi_detail {

template <class T> __host__ __device__ __forceinline__ T mul_rn(T a, T b) {
#ifdef __CUDA_ARCH__
  if constexpr (std::is_same_v<T, float>) return __fmul_rn(a, b); else return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
template <class T> __host__ __device__ __forceinline__ T add_rn(T a, T b) {
#ifdef __CUDA_ARCH__
  if constexpr (std::is_same_v<T, float>) return __fadd_rn(a, b); else return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
template <class T> __host__ __device__ __forceinline__ T sub_rn(T a, T b) {
#ifdef __CUDA_ARCH__
  if constexpr (std::is_same_v<T, float>) return __fsub_rn(a, b); else return __dsub_rn(a, b);
#else
  return a - b;
#endif
}

// Corner minus offset and extent of a RoIAlign box on one axis, in feature cells (the CPU's
// RoiGeometry::compute and validate share these two lines).
template <class T> __host__ __device__ __forceinline__ T align_start(T c1, T scale, T offset) {
  return sub_rn(mul_rn(c1, scale), offset);
}
template <class T> __host__ __device__ __forceinline__ T align_extent(T c1, T c2, T scale, T offset, bool aligned) {
  T e = sub_rn(sub_rn(mul_rn(c2, scale), offset), align_start(c1, scale, offset));
  if (!aligned) e = e < T(1) ? T(1) : e;  // std::max(e, 1): NaN stays NaN
  return e;
}

// torchvision's adaptive grid, ceil(extent / pooled), as a double so the host can report it.
template <class T> __host__ __device__ __forceinline__ double adaptive_grid(T extent, int64_t pooled) {
  return static_cast<double>(ceil(extent / static_cast<T>(pooled)));
}

// rois (K, 5): the CPU's shape, dtype and contiguity checks (values are checked on the device).
inline void check_box_layout(const char* op, const TensorDesc& rois, DType dtype) {
  if (rois.ndim != 2 || rois.shape[1] != 5)
    fail(ErrorCode::Shape, op, "boxes of shape [K, 5] ([batchIndex, x1, y1, x2, y2])", shape_str(rois.shape, rois.ndim));
  if (rois.dtype != dtype) fail(ErrorCode::DType, op, std::string("boxes of dtype ") + dtype_name(dtype), dtype_name(rois.dtype));
  if (!rois.is_contiguous()) fail(ErrorCode::Argument, op, "contiguous boxes", "a strided view");
}

// Validates every box on the device (batch index an integer in [0, batch), finite corners; with
// `grid`, an adaptive RoIAlign grid of at most kMaxRoiAlignGrid per side) and, with `argmax`,
// every argmax value in [-1, plane); reads the verdict back (one small synchronous copy) and
// throws what the CPU would throw for the first offending box or value (roi_check.cu).
void check_boxes_on_device(const char* op, const TensorDesc& rois, int64_t batch, const cpu::RoiAlignParams* grid,
                           const TensorDesc* argmax, int64_t plane);

}  // namespace dendrite::cuda::roi_detail

// What the roi family's drivers share: checks of the feature map and the (K, 5) box tensor
// [batch_index, x1, y1, x2, y2], done before any kernel reads an element, and the per-ISA
// table of inner loops. Box values are validated here, not trusted from the TS layer: a batch
// index outside [0, N) or a non-finite coordinate throws instead of reading out of bounds.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include "../../core/tensor.h"

namespace dendrite::cpu {

inline void roi_check_float_contiguous(const char* op, const char* what, const TensorDesc& t) {
  if (!dtype_is_float(t.dtype)) fail(ErrorCode::DType, op, std::string("a floating-point ") + what, dtype_name(t.dtype));
  if (!t.is_contiguous()) fail(ErrorCode::Argument, op, std::string("a contiguous ") + what, "a strided view");
}

inline void roi_check_shape(const char* op, const char* what, const TensorDesc& t, const int64_t* shape, int ndim) {
  bool ok = t.ndim == ndim;
  for (int d = 0; ok && d < ndim; ++d) ok = t.shape[d] == shape[d];
  if (!ok) fail(ErrorCode::Shape, op, std::string(what) + " of shape " + shape_str(shape, ndim), shape_str(t.shape, t.ndim));
}

// rois: (K, 5) of the feature map's dtype, contiguous; batch indices integers in [0, batch).
inline void roi_check_boxes(const char* op, const TensorDesc& rois, DType dtype, int64_t batch) {
  if (rois.ndim != 2 || rois.shape[1] != 5)
    fail(ErrorCode::Shape, op, "boxes of shape [K, 5] ([batchIndex, x1, y1, x2, y2])", shape_str(rois.shape, rois.ndim));
  if (rois.dtype != dtype) fail(ErrorCode::DType, op, std::string("boxes of dtype ") + dtype_name(dtype), dtype_name(rois.dtype));
  if (!rois.is_contiguous()) fail(ErrorCode::Argument, op, "contiguous boxes", "a strided view");
  const int64_t k = rois.shape[0];
  auto check = [&](auto tag) {
    using T = decltype(tag);
    const T* r = rois.ptr<T>();
    for (int64_t i = 0; i < k; ++i) {
      double b = static_cast<double>(r[i * 5]);
      if (!(b >= 0 && b < static_cast<double>(batch)) || b != std::floor(b))
        fail(ErrorCode::Index, op, "batch indices (boxes[:, 0]) that are integers in [0, " + std::to_string(batch) + ")",
             "box " + std::to_string(i) + " with batch index " + std::to_string(b));
      for (int j = 1; j < 5; ++j)
        if (!std::isfinite(static_cast<double>(r[i * 5 + j])))
          fail(ErrorCode::Argument, op, "finite box coordinates", "box " + std::to_string(i) + " with a non-finite coordinate");
    }
  };
  if (dtype == DType::Float64) check(double{});
  else check(float{});
}

// Inner loops with per-ISA versions (null in the scalar table: the drivers then take their
// plain NCHW reference path). Written over channels-last rows: row(p) = base + p * C.
struct RoiTable {
  // acc[c] = sum_s sum_t w[4s + t] * base[off[4s + t] + c]  for c < n (acc overwritten).
  void (*align_gather_f32)(float* acc, const float* base, const int64_t* off, const float* w, int64_t samples, int64_t n);
  // base[off[4s + t] + c] += w[4s + t] * g[c], taps in order (two taps may name one row).
  void (*align_scatter_f32)(float* base, const int64_t* off, const float* w, int64_t samples, const float* g, int64_t n);
  // suppressed[j] = 1 where IoU(box, cols_j) > thr (and cls[j] == box_cls when cls is set), j < n.
  void (*nms_suppress_f32)(float* suppressed, const float* const cols[5], const float* cls, const float box[6], float thr, int64_t n);
  // out[j] = IoU(box, cols_j) for j < n; cols = x1, y1, x2, y2, area.
  void (*box_iou_row_f32)(float* out, const float* const cols[5], const float box[5], int64_t n);
  // For c < n: best[c] = the first strict max of base[off[i] + c] over cells i, starting from
  // -FLT_MAX (torchvision's RoIPool), and arg[c] = pix[i] of that cell, or -1 when none beat it.
  void (*pool_max_f32)(float* best, float* arg, const float* base, const int64_t* off, const float* pix, int64_t cells, int64_t n);
};
const RoiTable& roi_table();

// Feature maps to and from channels-last for the vector paths: dst (N, HW, C) <- src (N, C, HW),
// and back. Threaded.
void roi_to_channels_last(float* dst, const float* src, int64_t n, int64_t c, int64_t hw);
void roi_from_channels_last(float* dst, const float* src, int64_t n, int64_t c, int64_t hw);
void fill_roi_avx2(RoiTable& t);
void fill_roi_avx512(RoiTable& t);
void fill_roi_neon(RoiTable& t);

}  // namespace dendrite::cpu

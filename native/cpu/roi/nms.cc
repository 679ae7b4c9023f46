#include "nms.h"
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>
#include "../../core/thread_pool.h"
#include "roi_common.h"

namespace dendrite::cpu {
namespace {

// std::max / std::min, spelled out: the first operand wins on NaN, as in torchvision's loop.
template <class T> T max_of(T a, T b) { return a < b ? b : a; }
template <class T> T min_of(T a, T b) { return b < a ? b : a; }

template <class T>
T iou(T ax1, T ay1, T ax2, T ay2, T area_a, T bx1, T by1, T bx2, T by2, T area_b) {
  T w = max_of(T(0), min_of(ax2, bx2) - max_of(ax1, bx1));
  T h = max_of(T(0), min_of(ay2, by2) - max_of(ay1, by1));
  T inter = w * h;
  return inter / (area_a + area_b - inter);
}

void check_boxes(const char* op, const char* what, const TensorDesc& t) {
  if (!dtype_is_float(t.dtype)) fail(ErrorCode::DType, op, std::string("floating-point ") + what, dtype_name(t.dtype));
  if (t.ndim != 2 || t.shape[1] != 4) fail(ErrorCode::Shape, op, std::string(what) + " of shape [N, 4]", shape_str(t.shape, t.ndim));
  if (!t.is_contiguous()) fail(ErrorCode::Argument, op, std::string("contiguous ") + what, "a strided view");
}

// Columns x1, y1, x2, y2, area of boxes (N, 4), for the vector kernels.
template <class T>
std::vector<T> box_columns(const T* b, const int64_t* order, int64_t n) {
  std::vector<T> cols(static_cast<size_t>(5 * n));
  for (int64_t i = 0; i < n; ++i) {
    const T* r = b + 4 * (order ? order[i] : i);
    cols[i] = r[0];
    cols[n + i] = r[1];
    cols[2 * n + i] = r[2];
    cols[3 * n + i] = r[3];
    cols[4 * n + i] = (r[2] - r[0]) * (r[3] - r[1]);
  }
  return cols;
}

template <class T>
void box_iou_impl(T* out, const T* a, const T* b, int64_t n, int64_t m) {
  std::vector<T> cols = box_columns<T>(b, nullptr, m);
  const T* c[5] = {cols.data(), cols.data() + m, cols.data() + 2 * m, cols.data() + 3 * m, cols.data() + 4 * m};
  const RoiTable& t = roi_table();
  parallel_for(0, n, std::max<int64_t>(1, 16384 / std::max<int64_t>(m, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const T* r = a + 4 * i;
      const T box[5] = {r[0], r[1], r[2], r[3], (r[2] - r[0]) * (r[3] - r[1])};
      T* row = out + i * m;
      if constexpr (std::is_same_v<T, float>) {
        if (t.box_iou_row_f32) {
          t.box_iou_row_f32(row, c, box, m);
          continue;
        }
      }
      for (int64_t j = 0; j < m; ++j) row[j] = iou(box[0], box[1], box[2], box[3], box[4], c[0][j], c[1][j], c[2][j], c[3][j], c[4][j]);
    }
  });
}

// The largest float f with (f < x) <=> (double(x) > threshold) for every float x: the float
// vector kernels then decide exactly as torchvision's double comparison.
float float_threshold(double threshold) {
  float f = static_cast<float>(threshold);
  if (static_cast<double>(f) > threshold) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

template <class T>
int64_t nms_impl(int64_t* keep, const T* boxes, const T* scores, int64_t n, double threshold, const std::vector<int64_t>* cls) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    T sa = scores[a], sb = scores[b];
    return (std::isnan(sa) && !std::isnan(sb)) || sa > sb;
  });
  std::vector<T> cols = box_columns<T>(boxes, order.data(), n);
  const T* c[5] = {cols.data(), cols.data() + n, cols.data() + 2 * n, cols.data() + 3 * n, cols.data() + 4 * n};
  // Classes in score order as dense ids (exact in float: fewer than 2^24 distinct values).
  std::vector<T> cls_sorted;
  bool dense_exact = true;
  if (cls) {
    std::vector<int64_t> ids(*cls);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    dense_exact = ids.size() <= (size_t{1} << 24);
    cls_sorted.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      cls_sorted[i] = static_cast<T>(std::lower_bound(ids.begin(), ids.end(), (*cls)[order[i]]) - ids.begin());
  }
  std::vector<T> suppressed(static_cast<size_t>(n), T(0));
  const RoiTable& t = roi_table();
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (suppressed[i] != T(0)) continue;
    keep[kept++] = order[i];
    const T box[6] = {c[0][i], c[1][i], c[2][i], c[3][i], c[4][i], cls ? cls_sorted[i] : T(0)};
    const int64_t rest = n - i - 1;
    if (rest == 0) break;
    if constexpr (std::is_same_v<T, float>) {
      if (t.nms_suppress_f32 && dense_exact) {
        const float* tail[5] = {c[0] + i + 1, c[1] + i + 1, c[2] + i + 1, c[3] + i + 1, c[4] + i + 1};
        t.nms_suppress_f32(suppressed.data() + i + 1, tail, cls ? cls_sorted.data() + i + 1 : nullptr, box,
                           float_threshold(threshold), rest);
        continue;
      }
    }
    for (int64_t j = i + 1; j < n; ++j) {
      if (suppressed[j] != T(0) || (cls && cls_sorted[j] != box[5])) continue;
      T o = iou(box[0], box[1], box[2], box[3], box[4], c[0][j], c[1][j], c[2][j], c[3][j], c[4][j]);
      if (static_cast<double>(o) > threshold) suppressed[j] = T(1);
    }
  }
  return kept;
}

}  // namespace

void box_iou(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b) {
  const char* op = "boxIou";
  check_boxes(op, "boxes1", a);
  check_boxes(op, "boxes2", b);
  if (b.dtype != a.dtype) fail(ErrorCode::DType, op, std::string("boxes2 of dtype ") + dtype_name(a.dtype), dtype_name(b.dtype));
  if (out.dtype != a.dtype || !out.is_contiguous()) fail(ErrorCode::Argument, op, "a contiguous output of the boxes' dtype", dtype_name(out.dtype));
  const int64_t shape[2] = {a.shape[0], b.shape[0]};
  roi_check_shape(op, "output", out, shape, 2);
  if (out.numel() == 0) return;
  if (a.dtype == DType::Float64) box_iou_impl<double>(out.ptr<double>(), a.ptr<double>(), b.ptr<double>(), shape[0], shape[1]);
  else box_iou_impl<float>(out.ptr<float>(), a.ptr<float>(), b.ptr<float>(), shape[0], shape[1]);
}

int64_t nms(const TensorDesc& keep, const TensorDesc& boxes, const TensorDesc& scores, double iou_threshold,
            const TensorDesc* classes) {
  const char* op = classes ? "batchedNms" : "nms";
  check_boxes(op, "boxes", boxes);
  const int64_t n = boxes.shape[0];
  if (scores.ndim != 1 || scores.shape[0] != n) fail(ErrorCode::Shape, op, "scores of shape [" + std::to_string(n) + "]", shape_str(scores.shape, scores.ndim));
  if (scores.dtype != boxes.dtype) fail(ErrorCode::DType, op, std::string("scores of dtype ") + dtype_name(boxes.dtype), dtype_name(scores.dtype));
  if (!scores.is_contiguous()) fail(ErrorCode::Argument, op, "contiguous scores", "a strided view");
  if (keep.dtype != DType::Int64 || keep.ndim != 1 || keep.shape[0] < n || !keep.is_contiguous())
    fail(ErrorCode::Argument, op, "an int64 output of at least " + std::to_string(n) + " elements", shape_str(keep.shape, keep.ndim));
  if (std::isnan(iou_threshold)) fail(ErrorCode::Argument, op, "a number iouThreshold", "NaN");
  std::vector<int64_t> cls;
  if (classes) {
    if (classes->dtype != DType::Int64 && classes->dtype != DType::Int32)
      fail(ErrorCode::DType, op, "int32 or int64 classes", dtype_name(classes->dtype));
    if (classes->ndim != 1 || classes->shape[0] != n)
      fail(ErrorCode::Shape, op, "classes of shape [" + std::to_string(n) + "]", shape_str(classes->shape, classes->ndim));
    cls.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      cls[i] = classes->dtype == DType::Int64 ? classes->ptr<int64_t>()[i * classes->strides[0]]
                                              : classes->ptr<int32_t>()[i * classes->strides[0]];
  }
  if (n == 0) return 0;
  if (boxes.dtype == DType::Float64)
    return nms_impl<double>(keep.ptr<int64_t>(), boxes.ptr<double>(), scores.ptr<double>(), n, iou_threshold, classes ? &cls : nullptr);
  return nms_impl<float>(keep.ptr<int64_t>(), boxes.ptr<float>(), scores.ptr<float>(), n, iou_threshold, classes ? &cls : nullptr);
}

}  // namespace dendrite::cpu

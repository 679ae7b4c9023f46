// Box IoU and greedy NMS on CUDA with the semantics of native/cpu/roi/nms.cc (torchvision's).
//
// IoU is computed with the CPU's expression and rounding (no fma contraction, the CPU's NaN
// behaviour of max/min) and compared with the threshold in double, so every suppression decision
// is the CPU's. NMS, for n <= kMaxCudaNmsBoxes boxes:
//   1. sort: each box gets a 64-bit key that orders scores descending, NaN first, -0 == +0; a
//      bitonic sort of (key, index) pairs (padded to a power of two; tiles of 2048 in shared
//      memory, longer strides in global passes) gives torch.sort's stable descending order;
//   2. mask: boxes gathered in that order; block (row, col) of 64 x 64 boxes sets bit j of
//      mask[i][col] when box i suppresses box j (j after i, same class, IoU > threshold), as
//      torchvision's nms_kernel (blocks below the diagonal are never read and return at once);
//   3. scan: one thread block walks the mask 64 boxes at a time: thread 0 decides the block's
//      boxes from the diagonal words (in shared memory), then every thread ORs the kept rows into
//      the removed bits of the later words. Kept indices go straight to `keep`.
// The count of kept boxes is read back (the one synchronous copy: it sizes the result).
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>
#include "../../cpu/roi/nms.h"
#include "roi.h"
#include "roi_math.cuh"

namespace dendrite::cuda {
namespace {

using namespace roi_detail;

// std::max / std::min as the CPU spells them: the first operand wins on NaN.
template <class T> __device__ __forceinline__ T max_of(T a, T b) { return a < b ? b : a; }
template <class T> __device__ __forceinline__ T min_of(T a, T b) { return b < a ? b : a; }

template <class T> __device__ __forceinline__ T box_area(T x1, T y1, T x2, T y2) { return mul_rn(sub_rn(x2, x1), sub_rn(y2, y1)); }

// The CPU's iou(): a is the earlier (kept) box.
template <class T>
__device__ __forceinline__ T iou(T ax1, T ay1, T ax2, T ay2, T area_a, T bx1, T by1, T bx2, T by2, T area_b) {
  const T w = max_of(T(0), sub_rn(min_of(ax2, bx2), max_of(ax1, bx1)));
  const T h = max_of(T(0), sub_rn(min_of(ay2, by2), max_of(ay1, by1)));
  const T inter = mul_rn(w, h);
  return inter / sub_rn(add_rn(area_a, area_b), inter);
}

// ---- box IoU --------------------------------------------------------------------------------
template <class T>
__global__ void box_iou_kernel(T* out, const T* a, const T* b, int64_t m, int64_t total) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t i = idx / m, j = idx - i * m;
    const T* r = a + 4 * i;
    const T* c = b + 4 * j;
    out[idx] = iou(r[0], r[1], r[2], r[3], box_area(r[0], r[1], r[2], r[3]), c[0], c[1], c[2], c[3], box_area(c[0], c[1], c[2], c[3]));
  }
}

// ---- sort -----------------------------------------------------------------------------------
struct SortItem {
  unsigned long long key;
  unsigned int index;
  unsigned int pad;
};

__device__ __forceinline__ bool item_less(const SortItem& a, const SortItem& b) {
  return a.key < b.key || (a.key == b.key && a.index < b.index);
}

// Ascending keys give descending scores with NaN first; -0 and +0 share a key (they tie, as
// `sa > sb` says), so ties fall back to the index: torch.sort(descending, stable). No real
// score maps to the padding key ~0 (only a NaN bit pattern would).
template <class T>
__device__ __forceinline__ unsigned long long score_key(T s) {
  if (isnan(s)) return 0;
  if (s == T(0)) s = T(0);
  if constexpr (std::is_same_v<T, float>) {
    unsigned int bits = __float_as_uint(s);
    unsigned int ordered = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);  // increasing with s
    return static_cast<unsigned long long>(~ordered);
  } else {
    unsigned long long bits = static_cast<unsigned long long>(__double_as_longlong(s));
    unsigned long long ordered = (bits & 0x8000000000000000ull) ? ~bits : (bits | 0x8000000000000000ull);
    return ~ordered;
  }
}

template <class T>
__global__ void make_sort_items(SortItem* items, const T* scores, int n, int padded) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < padded; i += gridDim.x * blockDim.x) {
    SortItem it;
    it.key = i < n ? score_key(scores[i]) : ~0ull;
    it.index = i < n ? static_cast<unsigned int>(i) : ~0u;
    it.pad = 0;
    items[i] = it;
  }
}

constexpr int kSortTile = 2048;  // items per shared-memory tile (32 KiB); one thread per pair

// The pair (i, i + j) of bitonic stage (k, j) for pair number p; ascending where bit k of i is 0.
__device__ __forceinline__ void compare_swap(SortItem* a, int i, int j, int k, int global_i) {
  SortItem x = a[i], y = a[i + j];
  const bool ascending = (global_i & k) == 0;
  if (ascending ? item_less(y, x) : item_less(x, y)) {
    a[i] = y;
    a[i + j] = x;
  }
}

// Stages (k, j) with j < tile inside one tile: from (k_first, j_first) through j == 1, then,
// when k_first < k_last, every later k up to k_last in full. Launched with tile / 2 threads.
__global__ void bitonic_tile(SortItem* items, int tile, int k_first, int j_first, int k_last) {
  __shared__ SortItem s[kSortTile];
  const int base = blockIdx.x * tile;
  for (int t = threadIdx.x; t < tile; t += blockDim.x) s[t] = items[base + t];
  __syncthreads();
  for (int k = k_first; k <= k_last; k <<= 1) {
    for (int j = k == k_first ? j_first : k >> 1; j > 0; j >>= 1) {
      for (int p = threadIdx.x; p < tile / 2; p += blockDim.x) {
        const int i = (p / j) * 2 * j + (p % j);
        compare_swap(s, i, j, k, base + i);
      }
      __syncthreads();
    }
  }
  for (int t = threadIdx.x; t < tile; t += blockDim.x) items[base + t] = s[t];
}

// One stage (k, j) over the whole array (j >= tile: partners lie in other tiles).
__global__ void bitonic_global(SortItem* items, int padded, int k, int j) {
  for (int p = blockIdx.x * blockDim.x + threadIdx.x; p < padded / 2; p += gridDim.x * blockDim.x) {
    const int i = (p / j) * 2 * j + (p % j);
    compare_swap(items, i, j, k, i);
  }
}

void bitonic_sort(SortItem* items, int padded, cudaStream_t s) {
  const int tile = padded < kSortTile ? padded : kSortTile;
  const int threads = tile / 2 < 1 ? 1 : tile / 2;
  const int tiles = padded / tile;
  // Every stage with k <= tile happens inside tiles.
  bitonic_tile<<<tiles, threads, 0, s>>>(items, tile, 2, 1, tile);
  check_launch("nms sort");
  for (int k = 2 * tile; k <= padded; k <<= 1) {
    for (int j = k >> 1; j >= tile; j >>= 1) {
      bitonic_global<<<grid_for(padded / 2), kThreads, 0, s>>>(items, padded, k, j);
      check_launch("nms sort");
    }
    bitonic_tile<<<tiles, threads, 0, s>>>(items, tile, k, tile >> 1, k);
    check_launch("nms sort");
  }
}

// ---- mask and scan ----------------------------------------------------------------------------
constexpr int kBlockBoxes = 64;

// Sorted copies: boxes (n, 4) and classes (n) in score order.
template <class T>
__global__ void gather_sorted(T* sorted_boxes, int64_t* sorted_classes, const T* boxes, const void* classes, bool classes_wide,
                              int64_t class_stride, const SortItem* items, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const int64_t src = items[i].index;
    for (int c = 0; c < 4; ++c) sorted_boxes[4 * i + c] = boxes[4 * src + c];
    if (sorted_classes)
      sorted_classes[i] = classes_wide ? static_cast<const int64_t*>(classes)[src * class_stride]
                                       : static_cast<const int32_t*>(classes)[src * class_stride];
  }
}

template <class T>
__global__ void nms_mask(unsigned long long* mask, const T* boxes, const int64_t* classes, int n, int col_blocks, double threshold) {
  const int row_block = blockIdx.y, col_block = blockIdx.x;
  if (row_block > col_block) return;  // the scan reads only words at or right of the diagonal
  const int row_size = min(n - row_block * kBlockBoxes, kBlockBoxes);
  const int col_size = min(n - col_block * kBlockBoxes, kBlockBoxes);
  __shared__ T cols[kBlockBoxes * 5];
  __shared__ int64_t col_classes[kBlockBoxes];
  const int t = threadIdx.x;
  if (t < col_size) {
    const T* b = boxes + 4 * (col_block * kBlockBoxes + t);
    cols[5 * t + 0] = b[0];
    cols[5 * t + 1] = b[1];
    cols[5 * t + 2] = b[2];
    cols[5 * t + 3] = b[3];
    cols[5 * t + 4] = box_area(b[0], b[1], b[2], b[3]);
    if (classes) col_classes[t] = classes[col_block * kBlockBoxes + t];
  }
  __syncthreads();
  if (t >= row_size) return;
  const int i = row_block * kBlockBoxes + t;
  const T* a = boxes + 4 * i;
  const T ax1 = a[0], ay1 = a[1], ax2 = a[2], ay2 = a[3], area_a = box_area(ax1, ay1, ax2, ay2);
  const int64_t cls = classes ? classes[i] : 0;
  unsigned long long bits = 0;
  for (int j = row_block == col_block ? t + 1 : 0; j < col_size; ++j) {
    if (classes && col_classes[j] != cls) continue;
    const T* c = cols + 5 * j;
    const T o = iou(ax1, ay1, ax2, ay2, area_a, c[0], c[1], c[2], c[3], c[4]);
    if (static_cast<double>(o) > threshold) bits |= 1ull << j;
  }
  mask[static_cast<int64_t>(i) * col_blocks + col_block] = bits;
}

// One block. Dynamic shared memory: col_blocks words of removed bits.
__global__ void nms_scan(const unsigned long long* mask, const SortItem* items, int n, int col_blocks, int64_t* keep, int64_t* kept_count) {
  extern __shared__ unsigned long long removed[];
  __shared__ unsigned long long diagonal[kBlockBoxes];
  __shared__ unsigned long long kept_bits;
  for (int w = threadIdx.x; w < col_blocks; w += blockDim.x) removed[w] = 0;
  int64_t count = 0;  // meaningful in thread 0
  __syncthreads();
  for (int b = 0; b < col_blocks; ++b) {
    const int size = min(n - b * kBlockBoxes, kBlockBoxes);
    for (int r = threadIdx.x; r < size; r += blockDim.x)
      diagonal[r] = mask[static_cast<int64_t>(b * kBlockBoxes + r) * col_blocks + b];
    __syncthreads();
    if (threadIdx.x == 0) {
      unsigned long long gone = removed[b], kept = 0;
      for (int r = 0; r < size; ++r) {
        if ((gone >> r) & 1ull) continue;
        kept |= 1ull << r;
        gone |= diagonal[r];
        keep[count++] = items[b * kBlockBoxes + r].index;
      }
      kept_bits = kept;
    }
    __syncthreads();
    const unsigned long long kept = kept_bits;
    for (int w = b + 1 + threadIdx.x; w < col_blocks; w += blockDim.x) {
      unsigned long long acc = removed[w];
      for (unsigned long long rest = kept; rest != 0; rest &= rest - 1) {
        const int r = __ffsll(static_cast<long long>(rest)) - 1;
        acc |= mask[static_cast<int64_t>(b * kBlockBoxes + r) * col_blocks + w];
      }
      removed[w] = acc;
    }
    __syncthreads();  // removed[] and diagonal[] are read / rewritten by the next block
  }
  if (threadIdx.x == 0) *kept_count = count;
}

template <class T>
int64_t nms_device(const TensorDesc& keep, const TensorDesc& boxes, const TensorDesc& scores, double threshold, const TensorDesc* classes) {
  const int n = static_cast<int>(boxes.shape[0]);
  int padded = 1;
  while (padded < n) padded <<= 1;
  cudaStream_t s = stream();
  Scratch items_buf(static_cast<size_t>(padded) * sizeof(SortItem));
  SortItem* items = items_buf.as<SortItem>();
  make_sort_items<T><<<grid_for(padded), kThreads, 0, s>>>(items, scores.ptr<T>(), n, padded);
  check_launch("nms");
  bitonic_sort(items, padded, s);

  Scratch sorted_boxes(static_cast<size_t>(n) * 4 * sizeof(T));
  Scratch sorted_classes(classes ? static_cast<size_t>(n) * sizeof(int64_t) : 0);
  gather_sorted<T><<<grid_for(n), kThreads, 0, s>>>(sorted_boxes.as<T>(), classes ? sorted_classes.as<int64_t>() : nullptr,
                                                   boxes.ptr<T>(), classes ? classes->data : nullptr,
                                                   classes && classes->dtype == DType::Int64, classes ? classes->strides[0] : 0, items, n);
  check_launch("nms");

  const int col_blocks = (n + kBlockBoxes - 1) / kBlockBoxes;  // <= 1024, so the grid's y fits
  Scratch mask(static_cast<size_t>(n) * col_blocks * sizeof(unsigned long long));
  nms_mask<T><<<dim3(col_blocks, col_blocks), kBlockBoxes, 0, s>>>(mask.as<unsigned long long>(), sorted_boxes.as<T>(),
                                                                   classes ? sorted_classes.as<int64_t>() : nullptr, n, col_blocks,
                                                                   threshold);
  check_launch("nms");

  Scratch count(sizeof(int64_t));
  nms_scan<<<1, kThreads, static_cast<size_t>(col_blocks) * sizeof(unsigned long long), s>>>(
      mask.as<unsigned long long>(), items, n, col_blocks, keep.ptr<int64_t>(), count.as<int64_t>());
  check_launch("nms");
  int64_t kept = 0;
  copy_to_host(&kept, count.ptr, sizeof(kept));
  return kept;
}

// More boxes than the mask is sized for: cpu::nms on host copies (two copies back, one out).
int64_t nms_on_host(const TensorDesc& keep, const TensorDesc& boxes, const TensorDesc& scores, double threshold, const TensorDesc* classes) {
  const int64_t n = boxes.shape[0];
  const size_t item = dtype_size(boxes.dtype);
  std::vector<unsigned char> b(static_cast<size_t>(n) * 4 * item), sc(static_cast<size_t>(n) * item);
  copy_to_host(b.data(), boxes.data, b.size());
  copy_to_host(sc.data(), scores.data, sc.size());
  std::vector<int64_t> kept_host(static_cast<size_t>(n));
  const int64_t n_shape[1] = {n}, box_shape[2] = {n, 4};
  TensorDesc hb = contiguous_desc(b.data(), boxes.dtype, box_shape, 2);
  TensorDesc hs = contiguous_desc(sc.data(), scores.dtype, n_shape, 1);
  TensorDesc hk = contiguous_desc(kept_host.data(), DType::Int64, n_shape, 1);
  int64_t kept;
  if (classes) {
    // The classes' whole span, strides kept (the TS layer passes them contiguous anyway).
    const int64_t span = (n - 1) * classes->strides[0] + 1;
    std::vector<unsigned char> cl(static_cast<size_t>(span) * dtype_size(classes->dtype));
    copy_to_host(cl.data(), classes->data, cl.size());
    TensorDesc hc = contiguous_desc(cl.data(), classes->dtype, n_shape, 1);
    hc.strides[0] = classes->strides[0];
    kept = cpu::nms(hk, hb, hs, threshold, &hc);
  } else {
    kept = cpu::nms(hk, hb, hs, threshold, nullptr);
  }
  copy_to_device(keep.data, kept_host.data(), static_cast<size_t>(kept) * sizeof(int64_t));
  // copy_to_device returns once the source is staged; kept_host may go.
  return kept;
}

void check_boxes(const char* op, const char* what, const TensorDesc& t) {
  if (!dtype_is_float(t.dtype)) fail(ErrorCode::DType, op, std::string("floating-point ") + what, dtype_name(t.dtype));
  if (t.ndim != 2 || t.shape[1] != 4) fail(ErrorCode::Shape, op, std::string(what) + " of shape [N, 4]", shape_str(t.shape, t.ndim));
  if (!t.is_contiguous()) fail(ErrorCode::Argument, op, std::string("contiguous ") + what, "a strided view");
}

}  // namespace

void box_iou(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b) {
  const char* op = "boxIou";
  check_boxes(op, "boxes1", a);
  check_boxes(op, "boxes2", b);
  if (b.dtype != a.dtype) fail(ErrorCode::DType, op, std::string("boxes2 of dtype ") + dtype_name(a.dtype), dtype_name(b.dtype));
  if (out.dtype != a.dtype || !out.is_contiguous()) fail(ErrorCode::Argument, op, "a contiguous output of the boxes' dtype", dtype_name(out.dtype));
  const int64_t shape[2] = {a.shape[0], b.shape[0]};
  cpu::roi_check_shape(op, "output", out, shape, 2);
  const int64_t total = out.numel();
  if (total == 0) return;
  cudaStream_t s = stream();
  if (a.dtype == DType::Float64)
    box_iou_kernel<double><<<grid_for(total), kThreads, 0, s>>>(out.ptr<double>(), a.ptr<double>(), b.ptr<double>(), shape[1], total);
  else
    box_iou_kernel<float><<<grid_for(total), kThreads, 0, s>>>(out.ptr<float>(), a.ptr<float>(), b.ptr<float>(), shape[1], total);
  check_launch(op);
}

int64_t nms(const TensorDesc& keep, const TensorDesc& boxes, const TensorDesc& scores, double iou_threshold, const TensorDesc* classes) {
  const char* op = classes ? "batchedNms" : "nms";
  check_boxes(op, "boxes", boxes);
  const int64_t n = boxes.shape[0];
  if (scores.ndim != 1 || scores.shape[0] != n)
    fail(ErrorCode::Shape, op, "scores of shape [" + std::to_string(n) + "]", shape_str(scores.shape, scores.ndim));
  if (scores.dtype != boxes.dtype) fail(ErrorCode::DType, op, std::string("scores of dtype ") + dtype_name(boxes.dtype), dtype_name(scores.dtype));
  if (!scores.is_contiguous()) fail(ErrorCode::Argument, op, "contiguous scores", "a strided view");
  if (keep.dtype != DType::Int64 || keep.ndim != 1 || keep.shape[0] < n || !keep.is_contiguous())
    fail(ErrorCode::Argument, op, "an int64 output of at least " + std::to_string(n) + " elements", shape_str(keep.shape, keep.ndim));
  if (std::isnan(iou_threshold)) fail(ErrorCode::Argument, op, "a number iouThreshold", "NaN");
  if (classes) {
    if (classes->dtype != DType::Int64 && classes->dtype != DType::Int32)
      fail(ErrorCode::DType, op, "int32 or int64 classes", dtype_name(classes->dtype));
    if (classes->ndim != 1 || classes->shape[0] != n)
      fail(ErrorCode::Shape, op, "classes of shape [" + std::to_string(n) + "]", shape_str(classes->shape, classes->ndim));
  }
  if (n == 0) return 0;
  if (n > kMaxCudaNmsBoxes) return nms_on_host(keep, boxes, scores, iou_threshold, classes);
  if (boxes.dtype == DType::Float64) return nms_device<double>(keep, boxes, scores, iou_threshold, classes);
  return nms_device<float>(keep, boxes, scores, iou_threshold, classes);
}

}  // namespace dendrite::cuda

// Index ops: gather / scatter-add along a dim, index-select / index-add along a dim, with the
// contracts of native/cpu/index/index.h. As on the CPU, every index is validated before anything
// is written: a first kernel looks for a value out of range and the host reads its verdict back
// (one small synchronous copy), so a bad index throws ERR_INDEX and leaves `out` untouched.
// The accumulating ops use atomics (byte-sized types through a compare-and-swap on their word).
#include <string>
#include "../../cpu/index/index.h"
#include "../core/cuda_utils.cuh"

namespace dendrite::cuda {
namespace {

// Shape of the walked tensor and the strides (elements) of up to three tensors over it.
struct Geometry {
  int ndim = 0;
  int dim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[3][kMaxDims] = {};
};

__device__ __forceinline__ int64_t load_index(const void* base, bool wide, int64_t at) {
  return wide ? static_cast<const int64_t*>(base)[at] : static_cast<const int32_t*>(base)[at];
}

// Decomposes a row-major linear index over g.shape; returns the element offsets for each of the
// three tensors, and the coordinate along g.dim.
__device__ __forceinline__ int64_t coords(const Geometry& g, int64_t linear, int64_t* off) {
  off[0] = off[1] = off[2] = 0;
  int64_t along = 0;
  for (int d = g.ndim - 1; d >= 0; --d) {
    int64_t q = linear / g.shape[d];
    int64_t c = linear - q * g.shape[d];
    linear = q;
    if (d == g.dim) along = c;
    off[0] += c * g.strides[0][d];
    off[1] += c * g.strides[1][d];
    off[2] += c * g.strides[2][d];
  }
  return along;
}

template <class T>
__device__ __forceinline__ void atomic_add(T* p, T v) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int32_t>) {
    atomicAdd(p, v);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
  } else {
    // One byte: add into its aligned 32-bit word with compare-and-swap (wrapping, as on the CPU).
    static_assert(sizeof(T) == 1, "byte-sized");
    uintptr_t addr = reinterpret_cast<uintptr_t>(p);
    unsigned int* word = reinterpret_cast<unsigned int*>(addr & ~uintptr_t{3});
    const unsigned shift = static_cast<unsigned>(addr & 3) * 8;
    unsigned int old = *word, assumed;
    do {
      assumed = old;
      unsigned int byte = ((assumed >> shift) + static_cast<unsigned int>(v)) & 0xffu;
      old = atomicCAS(word, assumed, (assumed & ~(0xffu << shift)) | (byte << shift));
    } while (assumed != old);
  }
}

// Records a value outside [0, limit) (any one of them) in bad[1], with bad[0] = 1.
__global__ void find_bad_index(const void* index, bool wide, OffsetCalc<1> oc, int64_t n, int64_t limit, long long* bad) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[1];
    oc.get(i, off);
    int64_t v = load_index(static_cast<const char*>(index) + off[0], wide, 0);  // off is in bytes
    if (v < 0 || v >= limit) {
      bad[1] = v;
      atomicExch(reinterpret_cast<unsigned long long*>(bad), 1ull);
    }
  }
}

void validate_values(const char* op, const TensorDesc& index, int64_t limit) {
  int64_t n = index.numel();
  if (n == 0) return;
  const TensorDesc* descs[1] = {&index};
  bool dense = false;
  OffsetCalc<1> oc = make_offset_calc<1>(descs, &dense);
  Scratch flag(2 * sizeof(long long));
  cudaStream_t s = stream();
  check(cudaMemsetAsync(flag.ptr, 0, 2 * sizeof(long long), s), op);
  find_bad_index<<<grid_for(n), kThreads, 0, s>>>(index.data, index.dtype == DType::Int64, oc, n, limit, flag.as<long long>());
  check_launch(op);
  long long host[2] = {0, 0};
  copy_to_host(host, flag.ptr, sizeof(host));
  if (host[0]) fail(ErrorCode::Index, op, "index values in [0, " + std::to_string(limit) + ")", std::to_string(host[1]));
}

void check_index_dtype(const char* op, const TensorDesc& idx) {
  if (idx.dtype != DType::Int64 && idx.dtype != DType::Int32)
    fail(ErrorCode::DType, op, "an int32 or int64 index", dtype_name(idx.dtype));
}

void check_dim(const char* op, int dim, int ndim) {
  if (dim < 0 || dim >= std::max(ndim, 1)) fail(ErrorCode::Index, op, "dim in [0, " + std::to_string(ndim) + ")", std::to_string(dim));
}

Geometry geometry(const TensorDesc& walked, int dim, const TensorDesc& t0, const TensorDesc& t1, const TensorDesc& t2) {
  Geometry g;
  g.ndim = walked.ndim;
  g.dim = walked.ndim ? dim : -1;
  const TensorDesc* ts[3] = {&t0, &t1, &t2};
  for (int d = 0; d < walked.ndim; ++d) {
    g.shape[d] = walked.shape[d];
    for (int k = 0; k < 3; ++k) g.strides[k][d] = ts[k]->ndim > d ? ts[k]->strides[d] : 0;
  }
  return g;
}

// gather: walks index; strides [out, in, index]. out at off0 = in at off1 + (v - c) * in.strides[dim].
template <class T>
__global__ void gather_kernel(T* out, const T* in, const void* index, bool wide, Geometry g, int64_t in_dim_stride, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[3];
    int64_t c = coords(g, i, off);
    int64_t v = load_index(index, wide, off[2]);
    out[off[0]] = in[off[1] + (v - c) * in_dim_stride];
  }
}

// scatter_add: walks index; strides [out, src, index].
template <class T>
__global__ void scatter_add_kernel(T* out, const T* src, const void* index, bool wide, Geometry g, int64_t out_dim_stride, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[3];
    int64_t c = coords(g, i, off);
    int64_t v = load_index(index, wide, off[2]);
    atomic_add(out + off[0] + (v - c) * out_dim_stride, src[off[1]]);
  }
}

// index_select: walks out; strides [out, in, -]; the coordinate along dim is remapped.
template <class T>
__global__ void index_select_kernel(T* out, const T* in, const void* index, bool wide, int64_t index_stride, Geometry g,
                                    int64_t in_dim_stride, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[3];
    int64_t c = coords(g, i, off);
    int64_t v = g.dim >= 0 ? load_index(index, wide, c * index_stride) : 0;
    out[off[0]] = in[off[1] + (v - c) * in_dim_stride];
  }
}

// index_add: walks src; strides [out, src, -].
template <class T>
__global__ void index_add_kernel(T* out, const T* src, const void* index, bool wide, int64_t index_stride, Geometry g,
                                 int64_t out_dim_stride, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[3];
    int64_t c = coords(g, i, off);
    int64_t v = g.dim >= 0 ? load_index(index, wide, c * index_stride) : 0;
    atomic_add(out + off[0] + (v - c) * out_dim_stride, src[off[1]]);
  }
}

}  // namespace

void gather(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index) {
  cpu::check_gather_args(out, in, dim, index);
  validate_values("gather", index, in.ndim ? in.shape[dim] : 1);
  int64_t n = index.numel();
  if (n == 0) return;
  Geometry g = geometry(index, dim, out, in, index);
  int64_t in_dim_stride = in.ndim ? in.strides[dim] : 0;
  dispatch_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    gather_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(out.ptr<T>(), in.ptr<T>(), index.data, index.dtype == DType::Int64,
                                                            g, in_dim_stride, n);
  });
  check_launch("gather");
}

void scatter_add(const TensorDesc& out, int dim, const TensorDesc& index, const TensorDesc& src) {
  check_index_dtype("scatterAdd", index);
  check_dim("scatterAdd", dim, out.ndim);
  if (out.dtype != src.dtype) fail(ErrorCode::DType, "scatterAdd", dtype_name(out.dtype), dtype_name(src.dtype));
  if (index.ndim != src.ndim) fail(ErrorCode::Shape, "scatterAdd", "index of rank " + std::to_string(src.ndim), "rank " + std::to_string(index.ndim));
  for (int d = 0; d < index.ndim; ++d)
    if (index.shape[d] > src.shape[d])
      fail(ErrorCode::Shape, "scatterAdd", "index.shape[" + std::to_string(d) + "] <= " + std::to_string(src.shape[d]), std::to_string(index.shape[d]));
  for (int d = 0; d < index.ndim; ++d)
    if (d != dim && (d >= out.ndim || index.shape[d] > out.shape[d]))
      fail(ErrorCode::Shape, "scatterAdd", "index.shape[" + std::to_string(d) + "] <= " + std::to_string(d < out.ndim ? out.shape[d] : 0),
           std::to_string(index.shape[d]));
  validate_values("scatterAdd", index, out.ndim ? out.shape[dim] : 1);
  int64_t n = index.numel();
  if (n == 0) return;
  Geometry g = geometry(index, dim, out, src, index);
  int64_t out_dim_stride = out.ndim ? out.strides[dim] : 0;
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    scatter_add_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(out.ptr<T>(), src.ptr<T>(), index.data, index.dtype == DType::Int64,
                                                                 g, out_dim_stride, n);
  });
  check_launch("scatterAdd");
}

void index_select(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index) {
  cpu::check_index_select_args(out, in, dim, index);
  validate_values("indexSelect", index, in.ndim ? in.shape[dim] : 1);
  int64_t n = out.numel();
  if (n == 0) return;
  Geometry g = geometry(out, dim, out, in, out);
  int64_t is = index.ndim ? index.strides[0] : 0;
  int64_t in_dim_stride = in.ndim ? in.strides[dim] : 0;
  dispatch_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    index_select_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(out.ptr<T>(), in.ptr<T>(), index.data, index.dtype == DType::Int64,
                                                                  is, g, in_dim_stride, n);
  });
  check_launch("indexSelect");
}

void index_add(const TensorDesc& out, int dim, const TensorDesc& index, const TensorDesc& src) {
  cpu::check_index_add_args(out, dim, index, src);
  validate_values("indexAdd", index, out.ndim ? out.shape[dim] : 1);
  int64_t n = src.numel();
  if (n == 0) return;
  Geometry g = geometry(src, dim, out, src, src);
  int64_t is = index.ndim ? index.strides[0] : 0;
  int64_t out_dim_stride = out.ndim ? out.strides[dim] : 0;
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    index_add_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(out.ptr<T>(), src.ptr<T>(), index.data, index.dtype == DType::Int64,
                                                               is, g, out_dim_stride, n);
  });
  check_launch("indexAdd");
}

}  // namespace dendrite::cuda

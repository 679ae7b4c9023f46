// Embedding backward and max-norm renormalisation on CUDA, both built on one step: the looked-up
// indices sorted on the device with their positions, by a stable radix sort (CUB, shipped with
// the toolkit) over only the bits an index can use. Equal indices then form runs whose positions
// increase, so
//  - the backward gives each run to one warp, which sums the gradient rows of its positions in
//    order into its weight row: no atomics, the CPU's indexAdd order, bitwise the CPU's result
//    and the same on every run;
//  - the renormalisation gives each run to one block, so every looked-up row is rescaled once.
// Indices outside [0, V) (the forward's indexSelect rejects them first) sort as V, after every
// valid one, and are skipped.
#include <cub/device/device_radix_sort.cuh>
#include <algorithm>
#include <cmath>
#include <string>
#include "../core/cuda_utils.cuh"
#include "norm.h"

namespace dendrite::cuda {
namespace {

// Sort keys (the index, or V when out of range) and values (the position).
__global__ void sort_input_kernel(const void* indices, bool wide, int64_t n, int64_t V, uint32_t* keys, int32_t* positions) {
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < n; p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t v = wide ? static_cast<const int64_t*>(indices)[p] : static_cast<const int32_t*>(indices)[p];
    keys[p] = static_cast<uint32_t>(v >= 0 && v < V ? v : V);
    positions[p] = static_cast<int32_t>(p);
  }
}

// The looked-up indices in increasing order, with the positions they came from (increasing
// within a run of equal indices: the sort is stable and the positions start in order).
struct SortedIndices {
  Scratch keys_in, keys, positions_in, positions;
  SortedIndices(const char* op, const TensorDesc& indices, int64_t V)
      : keys_in(static_cast<size_t>(indices.numel()) * 4), keys(keys_in.bytes), positions_in(keys_in.bytes), positions(keys_in.bytes) {
    const int64_t n = indices.numel();
    if (n == 0) return;
    cudaStream_t st = stream();
    sort_input_kernel<<<grid_for(n), kThreads, 0, st>>>(indices.data, indices.dtype == DType::Int64, n, V, keys_in.as<uint32_t>(),
                                                        positions_in.as<int32_t>());
    check_launch(op);
    // Keys are at most V < 2^31: sort only the bits that can be set.
    int end_bit = 1;
    while (end_bit < 32 && (uint64_t{1} << end_bit) <= static_cast<uint64_t>(V)) ++end_bit;
    size_t temp_bytes = 0;
    check(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys_in.as<uint32_t>(), keys.as<uint32_t>(), positions_in.as<int32_t>(),
                                          positions.as<int32_t>(), static_cast<int>(n), 0, end_bit, st),
          op);
    Scratch temp(temp_bytes);
    check(cub::DeviceRadixSort::SortPairs(temp.ptr, temp_bytes, keys_in.as<uint32_t>(), keys.as<uint32_t>(), positions_in.as<int32_t>(),
                                          positions.as<int32_t>(), static_cast<int>(n), 0, end_bit, st),
          op);
  }
};

// One warp per sorted position j; the warp of a run's first position sums the run.
template <class T>
__global__ void embedding_backward_kernel(T* gw, const T* gy, const uint32_t* keys, const int32_t* positions, int64_t n, int64_t E,
                                          int64_t V, int64_t padding_idx) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x >> 5);
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5); j < n; j += warps) {
    const int64_t key = keys[j];
    if ((j > 0 && keys[j - 1] == key) || key >= V || key == padding_idx) continue;
    int64_t end = j + 1;
    while (end < n && keys[end] == key) ++end;
    T* row = gw + key * E;
    for (int64_t e = lane; e < E; e += 32) {
      T acc = 0;
      for (int64_t q = j; q < end; ++q) acc += gy[static_cast<int64_t>(positions[q]) * E + e];
      row[e] = acc;
    }
  }
}

__device__ __forceinline__ double abs_pow(double a, double p) { return p == 1.0 ? a : p == 2.0 ? a * a : pow(a, p); }

// One block per sorted position j; the block of a run's first position renormalises its row.
template <class T>
__global__ void embedding_renorm_kernel(T* weight, const uint32_t* keys, int64_t n, int64_t E, int64_t V, double max_norm, double p) {
  __shared__ double warp_part[32];
  __shared__ double total;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int64_t j = blockIdx.x; j < n; j += gridDim.x) {
    const int64_t key = keys[j];
    if ((j > 0 && keys[j - 1] == key) || key >= V) continue;  // the same for the whole block
    T* row = weight + key * E;
    double part = 0;
    for (int64_t e = threadIdx.x; e < E; e += blockDim.x) part += abs_pow(fabs(static_cast<double>(row[e])), p);
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) part += __shfl_down_sync(0xffffffffu, part, offset);
    if (lane == 0) warp_part[warp] = part;
    __syncthreads();
    if (threadIdx.x == 0) {
      double t = 0;
      for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) t += warp_part[w];
      total = t;
    }
    __syncthreads();
    // As the CPU path: factor = max_norm * (1 / (norm + 1e-7)) - 1 in the weight's dtype, then
    // w += w * factor, for rows whose norm exceeds max_norm.
    const T norm = static_cast<T>(p == 1.0 ? total : p == 2.0 ? sqrt(total) : pow(total, 1.0 / p));
    if (norm > static_cast<T>(max_norm)) {
      const T factor = static_cast<T>(max_norm) * (T(1) / (norm + static_cast<T>(1e-7))) - T(1);
      for (int64_t e = threadIdx.x; e < E; e += blockDim.x) row[e] = row[e] + row[e] * factor;
    }
    __syncthreads();  // warp_part and total are reused by this block's next row
  }
}

void check_indices(const char* op, const TensorDesc& indices) {
  if (indices.dtype != DType::Int32 && indices.dtype != DType::Int64)
    fail(ErrorCode::DType, op, "int32 or int64 indices", dtype_name(indices.dtype));
  if (!indices.is_contiguous()) fail(ErrorCode::Argument, op, "contiguous indices", "a strided view");
  if (indices.numel() >= INT32_MAX) fail(ErrorCode::Shape, op, "fewer than 2^31 indices", std::to_string(indices.numel()));
}

void check_table(const char* op, const char* what, const TensorDesc& t) {
  if (t.dtype != DType::Float32 && t.dtype != DType::Float64)
    fail(ErrorCode::DType, op, std::string("a float32 or float64 ") + what, dtype_name(t.dtype));
  if (t.ndim != 2) fail(ErrorCode::Shape, op, std::string(what) + " of shape [numEmbeddings, embeddingDim]", shape_str(t.shape, t.ndim));
  if (!t.is_contiguous()) fail(ErrorCode::Argument, op, std::string("a contiguous ") + what, "a strided view");
  if (t.shape[0] >= INT32_MAX) fail(ErrorCode::Shape, op, "fewer than 2^31 embeddings", std::to_string(t.shape[0]));
}

}  // namespace

void embedding_backward(const TensorDesc& gw, const TensorDesc& indices, const TensorDesc& gy, int64_t padding_idx) {
  const char* op = "embedding backward";
  check_table(op, "weight gradient", gw);
  check_indices(op, indices);
  const int64_t V = gw.shape[0], E = gw.shape[1], n = indices.numel();
  if (gy.dtype != gw.dtype) fail(ErrorCode::DType, op, std::string("a gradient of dtype ") + dtype_name(gw.dtype), dtype_name(gy.dtype));
  if (!gy.is_contiguous() || gy.ndim != 2 || gy.shape[0] != n || gy.shape[1] != E)
    fail(ErrorCode::Shape, op, "a contiguous gradient of shape [" + std::to_string(n) + ", " + std::to_string(E) + "]",
         shape_str(gy.shape, gy.ndim));
  cudaStream_t st = stream();
  if (gw.numel() > 0) check(cudaMemsetAsync(gw.data, 0, static_cast<size_t>(gw.numel()) * dtype_size(gw.dtype), st), op);
  if (n == 0 || E == 0) return;
  SortedIndices sorted(op, indices, V);
  constexpr int kWarpsPerBlock = kThreads / 32;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((n + kWarpsPerBlock - 1) / kWarpsPerBlock, static_cast<int64_t>(sm_count()) * 16));
  if (gw.dtype == DType::Float64)
    embedding_backward_kernel<double><<<blocks, kThreads, 0, st>>>(gw.ptr<double>(), gy.ptr<double>(), sorted.keys.as<uint32_t>(),
                                                                   sorted.positions.as<int32_t>(), n, E, V, padding_idx);
  else
    embedding_backward_kernel<float><<<blocks, kThreads, 0, st>>>(gw.ptr<float>(), gy.ptr<float>(), sorted.keys.as<uint32_t>(),
                                                                  sorted.positions.as<int32_t>(), n, E, V, padding_idx);
  check_launch(op);
}

void embedding_renorm(const TensorDesc& weight, const TensorDesc& indices, double max_norm, double norm_type) {
  const char* op = "embedding";
  check_table(op, "weight", weight);
  check_indices(op, indices);
  if (!(max_norm > 0)) fail(ErrorCode::Argument, op, "maxNorm > 0", std::to_string(max_norm));
  if (!(norm_type > 0)) fail(ErrorCode::Argument, op, "normType > 0", std::to_string(norm_type));
  const int64_t V = weight.shape[0], E = weight.shape[1], n = indices.numel();
  if (n == 0 || E == 0) return;
  SortedIndices sorted(op, indices, V);
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(n, static_cast<int64_t>(sm_count()) * 8));
  if (weight.dtype == DType::Float64)
    embedding_renorm_kernel<double><<<blocks, kThreads, 0, stream()>>>(weight.ptr<double>(), sorted.keys.as<uint32_t>(), n, E, V, max_norm,
                                                                       norm_type);
  else
    embedding_renorm_kernel<float><<<blocks, kThreads, 0, stream()>>>(weight.ptr<float>(), sorted.keys.as<uint32_t>(), n, E, V, max_norm,
                                                                      norm_type);
  check_launch(op);
}

}  // namespace dendrite::cuda

// What every .cu file shares: CUDA error checking that throws dendrite::Error, the current
// stream, launch sizing, scratch memory from the caching allocator, and OffsetCalc, the device
// side of a strided walk over up to kMaxOperands operands (the layout StridedOperands builds).
#pragma once
#include <cuda_runtime.h>
#include <cstdint>
#include <string>
#include <type_traits>
#include "../../core/iterator.h"
#include "../../core/tensor.h"
#include "../cuda.h"

namespace dendrite::cuda {

[[noreturn]] void throw_cuda(cudaError_t e, const char* what);
inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw_cuda(e, what);
}
// After every launch: a bad configuration shows here at once; a fault inside the kernel shows
// at the next call that synchronises (it is sticky), which checks the same way.
inline void check_launch(const char* op) { check(cudaGetLastError(), op); }

cudaStream_t stream();
int sm_count();

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items: enough to fill the GPU a few times, no more.
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  int64_t cap = static_cast<int64_t>(sm_count()) * 8;
  if (blocks > cap) blocks = cap;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

// Device scratch from the caching allocator, given back when the scope ends (stream-ordered,
// so kernels queued before that still see it intact).
struct Scratch {
  void* ptr = nullptr;
  size_t bytes = 0;
  explicit Scratch(size_t n) : ptr(n ? allocate(n) : nullptr), bytes(n) {}
  ~Scratch() {
    if (ptr) release(ptr, bytes);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T> T* as() const { return static_cast<T*>(ptr); }
};

// Byte offsets of each operand at a flat (row-major) index of a coalesced iteration space.
// Passed to kernels by value; dims are stored innermost first.
template <int N>
struct OffsetCalc {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  __host__ __device__ void get(int64_t linear, int64_t* off) const {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
    // The outermost dim needs no division: what is left of the index is its coordinate.
    for (int d = 0; d < ndim - 1; ++d) {
      int64_t q = linear / sizes[d];
      int64_t r = linear - q * sizes[d];
      linear = q;
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += r * strides[k][d];
    }
    if (ndim > 0) {
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += linear * strides[k][ndim - 1];
    }
  }
};

// Coalesces the operands' dims (StridedOperands) and returns the walk; `contiguous` tells
// whether every operand is one dense run in element order (stride == its element size).
template <int N>
OffsetCalc<N> make_offset_calc(const TensorDesc* const* descs, bool* contiguous) {
  StridedOperands it(descs, N);
  OffsetCalc<N> oc;
  oc.ndim = it.ndim;
  for (int d = 0; d < it.ndim; ++d) {
    int src = it.ndim - 1 - d;
    oc.sizes[d] = it.shape[src];
    for (int k = 0; k < N; ++k) oc.strides[k][d] = it.strides[k][src];
  }
  bool dense = it.ndim <= 1;
  if (it.ndim == 1)
    for (int k = 0; k < N; ++k)
      if (it.strides[k][0] != static_cast<int64_t>(dtype_size(descs[k]->dtype))) dense = false;
  *contiguous = dense;
  return oc;
}

// The C++ type of a DType for kernels (bool is one byte holding 0 or 1, as on the CPU).
template <class F>
decltype(auto) dispatch_cuda_dtype(DType t, F&& f) {
  return dispatch_dtype(t, static_cast<F&&>(f));
}

}  // namespace dendrite::cuda

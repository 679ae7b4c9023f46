// Host emulation of the CUDA pieces conv.cu uses (launches, thread indices, __syncthreads,
// scratch, SGEMM and batched matmul as plain loops), so its kernels and drivers run on a CPU
// under AddressSanitizer. See run.sh.
#pragma once
#include <barrier>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>
#include "core/error.h"
#include "core/tensor.h"
#include "cuda/cuda.h"

struct uint3e { unsigned x = 0, y = 0, z = 0; };
struct dim3 {
  unsigned x, y, z;
  dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
inline thread_local uint3e threadIdx, blockIdx;
inline thread_local dim3 blockDim, gridDim;
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static
inline std::barrier<>* emu_barrier = nullptr;
#define __syncthreads() emu_barrier->arrive_and_wait()
#define __ldg(p) (*(p))
#define EMU_CFG(g, b, shm, st) dim3(g), dim3(b)

namespace emu {
inline int64_t col_elems = int64_t{16} << 20;
inline int64_t min_cols = 256;
inline int64_t pointwise_p = 2048;
inline int64_t reduce_chunk = 4096;
inline bool force64 = false;
inline int sms = 132;
inline int64_t launches = 0;
template <class F, class... A>
void launch(const char* name, dim3 grid, dim3 block, F&& f, A&&... args) {
  ++launches;
  assert(grid.x >= 1 && grid.y >= 1 && grid.z >= 1 && grid.y <= 65535 && grid.z <= 65535);
  assert(block.x * block.y * block.z <= 1024);
  const bool threaded = std::strstr(name, "weight_partial") != nullptr;
  if (threaded) {
    std::barrier<> bar(block.x);
    emu_barrier = &bar;
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < block.x; ++t)
      ts.emplace_back([&, t] {
        gridDim = grid; blockDim = block; threadIdx = {t, 0, 0};
        for (unsigned bz = 0; bz < grid.z; ++bz)
          for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx) {
              blockIdx = {bx, by, bz};
              f(args...);
              bar.arrive_and_wait();  // the block's shared memory is reused by the next one
            }
      });
    for (auto& th : ts) th.join();
    return;
  }
  gridDim = grid; blockDim = block;
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx = {bx, by, bz};
        for (unsigned t = 0; t < block.x; ++t) { threadIdx = {t, 0, 0}; f(args...); }
      }
}
}  // namespace emu

namespace dendrite::cuda {
using cudaError_t = int;
using cudaStream_t = void*;
constexpr int cudaSuccess = 0;
inline int sm_count() { return emu::sms; }
inline cudaStream_t stream() { return nullptr; }
constexpr int kThreads = 256;
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  int64_t cap = static_cast<int64_t>(sm_count()) * 8;
  if (blocks > cap) blocks = cap;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}
inline void check(cudaError_t, const char*) {}
inline void check_launch(const char*) {}
inline int cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t) { std::memset(p, v, n); return 0; }
inline int64_t live_scratch = 0;
void* allocate(size_t n) {
  void* p = std::malloc(n);
  std::memset(p, 0xff, n);  // NaN floats: reading scratch that was never written shows
  live_scratch += static_cast<int64_t>(n);
  return p;
}
void release(void* p, size_t n) { std::free(p); live_scratch -= static_cast<int64_t>(n); }
struct Scratch {
  void* ptr = nullptr;
  size_t bytes = 0;
  explicit Scratch(size_t n) : ptr(n ? allocate(n) : nullptr), bytes(n) {}
  ~Scratch() { if (ptr) release(ptr, bytes); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T> T* as() const { return static_cast<T*>(ptr); }
};

inline int64_t gemm_calls = 0, matmul_calls = 0;
void sgemm_ex(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
              int64_t ldb, float beta, float* C, int64_t ldc, const cpu::GemmEpilogue& ep) {
  ++gemm_calls;
  assert(M >= 0 && N >= 0 && K >= 0);
  // Leading dimensions as a real GEMM needs them (a single row or column may have any).
  assert(lda >= (ta ? M : K) || (ta ? K : M) <= 1);
  assert(ldb >= (tb ? K : N) || (tb ? N : K) <= 1);
  assert(ldc >= N || M <= 1);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) {
        const float a = ta ? A[k * lda + i] : A[i * lda + k];
        const float b = tb ? B[j * ldb + k] : B[k * ldb + j];
        acc += static_cast<double>(a) * b;
      }
      float v = alpha * static_cast<float>(acc);
      if (beta != 0.0f) v += beta * C[i * ldc + j];
      if (ep.bias && ep.bias_kind == cpu::GemmBias::Row) v += ep.bias[i];
      if (ep.bias && ep.bias_kind == cpu::GemmBias::Col) v += ep.bias[j];
      assert(ep.act == cpu::GemmActivation::None);
      C[i * ldc + j] = v;
    }
}

struct Layout { bool ok = false, trans = false; int64_t ld = 0; };
inline Layout matrix_layout(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  if (col_stride == 1 || cols == 1) {
    int64_t ld = rows == 1 ? std::max<int64_t>(cols, 1) : row_stride;
    if (ld >= std::max<int64_t>(cols, 1)) return {true, false, ld};
  }
  if (row_stride == 1 || rows == 1) {
    int64_t ld = cols == 1 ? std::max<int64_t>(rows, 1) : col_stride;
    if (ld >= std::max<int64_t>(rows, 1)) return {true, true, ld};
  }
  return {};
}

void matmul(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b) {
  ++matmul_calls;
  assert(a.ndim == 3 && b.ndim == 3 && out.ndim == 3 && out.is_contiguous());
  const int64_t Bn = a.shape[0], M = a.shape[1], K = a.shape[2], N = b.shape[2];
  assert(b.shape[0] == Bn && out.shape[0] == Bn && b.shape[1] == K && out.shape[1] == M && out.shape[2] == N);
  assert(matrix_layout(M, K, a.strides[1], a.strides[2]).ok && matrix_layout(K, N, b.strides[1], b.strides[2]).ok);
  const float* A = a.ptr<float>(); const float* B = b.ptr<float>(); float* C = out.ptr<float>();
  for (int64_t z = 0; z < Bn; ++z)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += static_cast<double>(A[z * a.strides[0] + i * a.strides[1] + k * a.strides[2]]) *
                 B[z * b.strides[0] + k * b.strides[1] + j * b.strides[2]];
        C[z * out.strides[0] + i * out.strides[1] + j * out.strides[2]] = static_cast<float>(acc);
      }
}
}  // namespace dendrite::cuda

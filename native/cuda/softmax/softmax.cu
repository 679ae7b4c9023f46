// Softmax and log-softmax along one dim of a contiguous tensor, forward and backward, laid out as
// (outer, n, inner) like the CPU driver. Forward reads each row once for its statistics with the
// online max-and-sum (Milakov & Gimelshein 2018: when a larger value arrives the running sum is
// rescaled by exp(old max - new max)), then once more to write. Rows of contiguous elements
// (inner == 1) go to a warp each (n <= 1024) or a block each; strided rows to a thread each.
// NaN or +inf anywhere in a row makes the whole row NaN and a row of -inf gives NaN, as on the CPU.
#include <cmath>
#include <string>
#include "../../cpu/softmax/softmax.h"
#include "../core/cuda_utils.cuh"

namespace dendrite::cuda {
namespace {

template <class T>
struct RowStats {
  T m;    // running max
  T s;    // sum of exp(x - m)
  int bad;  // a NaN or +inf was seen
  int pad;
};

template <class T>
__device__ __forceinline__ RowStats<T> stats_combine(RowStats<T> a, RowStats<T> b) {
  if (a.bad || b.bad) return RowStats<T>{T(0), T(0), 1, 0};
  if (b.m == -INFINITY) return a;
  if (a.m == -INFINITY) return b;
  T m = a.m > b.m ? a.m : b.m;
  return RowStats<T>{m, a.s * exp(a.m - m) + b.s * exp(b.m - m), 0, 0};
}

template <class T>
__device__ __forceinline__ RowStats<T> stats_add(RowStats<T> a, T x) {
  if (isnan(x) || x == INFINITY) a.bad = 1;
  else if (x != -INFINITY) a = stats_combine(a, RowStats<T>{x, T(1), 0, 0});
  return a;
}

template <class T>
__device__ __forceinline__ RowStats<T> shfl_xor(RowStats<T> v, int mask) {
  RowStats<T> r;
  r.m = __shfl_xor_sync(0xffffffffu, v.m, mask);
  r.s = __shfl_xor_sync(0xffffffffu, v.s, mask);
  r.bad = __shfl_xor_sync(0xffffffffu, v.bad, mask);
  r.pad = 0;
  return r;
}

template <class T>
__device__ __forceinline__ RowStats<T> warp_allreduce(RowStats<T> a) {
#pragma unroll
  for (int mask = 16; mask > 0; mask >>= 1) a = stats_combine(a, shfl_xor(a, mask));
  return a;
}

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int mask = 16; mask > 0; mask >>= 1) v += __shfl_xor_sync(0xffffffffu, v, mask);
  return v;
}

// Every thread of the block gets the result.
template <class T>
__device__ RowStats<T> block_allreduce(RowStats<T> a) {
  __shared__ RowStats<T> partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  a = warp_allreduce(a);
  if (lane == 0) partial[warp] = a;
  __syncthreads();
  a = lane < warps ? partial[lane] : RowStats<T>{T(-INFINITY), T(0), 0, 0};
  a = warp_allreduce(a);
  __syncthreads();
  return a;
}

template <class T>
__device__ T block_sum(T v) {
  __shared__ T partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_sum(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < warps ? partial[lane] : T(0);
  v = warp_sum(v);
  __syncthreads();
  return v;
}

template <class T>
__device__ __forceinline__ T softmax_out(T x, const RowStats<T>& st, bool log_out) {
  if (st.bad) return T(NAN);
  // A row of -inf: m and s stay (-inf, 0) and both formulas give NaN, as on the CPU.
  return log_out ? x - st.m - log(st.s) : exp(x - st.m) / st.s;
}

// kBlock: a block per row, else a warp per row.
template <class T, bool kBlock>
__global__ void softmax_rows(T* y, const T* x, int64_t rows, int64_t n, bool log_out) {
  const int lanes = kBlock ? blockDim.x : 32;
  const int lane = kBlock ? threadIdx.x : (threadIdx.x & 31);
  const int64_t per_block = kBlock ? 1 : (blockDim.x >> 5);
  const int64_t first = static_cast<int64_t>(blockIdx.x) * per_block + (kBlock ? 0 : (threadIdx.x >> 5));
  const int64_t step = static_cast<int64_t>(gridDim.x) * per_block;
  for (int64_t row = first; row < rows; row += step) {
    const T* xr = x + row * n;
    T* yr = y + row * n;
    RowStats<T> st{T(-INFINITY), T(0), 0, 0};
    for (int64_t i = lane; i < n; i += lanes) st = stats_add(st, xr[i]);
    st = kBlock ? block_allreduce(st) : warp_allreduce(st);
    for (int64_t i = lane; i < n; i += lanes) yr[i] = softmax_out(xr[i], st, log_out);
  }
}

template <class T>
__global__ void softmax_cols(T* y, const T* x, int64_t outer, int64_t n, int64_t inner, bool log_out) {
  const int64_t cols = outer * inner, stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < cols; c += stride) {
    const int64_t o = c / inner, i = c - o * inner, base = o * n * inner + i;
    RowStats<T> st{T(-INFINITY), T(0), 0, 0};
    for (int64_t k = 0; k < n; ++k) st = stats_add(st, x[base + k * inner]);
    for (int64_t k = 0; k < n; ++k) y[base + k * inner] = softmax_out(x[base + k * inner], st, log_out);
  }
}

// grad_in = y * (g - sum(g * y))  (softmax);  grad_in = g - exp(y) * sum(g)  (log-softmax)
template <class T, bool kBlock>
__global__ void softmax_backward_rows(T* gx, const T* g, const T* y, int64_t rows, int64_t n, bool log_out) {
  const int lanes = kBlock ? blockDim.x : 32;
  const int lane = kBlock ? threadIdx.x : (threadIdx.x & 31);
  const int64_t per_block = kBlock ? 1 : (blockDim.x >> 5);
  const int64_t first = static_cast<int64_t>(blockIdx.x) * per_block + (kBlock ? 0 : (threadIdx.x >> 5));
  const int64_t step = static_cast<int64_t>(gridDim.x) * per_block;
  for (int64_t row = first; row < rows; row += step) {
    const int64_t base = row * n;
    T acc = 0;
    for (int64_t i = lane; i < n; i += lanes) acc += log_out ? g[base + i] : g[base + i] * y[base + i];
    acc = kBlock ? block_sum(acc) : warp_sum(acc);
    for (int64_t i = lane; i < n; i += lanes)
      gx[base + i] = log_out ? g[base + i] - exp(y[base + i]) * acc : y[base + i] * (g[base + i] - acc);
  }
}

template <class T>
__global__ void softmax_backward_cols(T* gx, const T* g, const T* y, int64_t outer, int64_t n, int64_t inner, bool log_out) {
  const int64_t cols = outer * inner, stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < cols; c += stride) {
    const int64_t o = c / inner, i = c - o * inner, base = o * n * inner + i;
    T acc = 0;
    for (int64_t k = 0; k < n; ++k) acc += log_out ? g[base + k * inner] : g[base + k * inner] * y[base + k * inner];
    for (int64_t k = 0; k < n; ++k) {
      const int64_t at = base + k * inner;
      gx[at] = log_out ? g[at] - exp(y[at]) * acc : y[at] * (g[at] - acc);
    }
  }
}

using Layout = cpu::SoftmaxLayout;

unsigned row_grid(int64_t rows, bool block) {
  int64_t per = block ? 1 : kThreads / 32;
  int64_t blocks = (rows + per - 1) / per;
  return static_cast<unsigned>(blocks < (1 << 30) ? blocks : (1 << 30));
}

}  // namespace

void softmax_forward(const TensorDesc& out, const TensorDesc& in, int dim, bool log) {
  const char* op = log ? "logSoftmax" : "softmax";
  const Layout l = cpu::check_softmax_forward_args(out, in, dim, log);
  int64_t lines = l.outer * l.inner;
  if (lines == 0 || l.n == 0) return;
  cudaStream_t s = stream();
  dispatch_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* x = in.ptr<T>();
      T* y = out.ptr<T>();
      if (l.inner == 1) {
        bool block = l.n > 1024;
        if (block) softmax_rows<T, true><<<row_grid(lines, true), kThreads, 0, s>>>(y, x, lines, l.n, log);
        else softmax_rows<T, false><<<row_grid(lines, false), kThreads, 0, s>>>(y, x, lines, l.n, log);
      } else {
        softmax_cols<T><<<grid_for(lines), kThreads, 0, s>>>(y, x, l.outer, l.n, l.inner, log);
      }
    }
  });
  check_launch(op);
}

void softmax_backward(const TensorDesc& grad_in, const TensorDesc& grad_out, const TensorDesc& out, int dim, bool log) {
  const char* op = log ? "logSoftmax backward" : "softmax backward";
  const Layout l = cpu::check_softmax_backward_args(grad_in, grad_out, out, dim, log);
  int64_t lines = l.outer * l.inner;
  if (lines == 0 || l.n == 0) return;
  cudaStream_t s = stream();
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* g = grad_out.ptr<T>();
      const T* y = out.ptr<T>();
      T* gx = grad_in.ptr<T>();
      if (l.inner == 1) {
        bool block = l.n > 1024;
        if (block) softmax_backward_rows<T, true><<<row_grid(lines, true), kThreads, 0, s>>>(gx, g, y, lines, l.n, log);
        else softmax_backward_rows<T, false><<<row_grid(lines, false), kThreads, 0, s>>>(gx, g, y, lines, l.n, log);
      } else {
        softmax_backward_cols<T><<<grid_for(lines), kThreads, 0, s>>>(gx, g, y, l.outer, l.n, l.inner, log);
      }
    }
  });
  check_launch(op);
}

}  // namespace dendrite::cuda

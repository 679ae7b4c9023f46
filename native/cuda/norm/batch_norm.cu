// Batch norm on CUDA over x [N, C, L] (contiguous; L the trailing dims flattened).
//
// Per-channel statistics in three steps, each in a fixed order (deterministic):
//  1. partial kernel: each channel's N rows are split into `chunks` ranges of rows, one block
//     per (channel, chunk); every thread accumulates its elements in double (Welford for the
//     forward, plain sums of gy and gy * (x - mean) for the backward), then the block merges its
//     threads (warp shuffles, then the warps in order) into one partial;
//  2. finalize kernel: one thread per channel merges its chunks in order and computes what the
//     CPU computes per channel (save_mean / save_invstd, the running-stat update, the float
//     coefficients of the elementwise step, grad weight / grad bias);
//  3. an elementwise kernel: y = x * scale + shift, or gx = (gy - mdy - (x - mean) * k) * a.
// Threads read a block's rows with consecutive l, so loads coalesce when L is large; when L is
// smaller than the block, the block covers blockDim / L rows at a time instead.
#include <algorithm>
#include <string>
#include "../../cpu/norm/batch_norm.h"
#include "../core/cuda_utils.cuh"
#include "batch_norm_math.cuh"
#include "norm.h"

namespace dendrite::cuda {
namespace {

using bn_math::Welford;

using Layout = cpu::BatchNormLayout;

template <class F>
void dispatch_float(DType dtype, F&& f) {
  if (dtype == DType::Float64) f(double{});
  else f(float{});
}

template <class T>
T* ptr_or_null(const TensorDesc* t) {
  return t ? t->ptr<T>() : nullptr;
}

// How the N rows of a channel are split over blocks: enough blocks to fill the GPU a few times,
// each with a few thousand elements at least.
struct Chunks {
  int64_t count, rows;  // number of chunks, rows per chunk
};

Chunks chunks_for(const char* op, const Layout& s) {
  const int64_t M = s.N * s.L;
  const int64_t want_blocks = static_cast<int64_t>(sm_count()) * 4;
  int64_t count = (want_blocks + s.C - 1) / s.C;
  count = std::min(count, (M + 4095) / 4096);
  count = std::max<int64_t>(1, std::min(count, s.N));
  const int64_t rows = (s.N + count - 1) / count;
  count = std::max<int64_t>(1, (s.N + rows - 1) / rows);
  if (s.C > (int64_t{1} << 31) / count) fail(ErrorCode::Shape, op, "fewer than 2^31 channels", std::to_string(s.C));
  return {count, std::max<int64_t>(rows, 1)};
}

// ---- block reductions (the result is valid in thread 0) -------------------------------------

__device__ Welford block_merge(Welford a) {
  __shared__ Welford warp_part[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    Welford b{__shfl_down_sync(0xffffffffu, a.n, offset), __shfl_down_sync(0xffffffffu, a.mean, offset),
              __shfl_down_sync(0xffffffffu, a.m2, offset)};
    a = bn_math::welford_merge(a, b);
  }
  if (lane == 0) warp_part[warp] = a;
  __syncthreads();
  if (threadIdx.x == 0) {
    a = warp_part[0];
    for (int w = 1; w < static_cast<int>(blockDim.x >> 5); ++w) a = bn_math::welford_merge(a, warp_part[w]);
  }
  return a;
}

__device__ double2 block_sum2(double2 a) {
  __shared__ double2 warp_part[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    a.x += __shfl_down_sync(0xffffffffu, a.x, offset);
    a.y += __shfl_down_sync(0xffffffffu, a.y, offset);
  }
  if (lane == 0) warp_part[warp] = a;
  __syncthreads();
  if (threadIdx.x == 0) {
    a = warp_part[0];
    for (int w = 1; w < static_cast<int>(blockDim.x >> 5); ++w) {
      a.x += warp_part[w].x;
      a.y += warp_part[w].y;
    }
  }
  return a;
}

// Calls f(offset of element (n, c, l)) for this thread's share of the rows [n0, n1) of channel c.
template <class F>
__device__ __forceinline__ void for_channel_rows(int64_t n0, int64_t n1, int64_t c, int64_t C, int64_t L, F&& f) {
  const int64_t threads = blockDim.x;
  if (L >= threads) {
    for (int64_t n = n0; n < n1; ++n) {
      const int64_t row = (n * C + c) * L;
      for (int64_t l = threadIdx.x; l < L; l += threads) f(row + l);
    }
  } else {
    const int64_t rows_per_pass = threads / L;
    const int64_t r = threadIdx.x / L, l = threadIdx.x - r * L;
    if (r < rows_per_pass)
      for (int64_t n = n0 + r; n < n1; n += rows_per_pass) f((n * C + c) * L + l);
  }
}

// ---- forward -------------------------------------------------------------------------------

// Block b = c * chunks + chunk: Welford accumulator of channel c over its rows of that chunk.
template <class T>
__global__ void stats_partial_kernel(const T* x, Layout s, Chunks ch, Welford* partial) {
  const int64_t c = blockIdx.x / ch.count, chunk = blockIdx.x - c * ch.count;
  const int64_t n0 = chunk * ch.rows, n1 = n0 + ch.rows < s.N ? n0 + ch.rows : s.N;
  Welford a{0, 0, 0};
  for_channel_rows(n0, n1, c, s.C, s.L, [&](int64_t at) { bn_math::welford_push(a, static_cast<double>(x[at])); });
  a = block_merge(a);
  if (threadIdx.x == 0) partial[blockIdx.x] = a;
}

template <class T>
__global__ void forward_finalize_kernel(const Welford* partial, Chunks ch, int64_t C, double M, bool training, double momentum,
                                        double eps, const T* w, const T* b, T* rm, T* rv, T* save_mean, T* save_invstd,
                                        T* scale, T* shift) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < C; c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    Welford stats{0, 0, 0};
    if (training)
      for (int64_t k = 0; k < ch.count; ++k) stats = bn_math::welford_merge(stats, partial[c * ch.count + k]);
    const bn_math::ForwardChannel<T> r = bn_math::forward_channel<T>(stats, M, training, momentum, eps, w ? w + c : nullptr,
                                                                     b ? b + c : nullptr, rm ? rm + c : nullptr, rv ? rv + c : nullptr);
    save_mean[c] = r.save_mean;
    save_invstd[c] = r.save_invstd;
    scale[c] = r.scale;
    shift[c] = r.shift;
  }
}

// ---- the elementwise step, over rows (L large) or flat (L small) -----------------------------

template <class T>
struct NormalizeOp {
  T* y;
  const T *x, *scale, *shift;
  __device__ void operator()(int64_t e, int64_t c) const { y[e] = x[e] * scale[c] + shift[c]; }
};

template <class T>
struct GradInputOp {
  T* gx;
  const T *gy, *x, *mean, *mdy, *k, *a;
  __device__ void operator()(int64_t e, int64_t c) const { gx[e] = (gy[e] - mdy[c] - (x[e] - mean[c]) * k[c]) * a[c]; }
};

template <class Op>
__global__ void channel_rows_kernel(Op op, int64_t rows, int64_t C, int64_t L) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const int64_t c = row % C;
    for (int64_t l = threadIdx.x; l < L; l += blockDim.x) op(row * L + l, c);
  }
}

template <class Op>
__global__ void channel_flat_kernel(Op op, int64_t n, int64_t C, int64_t L) {
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += static_cast<int64_t>(gridDim.x) * blockDim.x)
    op(e, (e / L) % C);
}

template <class Op>
void launch_channelwise(const char* op_name, const Op& op, const Layout& s) {
  const int64_t n = s.N * s.C * s.L;
  if (n == 0) return;
  if (s.L >= 32) {
    const int64_t rows = s.N * s.C;
    const int64_t cap = static_cast<int64_t>(sm_count()) * 16;
    channel_rows_kernel<<<static_cast<unsigned>(std::min(rows, cap)), kThreads, 0, stream()>>>(op, rows, s.C, s.L);
  } else {
    channel_flat_kernel<<<grid_for(n), kThreads, 0, stream()>>>(op, n, s.C, s.L);
  }
  check_launch(op_name);
}

// ---- backward ------------------------------------------------------------------------------

// Block b = c * chunks + chunk: (sum of gy, sum of gy * (x - mean)) over the chunk's rows.
template <class T>
__global__ void grad_partial_kernel(const T* gy, const T* x, const T* save_mean, Layout s, Chunks ch, double2* partial) {
  const int64_t c = blockIdx.x / ch.count, chunk = blockIdx.x - c * ch.count;
  const int64_t n0 = chunk * ch.rows, n1 = n0 + ch.rows < s.N ? n0 + ch.rows : s.N;
  const double mean = static_cast<double>(save_mean[c]);
  double2 a{0, 0};
  for_channel_rows(n0, n1, c, s.C, s.L, [&](int64_t at) {
    const double g = static_cast<double>(gy[at]);
    a.x += g;
    a.y += g * (static_cast<double>(x[at]) - mean);
  });
  a = block_sum2(a);
  if (threadIdx.x == 0) partial[blockIdx.x] = a;
}

template <class T>
__global__ void backward_finalize_kernel(const double2* partial, Chunks ch, int64_t C, double M, bool training, const T* w,
                                         const T* save_invstd, T* gw, T* gb, T* mdy, T* k, T* a) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < C; c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double sum_dy = 0, sum_dy_xmu = 0;
    if (partial)
      for (int64_t j = 0; j < ch.count; ++j) {
        sum_dy += partial[c * ch.count + j].x;
        sum_dy_xmu += partial[c * ch.count + j].y;
      }
    if (gw) gw[c] = static_cast<T>(sum_dy_xmu * static_cast<double>(save_invstd[c]));
    if (gb) gb[c] = static_cast<T>(sum_dy);
    const bn_math::BackwardChannel<T> r = bn_math::backward_channel<T>(sum_dy, sum_dy_xmu, M, training, save_invstd[c], w ? w + c : nullptr);
    mdy[c] = r.mdy;
    k[c] = r.k;
    a[c] = r.a;
  }
}

unsigned channel_grid(int64_t C) { return static_cast<unsigned>(std::min<int64_t>((C + kThreads - 1) / kThreads, 65535)); }

}  // namespace

void batch_norm_forward(const TensorDesc& y, const TensorDesc& save_mean, const TensorDesc& save_invstd, const TensorDesc& x,
                        const TensorDesc* weight, const TensorDesc* bias, const TensorDesc* running_mean,
                        const TensorDesc* running_var, bool training, double momentum, double eps) {
  const char* op = "batchNorm";
  const Layout s = cpu::check_batch_norm_forward_args(y, save_mean, save_invstd, x, weight, bias, running_mean,
                                                      running_var, training);
  const int64_t M = s.N * s.L;
  if (s.C == 0) return;
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    cudaStream_t st = stream();
    Scratch coef(2 * static_cast<size_t>(s.C) * sizeof(T));
    T* scale = coef.as<T>();
    T* shift = scale + s.C;
    const Chunks ch = training ? chunks_for(op, s) : Chunks{1, 1};
    Scratch partial(training ? static_cast<size_t>(s.C * ch.count) * sizeof(Welford) : 0);
    if (training) {
      stats_partial_kernel<T><<<static_cast<unsigned>(s.C * ch.count), kThreads, 0, st>>>(x.ptr<T>(), s, ch, partial.as<Welford>());
      check_launch(op);
    }
    forward_finalize_kernel<T><<<channel_grid(s.C), kThreads, 0, st>>>(
        partial.as<Welford>(), ch, s.C, static_cast<double>(M), training, momentum, eps, ptr_or_null<T>(weight),
        ptr_or_null<T>(bias), ptr_or_null<T>(running_mean), ptr_or_null<T>(running_var), save_mean.ptr<T>(),
        save_invstd.ptr<T>(), scale, shift);
    check_launch(op);
    launch_channelwise(op, NormalizeOp<T>{y.ptr<T>(), x.ptr<T>(), scale, shift}, s);
  });
}

void batch_norm_backward(const TensorDesc* gx, const TensorDesc* gw, const TensorDesc* gb, const TensorDesc& gy,
                         const TensorDesc& x, const TensorDesc* weight, const TensorDesc& save_mean,
                         const TensorDesc& save_invstd, bool training) {
  const char* op = "batchNorm backward";
  const Layout s = cpu::check_batch_norm_backward_args(gx, gw, gb, gy, x, weight, save_mean, save_invstd);
  if (s.C == 0 || (!gx && !gw && !gb)) return;
  const int64_t M = s.N * s.L;
  // Eval-mode gx alone needs no sums (k = mdy = 0).
  const bool need_sums = gw || gb || training;
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    cudaStream_t st = stream();
    Scratch coef(3 * static_cast<size_t>(s.C) * sizeof(T));
    T* mdy = coef.as<T>();
    T* k = mdy + s.C;
    T* a = k + s.C;
    const bool sums = need_sums && M > 0;
    const Chunks ch = sums ? chunks_for(op, s) : Chunks{1, 1};
    Scratch partial(sums ? static_cast<size_t>(s.C * ch.count) * sizeof(double2) : 0);
    if (sums) {
      grad_partial_kernel<T><<<static_cast<unsigned>(s.C * ch.count), kThreads, 0, st>>>(gy.ptr<T>(), x.ptr<T>(), save_mean.ptr<T>(), s,
                                                                                         ch, partial.as<double2>());
      check_launch(op);
    }
    backward_finalize_kernel<T><<<channel_grid(s.C), kThreads, 0, st>>>(
        partial.as<double2>(), ch, s.C, static_cast<double>(M), training, ptr_or_null<T>(weight), save_invstd.ptr<T>(),
        ptr_or_null<T>(gw), ptr_or_null<T>(gb), mdy, k, a);
    check_launch(op);
    if (gx) launch_channelwise(op, GradInputOp<T>{gx->ptr<T>(), gy.ptr<T>(), x.ptr<T>(), save_mean.ptr<T>(), mdy, k, a}, s);
  });
}

}  // namespace dendrite::cuda

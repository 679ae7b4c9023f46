// SGEMM written here (no cuBLAS): C = act(alpha op(A) op(B) + beta C + bias), row-major, with the
// cpu::sgemm_ex contract, plus the batched matmul and the fused linear built on it.
//
// The tiled kernel follows the classic shared-memory blocking (Volkov & Demmel 2008; the CUTLASS
// "SGEMM hierarchy"): a block of 256 threads owns a 128 x 128 tile of C and walks K in steps of
// 16. Each step's 128 x 16 slice of op(A) and 16 x 128 slice of op(B) are copied global ->
// shared with cp.async (sm_80+), double-buffered: the copy of step t+1 is in flight while step t
// is multiplied. Shared memory holds both slices k-major (As[k][m], Bs[k][n], rows padded by 4
// floats so a transposing copy hits at most 2-way bank conflicts and float4 reads stay aligned).
// Operands whose stored layout already runs along m (A transposed) or n (B not transposed) are
// copied 16 bytes at a time when aligned; the others are transposed on the way in, 4 bytes at a
// time. Warp tiling: the 8 warps form a 2 x 4 grid of 64 x 32 warp tiles; a lane owns an 8 x 8
// register tile made of two 4-row and two 4-column strips, read from shared as float4s, so each
// k step costs 4 shared loads per 64 FMAs. The epilogue (alpha, beta, bias per row or column,
// relu/sigmoid/tanh/gelu) runs on the registers before C is written, with float4 stores when
// the row allows.
//
// Split-K (run_tiled): when the tile grid leaves SMs idle (the LSTM's step GEMM 64 x 1024 x 256 is
// 8 tiles; weight gradients have small M, N and a long K) and K is long, the same kernel runs with
// grid.z over K-slices too, each block writing its raw partial tile (alpha 1, beta 0, no
// epilogue) to scratch; one reduction kernel then sums the slices in slice order (deterministic)
// and applies alpha, beta C, bias and activation into C.
//
// M == 1 or N == 1 (a batch of one) is a matrix-vector product and runs as GEMV: a warp per
// output when the reduction runs along contiguous memory, else a thread per output with K split
// across blocks and a small kernel summing the pieces and applying the epilogue.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string>
#include "../core/cuda_utils.cuh"

namespace dendrite::cuda {

using cpu::GemmActivation;
using cpu::GemmBias;
using cpu::GemmEpilogue;
using cpu::LinearPlan;
using cpu::MatmulPlan;
using cpu::MatrixLayout;

namespace {

constexpr int kBM = 128, kBN = 128, kBK = 16, kPad = 4;
constexpr int kGemmThreads = 256;

struct BatchGeometry {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t stride_a[kMaxDims] = {}, stride_b[kMaxDims] = {}, stride_c[kMaxDims] = {};  // elements
};

struct GemmParams {
  int64_t M, N, K;
  float alpha, beta;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float* C;
  int64_t ldc;
  const float* bias;
  int bias_kind;  // GemmBias
  int act;        // GemmActivation
  bool vec_a;     // 16-byte copies allowed for A stored transposed (ld % 4 == 0, aligned)
  bool vec_b;     // the same for B stored as is
  bool vec_c;     // C rows (and batch offsets) allow float4 stores
  // Split-K (read by the kSplit instances only): grid.z runs over (matrix, slice) pairs, slice
  // fastest; slice s covers k in [s k_slice, min((s + 1) k_slice, K)) and writes C + s slice_stride_c.
  int splits = 1;
  int64_t k_slice = 0;
  int64_t slice_stride_c = 0;
};

__device__ __forceinline__ float activate(float x, int act) {
  switch (act) {
    case 1: return isnan(x) ? x : (x > 0.0f ? x : 0.0f);
    case 2: return 1.0f / (1.0f + expf(-x));
    case 3: return tanhf(x);
    case 4: return 0.5f * x * erfcf(x * -0.70710678118654752f);
    case 5: {
      float inner = 0.79788456080286535588f * (x + 0.044715f * x * x * x);
      return 0.5f * x * (1.0f + tanhf(inner));
    }
    default: return x;
  }
}

__device__ __forceinline__ float finish_value(float acc, int64_t row, int64_t col, const float* c_at, const GemmParams& p) {
  float v = p.alpha * acc;
  if (p.beta != 0.0f) v += p.beta * *c_at;
  if (p.bias_kind == 1) v += p.bias[row];
  else if (p.bias_kind == 2) v += p.bias[col];
  return activate(v, p.act);
}

// A split-K slice stores its raw partial sum: the reduction applies the epilogue once.
template <bool kSplit>
__device__ __forceinline__ float tile_value(float acc, int64_t row, int64_t col, const float* c_at, const GemmParams& p) {
  if constexpr (kSplit) return acc;
  else return finish_value(acc, row, col, c_at, p);
}

// ---- cp.async --------------------------------------------------------------------------------
__device__ __forceinline__ void cp_async16(float* smem, const float* gmem, int src_bytes) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(src_bytes));
#else
  for (int i = 0; i < 4; ++i) smem[i] = i * 4 < src_bytes ? gmem[i] : 0.0f;
#endif
}
__device__ __forceinline__ void cp_async4(float* smem, const float* gmem, bool valid) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(s), "l"(gmem), "r"(valid ? 4 : 0));
#else
  *smem = valid ? *gmem : 0.0f;
#endif
}
__device__ __forceinline__ void cp_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
#endif
}

// Copies the kBK x 128 slice [k0, k0 + kBK) x [x0, x0 + 128) of a k-major operand into
// dst[k][x]. "Direct" operands are stored with x contiguous (element (k, x) at src[k * ld + x]),
// "transposed" ones with k contiguous (at src[x * ld + k]). `xs` / `ks` bound x and k. Each
// thread's elements sit at fixed offsets from one pointer (the index math is hoisted out of the
// per-element loop to keep registers for the accumulators).
template <bool kTransposed>
__device__ __forceinline__ void load_slice(float (*dst)[kBM + kPad], const float* src, int64_t ld, int64_t k0, int64_t x0,
                                           int64_t ks, int64_t xs, bool vec, int tid) {
  if constexpr (!kTransposed) {
    if (vec) {
      // 512 chunks of 4 floats: rows kk = tid / 32 + 8 i, columns xx = (tid % 32) * 4.
      const int kk0 = tid >> 5, xx = (tid & 31) * 4;
      const int64_t x = x0 + xx;
      int64_t valid_x = xs - x < 4 ? xs - x : 4;
      if (valid_x < 0) valid_x = 0;
      const float* g = src + (k0 + kk0) * ld + x;
#pragma unroll
      for (int i = 0; i < 2; ++i, g += 8 * ld) {
        const int64_t valid = k0 + kk0 + 8 * i < ks ? valid_x : 0;
        cp_async16(&dst[kk0 + 8 * i][xx], valid > 0 ? g : src, static_cast<int>(valid * 4));
      }
    } else {
      // 2048 elements, consecutive threads along x: rows kk = tid / 128 + 2 i, column tid % 128.
      const int kk0 = tid >> 7, xx = tid & 127;
      const bool x_ok = x0 + xx < xs;
      const float* g = src + (k0 + kk0) * ld + x0 + xx;
#pragma unroll
      for (int i = 0; i < 8; ++i, g += 2 * ld) {
        const bool ok = x_ok && k0 + kk0 + 2 * i < ks;
        cp_async4(&dst[kk0 + 2 * i][xx], ok ? g : src, ok);
      }
    }
  } else {
    // Consecutive threads along k (64-byte runs per stored row): k = tid % 16, rows x = tid / 16 + 16 i.
    const int kk = tid & 15, xx0 = tid >> 4;
    const bool k_ok = k0 + kk < ks;
    const float* g = src + (x0 + xx0) * ld + k0 + kk;
#pragma unroll
    for (int i = 0; i < 8; ++i, g += 16 * ld) {
      const bool ok = k_ok && x0 + xx0 + 16 * i < xs;
      cp_async4(&dst[kk][xx0 + 16 * i], ok ? g : src, ok);
    }
  }
}

// Two blocks per SM (at most 128 registers a thread): 16 warps to hide what the double buffer
// does not.
// Grid: x = column tiles, y = row tiles from m_tile_base (at most 65535 a launch), z = matrices
// of the batch (times K-slices when kSplit) from z_base (at most 65535 a launch).
// kSplit: the split-K instances (p.splits > 1), storing raw partials. A template parameter so the
// one-pass instances keep their registers (the slice arithmetic made two of them spill on sm_90).
template <bool kTA, bool kTB, bool kSplit>
__global__ void __launch_bounds__(kGemmThreads, 2) sgemm_tiled(GemmParams p, BatchGeometry bg, int64_t z_base,
                                                               int64_t m_tile_base) {
  __shared__ __align__(16) float As[2][kBK][kBM + kPad];
  __shared__ __align__(16) float Bs[2][kBK][kBN + kPad];

  // This block's matrices in the batch and its K-slice.
  int64_t bi = z_base + blockIdx.z, slice = 0, off_a = 0, off_b = 0, off_c = 0;
  if constexpr (kSplit) {
    slice = bi % p.splits;
    bi /= p.splits;
  }
  for (int d = bg.ndim - 1; d >= 0; --d) {
    int64_t q = bi / bg.shape[d], idx = bi - q * bg.shape[d];
    bi = q;
    off_a += idx * bg.stride_a[d];
    off_b += idx * bg.stride_b[d];
    off_c += idx * bg.stride_c[d];
  }
  // The slice starts k_begin along K: rows of a stored K x M (or K x N) operand, columns otherwise.
  int64_t k_len = p.K;
  if constexpr (kSplit) {
    const int64_t k_begin = slice * p.k_slice;
    off_a += kTA ? k_begin * p.lda : k_begin;
    off_b += kTB ? k_begin : k_begin * p.ldb;
    off_c += slice * p.slice_stride_c;
    k_len = p.K - k_begin < p.k_slice ? p.K - k_begin : p.k_slice;
  }
  const float* A = p.A + off_a;
  const float* B = p.B + off_b;
  float* C = p.C + off_c;

  const int tid = threadIdx.x;
  const int64_t m0 = (m_tile_base + blockIdx.y) * kBM, n0 = static_cast<int64_t>(blockIdx.x) * kBN;
  const int warp = tid >> 5, lane = tid & 31;
  const int row_base = (warp >> 2) * 64 + (lane >> 2) * 4;  // + {0..3} and + 32 + {0..3}
  const int col_base = (warp & 3) * 32 + (lane & 3) * 4;    // + {0..3} and + 16 + {0..3}

  float acc[8][8];
#pragma unroll
  for (int i = 0; i < 8; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;

  const int64_t K = p.alpha == 0.0f ? 0 : k_len;  // alpha == 0 reads neither A nor B (BLAS)
  const int64_t tiles = (K + kBK - 1) / kBK;
  // op(A) as k-major: direct when A is stored transposed (K x M).
  auto load = [&](int64_t t, int buf) {
    const int64_t k0 = t * kBK;
    load_slice<!kTA>(As[buf], A, p.lda, k0, m0, K, p.M, p.vec_a, tid);
    load_slice<kTB>(Bs[buf], B, p.ldb, k0, n0, K, p.N, p.vec_b, tid);
  };
  if (tiles > 0) load(0, 0);
  cp_async_commit();
  for (int64_t t = 0; t < tiles; ++t) {
    const int buf = static_cast<int>(t & 1);
    if (t + 1 < tiles) load(t + 1, buf ^ 1);
    cp_async_commit();
    cp_async_wait<1>();  // everything but the group just issued: slice t is in shared memory
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      const float4 a0 = *reinterpret_cast<const float4*>(&As[buf][kk][row_base]);
      const float4 a1 = *reinterpret_cast<const float4*>(&As[buf][kk][row_base + 32]);
      const float4 b0 = *reinterpret_cast<const float4*>(&Bs[buf][kk][col_base]);
      const float4 b1 = *reinterpret_cast<const float4*>(&Bs[buf][kk][col_base + 16]);
      const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();  // slice t's buffer is refilled by the next iteration's copy
  }
  cp_async_wait<0>();

#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int64_t row = m0 + row_base + (i < 4 ? i : 28 + i);
    if (row >= p.M) continue;
    float* crow = C + row * p.ldc;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int64_t col = n0 + col_base + h * 16;
      if (p.vec_c && col + 3 < p.N) {
        float4 prev = make_float4(0.f, 0.f, 0.f, 0.f);
        if (!kSplit && p.beta != 0.0f) prev = *reinterpret_cast<const float4*>(crow + col);
        float4 r;
        r.x = tile_value<kSplit>(acc[i][h * 4 + 0], row, col + 0, &prev.x, p);
        r.y = tile_value<kSplit>(acc[i][h * 4 + 1], row, col + 1, &prev.y, p);
        r.z = tile_value<kSplit>(acc[i][h * 4 + 2], row, col + 2, &prev.z, p);
        r.w = tile_value<kSplit>(acc[i][h * 4 + 3], row, col + 3, &prev.w, p);
        *reinterpret_cast<float4*>(crow + col) = r;
      } else {
#pragma unroll
        for (int j = 0; j < 4; ++j)
          if (col + j < p.N) crow[col + j] = tile_value<kSplit>(acc[i][h * 4 + j], row, col + j, crow + col + j, p);
      }
    }
  }
}

// ---- split-K reduction -------------------------------------------------------------------------
// partial holds `splits` slices of batch x M x N dense partial products (slice_stride floats
// apart); element (b, row, col) of C (batch offsets from bg, rows ldc apart) gets
// act(alpha sum_s partial_s + beta C + bias), the slices summed in order 0, 1, ... so a result
// never depends on scheduling.
__global__ void sgemm_split_k_reduce(GemmParams p, BatchGeometry bg, const float* partial, int splits, int64_t slice_stride) {
  const int64_t mn = p.M * p.N;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < slice_stride; i += stride) {
    float acc = partial[i];
    for (int s = 1; s < splits; ++s) acc += partial[s * slice_stride + i];
    int64_t bi = i / mn, off_c = 0;
    const int64_t in_matrix = i - bi * mn, row = in_matrix / p.N, col = in_matrix - row * p.N;
    for (int d = bg.ndim - 1; d >= 0; --d) {
      int64_t q = bi / bg.shape[d], idx = bi - q * bg.shape[d];
      bi = q;
      off_c += idx * bg.stride_c[d];
    }
    float* c = p.C + off_c + row * p.ldc + col;
    *c = finish_value(acc, row, col, c, p);
  }
}

// ---- GEMV ------------------------------------------------------------------------------------
// y[j] (stride incy) for j < n from sum_k x[k * incx] * mat(k, j).
struct GemvParams {
  int64_t n, K;
  const float* x;
  int64_t incx;
  const float* mat;
  int64_t ld;
  float* y;
  int64_t incy;
  float alpha, beta;
  const float* bias;
  int64_t bias_inc;  // 0: one bias for every output
  int act;
};

__device__ __forceinline__ float gemv_finish(float acc, int64_t j, const GemvParams& p) {
  float* dst = p.y + j * p.incy;
  float v = p.alpha * acc;
  if (p.beta != 0.0f) v += p.beta * *dst;
  if (p.bias) v += p.bias[j * p.bias_inc];
  return activate(v, p.act);
}

// mat(k, j) = mat[j * ld + k]: a warp per output, lanes along contiguous k.
__global__ void gemv_rows(GemvParams p) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x >> 5);
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5); j < p.n; j += warps) {
    const float* row = p.mat + j * p.ld;
    float acc = 0.0f;
    for (int64_t k = lane; k < p.K; k += 32) acc = fmaf(p.x[k * p.incx], row[k], acc);
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
    if (lane == 0) p.y[j * p.incy] = gemv_finish(acc, j, p);
  }
}

// mat(k, j) = mat[k * ld + j]: a thread per output (neighbours read neighbouring columns), K
// split across blockIdx.y; partial[s * n + j] holds split s.
__global__ void gemv_cols(GemvParams p, int64_t chunk, float* partial) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= p.n) return;
  const int64_t k0 = blockIdx.y * chunk, k1 = k0 + chunk < p.K ? k0 + chunk : p.K;
  float acc = 0.0f;
  for (int64_t k = k0; k < k1; ++k) acc = fmaf(p.x[k * p.incx], p.mat[k * p.ld + j], acc);
  partial[blockIdx.y * p.n + j] = acc;
}

__global__ void gemv_cols_finish(GemvParams p, int splits, const float* partial) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < p.n; j += stride) {
    float acc = 0.0f;
    for (int s = 0; s < splits; ++s) acc += partial[s * p.n + j];
    p.y[j * p.incy] = gemv_finish(acc, j, p);
  }
}

void run_gemv(const GemvParams& p, bool along_rows) {
  if (p.n == 0) return;
  cudaStream_t s = stream();
  if (along_rows || p.K == 0) {
    constexpr int kWarps = kThreads / 32;
    int64_t blocks = (p.n + kWarps - 1) / kWarps;
    gemv_rows<<<static_cast<unsigned>(std::min<int64_t>(blocks, 1 << 20)), kThreads, 0, s>>>(p);
    check_launch("sgemm (gemv)");
    return;
  }
  const int64_t col_blocks = (p.n + kThreads - 1) / kThreads;
  const int64_t wanted = static_cast<int64_t>(sm_count()) * 8;
  int64_t splits = std::max<int64_t>(1, std::min<int64_t>((wanted + col_blocks - 1) / col_blocks, (p.K + 31) / 32));
  splits = std::min<int64_t>(splits, 1024);
  const int64_t chunk = (p.K + splits - 1) / splits;
  splits = (p.K + chunk - 1) / chunk;
  Scratch partial(static_cast<size_t>(splits * p.n) * sizeof(float));
  gemv_cols<<<dim3(static_cast<unsigned>(col_blocks), static_cast<unsigned>(splits)), kThreads, 0, s>>>(p, chunk, partial.as<float>());
  check_launch("sgemm (gemv)");
  gemv_cols_finish<<<grid_for(p.n), kThreads, 0, s>>>(p, static_cast<int>(splits), partial.as<float>());
  check_launch("sgemm (gemv)");
}

bool aligned16(const void* ptr) { return (reinterpret_cast<uintptr_t>(ptr) & 15) == 0; }

// Split-K's blocking parameters: a slice is at least kSplitMinK deep (shallower, the pipeline's
// prologue and the partial tile's 64 KiB write outweigh its 2 * 128 * kSplitMinK * 4 bytes of
// operands), at most kMaxSplits slices, and the partials take at most kSplitScratchBytes.
constexpr int64_t kSplitMinK = 128;
constexpr int64_t kMaxSplits = 32;
constexpr int64_t kSplitScratchBytes = int64_t{64} << 20;

std::atomic<int64_t> split_k_calls{0};

// DENDRITE_CUDA_SPLIT_K=0 turns split-K off (to time both paths on one build).
bool split_k_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("DENDRITE_CUDA_SPLIT_K");
    return !(v && std::string(v) == "0");
  }();
  return enabled;
}

// Slices for a GEMM whose grid is `blocks` tiles: 1 (no split) when the tiles alone fill the
// SMs, K is short or alpha is 0; else enough that blocks * splits is about two waves of the SMs
// (the kernel fits two blocks an SM), each slice a multiple of kBK deep.
int64_t choose_splits(const GemmParams& p, int64_t blocks, int64_t batch, int64_t* k_slice) {
  *k_slice = p.K;
  const int64_t sms = sm_count();
  if (!split_k_enabled() || p.alpha == 0.0f || blocks >= sms || p.K < 2 * kSplitMinK) return 1;
  int64_t splits = std::min<int64_t>({(2 * sms + blocks - 1) / blocks, p.K / kSplitMinK, kMaxSplits,
                                      kSplitScratchBytes / (batch * p.M * p.N * static_cast<int64_t>(sizeof(float)))});
  if (splits < 2) return 1;
  const int64_t depth = (p.K + splits - 1) / splits;
  *k_slice = (depth + kBK - 1) / kBK * kBK;
  return (p.K + *k_slice - 1) / *k_slice;
}

template <bool kSplit>
void launch_tiled(bool ta, bool tb, const GemmParams& q, const BatchGeometry& bg, int64_t z_count, const char* op) {
  dim3 block(kGemmThreads);
  cudaStream_t s = stream();
  // grid.y and grid.z stop at 65535: taller matrices and longer batches take several launches.
  const int64_t m_tiles = (q.M + kBM - 1) / kBM;
  for (int64_t base = 0; base < z_count; base += 65535) {
    for (int64_t mt = 0; mt < m_tiles; mt += 65535) {
      dim3 grid(static_cast<unsigned>((q.N + kBN - 1) / kBN), static_cast<unsigned>(std::min<int64_t>(65535, m_tiles - mt)),
                static_cast<unsigned>(std::min<int64_t>(65535, z_count - base)));
      if (!ta && !tb) sgemm_tiled<false, false, kSplit><<<grid, block, 0, s>>>(q, bg, base, mt);
      else if (!ta && tb) sgemm_tiled<false, true, kSplit><<<grid, block, 0, s>>>(q, bg, base, mt);
      else if (ta && !tb) sgemm_tiled<true, false, kSplit><<<grid, block, 0, s>>>(q, bg, base, mt);
      else sgemm_tiled<true, true, kSplit><<<grid, block, 0, s>>>(q, bg, base, mt);
      check_launch(op);
    }
  }
}

void run_tiled(bool ta, bool tb, const GemmParams& p, const BatchGeometry& bg, int64_t batch) {
  if (p.M == 0 || p.N == 0 || batch == 0) return;
  bool batch_a4 = true, batch_b4 = true, batch_c4 = true;
  for (int d = 0; d < bg.ndim; ++d) {
    batch_a4 = batch_a4 && bg.stride_a[d] % 4 == 0;
    batch_b4 = batch_b4 && bg.stride_b[d] % 4 == 0;
    batch_c4 = batch_c4 && bg.stride_c[d] % 4 == 0;
  }
  GemmParams q = p;
  q.vec_c = aligned16(p.C) && p.ldc % 4 == 0 && batch_c4;
  // 16-byte copies only matter for the operands that are copied without transposing.
  q.vec_a = ta && aligned16(p.A) && p.lda % 4 == 0 && batch_a4;
  q.vec_b = !tb && aligned16(p.B) && p.ldb % 4 == 0 && batch_b4;
  const int64_t blocks = (p.N + kBN - 1) / kBN * ((p.M + kBM - 1) / kBM) * batch;
  int64_t k_slice = p.K;
  const int64_t splits = choose_splits(p, blocks, batch, &k_slice);
  q.k_slice = k_slice;
  if (splits == 1) {
    launch_tiled<false>(ta, tb, q, bg, batch, "sgemm");
    return;
  }
  // Slice s of the partials is a dense batch x M x N block (batch dims in bg's order); the slice
  // offsets along K keep A's and B's 16-byte copies aligned (multiples of a ld that is % 4).
  const int64_t slice_stride = batch * p.M * p.N;
  Scratch partial(static_cast<size_t>(splits * slice_stride) * sizeof(float));
  BatchGeometry dense = bg;
  int64_t dense_stride = p.M * p.N;
  for (int d = bg.ndim - 1; d >= 0; --d) {
    dense.stride_c[d] = dense_stride;
    dense_stride *= bg.shape[d];
  }
  q.alpha = 1.0f;
  q.beta = 0.0f;
  q.C = partial.as<float>();
  q.ldc = p.N;
  q.bias = nullptr;
  q.bias_kind = 0;
  q.act = 0;
  q.vec_c = p.N % 4 == 0;
  q.splits = static_cast<int>(splits);
  q.slice_stride_c = slice_stride;
  launch_tiled<true>(ta, tb, q, dense, batch * splits, "sgemm (split-K)");
  sgemm_split_k_reduce<<<grid_for(slice_stride), kThreads, 0, stream()>>>(p, bg, partial.as<float>(), static_cast<int>(splits),
                                                                          slice_stride);
  check_launch("sgemm (split-K)");
  split_k_calls.fetch_add(1, std::memory_order_relaxed);
}

// One (unbatched) SGEMM: GEMV when one side is a vector, else the tiled kernel.
void sgemm_one(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
               int64_t ldb, float beta, float* C, int64_t ldc, const GemmEpilogue& ep) {
  if (M == 0 || N == 0) return;
  const float* bias = ep.bias_kind == GemmBias::None ? nullptr : ep.bias;
  const int act = static_cast<int>(ep.act);
  const int64_t k_eff = alpha == 0.0f ? 0 : K;
  if (M == 1) {
    // C[0, j] = sum_k op(A)[0, k] op(B)[k, j]
    GemvParams g{N, k_eff, A, ta ? lda : 1, B, ldb, C, 1, alpha, beta, bias,
                 ep.bias_kind == GemmBias::Col ? 1 : 0, act};
    run_gemv(g, tb);
    return;
  }
  if (N == 1) {
    // C[i, 0] = sum_k op(A)[i, k] op(B)[k, 0]
    GemvParams g{M, k_eff, B, tb ? 1 : ldb, A, lda, C, ldc, alpha, beta, bias,
                 ep.bias_kind == GemmBias::Row ? 1 : 0, act};
    run_gemv(g, !ta);
    return;
  }
  GemmParams p{M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, bias, static_cast<int>(bias ? ep.bias_kind : GemmBias::None), act, false, false, false};
  run_tiled(ta, tb, p, BatchGeometry{}, 1);
}

// ---- other dtypes: a plain shared-memory tiled GEMM (the CPU's gemm_ref, accumulating in T) ---
template <class T>
__global__ void gemm_generic(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                             int64_t ldb, T* C, BatchGeometry bg, int64_t batch_base, int64_t row_tile_base) {
  constexpr int kTile = 16;
  __shared__ T as[kTile][kTile + 1];
  __shared__ T bs[kTile][kTile + 1];
  int64_t bi = batch_base + blockIdx.z, off_a = 0, off_b = 0, off_c = 0;
  for (int d = bg.ndim - 1; d >= 0; --d) {
    int64_t q = bi / bg.shape[d], idx = bi - q * bg.shape[d];
    bi = q;
    off_a += idx * bg.stride_a[d];
    off_b += idx * bg.stride_b[d];
    off_c += idx * bg.stride_c[d];
  }
  A += off_a;
  B += off_b;
  C += off_c;
  const int64_t row0 = (row_tile_base + blockIdx.y) * kTile;
  const int64_t row = row0 + threadIdx.y;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kTile + threadIdx.x;
  T acc = T(0);
  for (int64_t k0 = 0; k0 < K; k0 += kTile) {
    const int64_t ka = k0 + threadIdx.x, kb = k0 + threadIdx.y;
    const int64_t arow = row0 + threadIdx.y;
    as[threadIdx.y][threadIdx.x] = (arow < M && ka < K) ? (ta ? A[ka * lda + arow] : A[arow * lda + ka]) : T(0);
    bs[threadIdx.y][threadIdx.x] = (kb < K && col < N) ? (tb ? B[col * ldb + kb] : B[kb * ldb + col]) : T(0);
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kTile; ++k) acc = static_cast<T>(acc + as[threadIdx.y][k] * bs[k][threadIdx.x]);
    __syncthreads();
  }
  if (row < M && col < N) C[row * N + col] = acc;
}

}  // namespace

SgemmStats sgemm_stats() {
  require_device("cuda.sgemmStats");
  return {split_k_calls.load(std::memory_order_relaxed), sm_count()};
}

void sgemm_ex(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
              int64_t ldb, float beta, float* C, int64_t ldc, const GemmEpilogue& epilogue) {
  GemmEpilogue ep = epilogue;
  if (!ep.bias) ep.bias_kind = GemmBias::None;
  sgemm_one(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ep);
}

void matmul(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b) {
  const MatmulPlan plan = cpu::plan_matmul(out, a, b);
  const int nd = a.ndim;
  const int64_t M = plan.M, N = plan.N, K = plan.K, batch = plan.batch;
  if (batch == 0 || M == 0 || N == 0) return;
  if (K == 0) {  // empty sums: zeros
    check(cudaMemsetAsync(out.data, 0, static_cast<size_t>(batch * M * N) * dtype_size(out.dtype), stream()), "matmul");
    return;
  }
  const MatrixLayout la = plan.la, lb = plan.lb;
  BatchGeometry bg;
  for (int d = 0; d < nd - 2; ++d) {
    if (out.shape[d] == 1) continue;
    bg.shape[bg.ndim] = out.shape[d];
    bg.stride_a[bg.ndim] = a.strides[d];
    bg.stride_b[bg.ndim] = b.strides[d];
    bg.stride_c[bg.ndim] = out.strides[d];
    ++bg.ndim;
  }
  if (a.dtype == DType::Float32) {
    if (batch == 1) {
      sgemm_one(la.trans, lb.trans, M, N, K, 1.0f, a.ptr<float>(), la.ld, b.ptr<float>(), lb.ld, 0.0f, out.ptr<float>(), N, GemmEpilogue{});
      return;
    }
    GemmParams p{M, N, K, 1.0f, 0.0f, a.ptr<float>(), la.ld, b.ptr<float>(), lb.ld, out.ptr<float>(), N, nullptr, 0, 0, false, false, false};
    run_tiled(la.trans, lb.trans, p, bg, batch);
    return;
  }
  dispatch_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    dim3 block(16, 16);
    const int64_t row_tiles = (M + 15) / 16;
    for (int64_t base = 0; base < batch; base += 65535) {
      int64_t count = std::min<int64_t>(65535, batch - base);
      for (int64_t rt = 0; rt < row_tiles; rt += 65535) {
        dim3 grid(static_cast<unsigned>((N + 15) / 16), static_cast<unsigned>(std::min<int64_t>(65535, row_tiles - rt)),
                  static_cast<unsigned>(count));
        gemm_generic<T><<<grid, block, 0, stream()>>>(la.trans, lb.trans, M, N, K, a.ptr<T>(), la.ld, b.ptr<T>(), lb.ld,
                                                      out.ptr<T>(), bg, base, rt);
        check_launch("matmul");
      }
    }
  });
}

void linear(const TensorDesc& out, const TensorDesc& x, const TensorDesc& weight, const TensorDesc* bias, GemmActivation act) {
  const LinearPlan p = cpu::plan_linear(out, x, weight, bias, act);
  if (p.M == 0 || p.N == 0) return;
  cuda::sgemm_ex(false, !p.lw.trans, p.M, p.N, p.K, 1.0f, x.ptr<float>(), p.row_stride, weight.ptr<float>(), p.lw.ld, 0.0f,
                 out.ptr<float>(), p.N, p.ep);
}

}  // namespace dendrite::cuda

// The SGEMM micro-kernel, GEMV forms and fused epilogue written once over the VecF vocabulary.
// Included by gemm_<isa>.cc after that ISA's vec header and vec_math.h, with
//   GEMM_MR  rows of the register tile (broadcast from packed A)
//   GEMM_NV  vectors per tile row (loaded from packed B), so NR = GEMM_NV * lanes
// and fill_gemm_simd #defined to a per-ISA name.
//
// Register budget (accumulators + B vectors + one broadcast): AVX2 6 x 2 + 2 + 1 = 15 of 16 ymm;
// AVX-512 14 x 2 + 2 + 1 = 31 of 32 zmm; NEON 8 x 3 + 3 + 1 = 28 of 32 q. Each k step issues
// MR * NV independent FMAs, enough to cover the FMA latency times the pipes on every target.
#include <algorithm>
#include <cstring>
#include <utility>
#include "gemm.h"
#include "gemm_pack.h"

namespace dendrite::cpu {
namespace {

using namespace dendrite::simd;
constexpr int L = VecF::kLanes;
constexpr int kMr = GEMM_MR;
constexpr int kNv = GEMM_NV;
constexpr int kNr = kNv * L;
static_assert(kMr <= GemmTable::kMaxMr, "raise GemmTable::kMaxMr");

// Out of line for the rare activations; act == None never calls it (finish_row).
inline VecF activate(VecF x, GemmActivation act) {
  switch (act) {
    case GemmActivation::None: return x;
    case GemmActivation::Relu: return select(isnan(x), x, max_raw(x, zero()));
    case GemmActivation::Sigmoid: return vsigmoid(x);
    case GemmActivation::Tanh: return vtanh(x);
    case GemmActivation::Gelu: return set1(0.5f) * x * verfc(x * set1(-0.70710678118654752f));
    case GemmActivation::GeluTanh: {
      VecF inner = set1(0.79788456080286535588f) * fmadd(set1(0.044715f) * x * x, x, x);
      return set1(0.5f) * x * (set1(1.0f) + vtanh(inner));
    }
  }
  return x;
}

// c[0..n) = act(alpha * x + beta * c + bias) for one row of a tile; x holds kNv vectors.
// A partial row goes through a stack row so that every element takes the same arithmetic.
inline void finish_row(const VecF* x, float* c, int n, const GemmTile& t, const float* row_bias) {
  const VecF alpha = set1(t.alpha), beta = set1(t.beta);
  const bool with_c = t.beta != 0.0f;
  if (n == kNr) {
#pragma GCC unroll 8
    for (int v = 0; v < kNv; ++v) {
      VecF r = x[v] * alpha;
      if (with_c) r = fmadd(beta, loadu(c + v * L), r);
      if (t.bias_kind == GemmBias::Row) r = r + set1(*row_bias);
      else if (t.bias_kind == GemmBias::Col) r = r + loadu(t.bias + v * L);
      storeu(c + v * L, t.act == GemmActivation::None ? r : activate(r, t.act));
    }
    return;
  }
  float crow[kNr] = {}, brow[kNr] = {};
  if (with_c) std::memcpy(crow, c, sizeof(float) * n);
  if (t.bias_kind == GemmBias::Col) std::memcpy(brow, t.bias, sizeof(float) * n);
  for (int v = 0; v < kNv; ++v) {
    VecF r = x[v] * alpha;
    if (with_c) r = fmadd(beta, loadu(crow + v * L), r);
    if (t.bias_kind == GemmBias::Row) r = r + set1(*row_bias);
    else if (t.bias_kind == GemmBias::Col) r = r + loadu(brow + v * L);
    storeu(crow + v * L, t.act == GemmActivation::None ? r : activate(r, t.act));
  }
  std::memcpy(c, crow, sizeof(float) * n);
}

// The register tile of M <= kMr rows. Below 8 accumulators the FMA latency would show, so short
// tiles keep several accumulator sets over alternating steps of k and add them at the end.
template <int M>
void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, const GemmTile& t) {
  constexpr int kSets = M * kNv >= 8 ? 1 : M * kNv >= 4 ? 2 : 4;
  // The C tile is only touched after the k loop: start pulling it in now, so the misses
  // overlap the FMAs instead of stalling the store (C rarely stays in L1/L2 between K blocks).
  for (int r = 0; r < t.m; ++r) {
    __builtin_prefetch(c + r * t.ldc, 1, 3);
    __builtin_prefetch(c + r * t.ldc + kNr - 1, 1, 3);
  }
  VecF acc[kSets][M][kNv];
#pragma GCC unroll 4
  for (int s = 0; s < kSets; ++s)
#pragma GCC unroll 32
    for (int r = 0; r < M; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < kNv; ++v) acc[s][r][v] = zero();
  int64_t k = 0;
  if constexpr (kSets > 1) {
    for (; k + kSets <= kc; k += kSets) {
#pragma GCC unroll 4
      for (int s = 0; s < kSets; ++s) {
        VecF bv[kNv];
#pragma GCC unroll 8
        for (int v = 0; v < kNv; ++v) bv[v] = loadu(b + v * L);
#pragma GCC unroll 32
        for (int r = 0; r < M; ++r) {
          const VecF av = set1(a[r]);
#pragma GCC unroll 8
          for (int v = 0; v < kNv; ++v) acc[s][r][v] = fmadd(av, bv[v], acc[s][r][v]);
        }
        a += kMr;
        b += kNr;
      }
    }
  }
  for (; k < kc; ++k) {
    VecF bv[kNv];
#pragma GCC unroll 8
    for (int v = 0; v < kNv; ++v) bv[v] = loadu(b + v * L);
#pragma GCC unroll 32
    for (int r = 0; r < M; ++r) {
      const VecF av = set1(a[r]);
#pragma GCC unroll 8
      for (int v = 0; v < kNv; ++v) acc[0][r][v] = fmadd(av, bv[v], acc[0][r][v]);
    }
    a += kMr;
    b += kNr;
  }
#pragma GCC unroll 4
  for (int s = 1; s < kSets; ++s)
#pragma GCC unroll 32
    for (int r = 0; r < M; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < kNv; ++v) acc[0][r][v] = acc[0][r][v] + acc[s][r][v];
  const int m = t.m < M ? t.m : M;
  for (int r = 0; r < m; ++r)
    finish_row(acc[0][r], c + r * t.ldc, t.n, t, t.bias_kind == GemmBias::Row ? t.bias + r : nullptr);
}

template <int... Ms>
void fill_kernels(GemmTable& t, std::integer_sequence<int, Ms...>) {
  ((t.kernel_rows[Ms + 1] = micro_kernel<Ms + 1>), ...);
}

void pack_a(bool trans, int64_t mc, int64_t kc, const float* A, int64_t lda, float* dst) {
  pack_a_panels<kMr>(trans, mc, kc, A, lda, dst);
}
void pack_b(bool trans, int64_t kc, int64_t nc, const float* B, int64_t ldb, float* dst) {
  pack_b_panels<kNr>(trans, kc, nc, B, ldb, dst);
}

// y[j] = sum_k x[k * incx] * mat[k * ld + j]: axpy over eight rows of mat at a time, so mat is
// streamed in memory order (what the prefetchers follow best; M = 1 GEMV is bandwidth-bound)
// while y, which the caller keeps to a few KiB, stays in L1.
void gemv_n(int64_t K, int64_t n, const float* x, int64_t incx, const float* mat, int64_t ld, float* y) {
  std::fill(y, y + n, 0.0f);
  const int64_t nv = n / L * L;
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    VecF xs[8];
    const float* r[8];
    for (int q = 0; q < 8; ++q) xs[q] = set1(x[(k + q) * incx]), r[q] = mat + (k + q) * ld;
    for (int64_t j = 0; j < nv; j += L) {
      VecF a0 = fmadd(xs[0], loadu(r[0] + j), loadu(y + j));
      VecF a1 = xs[1] * loadu(r[1] + j);
      a0 = fmadd(xs[2], loadu(r[2] + j), a0);
      a1 = fmadd(xs[3], loadu(r[3] + j), a1);
      a0 = fmadd(xs[4], loadu(r[4] + j), a0);
      a1 = fmadd(xs[5], loadu(r[5] + j), a1);
      a0 = fmadd(xs[6], loadu(r[6] + j), a0);
      a1 = fmadd(xs[7], loadu(r[7] + j), a1);
      storeu(y + j, a0 + a1);
    }
    for (int64_t j = nv; j < n; ++j) {
      float s = y[j];
      for (int q = 0; q < 8; ++q) s += x[(k + q) * incx] * r[q][j];
      y[j] = s;
    }
  }
  for (; k < K; ++k) {
    const VecF x0 = set1(x[k * incx]);
    const float* r0 = mat + k * ld;
    for (int64_t j = 0; j < nv; j += L) storeu(y + j, fmadd(x0, loadu(r0 + j), loadu(y + j)));
    const float s0 = x[k * incx];
    for (int64_t j = nv; j < n; ++j) y[j] += s0 * r0[j];
  }
}

// y[j] = sum_k x[k] * mat[j * ld + k]: four rows at a time, two vectors of K per row in flight.
void gemv_t(int64_t K, int64_t n, const float* x, const float* mat, int64_t ld, float* y) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* row[4] = {mat + j * ld, mat + (j + 1) * ld, mat + (j + 2) * ld, mat + (j + 3) * ld};
    VecF acc[4][2];
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) acc[r][0] = acc[r][1] = zero();
    int64_t k = 0;
    for (; k + 2 * L <= K; k += 2 * L) {
      const VecF x0 = loadu(x + k), x1 = loadu(x + k + L);
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        acc[r][0] = fmadd(x0, loadu(row[r] + k), acc[r][0]);
        acc[r][1] = fmadd(x1, loadu(row[r] + k + L), acc[r][1]);
      }
    }
    for (; k + L <= K; k += L) {
      const VecF x0 = loadu(x + k);
      for (int r = 0; r < 4; ++r) acc[r][0] = fmadd(x0, loadu(row[r] + k), acc[r][0]);
    }
    for (int r = 0; r < 4; ++r) {
      float s = reduce_add(acc[r][0] + acc[r][1]);
      for (int64_t kk = k; kk < K; ++kk) s += x[kk] * row[r][kk];
      y[j + r] = s;
    }
  }
  for (; j < n; ++j) {
    const float* row = mat + j * ld;
    VecF acc0 = zero(), acc1 = zero();
    int64_t k = 0;
    for (; k + 2 * L <= K; k += 2 * L) {
      acc0 = fmadd(loadu(x + k), loadu(row + k), acc0);
      acc1 = fmadd(loadu(x + k + L), loadu(row + k + L), acc1);
    }
    for (; k + L <= K; k += L) acc0 = fmadd(loadu(x + k), loadu(row + k), acc0);
    float s = reduce_add(acc0 + acc1);
    for (; k < K; ++k) s += x[k] * row[k];
    y[j] = s;
  }
}

// Strided operands go through stack chunks, so one vector loop serves every stride.
void finish(int64_t n, const float* acc, float alpha, float beta, const float* bias, int64_t bias_inc,
            GemmActivation act, float* dst, int64_t inc) {
  constexpr int kChunk = 16 * L;
  float a[kChunk], c[kChunk], bb[kChunk];
  const bool with_c = beta != 0.0f;
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int cnt = static_cast<int>(std::min<int64_t>(kChunk, n - i0));
    for (int i = 0; i < cnt; ++i) a[i] = acc ? acc[i0 + i] : 0.0f;
    for (int i = 0; i < cnt; ++i) c[i] = with_c ? dst[(i0 + i) * inc] : 0.0f;
    for (int i = 0; i < cnt; ++i) bb[i] = bias ? bias[(i0 + i) * bias_inc] : 0.0f;
    for (int i = cnt; i < kChunk; ++i) a[i] = c[i] = bb[i] = 0.0f;
    const VecF va = set1(alpha), vb = set1(beta);
    for (int i = 0; i < cnt; i += L) {
      VecF r = loadu(a + i) * va;
      if (with_c) r = fmadd(vb, loadu(c + i), r);
      if (bias) r = r + loadu(bb + i);
      storeu(c + i, activate(r, act));
    }
    for (int i = 0; i < cnt; ++i) dst[(i0 + i) * inc] = c[i];
  }
}

double fma_loop(int64_t iters) {
  // Enough independent chains to cover latency x pipes, without spilling (AVX2 has 16 registers).
  constexpr int kChains = L == 8 ? 12 : 24;
  VecF acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = set1(1.0f + 1e-3f * i);
  const VecF mul = set1(0.9999999f), add = set1(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < kChains; ++i) acc[i] = fmadd(acc[i], mul, add);
  }
  VecF s = zero();
  for (int i = 0; i < kChains; ++i) s = s + acc[i];
  volatile float sink = reduce_add(s);
  (void)sink;
  return static_cast<double>(iters) * kChains * L * 2.0;
}

}  // namespace

void fill_gemm_simd(GemmTable& t) {
  t.mr = kMr;
  t.nr = kNr;
  t.kernel = micro_kernel<kMr>;
  fill_kernels(t, std::make_integer_sequence<int, kMr>{});
  t.pack_a = pack_a;
  t.pack_b = pack_b;
  t.gemv_n = gemv_n;
  t.gemv_t = gemv_t;
  t.finish = finish;
  t.fma_loop = fma_loop;
}

}  // namespace dendrite::cpu

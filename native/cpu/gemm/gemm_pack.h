// Packing of op(A) and op(B) into the micro-kernel's panels (Goto & van de Geijn 2008, §5),
// written once and instantiated in each ISA's translation unit (so each copy is compiled with
// that ISA's flags). Packing reads either layout of the source, so no transpose is ever
// materialised.
//
//   packed A: ceil(mc / MR) panels, each kc steps of MR values: panel[k * MR + r] = op(A)(i0 + r, k)
//   packed B: ceil(nc / NR) panels, each kc steps of NR values: panel[k * NR + c] = op(B)(k, j0 + c)
// Rows (columns) past the edge of the block are zero, so the micro-kernel always runs a full
// tile and the edge is cut at the store; zero padding multiplies only padding, so NaN and Inf
// in the real data still propagate.
#pragma once
#include <cstdint>
#include <cstring>

namespace dendrite::cpu {
namespace {

// Rows of A ahead that the transposed packing prefetches (see below).
constexpr int64_t kPackPrefetchRows = 8;

template <int MR>
void pack_a_panels(bool trans, int64_t mc, int64_t kc, const float* A, int64_t lda, float* dst) {
  if (trans && mc >= MR) {
    // op(A)(i, k) = A[k * lda + i]: step k of every full panel comes from one stretch of row k.
    // Row by row rather than panel by panel: with a long row stride (the RNN's dGᵀ, 4 KiB) each
    // step is in a new page, where the hardware prefetchers stop, so fetch the whole stretch of a
    // row a few rows ahead; panel by panel, every step was a demand miss.
    const int64_t full = mc / MR * MR;
    for (int64_t k = 0; k < kc; ++k) {
      const float* row = A + k * lda;
      if (k + kPackPrefetchRows < kc)
        for (int64_t i = 0; i < full; i += 16) __builtin_prefetch(row + kPackPrefetchRows * lda + i, 0, 3);
      for (int64_t i0 = 0; i0 < full; i0 += MR) std::memcpy(dst + i0 * kc + k * MR, row + i0, sizeof(float) * MR);
    }
    if (full == mc) return;
    A += full;
    dst += full * kc;
    mc -= full;
  }
  for (int64_t i0 = 0; i0 < mc; i0 += MR, dst += MR * kc) {
    const int m = static_cast<int>(mc - i0 < MR ? mc - i0 : MR);
    if (trans) {
      // op(A)(i, k) = A[k * lda + i]: each step is MR contiguous values.
      const float* src = A + i0;
      if (m == MR) {
        for (int64_t k = 0; k < kc; ++k) std::memcpy(dst + k * MR, src + k * lda, sizeof(float) * MR);
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          for (int r = 0; r < m; ++r) dst[k * MR + r] = src[k * lda + r];
          for (int r = m; r < MR; ++r) dst[k * MR + r] = 0.0f;
        }
      }
    } else {
      // op(A)(i, k) = A[i * lda + k]: MR row streams interleaved.
      const float* src = A + i0 * lda;
      if (m == MR) {
        for (int64_t k = 0; k < kc; ++k) {
#pragma GCC unroll 16
          for (int r = 0; r < MR; ++r) dst[k * MR + r] = src[r * lda + k];
        }
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          for (int r = 0; r < m; ++r) dst[k * MR + r] = src[r * lda + k];
          for (int r = m; r < MR; ++r) dst[k * MR + r] = 0.0f;
        }
      }
    }
  }
}

template <int NR>
void pack_b_panels(bool trans, int64_t kc, int64_t nc, const float* B, int64_t ldb, float* dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR, dst += NR * kc) {
    const int n = static_cast<int>(nc - j0 < NR ? nc - j0 : NR);
    if (!trans) {
      // op(B)(k, j) = B[k * ldb + j]: each step is NR contiguous values.
      const float* src = B + j0;
      if (n == NR) {
        for (int64_t k = 0; k < kc; ++k) std::memcpy(dst + k * NR, src + k * ldb, sizeof(float) * NR);
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          for (int c = 0; c < n; ++c) dst[k * NR + c] = src[k * ldb + c];
          for (int c = n; c < NR; ++c) dst[k * NR + c] = 0.0f;
        }
      }
    } else {
      // op(B)(k, j) = B[j * ldb + k]: NR row streams interleaved, in blocks of 8 steps so the
      // writes of a block stay in L1 while the column streams are read.
      const float* src = B + j0 * ldb;
      int64_t k0 = 0;
      for (; k0 + 8 <= kc; k0 += 8) {
        for (int c = 0; c < n; ++c) {
          const float* s = src + c * ldb + k0;
#pragma GCC unroll 8
          for (int k = 0; k < 8; ++k) dst[(k0 + k) * NR + c] = s[k];
        }
        for (int c = n; c < NR; ++c)
          for (int k = 0; k < 8; ++k) dst[(k0 + k) * NR + c] = 0.0f;
      }
      for (int64_t k = k0; k < kc; ++k) {
        for (int c = 0; c < n; ++c) dst[k * NR + c] = src[c * ldb + k];
        for (int c = n; c < NR; ++c) dst[k * NR + c] = 0.0f;
      }
    }
  }
}

}  // namespace
}  // namespace dendrite::cpu

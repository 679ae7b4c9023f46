// SGEMM for avx512: the shared SIMD source instantiated with this ISA's vectors and a
// 14 x 2-vector register tile (see the register budget in gemm_simd.inl), plus packing of the
// transposing layouts (row-major A, column-major op(B)) through 16 x 16 register transposes.
#include "../simd/vec_avx512.h"
#include "../simd/vec_math.h"
#define GEMM_MR 14
#define GEMM_NV 2
#define fill_gemm_simd fill_gemm_simd_avx512
#include "gemm_simd.inl"

namespace dendrite::cpu {
namespace {

// Transposes 16 rows of 16 floats in registers: afterwards r[k] holds column k.
inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4q + j] holds, in each 128-bit lane l, element (4l + j) of rows 4q..4q+3.
  for (int q = 0; q < 4; ++q) {
    __m512d a = _mm512_castps_pd(t[4 * q]), b = _mm512_castps_pd(t[4 * q + 2]);
    __m512d c = _mm512_castps_pd(t[4 * q + 1]), d = _mm512_castps_pd(t[4 * q + 3]);
    u[4 * q + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
    u[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    u[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
    u[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
  }
  for (int j = 0; j < 4; ++j) {
    __m512 v0 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88);       // k = j, j+8 of rows 0-7
    __m512 v1 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xDD);       // k = j+4, j+12 of rows 0-7
    __m512 v2 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88);  // same for rows 8-15
    __m512 v3 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xDD);
    r[j] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    r[j + 4] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    r[j + 12] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}

// Row-major A: each full panel of 14 rows is packed 16 steps of k at a time by one register
// transpose (two zero rows pad it to 16; the masked stores drop them).
void pack_a_avx512(bool trans, int64_t mc, int64_t kc, const float* A, int64_t lda, float* dst) {
  if (trans) return pack_a_panels<kMr>(trans, mc, kc, A, lda, dst);
  const int64_t full = mc / kMr * kMr;
  const __mmask16 keep = (1u << kMr) - 1;
  for (int64_t i0 = 0; i0 < full; i0 += kMr) {
    float* panel = dst + i0 * kc;
    const float* src = A + i0 * lda;
    int64_t k0 = 0;
    for (; k0 + 16 <= kc; k0 += 16) {
      __m512 r[16];
      for (int i = 0; i < kMr; ++i) r[i] = _mm512_loadu_ps(src + i * lda + k0);
      for (int i = kMr; i < 16; ++i) r[i] = _mm512_setzero_ps();
      transpose16(r);
      for (int k = 0; k < 16; ++k) _mm512_mask_storeu_ps(panel + (k0 + k) * kMr, keep, r[k]);
    }
    for (int64_t k = k0; k < kc; ++k)
      for (int i = 0; i < kMr; ++i) panel[k * kMr + i] = src[i * lda + k];
  }
  if (full < mc) pack_a_panels<kMr>(false, mc - full, kc, A + full * lda, lda, dst + full * kc);
}

// Column-major op(B) (B stored N x K): each full panel of 32 columns is two 16 x 16 transposes
// per 16 steps of k.
void pack_b_avx512(bool trans, int64_t kc, int64_t nc, const float* B, int64_t ldb, float* dst) {
  if (!trans) return pack_b_panels<kNr>(trans, kc, nc, B, ldb, dst);
  const int64_t full = nc / kNr * kNr;
  for (int64_t j0 = 0; j0 < full; j0 += kNr) {
    float* panel = dst + j0 * kc;
    int64_t k0 = 0;
    for (; k0 + 16 <= kc; k0 += 16) {
      for (int half = 0; half < 2; ++half) {
        const float* src = B + (j0 + 16 * half) * ldb + k0;
        __m512 r[16];
        for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * ldb);
        transpose16(r);
        for (int k = 0; k < 16; ++k) _mm512_storeu_ps(panel + (k0 + k) * kNr + 16 * half, r[k]);
      }
    }
    for (int64_t k = k0; k < kc; ++k)
      for (int c = 0; c < kNr; ++c) panel[k * kNr + c] = B[(j0 + c) * ldb + k];
  }
  if (full < nc) pack_b_panels<kNr>(true, kc, nc - full, B + full * ldb, ldb, dst + full * kc);
}

}  // namespace

void fill_gemm_avx512(GemmTable& t) {
  fill_gemm_simd_avx512(t);
  t.pack_a = pack_a_avx512;
  t.pack_b = pack_b_avx512;
}
}  // namespace dendrite::cpu

// 16 x float32 in the vocabulary of vec_avx2.h. Included only by *_avx512.cc files.
#pragma once
#include <immintrin.h>
#include <cstdint>

namespace dendrite::simd {
// Internal linkage: each ISA's translation unit gets its own copy, so same-named helpers
// compiled with different flags can never be merged by the linker.
namespace {

struct VecF {
  __m512 v;
  static constexpr int kLanes = 16;
};
struct VecI {
  __m512i v;
};
struct Mask {
  __mmask16 m;
};

inline VecF loadu(const float* p) { return {_mm512_loadu_ps(p)}; }
inline void storeu(float* p, VecF a) { _mm512_storeu_ps(p, a.v); }
inline VecF set1(float x) { return {_mm512_set1_ps(x)}; }
inline VecF zero() { return {_mm512_setzero_ps()}; }
inline VecF operator+(VecF a, VecF b) { return {_mm512_add_ps(a.v, b.v)}; }
inline VecF operator-(VecF a, VecF b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline VecF operator*(VecF a, VecF b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline VecF operator/(VecF a, VecF b) { return {_mm512_div_ps(a.v, b.v)}; }
inline VecF fmadd(VecF a, VecF b, VecF c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline VecF fnmadd(VecF a, VecF b, VecF c) { return {_mm512_fnmadd_ps(a.v, b.v, c.v)}; }
inline Mask isnan(VecF a) { return {_mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q)}; }
inline VecF select(Mask m, VecF a, VecF b) { return {_mm512_mask_blend_ps(m.m, b.v, a.v)}; }
inline VecF max_raw(VecF a, VecF b) { return {_mm512_max_ps(a.v, b.v)}; }
inline VecF min_raw(VecF a, VecF b) { return {_mm512_min_ps(a.v, b.v)}; }
inline VecF sqrt(VecF a) { return {_mm512_sqrt_ps(a.v)}; }
inline VecF abs(VecF a) { return {_mm512_abs_ps(a.v)}; }
inline VecF neg(VecF a) { return {_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a.v), _mm512_set1_epi32(INT32_MIN)))}; }
inline VecF copysign(VecF mag, VecF sign) {
  __m512i s = _mm512_set1_epi32(INT32_MIN);
  __m512i r = _mm512_or_si512(_mm512_andnot_si512(s, _mm512_castps_si512(mag.v)),
                              _mm512_and_si512(s, _mm512_castps_si512(sign.v)));
  return {_mm512_castsi512_ps(r)};
}
inline VecF round_nearest(VecF a) { return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline Mask operator<(VecF a, VecF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
inline Mask operator<=(VecF a, VecF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ)}; }
inline Mask operator>(VecF a, VecF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
inline Mask operator>=(VecF a, VecF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ)}; }
inline Mask operator|(Mask a, Mask b) { return {static_cast<__mmask16>(a.m | b.m)}; }
inline Mask operator&(Mask a, Mask b) { return {static_cast<__mmask16>(a.m & b.m)}; }
inline VecF and_mask(Mask m, VecF a) { return {_mm512_maskz_mov_ps(m.m, a.v)}; }
inline VecI to_int(VecF a) { return {_mm512_cvtps_epi32(a.v)}; }
inline VecF to_float(VecI a) { return {_mm512_cvtepi32_ps(a.v)}; }
inline VecI as_int(VecF a) { return {_mm512_castps_si512(a.v)}; }
inline VecF as_float(VecI a) { return {_mm512_castsi512_ps(a.v)}; }
inline VecI add_i(VecI a, VecI b) { return {_mm512_add_epi32(a.v, b.v)}; }
inline VecI sub_i(VecI a, VecI b) { return {_mm512_sub_epi32(a.v, b.v)}; }
inline VecI set1_i(int32_t x) { return {_mm512_set1_epi32(x)}; }
inline VecI shl_i(VecI a, int n) { return {_mm512_slli_epi32(a.v, n)}; }
inline VecI shr_i(VecI a, int n) { return {_mm512_srli_epi32(a.v, n)}; }
inline VecI and_i(VecI a, VecI b) { return {_mm512_and_si512(a.v, b.v)}; }
inline VecI or_i(VecI a, VecI b) { return {_mm512_or_si512(a.v, b.v)}; }
inline float reduce_add(VecF a) { return _mm512_reduce_add_ps(a.v); }
inline float reduce_max(VecF a) { return _mm512_reduce_max_ps(a.v); }
inline float reduce_min(VecF a) { return _mm512_reduce_min_ps(a.v); }
inline bool any(Mask m) { return m.m != 0; }
inline uint32_t mask_bits(Mask m) { return m.m; }
inline Mask operator==(VecF a, VecF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ)}; }

// p[0], p[stride], ..., p[15 * stride]; reads nothing past the last of them.
inline VecF load_strided(const float* p, int64_t stride) {
  if (stride == 1) return loadu(p);
  if (stride == 2) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return {_mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_maskz_loadu_ps(0x7FFF, p + 16))};
  }
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  return {_mm512_i32gather_ps(_mm512_mullo_epi32(lanes, _mm512_set1_epi32(static_cast<int32_t>(stride))), p, 4)};
}
// The first n (1..16) of p[0], p[stride], ...; other lanes zero, nothing else read.
inline VecF load_strided_n(const float* p, int64_t stride, int n) {
  const __mmask16 lanes = static_cast<__mmask16>((1u << n) - 1);
  if (stride == 1) return {_mm512_maskz_loadu_ps(lanes, p)};
  if (stride == 2) {
    const int last = 2 * (n - 1);  // the last element read
    const __mmask16 lo = static_cast<__mmask16>(last >= 15 ? 0xFFFFu : (2u << last) - 1);
    const __mmask16 hi = static_cast<__mmask16>(last >= 16 ? (2u << (last - 16)) - 1 : 0u);
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return {_mm512_maskz_mov_ps(lanes, _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lo, p), even, _mm512_maskz_loadu_ps(hi, p + 16)))};
  }
  const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                         _mm512_set1_epi32(static_cast<int32_t>(stride)));
  return {_mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes, idx, p, 4)};
}
// Stores the first n (1..16) lanes.
inline void storeu_n(float* p, VecF a, int n) { _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), a.v); }
}  // namespace
}  // namespace dendrite::simd

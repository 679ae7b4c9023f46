// 8 x float32 behind the small vector vocabulary the SIMD kernels are written in
// (load/store/arith/compare/select/bit tricks). Included only by *_avx2.cc files.
#pragma once
#include <immintrin.h>
#include <cstdint>

namespace dendrite::simd {
// Internal linkage: each ISA's translation unit gets its own copy, so same-named helpers
// compiled with different flags can never be merged by the linker.
namespace {

struct VecF {
  __m256 v;
  static constexpr int kLanes = 8;
};
struct VecI {
  __m256i v;
};
struct Mask {
  __m256 v;
};

inline VecF loadu(const float* p) { return {_mm256_loadu_ps(p)}; }
inline void storeu(float* p, VecF a) { _mm256_storeu_ps(p, a.v); }
inline VecF set1(float x) { return {_mm256_set1_ps(x)}; }
inline VecF zero() { return {_mm256_setzero_ps()}; }
inline VecF operator+(VecF a, VecF b) { return {_mm256_add_ps(a.v, b.v)}; }
inline VecF operator-(VecF a, VecF b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline VecF operator*(VecF a, VecF b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline VecF operator/(VecF a, VecF b) { return {_mm256_div_ps(a.v, b.v)}; }
inline VecF fmadd(VecF a, VecF b, VecF c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline VecF fnmadd(VecF a, VecF b, VecF c) { return {_mm256_fnmadd_ps(a.v, b.v, c.v)}; }
// max/min that propagate NaN from either operand, like torch.maximum/minimum.
inline Mask isnan(VecF a) { return {_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)}; }
inline VecF select(Mask m, VecF a, VecF b) { return {_mm256_blendv_ps(b.v, a.v, m.v)}; }
inline VecF max_raw(VecF a, VecF b) { return {_mm256_max_ps(a.v, b.v)}; }
inline VecF min_raw(VecF a, VecF b) { return {_mm256_min_ps(a.v, b.v)}; }
inline VecF sqrt(VecF a) { return {_mm256_sqrt_ps(a.v)}; }
inline VecF abs(VecF a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)}; }
inline VecF neg(VecF a) { return {_mm256_xor_ps(_mm256_set1_ps(-0.0f), a.v)}; }
inline VecF copysign(VecF mag, VecF sign) {
  __m256 s = _mm256_set1_ps(-0.0f);
  return {_mm256_or_ps(_mm256_andnot_ps(s, mag.v), _mm256_and_ps(s, sign.v))};
}
inline VecF round_nearest(VecF a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline Mask operator<(VecF a, VecF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
inline Mask operator<=(VecF a, VecF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)}; }
inline Mask operator>(VecF a, VecF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)}; }
inline Mask operator>=(VecF a, VecF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ)}; }
inline Mask operator|(Mask a, Mask b) { return {_mm256_or_ps(a.v, b.v)}; }
inline Mask operator&(Mask a, Mask b) { return {_mm256_and_ps(a.v, b.v)}; }
inline VecF and_mask(Mask m, VecF a) { return {_mm256_and_ps(m.v, a.v)}; }
// Float <-> int helpers for exponent manipulation.
inline VecI to_int(VecF a) { return {_mm256_cvtps_epi32(a.v)}; }
inline VecF to_float(VecI a) { return {_mm256_cvtepi32_ps(a.v)}; }
inline VecI as_int(VecF a) { return {_mm256_castps_si256(a.v)}; }
inline VecF as_float(VecI a) { return {_mm256_castsi256_ps(a.v)}; }
inline VecI add_i(VecI a, VecI b) { return {_mm256_add_epi32(a.v, b.v)}; }
inline VecI sub_i(VecI a, VecI b) { return {_mm256_sub_epi32(a.v, b.v)}; }
inline VecI set1_i(int32_t x) { return {_mm256_set1_epi32(x)}; }
inline VecI shl_i(VecI a, int n) { return {_mm256_slli_epi32(a.v, n)}; }
inline VecI shr_i(VecI a, int n) { return {_mm256_srli_epi32(a.v, n)}; }
inline VecI and_i(VecI a, VecI b) { return {_mm256_and_si256(a.v, b.v)}; }
inline VecI or_i(VecI a, VecI b) { return {_mm256_or_si256(a.v, b.v)}; }
inline float reduce_add(VecF a) {
  __m128 lo = _mm256_castps256_ps128(a.v), hi = _mm256_extractf128_ps(a.v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}
inline float reduce_max(VecF a) {
  __m128 lo = _mm256_castps256_ps128(a.v), hi = _mm256_extractf128_ps(a.v, 1);
  lo = _mm_max_ps(lo, hi);
  lo = _mm_max_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_max_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}
inline float reduce_min(VecF a) {
  __m128 lo = _mm256_castps256_ps128(a.v), hi = _mm256_extractf128_ps(a.v, 1);
  lo = _mm_min_ps(lo, hi);
  lo = _mm_min_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_min_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}
inline bool any(Mask m) { return _mm256_movemask_ps(m.v) != 0; }
inline uint32_t mask_bits(Mask m) { return static_cast<uint32_t>(_mm256_movemask_ps(m.v)); }
inline Mask operator==(VecF a, VecF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ)}; }

// p[0], p[stride], ..., p[7 * stride]; reads nothing past the last of them.
inline VecF load_strided(const float* p, int64_t stride) {
  if (stride == 1) return loadu(p);
  if (stride == 2) {
    const __m256 lo = _mm256_loadu_ps(p);
    const __m256 hi = _mm256_maskload_ps(p + 8, _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0));
    // [p0 p2 p8 p10 | p4 p6 p12 p14] -> [p0 p2 p4 p6 p8 p10 p12 p14]
    const __m256 pairs = _mm256_shuffle_ps(lo, hi, 0x88);
    return {_mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(pairs), 0xD8))};
  }
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return {_mm256_i32gather_ps(p, _mm256_mullo_epi32(lanes, _mm256_set1_epi32(static_cast<int32_t>(stride))), 4)};
}
// The first n (1..8) of p[0], p[stride], ...; other lanes zero, nothing else read.
inline __m256i first_lanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline VecF load_strided_n(const float* p, int64_t stride, int n) {
  if (stride == 1) return {_mm256_maskload_ps(p, first_lanes(n))};
  if (stride == 2) {
    const int count = 2 * (n - 1) + 1;  // elements p[0..count) are read
    const __m256 lo = _mm256_maskload_ps(p, first_lanes(count < 8 ? count : 8));
    const __m256 hi = _mm256_maskload_ps(p + 8, first_lanes(count > 8 ? count - 8 : 0));
    const __m256 pairs = _mm256_shuffle_ps(lo, hi, 0x88);
    const __m256 v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(pairs), 0xD8));
    return {_mm256_and_ps(v, _mm256_castsi256_ps(first_lanes(n)))};
  }
  const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(static_cast<int32_t>(stride)));
  return {_mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, idx, _mm256_castsi256_ps(first_lanes(n)), 4)};
}
// Stores the first n (1..8) lanes.
inline void storeu_n(float* p, VecF a, int n) { _mm256_maskstore_ps(p, first_lanes(n), a.v); }
}  // namespace
}  // namespace dendrite::simd

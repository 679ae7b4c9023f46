// 4 x float32 in the vocabulary of vec_avx2.h. Included only by *_neon.cc files (arm64).
#pragma once
#include <arm_neon.h>
#include <cstdint>

namespace dendrite::simd {
// Internal linkage: each ISA's translation unit gets its own copy, so same-named helpers
// compiled with different flags can never be merged by the linker.
namespace {

struct VecF {
  float32x4_t v;
  static constexpr int kLanes = 4;
};
struct VecI {
  int32x4_t v;
};
struct Mask {
  uint32x4_t m;
};

inline VecF loadu(const float* p) { return {vld1q_f32(p)}; }
inline void storeu(float* p, VecF a) { vst1q_f32(p, a.v); }
inline VecF set1(float x) { return {vdupq_n_f32(x)}; }
inline VecF zero() { return {vdupq_n_f32(0.f)}; }
inline VecF operator+(VecF a, VecF b) { return {vaddq_f32(a.v, b.v)}; }
inline VecF operator-(VecF a, VecF b) { return {vsubq_f32(a.v, b.v)}; }
inline VecF operator*(VecF a, VecF b) { return {vmulq_f32(a.v, b.v)}; }
inline VecF operator/(VecF a, VecF b) { return {vdivq_f32(a.v, b.v)}; }
inline VecF fmadd(VecF a, VecF b, VecF c) { return {vfmaq_f32(c.v, a.v, b.v)}; }
inline VecF fnmadd(VecF a, VecF b, VecF c) { return {vfmsq_f32(c.v, a.v, b.v)}; }
inline Mask isnan(VecF a) { return {vmvnq_u32(vceqq_f32(a.v, a.v))}; }
inline VecF select(Mask m, VecF a, VecF b) { return {vbslq_f32(m.m, a.v, b.v)}; }
inline VecF max_raw(VecF a, VecF b) { return {vmaxnmq_f32(a.v, b.v)}; }
inline VecF min_raw(VecF a, VecF b) { return {vminnmq_f32(a.v, b.v)}; }
inline VecF sqrt(VecF a) { return {vsqrtq_f32(a.v)}; }
inline VecF abs(VecF a) { return {vabsq_f32(a.v)}; }
inline VecF neg(VecF a) { return {vnegq_f32(a.v)}; }
inline VecF copysign(VecF mag, VecF sign) {
  uint32x4_t s = vdupq_n_u32(0x80000000u);
  return {vbslq_f32(s, sign.v, mag.v)};
}
inline VecF round_nearest(VecF a) { return {vrndnq_f32(a.v)}; }
inline Mask operator<(VecF a, VecF b) { return {vcltq_f32(a.v, b.v)}; }
inline Mask operator<=(VecF a, VecF b) { return {vcleq_f32(a.v, b.v)}; }
inline Mask operator>(VecF a, VecF b) { return {vcgtq_f32(a.v, b.v)}; }
inline Mask operator>=(VecF a, VecF b) { return {vcgeq_f32(a.v, b.v)}; }
inline Mask operator|(Mask a, Mask b) { return {vorrq_u32(a.m, b.m)}; }
inline Mask operator&(Mask a, Mask b) { return {vandq_u32(a.m, b.m)}; }
inline VecF and_mask(Mask m, VecF a) { return {vreinterpretq_f32_u32(vandq_u32(m.m, vreinterpretq_u32_f32(a.v)))}; }
inline VecI to_int(VecF a) { return {vcvtnq_s32_f32(a.v)}; }
inline VecF to_float(VecI a) { return {vcvtq_f32_s32(a.v)}; }
inline VecI as_int(VecF a) { return {vreinterpretq_s32_f32(a.v)}; }
inline VecF as_float(VecI a) { return {vreinterpretq_f32_s32(a.v)}; }
inline VecI add_i(VecI a, VecI b) { return {vaddq_s32(a.v, b.v)}; }
inline VecI sub_i(VecI a, VecI b) { return {vsubq_s32(a.v, b.v)}; }
inline VecI set1_i(int32_t x) { return {vdupq_n_s32(x)}; }
inline VecI shl_i(VecI a, int n) { return {vshlq_s32(a.v, vdupq_n_s32(n))}; }
inline VecI shr_i(VecI a, int n) { return {vreinterpretq_s32_u32(vshlq_u32(vreinterpretq_u32_s32(a.v), vdupq_n_s32(-n)))}; }
inline VecI and_i(VecI a, VecI b) { return {vandq_s32(a.v, b.v)}; }
inline VecI or_i(VecI a, VecI b) { return {vorrq_s32(a.v, b.v)}; }
inline float reduce_add(VecF a) { return vaddvq_f32(a.v); }
inline float reduce_max(VecF a) { return vmaxvq_f32(a.v); }
inline float reduce_min(VecF a) { return vminvq_f32(a.v); }
inline bool any(Mask m) { return vmaxvq_u32(m.m) != 0; }
inline uint32_t mask_bits(Mask m) {
  return (vgetq_lane_u32(m.m, 0) & 1u) | (vgetq_lane_u32(m.m, 1) & 2u) | (vgetq_lane_u32(m.m, 2) & 4u) | (vgetq_lane_u32(m.m, 3) & 8u);
}
inline Mask operator==(VecF a, VecF b) { return {vceqq_f32(a.v, b.v)}; }

// p[0], p[stride], p[2 * stride], p[3 * stride].
inline VecF load_strided(const float* p, int64_t stride) {
  if (stride == 1) return loadu(p);
  const float lanes[4] = {p[0], p[stride], p[2 * stride], p[3 * stride]};
  return loadu(lanes);
}
// The first n (1..4) of p[0], p[stride], ...; other lanes zero.
inline VecF load_strided_n(const float* p, int64_t stride, int n) {
  float lanes[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int i = 0; i < n; ++i) lanes[i] = p[i * stride];
  return loadu(lanes);
}
// Stores the first n (1..4) lanes.
inline void storeu_n(float* p, VecF a, int n) {
  float lanes[4];
  storeu(lanes, a);
  for (int i = 0; i < n; ++i) p[i] = lanes[i];
}
}  // namespace
}  // namespace dendrite::simd

// Vectorised float32 exp/log/tanh/sigmoid/erfc written once over the VecF vocabulary and
// instantiated per ISA (include after one vec_<isa>.h). Cephes-style range reduction and
// minimax polynomials (S. Moshier, Cephes Math Library, expf/logf/tanhf); erfc after
// Numerical Recipes' Chebyshev fit (fractional error < 1.2e-7). NaN propagates; +-Inf map as libm.
#pragma once
#include <cfloat>

namespace dendrite::simd {
// Internal linkage: each ISA's translation unit gets its own copy, so same-named helpers
// compiled with different flags can never be merged by the linker.
namespace {

inline VecF vexp(VecF x) {
  const VecF hi = set1(88.7228391f), lo = set1(-87.3365448f);
  VecF xc = min_raw(max_raw(x, lo), hi);
  VecF n = round_nearest(xc * set1(1.44269504088896341f));
  VecF r = fnmadd(n, set1(0.693359375f), xc);
  r = fnmadd(n, set1(-2.12194440e-4f), r);
  VecF p = set1(1.9875691500E-4f);
  p = fmadd(p, r, set1(1.3981999507E-3f));
  p = fmadd(p, r, set1(8.3334519073E-3f));
  p = fmadd(p, r, set1(4.1665795894E-2f));
  p = fmadd(p, r, set1(1.6666665459E-1f));
  p = fmadd(p, r, set1(5.0000001201E-1f));
  p = fmadd(p * r, r, r) + set1(1.0f);
  // 2^n assembled in the exponent field; n in [-126, 128] after the clamp, and n = 128 only
  // when x is at the top of the range, where splitting the power keeps it finite.
  VecI ni = to_int(n);
  VecI half = shr_i(ni, 1);
  VecF s1 = as_float(shl_i(add_i(half, set1_i(127)), 23));
  VecF s2 = as_float(shl_i(add_i(sub_i(ni, half), set1_i(127)), 23));
  VecF result = p * s1 * s2;
  result = select(x > hi, set1(__builtin_inff()), result);
  result = select(x < lo, zero(), result);
  return select(isnan(x), x, result);
}

inline VecF vlog(VecF x) {
  // Denormals are scaled into the normal range first.
  Mask tiny = x < set1(FLT_MIN);
  VecF xs = select(tiny, x * set1(8388608.0f), x);  // 2^23
  VecI bits = as_int(xs);
  VecF e = to_float(sub_i(shr_i(bits, 23), set1_i(127)));
  e = select(tiny, e - set1(23.0f), e);
  VecF m = as_float(or_i(and_i(bits, set1_i(0x007fffff)), set1_i(0x3f800000)));  // [1, 2)
  Mask big = m > set1(1.41421356f);
  m = select(big, m * set1(0.5f), m);
  e = select(big, e + set1(1.0f), e);
  VecF f = m - set1(1.0f);
  VecF z = f * f;
  VecF y = set1(7.0376836292E-2f);
  y = fmadd(y, f, set1(-1.1514610310E-1f));
  y = fmadd(y, f, set1(1.1676998740E-1f));
  y = fmadd(y, f, set1(-1.2420140846E-1f));
  y = fmadd(y, f, set1(1.4249322787E-1f));
  y = fmadd(y, f, set1(-1.6668057665E-1f));
  y = fmadd(y, f, set1(2.0000714765E-1f));
  y = fmadd(y, f, set1(-2.4999993993E-1f));
  y = fmadd(y, f, set1(3.3333331174E-1f));
  y = y * f * z;
  y = fmadd(e, set1(-2.12194440e-4f), y);
  y = fnmadd(z, set1(0.5f), y);
  VecF r = f + y;
  r = fmadd(e, set1(0.693359375f), r);
  r = select(x < zero(), set1(__builtin_nanf("")), r);
  r = select((x <= zero()) & (x >= zero()), set1(-__builtin_inff()), r);
  r = select(x >= set1(__builtin_inff()), x, r);
  return select(isnan(x), x, r);
}

inline VecF vtanh(VecF x) {
  VecF ax = abs(x);
  // |x| < 0.625: odd polynomial; else 1 - 2 / (exp(2|x|) + 1), which saturates to 1 cleanly.
  VecF z = x * x;
  VecF p = set1(-5.70498872745E-3f);
  p = fmadd(p, z, set1(2.06390887954E-2f));
  p = fmadd(p, z, set1(-5.37397155531E-2f));
  p = fmadd(p, z, set1(1.33314422036E-1f));
  p = fmadd(p, z, set1(-3.33332819422E-1f));
  VecF small = fmadd(p * z, x, x);
  VecF e = vexp(ax + ax);
  VecF large = copysign(set1(1.0f) - set1(2.0f) / (e + set1(1.0f)), x);
  VecF r = select(ax < set1(0.625f), small, large);
  return select(isnan(x), x, r);
}

inline VecF vsigmoid(VecF x) { return set1(1.0f) / (set1(1.0f) + vexp(neg(x))); }

// erfc for any x, relative error < 1.2e-7.
inline VecF verfc(VecF x) {
  VecF z = abs(x);
  VecF t = set1(1.0f) / fmadd(set1(0.5f), z, set1(1.0f));
  VecF p = set1(0.17087277f);
  p = fmadd(p, t, set1(-0.82215223f));
  p = fmadd(p, t, set1(1.48851587f));
  p = fmadd(p, t, set1(-1.13520398f));
  p = fmadd(p, t, set1(0.27886807f));
  p = fmadd(p, t, set1(-0.18628806f));
  p = fmadd(p, t, set1(0.09678418f));
  p = fmadd(p, t, set1(0.37409196f));
  p = fmadd(p, t, set1(1.00002368f));
  p = fmadd(p, t, set1(-1.26551223f));
  VecF ans = t * vexp(p - z * z);
  return select(x < zero(), set1(2.0f) - ans, ans);
}

// log(1 + u) without losing u when it is tiny (Goldberg's trick).
inline VecF vlog1p(VecF u) {
  VecF w = set1(1.0f) + u;
  VecF d = w - set1(1.0f);
  Mask exact = (d <= zero()) & (d >= zero());
  VecF r = vlog(w) * (u / select(exact, set1(1.0f), d));
  return select(exact, u, r);
}

}  // namespace
}  // namespace dendrite::simd

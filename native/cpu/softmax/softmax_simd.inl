// Row softmax / log-softmax over the VecF vocabulary (included per ISA).
#include <cmath>
#include <cstring>
#include <limits>
#include "softmax.h"

namespace dendrite::cpu {
namespace {

using namespace dendrite::simd;
constexpr int L = VecF::kLanes;

float row_max(const float* x, int64_t n, bool* nan) {
  VecF m = set1(-std::numeric_limits<float>::infinity());
  Mask bad = isnan(zero());
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    VecF v = loadu(x + i);
    bad = bad | isnan(v);
    m = max_raw(m, v);
  }
  float r = reduce_max(m);
  *nan = any(bad);
  for (; i < n; ++i) { if (std::isnan(x[i])) *nan = true; else if (x[i] > r) r = x[i]; }
  return r;
}

void k_forward(float* y, const float* x, int64_t n, bool log) {
  bool nan = false;
  float m = row_max(x, n, &nan);
  if (nan) { for (int64_t i = 0; i < n; ++i) y[i] = std::numeric_limits<float>::quiet_NaN(); return; }
  if (std::isinf(m) && m < 0) m = 0;
  VecF vm = set1(m), acc = zero();
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    VecF e = vexp(loadu(x + i) - vm);
    if (!log) storeu(y + i, e);
    acc = acc + e;
  }
  float sum = reduce_add(acc);
  for (; i < n; ++i) {
    float e = std::exp(x[i] - m);
    if (!log) y[i] = e;
    sum += e;
  }
  if (log) {
    VecF shift = set1(m + std::log(sum));
    for (i = 0; i + L <= n; i += L) storeu(y + i, loadu(x + i) - shift);
    float s = m + std::log(sum);
    for (; i < n; ++i) y[i] = x[i] - s;
  } else {
    VecF inv = set1(1.0f / sum);
    for (i = 0; i + L <= n; i += L) storeu(y + i, loadu(y + i) * inv);
    for (; i < n; ++i) y[i] *= 1.0f / sum;
  }
}

void k_backward(float* gx, const float* g, const float* y, int64_t n, bool log) {
  VecF acc = zero();
  int64_t i = 0;
  if (log) {
    for (; i + L <= n; i += L) acc = acc + loadu(g + i);
    float s = reduce_add(acc);
    for (; i < n; ++i) s += g[i];
    VecF vs = set1(s);
    for (i = 0; i + L <= n; i += L) storeu(gx + i, fnmadd(vexp(loadu(y + i)), vs, loadu(g + i)));
    for (; i < n; ++i) gx[i] = g[i] - std::exp(y[i]) * s;
  } else {
    for (; i + L <= n; i += L) acc = fmadd(loadu(g + i), loadu(y + i), acc);
    float s = reduce_add(acc);
    for (; i < n; ++i) s += g[i] * y[i];
    VecF vs = set1(s);
    for (i = 0; i + L <= n; i += L) storeu(gx + i, loadu(y + i) * (loadu(g + i) - vs));
    for (; i < n; ++i) gx[i] = y[i] * (g[i] - s);
  }
}

}  // namespace

void fill_softmax_simd(SoftmaxTable& t) {
  t.forward_row_f32 = k_forward;
  t.backward_row_f32 = k_backward;
}

}  // namespace dendrite::cpu

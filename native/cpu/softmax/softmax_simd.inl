// Row softmax / log-softmax over the VecF vocabulary (included per ISA).
#include <algorithm>
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

// Row sums run in float vectors over blocks of kBlock elements and carry the block totals
// in double (as k_sum in reduce). Plain float lanes drop small terms once a lane holds a
// large one: on a 70k-element row that put ~1e-4 errors into log-probabilities.
constexpr int64_t kBlock = 256;  // a multiple of every L, so only the last block has a tail

template <class VecTerm, class ScalarTerm>
double row_sum(int64_t n, VecTerm vec_term, ScalarTerm scalar_term) {
  double total = 0;
  for (int64_t base = 0; base < n; base += kBlock) {
    int64_t end = std::min<int64_t>(n, base + kBlock), i = base;
    VecF acc = zero();
    for (; i + L <= end; i += L) acc = acc + vec_term(i);
    float part = reduce_add(acc);
    for (; i < end; ++i) part += scalar_term(i);
    total += part;
  }
  return total;
}

void k_forward(float* y, const float* x, int64_t n, bool log) {
  bool nan = false;
  float m = row_max(x, n, &nan);
  if (nan) { for (int64_t i = 0; i < n; ++i) y[i] = std::numeric_limits<float>::quiet_NaN(); return; }
  if (std::isinf(m) && m < 0) m = 0;
  VecF vm = set1(m);
  double sum = row_sum(
      n,
      [&](int64_t i) {
        VecF e = vexp(loadu(x + i) - vm);
        if (!log) storeu(y + i, e);
        return e;
      },
      [&](int64_t i) {
        float e = std::exp(x[i] - m);
        if (!log) y[i] = e;
        return e;
      });
  int64_t i = 0;
  if (log) {
    // (x - m) - lse, as the scalar reference: x - m is exact near the max, while folding m
    // into one shift m + lse would round lse to the precision of m (for m = 1009, steps of
    // 2^-13, far coarser than a small lse).
    float lse = static_cast<float>(std::log(sum));
    VecF vlse = set1(lse);
    for (; i + L <= n; i += L) storeu(y + i, (loadu(x + i) - vm) - vlse);
    for (; i < n; ++i) y[i] = (x[i] - m) - lse;
  } else {
    float inv = static_cast<float>(1.0 / sum);
    VecF vinv = set1(inv);
    for (; i + L <= n; i += L) storeu(y + i, loadu(y + i) * vinv);
    for (; i < n; ++i) y[i] *= inv;
  }
}

void k_backward(float* gx, const float* g, const float* y, int64_t n, bool log) {
  int64_t i = 0;
  if (log) {
    float s = static_cast<float>(row_sum(n, [&](int64_t k) { return loadu(g + k); }, [&](int64_t k) { return g[k]; }));
    VecF vs = set1(s);
    for (; i + L <= n; i += L) storeu(gx + i, fnmadd(vexp(loadu(y + i)), vs, loadu(g + i)));
    for (; i < n; ++i) gx[i] = g[i] - std::exp(y[i]) * s;
  } else {
    float s = static_cast<float>(
        row_sum(n, [&](int64_t k) { return loadu(g + k) * loadu(y + k); }, [&](int64_t k) { return g[k] * y[k]; }));
    VecF vs = set1(s);
    for (; i + L <= n; i += L) storeu(gx + i, loadu(y + i) * (loadu(g + i) - vs));
    for (; i < n; ++i) gx[i] = y[i] * (g[i] - s);
  }
}

}  // namespace

void fill_softmax_simd(SoftmaxTable& t) {
  t.forward_row_f32 = k_forward;
  t.backward_row_f32 = k_backward;
}

}  // namespace dendrite::cpu

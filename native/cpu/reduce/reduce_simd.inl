// Contiguous float32 reduction kernels over the VecF vocabulary (included per ISA).
#include <cmath>
#include <cstring>
#include <limits>
#include "reduce.h"

namespace dendrite::cpu {
namespace {

using namespace dendrite::simd;
constexpr int L = VecF::kLanes;

// Four independent accumulators hide FMA latency; blocks of 4096 are summed in float and
// carried in double, which keeps long sums accurate (error grows with the block, not with n).
double k_sum(const float* x, int64_t n) {
  double total = 0;
  for (int64_t base = 0; base < n; base += 4096) {
    int64_t m = std::min<int64_t>(4096, n - base);
    const float* p = x + base;
    VecF a0 = zero(), a1 = zero(), a2 = zero(), a3 = zero();
    int64_t i = 0;
    for (; i + 4 * L <= m; i += 4 * L) {
      a0 = a0 + loadu(p + i);
      a1 = a1 + loadu(p + i + L);
      a2 = a2 + loadu(p + i + 2 * L);
      a3 = a3 + loadu(p + i + 3 * L);
    }
    for (; i + L <= m; i += L) a0 = a0 + loadu(p + i);
    float s = reduce_add((a0 + a1) + (a2 + a3));
    for (; i < m; ++i) s += p[i];
    total += s;
  }
  return total;
}

template <bool kMax>
float k_extreme(const float* x, int64_t n) {
  if (n < L) {
    float best = x[0];
    for (int64_t i = 0; i < n; ++i) {
      if (std::isnan(x[i])) return x[i];
      if (kMax ? x[i] > best : x[i] < best) best = x[i];
    }
    return best;
  }
  VecF acc = loadu(x);
  Mask nan = isnan(acc);
  int64_t i = L;
  for (; i + L <= n; i += L) {
    VecF v = loadu(x + i);
    nan = nan | isnan(v);
    acc = kMax ? max_raw(acc, v) : min_raw(acc, v);
  }
  if (i < n) {  // overlapping last vector: re-reading elements does not change a max/min
    VecF v = loadu(x + n - L);
    nan = nan | isnan(v);
    acc = kMax ? max_raw(acc, v) : min_raw(acc, v);
  }
  if (any(nan)) return std::numeric_limits<float>::quiet_NaN();
  return kMax ? reduce_max(acc) : reduce_min(acc);
}

int64_t k_index_of(const float* x, int64_t n, float v) {
  const bool nan = std::isnan(v);
  const VecF target = set1(v);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    VecF c = loadu(x + i);
    uint32_t bits = mask_bits(nan ? isnan(c) : (c == target));
    if (bits) return i + __builtin_ctz(bits);
  }
  for (; i < n; ++i)
    if (nan ? std::isnan(x[i]) : x[i] == v) return i;
  return n - 1;  // unreachable when v occurs in x
}

void k_sum_cols(const float* x, int64_t rows, int64_t inner, float* out) {
  int64_t i = 0;
  for (; i + L <= inner; i += L) {
    VecF acc = zero();
    for (int64_t r = 0; r < rows; ++r) acc = acc + loadu(x + r * inner + i);
    storeu(out + i, acc);
  }
  for (; i < inner; ++i) {
    float acc = 0;
    for (int64_t r = 0; r < rows; ++r) acc += x[r * inner + i];
    out[i] = acc;
  }
}

}  // namespace

void fill_reduce_simd(ReduceTable& t) {
  t.sum_f32 = k_sum;
  t.max_f32 = k_extreme<true>;
  t.min_f32 = k_extreme<false>;
  t.index_of_f32 = k_index_of;
  t.sum_cols_f32 = k_sum_cols;
}

}  // namespace dendrite::cpu

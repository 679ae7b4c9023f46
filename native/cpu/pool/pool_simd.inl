// The float32 pooling row loops, written once over the VecF vocabulary: L outputs at a time,
// their taps fetched with load_strided (plain loads at stride 1, a two-load permute at stride 2).
// Included by pool_<isa>.cc after that ISA's vec header.
#include <cmath>
#include <limits>
#include "pool.h"

namespace dendrite::cpu {
namespace {

using namespace dendrite::simd;
constexpr int L = VecF::kLanes;

// Output rows are often shorter than a vector (13 outputs of a 2x2 pool on 26 columns), so the
// last partial vector runs masked rather than scalar.
void k_max_row(float* out, float* tap, const float* in, int64_t rows, int64_t row_step, int64_t kw, int64_t dw, int64_t sw,
               int64_t n) {
  for (int64_t i = 0; i < n; i += L) {
    const int lanes = static_cast<int>(n - i < L ? n - i : L);
    const float* base = in + i * sw;
    VecF best = set1(-std::numeric_limits<float>::infinity()), best_t = zero();
    float t = 0.0f;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t s = 0; s < kw; ++s, t += 1.0f) {
        const float* p = base + r * row_step + s * dw;
        const VecF v = lanes == L ? load_strided(p, sw) : load_strided_n(p, sw, lanes);
        const Mask take = (v > best) | isnan(v);
        best = select(take, v, best);
        best_t = select(take, set1(t), best_t);
      }
    if (lanes == L) {
      storeu(out + i, best);
      storeu(tap + i, best_t);
    } else {
      storeu_n(out + i, best, lanes);
      storeu_n(tap + i, best_t, lanes);
    }
  }
}

void k_avg_row(float* out, const float* in, int64_t rows, int64_t row_step, int64_t kw, int64_t sw, float divisor, int64_t n) {
  const VecF div = set1(divisor);
  for (int64_t i = 0; i < n; i += L) {
    const int lanes = static_cast<int>(n - i < L ? n - i : L);
    const float* base = in + i * sw;
    VecF sum = zero();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t s = 0; s < kw; ++s) {
        const float* p = base + r * row_step + s;
        sum = sum + (lanes == L ? load_strided(p, sw) : load_strided_n(p, sw, lanes));
      }
    if (lanes == L) storeu(out + i, sum / div);
    else storeu_n(out + i, sum / div, lanes);
  }
}

}  // namespace

void fill_pool_simd(PoolTable& t) {
  t.max_row_f32 = k_max_row;
  t.avg_row_f32 = k_avg_row;
}

}  // namespace dendrite::cpu

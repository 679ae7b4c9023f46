// The float32 conv inner loops, written once over the VecF vocabulary. Included by
// conv_<isa>.cc after that ISA's vec header.
#include "conv.h"

namespace dendrite::cpu {
namespace {

using namespace dendrite::simd;
constexpr int L = VecF::kLanes;

void k_axpy(float* y, float a, const float* x, int64_t n) {
  const VecF va = set1(a);
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    storeu(y + i, fmadd(va, loadu(x + i), loadu(y + i)));
    storeu(y + i + L, fmadd(va, loadu(x + i + L), loadu(y + i + L)));
  }
  for (; i + L <= n; i += L) storeu(y + i, fmadd(va, loadu(x + i), loadu(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

void k_add_scalar(float* y, float b, int64_t n) {
  const VecF vb = set1(b);
  int64_t i = 0;
  for (; i + L <= n; i += L) storeu(y + i, loadu(y + i) + vb);
  for (; i < n; ++i) y[i] += b;
}

float k_dot(const float* a, const float* b, int64_t n) {
  VecF acc0 = zero(), acc1 = zero();
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    acc0 = fmadd(loadu(a + i), loadu(b + i), acc0);
    acc1 = fmadd(loadu(a + i + L), loadu(b + i + L), acc1);
  }
  for (; i + L <= n; i += L) acc0 = fmadd(loadu(a + i), loadu(b + i), acc0);
  float acc = reduce_add(acc0 + acc1);
  for (; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

// Two output vectors at a time keep two independent FMA chains per tap.
void k_depthwise_row(float* out, const float* const* rows, const float* w, int64_t R, int64_t S, int64_t dil_w, int64_t n) {
  int64_t j = 0;
  for (; j + 2 * L <= n; j += 2 * L) {
    VecF acc0 = zero(), acc1 = zero();
    for (int64_t r = 0; r < R; ++r) {
      const float* row = rows[r] + j;
      for (int64_t s = 0; s < S; ++s) {
        const VecF wv = set1(w[r * S + s]);
        acc0 = fmadd(wv, loadu(row + s * dil_w), acc0);
        acc1 = fmadd(wv, loadu(row + s * dil_w + L), acc1);
      }
    }
    storeu(out + j, acc0);
    storeu(out + j + L, acc1);
  }
  for (; j + L <= n; j += L) {
    VecF acc = zero();
    for (int64_t r = 0; r < R; ++r)
      for (int64_t s = 0; s < S; ++s) acc = fmadd(set1(w[r * S + s]), loadu(rows[r] + j + s * dil_w), acc);
    storeu(out + j, acc);
  }
  for (; j < n; ++j) {
    float acc = 0;
    for (int64_t r = 0; r < R; ++r)
      for (int64_t s = 0; s < S; ++s) acc += w[r * S + s] * rows[r][j + s * dil_w];
    out[j] = acc;
  }
}

}  // namespace

void fill_conv_simd(ConvTable& t) {
  t.axpy_f32 = k_axpy;
  t.add_scalar_f32 = k_add_scalar;
  t.dot_f32 = k_dot;
  t.depthwise_row_f32 = k_depthwise_row;
}

}  // namespace dendrite::cpu

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

// Four output vectors at a time: four independent FMA chains per tap, each tap's weight
// broadcast once.
void k_taps(float* out, const float* base, const int64_t* offsets, const float* w, int64_t ntaps, int64_t n, bool accumulate) {
  int64_t j = 0;
  for (; j + 4 * L <= n; j += 4 * L) {
    VecF a0 = zero(), a1 = zero(), a2 = zero(), a3 = zero();
    if (accumulate) {
      a0 = loadu(out + j);
      a1 = loadu(out + j + L);
      a2 = loadu(out + j + 2 * L);
      a3 = loadu(out + j + 3 * L);
    }
    for (int64_t t = 0; t < ntaps; ++t) {
      const VecF wv = set1(w[t]);
      const float* p = base + offsets[t] + j;
      a0 = fmadd(wv, loadu(p), a0);
      a1 = fmadd(wv, loadu(p + L), a1);
      a2 = fmadd(wv, loadu(p + 2 * L), a2);
      a3 = fmadd(wv, loadu(p + 3 * L), a3);
    }
    storeu(out + j, a0);
    storeu(out + j + L, a1);
    storeu(out + j + 2 * L, a2);
    storeu(out + j + 3 * L, a3);
  }
  for (; j + L <= n; j += L) {
    VecF a = accumulate ? loadu(out + j) : zero();
    for (int64_t t = 0; t < ntaps; ++t) a = fmadd(set1(w[t]), loadu(base + offsets[t] + j), a);
    storeu(out + j, a);
  }
  for (; j < n; ++j) {
    float a = accumulate ? out[j] : 0.0f;
    for (int64_t t = 0; t < ntaps; ++t) a += w[t] * base[j + offsets[t]];
    out[j] = a;
  }
}

void k_gather_rows(float* dst, int64_t dst_stride, const float* src, const int64_t* offsets, int64_t rows, int64_t len) {
  const int64_t nv = len / L * L;
  for (int64_t r = 0; r < rows; ++r, dst += dst_stride) {
    const float* s = src + offsets[r];
    int64_t i = 0;
    for (; i < nv; i += L) storeu(dst + i, loadu(s + i));
    for (; i < len; ++i) dst[i] = s[i];
  }
}

}  // namespace

void fill_conv_simd(ConvTable& t) {
  t.axpy_f32 = k_axpy;
  t.add_scalar_f32 = k_add_scalar;
  t.dot_f32 = k_dot;
  t.taps_f32 = k_taps;
  t.gather_rows_f32 = k_gather_rows;
}

}  // namespace dendrite::cpu

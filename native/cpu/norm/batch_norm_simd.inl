// The float32 batch-norm loops, written once over the VecF vocabulary. Included by
// batch_norm_<isa>.cc after that ISA's vec header.
#include <algorithm>
#include "batch_norm.h"

namespace dendrite::cpu {
namespace {

using namespace dendrite::simd;
constexpr int L = VecF::kLanes;

double k_sum(const float* x, int64_t n) {
  double total = 0.0;
  for (int64_t b0 = 0; b0 < n; b0 += kBatchNormBlock) {
    const int64_t b1 = std::min(n, b0 + kBatchNormBlock);
    VecF a0 = zero(), a1 = zero();
    int64_t i = b0;
    for (; i + 2 * L <= b1; i += 2 * L) {
      a0 = a0 + loadu(x + i);
      a1 = a1 + loadu(x + i + L);
    }
    for (; i + L <= b1; i += L) a0 = a0 + loadu(x + i);
    float tail = 0.0f;
    for (; i < b1; ++i) tail += x[i];
    total += static_cast<double>(reduce_add(a0 + a1)) + tail;
  }
  return total;
}

double k_sum_sq_dev(const float* x, int64_t n, float mean) {
  const VecF m = set1(mean);
  double total = 0.0;
  for (int64_t b0 = 0; b0 < n; b0 += kBatchNormBlock) {
    const int64_t b1 = std::min(n, b0 + kBatchNormBlock);
    VecF a0 = zero(), a1 = zero();
    int64_t i = b0;
    for (; i + 2 * L <= b1; i += 2 * L) {
      const VecF d0 = loadu(x + i) - m, d1 = loadu(x + i + L) - m;
      a0 = fmadd(d0, d0, a0);
      a1 = fmadd(d1, d1, a1);
    }
    for (; i + L <= b1; i += L) {
      const VecF d = loadu(x + i) - m;
      a0 = fmadd(d, d, a0);
    }
    float tail = 0.0f;
    for (; i < b1; ++i) tail += (x[i] - mean) * (x[i] - mean);
    total += static_cast<double>(reduce_add(a0 + a1)) + tail;
  }
  return total;
}

void k_scale_shift(float* out, const float* x, int64_t n, float scale, float shift) {
  const VecF sc = set1(scale), sf = set1(shift);
  int64_t i = 0;
  for (; i + L <= n; i += L) storeu(out + i, fmadd(loadu(x + i), sc, sf));
  for (; i < n; ++i) out[i] = x[i] * scale + shift;
}

void k_grad_sums(const float* g, const float* x, int64_t n, float mean, double* sum_g, double* sum_gx) {
  const VecF m = set1(mean);
  double tg = 0.0, tgx = 0.0;
  for (int64_t b0 = 0; b0 < n; b0 += kBatchNormBlock) {
    const int64_t b1 = std::min(n, b0 + kBatchNormBlock);
    VecF ag = zero(), agx = zero();
    int64_t i = b0;
    for (; i + L <= b1; i += L) {
      const VecF gv = loadu(g + i);
      ag = ag + gv;
      agx = fmadd(gv, loadu(x + i) - m, agx);
    }
    float rg = 0.0f, rgx = 0.0f;
    for (; i < b1; ++i) rg += g[i], rgx += g[i] * (x[i] - mean);
    tg += static_cast<double>(reduce_add(ag)) + rg;
    tgx += static_cast<double>(reduce_add(agx)) + rgx;
  }
  *sum_g += tg;
  *sum_gx += tgx;
}

void k_grad_input(float* out, const float* g, const float* x, int64_t n, float mdy, float mean, float k, float a) {
  const VecF vm = set1(mdy), vmean = set1(mean), vk = set1(k), va = set1(a);
  int64_t i = 0;
  for (; i + L <= n; i += L) storeu(out + i, fnmadd(loadu(x + i) - vmean, vk, loadu(g + i) - vm) * va);
  for (; i < n; ++i) out[i] = (g[i] - mdy - (x[i] - mean) * k) * a;
}

}  // namespace

void fill_batch_norm_simd(BatchNormTable& t) {
  t.sum_f32 = k_sum;
  t.sum_sq_dev_f32 = k_sum_sq_dev;
  t.scale_shift_f32 = k_scale_shift;
  t.grad_sums_f32 = k_grad_sums;
  t.grad_input_f32 = k_grad_input;
}

}  // namespace dendrite::cpu

// The optimizer rules over this ISA's VecF (included per ISA after its vec_<isa>.h): the vector
// body runs the rules of optim_rules.h on kLanes elements at a time, the tail the scalar rules.
#include "optim_rules.h"

namespace dendrite::simd {
namespace {
inline VecF vsqrt(VecF a) { return sqrt(a); }
inline VecF vabs(VecF a) { return abs(a); }
inline VecF vneg(VecF a) { return neg(a); }
inline VecF vmax_nan(VecF a, VecF b) { return select(isnan(a) | isnan(b), a + b, max_raw(a, b)); }
}  // namespace
}  // namespace dendrite::simd

namespace dendrite::cpu {
namespace {

using namespace dendrite::simd;
constexpr int L = VecF::kLanes;
inline VecF bcast(double x) { return set1(static_cast<float>(x)); }

void k_sgd(float* p, const float* g, float* buf, int64_t n, const SgdHyper& h) {
  SgdCoef<VecF> c(h, bcast);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    VecF vp = loadu(p + i), vb;
    if (buf) vb = loadu(buf + i);
    sgd_rule(vp, loadu(g + i), buf ? &vb : nullptr, c, h);
    storeu(p + i, vp);
    if (buf) storeu(buf + i, vb);
  }
  ScalarLoops<float>::sgd(p + i, g + i, buf ? buf + i : nullptr, n - i, h);
}

void k_adam(float* p, const float* g, float* m, float* v, float* vmax, int64_t n, const AdamHyper& h) {
  AdamCoef<VecF> c(h, bcast);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    VecF vp = loadu(p + i), vm = loadu(m + i), vv = loadu(v + i), vx;
    if (vmax) vx = loadu(vmax + i);
    adam_rule(vp, loadu(g + i), vm, vv, vmax ? &vx : nullptr, c, h);
    storeu(p + i, vp);
    storeu(m + i, vm);
    storeu(v + i, vv);
    if (vmax) storeu(vmax + i, vx);
  }
  ScalarLoops<float>::adam(p + i, g + i, m + i, v + i, vmax ? vmax + i : nullptr, n - i, h);
}

void k_adamax(float* p, const float* g, float* m, float* u, int64_t n, const AdamaxHyper& h) {
  AdamaxCoef<VecF> c(h, bcast);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    VecF vp = loadu(p + i), vm = loadu(m + i), vu = loadu(u + i);
    adamax_rule(vp, loadu(g + i), vm, vu, c, h);
    storeu(p + i, vp);
    storeu(m + i, vm);
    storeu(u + i, vu);
  }
  ScalarLoops<float>::adamax(p + i, g + i, m + i, u + i, n - i, h);
}

void k_nadam(float* p, const float* g, float* m, float* v, int64_t n, const NAdamHyper& h) {
  NAdamCoef<VecF> c(h, bcast);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    VecF vp = loadu(p + i), vm = loadu(m + i), vv = loadu(v + i);
    nadam_rule(vp, loadu(g + i), vm, vv, c, h);
    storeu(p + i, vp);
    storeu(m + i, vm);
    storeu(v + i, vv);
  }
  ScalarLoops<float>::nadam(p + i, g + i, m + i, v + i, n - i, h);
}

void k_rmsprop(float* p, const float* g, float* sq, float* ga, float* buf, int64_t n, const RmspropHyper& h) {
  RmspropCoef<VecF> c(h, bcast);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    VecF vp = loadu(p + i), vs = loadu(sq + i), va, vb;
    if (ga) va = loadu(ga + i);
    if (buf) vb = loadu(buf + i);
    rmsprop_rule(vp, loadu(g + i), vs, ga ? &va : nullptr, buf ? &vb : nullptr, c, h);
    storeu(p + i, vp);
    storeu(sq + i, vs);
    if (ga) storeu(ga + i, va);
    if (buf) storeu(buf + i, vb);
  }
  ScalarLoops<float>::rmsprop(p + i, g + i, sq + i, ga ? ga + i : nullptr, buf ? buf + i : nullptr, n - i, h);
}

void k_adagrad(float* p, const float* g, float* sum, int64_t n, const AdagradHyper& h) {
  AdagradCoef<VecF> c(h, bcast);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    VecF vp = loadu(p + i), vs = loadu(sum + i);
    adagrad_rule(vp, loadu(g + i), vs, c, h);
    storeu(p + i, vp);
    storeu(sum + i, vs);
  }
  ScalarLoops<float>::adagrad(p + i, g + i, sum + i, n - i, h);
}

}  // namespace

void fill_optim_simd(OptimTable& t) {
  t.sgd_f32 = k_sgd;
  t.adam_f32 = k_adam;
  t.adamax_f32 = k_adamax;
  t.nadam_f32 = k_nadam;
  t.rmsprop_f32 = k_rmsprop;
  t.adagrad_f32 = k_adagrad;
}

}  // namespace dendrite::cpu

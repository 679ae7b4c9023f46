// The per-element update rules, written once over a value type V that is float or double (the
// scalar reference) or an ISA's VecF (the SIMD paths include this after their vec_<isa>.h and
// provide vsqrt/vabs/vneg/vmax_nan for VecF, found by argument-dependent lookup). Each line
// mirrors one in-place op of PyTorch's `_single_tensor_*` in the same order — `a + alpha*b` for
// add_(b, alpha), `a + (value*b)*c` for addcmul_, `a + (value*b)/c` for addcdiv_ — so the
// rounding of every intermediate matches. Coefficients are folded in double, as Python does,
// and converted to the element type once.
#pragma once
#include <cmath>
#include "optim.h"

namespace dendrite::cpu {
// Internal linkage: the scalar and every ISA translation unit get their own copies.
namespace {

inline float vsqrt(float x) { return std::sqrt(x); }
inline double vsqrt(double x) { return std::sqrt(x); }
inline float vabs(float x) { return std::fabs(x); }
inline double vabs(double x) { return std::fabs(x); }
inline float vneg(float x) { return -x; }
inline double vneg(double x) { return -x; }
// torch.maximum / amax: NaN when either operand is NaN.
inline float vmax_nan(float a, float b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }
inline double vmax_nan(double a, double b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }

template <class V>
struct SgdCoef {
  V weight_decay, momentum, one_minus_dampening, neg_lr;
  template <class Make>
  SgdCoef(const SgdHyper& h, Make mk)
      : weight_decay(mk(h.weight_decay)), momentum(mk(h.momentum)), one_minus_dampening(mk(1 - h.dampening)), neg_lr(mk(-h.lr)) {}
};

template <class V>
inline void sgd_rule(V& p, V g, V* buf, const SgdCoef<V>& c, const SgdHyper& h) {
  V d = h.maximize ? vneg(g) : g;
  if (h.weight_decay != 0) d = d + c.weight_decay * p;
  if (h.momentum != 0) {
    V b = h.first_step ? d : *buf * c.momentum + c.one_minus_dampening * d;
    *buf = b;
    d = h.nesterov ? d + c.momentum * b : b;
  }
  p = p + c.neg_lr * d;
}

template <class V>
struct AdamCoef {
  V weight_decay, decay, beta1, one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step_size;
  template <class Make>
  AdamCoef(const AdamHyper& h, Make mk)
      : weight_decay(mk(h.weight_decay)), decay(mk(1 - h.lr * h.weight_decay)), beta1(mk(h.beta1)),
        one_minus_beta1(mk(1 - h.beta1)), beta2(mk(h.beta2)), one_minus_beta2(mk(1 - h.beta2)),
        bc2_sqrt(mk(h.bias_correction2_sqrt)), eps(mk(h.eps)), neg_step_size(mk(-h.step_size)) {}
};

template <class V>
inline void adam_rule(V& p, V g, V& m, V& v, V* vmax, const AdamCoef<V>& c, const AdamHyper& h) {
  if (h.maximize) g = vneg(g);
  if (h.decoupled) p = p * c.decay;
  else if (h.weight_decay != 0) g = g + c.weight_decay * p;
  m = m * c.beta1;
  m = m + c.one_minus_beta1 * g;
  v = v * c.beta2;
  v = v + (c.one_minus_beta2 * g) * g;
  V second = v;
  if (h.amsgrad) second = *vmax = vmax_nan(*vmax, v);
  V denom = vsqrt(second) / c.bc2_sqrt + c.eps;
  p = p + (c.neg_step_size * m) / denom;
}

template <class V>
struct AdamaxCoef {
  V weight_decay, beta1, one_minus_beta1, beta2, eps, neg_clr;
  template <class Make>
  AdamaxCoef(const AdamaxHyper& h, Make mk)
      : weight_decay(mk(h.weight_decay)), beta1(mk(h.beta1)), one_minus_beta1(mk(1 - h.beta1)), beta2(mk(h.beta2)),
        eps(mk(h.eps)), neg_clr(mk(-h.clr)) {}
};

template <class V>
inline void adamax_rule(V& p, V g, V& m, V& u, const AdamaxCoef<V>& c, const AdamaxHyper& h) {
  if (h.maximize) g = vneg(g);
  if (h.weight_decay != 0) g = g + c.weight_decay * p;
  m = m * c.beta1;
  m = m + c.one_minus_beta1 * g;
  u = vmax_nan(u * c.beta2, vabs(g) + c.eps);
  p = p + (c.neg_clr * m) / u;
}

template <class V>
struct NAdamCoef {
  V weight_decay, beta1, one_minus_beta1, beta2, one_minus_beta2, bias_correction2, eps, grad_coef, avg_coef;
  template <class Make>
  NAdamCoef(const NAdamHyper& h, Make mk)
      : weight_decay(mk(h.weight_decay)), beta1(mk(h.beta1)), one_minus_beta1(mk(1 - h.beta1)), beta2(mk(h.beta2)),
        one_minus_beta2(mk(1 - h.beta2)), bias_correction2(mk(h.bias_correction2)), eps(mk(h.eps)),
        grad_coef(mk(h.grad_coef)), avg_coef(mk(h.avg_coef)) {}
};

template <class V>
inline void nadam_rule(V& p, V g, V& m, V& v, const NAdamCoef<V>& c, const NAdamHyper& h) {
  if (h.weight_decay != 0) g = g + c.weight_decay * p;
  m = m * c.beta1;
  m = m + c.one_minus_beta1 * g;
  v = v * c.beta2;
  v = v + (c.one_minus_beta2 * g) * g;
  V denom = vsqrt(v / c.bias_correction2) + c.eps;
  p = p + (c.grad_coef * g) / denom;
  p = p + (c.avg_coef * m) / denom;
}

template <class V>
struct RmspropCoef {
  V weight_decay, alpha, one_minus_alpha, eps, momentum, neg_lr, one;
  template <class Make>
  RmspropCoef(const RmspropHyper& h, Make mk)
      : weight_decay(mk(h.weight_decay)), alpha(mk(h.alpha)), one_minus_alpha(mk(1 - h.alpha)), eps(mk(h.eps)),
        momentum(mk(h.momentum)), neg_lr(mk(-h.lr)), one(mk(1)) {}
};

template <class V>
inline void rmsprop_rule(V& p, V g, V& sq, V* ga, V* buf, const RmspropCoef<V>& c, const RmspropHyper& h) {
  if (h.maximize) g = vneg(g);
  if (h.weight_decay != 0) g = g + c.weight_decay * p;
  sq = sq * c.alpha;
  sq = sq + (c.one_minus_alpha * g) * g;
  V avg;
  if (h.centered) {
    V mean = *ga * c.alpha + c.one_minus_alpha * g;
    *ga = mean;
    avg = vsqrt(sq + (vneg(c.one) * mean) * mean);
  } else {
    avg = vsqrt(sq);
  }
  avg = avg + c.eps;
  if (h.momentum > 0) {
    V b = *buf * c.momentum + (c.one * g) / avg;
    *buf = b;
    p = p + c.neg_lr * b;
  } else {
    p = p + (c.neg_lr * g) / avg;
  }
}

template <class V>
struct AdagradCoef {
  V weight_decay, eps, neg_clr, one;
  template <class Make>
  AdagradCoef(const AdagradHyper& h, Make mk)
      : weight_decay(mk(h.weight_decay)), eps(mk(h.eps)), neg_clr(mk(-h.clr)), one(mk(1)) {}
};

template <class V>
inline void adagrad_rule(V& p, V g, V& sum, const AdagradCoef<V>& c, const AdagradHyper& h) {
  if (h.maximize) g = vneg(g);
  if (h.weight_decay != 0) g = g + c.weight_decay * p;
  sum = sum + (c.one * g) * g;
  V std_dev = vsqrt(sum) + c.eps;
  p = p + (c.neg_clr * g) / std_dev;
}

// The rules over plain arrays of T (the scalar reference, and the SIMD paths' tails).
template <class T>
struct ScalarLoops {
  static T mk(double x) { return static_cast<T>(x); }
  static void sgd(T* p, const T* g, T* buf, int64_t n, const SgdHyper& h) {
    SgdCoef<T> c(h, mk);
    for (int64_t i = 0; i < n; ++i) sgd_rule(p[i], g[i], buf ? buf + i : nullptr, c, h);
  }
  static void adam(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamHyper& h) {
    AdamCoef<T> c(h, mk);
    for (int64_t i = 0; i < n; ++i) adam_rule(p[i], g[i], m[i], v[i], vmax ? vmax + i : nullptr, c, h);
  }
  static void adamax(T* p, const T* g, T* m, T* u, int64_t n, const AdamaxHyper& h) {
    AdamaxCoef<T> c(h, mk);
    for (int64_t i = 0; i < n; ++i) adamax_rule(p[i], g[i], m[i], u[i], c, h);
  }
  static void nadam(T* p, const T* g, T* m, T* v, int64_t n, const NAdamHyper& h) {
    NAdamCoef<T> c(h, mk);
    for (int64_t i = 0; i < n; ++i) nadam_rule(p[i], g[i], m[i], v[i], c, h);
  }
  static void rmsprop(T* p, const T* g, T* sq, T* ga, T* buf, int64_t n, const RmspropHyper& h) {
    RmspropCoef<T> c(h, mk);
    for (int64_t i = 0; i < n; ++i) rmsprop_rule(p[i], g[i], sq[i], ga ? ga + i : nullptr, buf ? buf + i : nullptr, c, h);
  }
  static void adagrad(T* p, const T* g, T* sum, int64_t n, const AdagradHyper& h) {
    AdagradCoef<T> c(h, mk);
    for (int64_t i = 0; i < n; ++i) adagrad_rule(p[i], g[i], sum[i], c, h);
  }
};

}  // namespace
}  // namespace dendrite::cpu

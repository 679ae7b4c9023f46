// The contiguous float32 elementwise kernels, written once over the VecF vocabulary.
// Included by elementwise_<isa>.cc after that ISA's vec header and vec_math.h.
// Tails go through a lane-sized stack buffer so every element takes the same code path.
#include <algorithm>
#include <cstring>
#include "elementwise.h"

namespace dendrite::cpu {
namespace {

using namespace dendrite::simd;
constexpr int L = VecF::kLanes;

template <class F>
void map_unary(float* out, const float* in, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    VecF x0 = loadu(in + i), x1 = loadu(in + i + L);
    storeu(out + i, f(x0));
    storeu(out + i + L, f(x1));
  }
  for (; i + L <= n; i += L) storeu(out + i, f(loadu(in + i)));
  if (i < n) {
    float buf[L] = {};
    std::memcpy(buf, in + i, sizeof(float) * (n - i));
    storeu(buf, f(loadu(buf)));
    std::memcpy(out + i, buf, sizeof(float) * (n - i));
  }
}

// a_stride / b_stride are 1 (contiguous) or 0 (one broadcast value).
template <class F>
void map_binary(float* out, const float* a, int64_t as, const float* b, int64_t bs, int64_t n, F f) {
  auto get = [](const float* p, int64_t s, int64_t i) { return s ? loadu(p + i) : set1(*p); };
  int64_t i = 0;
  for (; i + L <= n; i += L) storeu(out + i, f(get(a, as, i), get(b, bs, i)));
  if (i < n) {
    float ba[L] = {}, bb[L] = {};
    int64_t r = n - i;
    if (as) std::memcpy(ba, a + i, sizeof(float) * r); else std::fill(ba, ba + L, *a);
    if (bs) std::memcpy(bb, b + i, sizeof(float) * r); else std::fill(bb, bb + L, *b);
    storeu(ba, f(loadu(ba), loadu(bb)));
    std::memcpy(out + i, ba, sizeof(float) * r);
  }
}

VecF nan_max(VecF a, VecF b) { return select(isnan(a) | isnan(b), a + b, max_raw(a, b)); }
VecF nan_min(VecF a, VecF b) { return select(isnan(a) | isnan(b), a + b, min_raw(a, b)); }

#define UNARY_KERNEL(fname, body)                                            \
  void fname(float* out, const float* in, int64_t n, OpParams p) {           \
    (void)p;                                                                 \
    map_unary(out, in, n, [&](VecF x) { body; });                            \
  }
#define BINARY_KERNEL(fname, body)                                                                     \
  void fname(float* out, const float* a, int64_t as, const float* b, int64_t bs, int64_t n, OpParams p) { \
    (void)p;                                                                                            \
    map_binary(out, a, as, b, bs, n, [&](VecF x, VecF y) { body; });                                    \
  }

UNARY_KERNEL(k_neg, return neg(x))
UNARY_KERNEL(k_exp, return vexp(x))
UNARY_KERNEL(k_log, return vlog(x))
UNARY_KERNEL(k_sqrt, return sqrt(x))
UNARY_KERNEL(k_abs, return abs(x))
UNARY_KERNEL(k_relu, return select(isnan(x), x, max_raw(x, zero())))
UNARY_KERNEL(k_sigmoid, return vsigmoid(x))
UNARY_KERNEL(k_tanh, return vtanh(x))
UNARY_KERNEL(k_square, return x * x)
UNARY_KERNEL(k_reciprocal, return set1(1.0f) / x)
UNARY_KERNEL(k_rsqrt, return set1(1.0f) / sqrt(x))
UNARY_KERNEL(k_silu, return x * vsigmoid(x))
UNARY_KERNEL(k_gelu, return set1(0.5f) * x * verfc(x * set1(-0.70710678118654752f)))
UNARY_KERNEL(k_gelu_tanh, {
  VecF inner = set1(0.79788456080286535588f) * fmadd(set1(0.044715f) * x * x, x, x);
  return set1(0.5f) * x * (set1(1.0f) + vtanh(inner));
})
UNARY_KERNEL(k_leaky_relu, return select(x > zero(), x, x * set1(static_cast<float>(p.p0))))
UNARY_KERNEL(k_clamp, {
  VecF r = min_raw(max_raw(x, set1(static_cast<float>(p.p0))), set1(static_cast<float>(p.p1)));
  return select(isnan(x), x, r);
})
UNARY_KERNEL(k_softplus, {
  // log1p(exp(z)) = max(z, 0) + log1p(exp(-|z|)), stable for all z.
  VecF beta = set1(static_cast<float>(p.p0));
  VecF z = x * beta;
  VecF sp = (max_raw(z, zero()) + vlog1p(vexp(neg(abs(z))))) / beta;
  return select(z > set1(static_cast<float>(p.p1)), x, select(isnan(x), x, sp));
})

BINARY_KERNEL(k_add, return p.p0 == 1.0 ? x + y : fmadd(set1(static_cast<float>(p.p0)), y, x))
BINARY_KERNEL(k_sub, return p.p0 == 1.0 ? x - y : fnmadd(set1(static_cast<float>(p.p0)), y, x))
BINARY_KERNEL(k_mul, return x * y)
BINARY_KERNEL(k_div, return x / y)
BINARY_KERNEL(k_maximum, return nan_max(x, y))
BINARY_KERNEL(k_minimum, return nan_min(x, y))
BINARY_KERNEL(k_relu_bw, return select(y <= zero(), zero(), x))
BINARY_KERNEL(k_leaky_relu_bw, return select(y > zero(), x, x * set1(static_cast<float>(p.p0))))
BINARY_KERNEL(k_sigmoid_bw, return x * y * (set1(1.0f) - y))
BINARY_KERNEL(k_tanh_bw, return x * fnmadd(y, y, set1(1.0f)))

}  // namespace

void fill_elementwise_simd(ElementwiseTable& t) {
  auto u = [&](UnaryOp op, UnaryF32Fn f) { t.unary_f32[static_cast<int>(op)] = f; };
  auto b = [&](BinaryOp op, BinaryF32Fn f) { t.binary_f32[static_cast<int>(op)] = f; };
  u(UnaryOp::Neg, k_neg); u(UnaryOp::Exp, k_exp); u(UnaryOp::Log, k_log); u(UnaryOp::Sqrt, k_sqrt);
  u(UnaryOp::Abs, k_abs); u(UnaryOp::Relu, k_relu); u(UnaryOp::Sigmoid, k_sigmoid); u(UnaryOp::Tanh, k_tanh);
  u(UnaryOp::Square, k_square); u(UnaryOp::Reciprocal, k_reciprocal); u(UnaryOp::Rsqrt, k_rsqrt);
  u(UnaryOp::Silu, k_silu); u(UnaryOp::Gelu, k_gelu); u(UnaryOp::GeluTanh, k_gelu_tanh);
  u(UnaryOp::LeakyRelu, k_leaky_relu); u(UnaryOp::Clamp, k_clamp); u(UnaryOp::Softplus, k_softplus);
  b(BinaryOp::Add, k_add); b(BinaryOp::Sub, k_sub); b(BinaryOp::Mul, k_mul); b(BinaryOp::Div, k_div);
  b(BinaryOp::Maximum, k_maximum); b(BinaryOp::Minimum, k_minimum); b(BinaryOp::ReluBackward, k_relu_bw);
  b(BinaryOp::LeakyReluBackward, k_leaky_relu_bw); b(BinaryOp::SigmoidBackward, k_sigmoid_bw);
  b(BinaryOp::TanhBackward, k_tanh_bw);
}

}  // namespace dendrite::cpu

// Device versions of the elementwise functors in native/cpu/elementwise/elementwise.cc: the same
// formulas, the same NaN rules. Where the CPU throws per element (integer division by zero, a
// negative integer exponent), a kernel cannot; these give 0 there (documented in cuda.h's
// callers and tested as such).
#pragma once
#include <cuda_runtime.h>
#include <cstdint>
#include <type_traits>
#include "../../cpu/elementwise/elementwise.h"

namespace dendrite::cuda {

using cpu::BinaryOp;
using cpu::OpParams;
using cpu::UnaryOp;

template <class T>
constexpr bool kFloat = std::is_floating_point_v<T>;

constexpr double kSqrt1_2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kGeluKappa = 0.044715;

template <class T>
__device__ __forceinline__ bool is_nan(T v) {
  if constexpr (kFloat<T>) return isnan(v); else return false;
}

template <class T>
__device__ __forceinline__ T sigmoid_of(T x) { return T(1) / (T(1) + exp(-x)); }

// Ops every dtype supports; the rest need a floating-point tensor (checked on the host, as the
// CPU does, before anything is launched).
inline bool unary_integer_ok(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: case UnaryOp::Abs: case UnaryOp::Relu: case UnaryOp::Clamp: case UnaryOp::Sign:
    case UnaryOp::Square: case UnaryOp::LogicalNot: case UnaryOp::Cast: return true;
    default: return false;
  }
}
inline bool binary_integer_ok(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: case BinaryOp::Sub: case BinaryOp::Mul: case BinaryOp::Div: case BinaryOp::Pow:
    case BinaryOp::Maximum: case BinaryOp::Minimum: case BinaryOp::Eq: case BinaryOp::Ne: case BinaryOp::Lt:
    case BinaryOp::Le: case BinaryOp::Gt: case BinaryOp::Ge: case BinaryOp::LogicalAnd: case BinaryOp::LogicalOr:
    case BinaryOp::LogicalXor: case BinaryOp::ReluBackward: case BinaryOp::Fmod: case BinaryOp::Remainder:
      return true;
    default: return false;
  }
}

template <class T>
__device__ T unary_value(UnaryOp op, T x, const OpParams& p) {
  switch (op) {
    case UnaryOp::Neg: return static_cast<T>(-x);
    case UnaryOp::Abs:
      if constexpr (std::is_unsigned_v<T>) return x; else return x < T(0) ? static_cast<T>(-x) : x;
    case UnaryOp::Relu:
      if (is_nan(x)) return x;
      return x > T(0) ? x : T(0);
    case UnaryOp::Clamp:
      if constexpr (kFloat<T>) {
        if (isnan(x)) return x;
        T lo = static_cast<T>(p.p0), hi = static_cast<T>(p.p1);
        T r = x < lo ? lo : x;
        return r > hi ? hi : r;
      } else {
        double v = static_cast<double>(x);
        v = v < p.p0 ? p.p0 : v;
        return static_cast<T>(v > p.p1 ? p.p1 : v);
      }
    case UnaryOp::Sign:
      if constexpr (std::is_unsigned_v<T>) return static_cast<T>(x != T(0));
      else return static_cast<T>((T(0) < x) - (x < T(0)));
    case UnaryOp::Square: return static_cast<T>(x * x);
    case UnaryOp::LogicalNot: return static_cast<T>(x == T(0));
    case UnaryOp::Cast: return x;
    default: break;
  }
  if constexpr (kFloat<T>) {
    switch (op) {
      case UnaryOp::Exp: return exp(x);
      case UnaryOp::Log: return log(x);
      case UnaryOp::Sqrt: return sqrt(x);
      case UnaryOp::Sigmoid: return sigmoid_of(x);
      case UnaryOp::Tanh: return tanh(x);
      case UnaryOp::Softplus: {
        T beta = static_cast<T>(p.p0), z = x * beta;
        return z > static_cast<T>(p.p1) ? x : log1p(exp(z)) / beta;
      }
      case UnaryOp::Gelu: return static_cast<T>(0.5) * x * erfc(-x * static_cast<T>(kSqrt1_2));
      case UnaryOp::GeluTanh: {
        T inner = static_cast<T>(kSqrt2OverPi) * (x + static_cast<T>(kGeluKappa) * x * x * x);
        return static_cast<T>(0.5) * x * (T(1) + tanh(inner));
      }
      case UnaryOp::LeakyRelu: return x > T(0) ? x : x * static_cast<T>(p.p0);
      case UnaryOp::Sin: return sin(x);
      case UnaryOp::Cos: return cos(x);
      case UnaryOp::Floor: return floor(x);
      case UnaryOp::Ceil: return ceil(x);
      case UnaryOp::Round: return rint(x);  // half to even, like torch.round
      case UnaryOp::Reciprocal: return T(1) / x;
      case UnaryOp::Rsqrt: return T(1) / sqrt(x);
      case UnaryOp::Log1p: return log1p(x);
      case UnaryOp::Expm1: return expm1(x);
      case UnaryOp::Silu: return x * sigmoid_of(x);
      case UnaryOp::Elu: return x > T(0) ? x : static_cast<T>(p.p0) * expm1(x);
      case UnaryOp::Erf: return erf(x);
      default: break;
    }
  }
  return x;  // unreachable: the host rejected integer inputs to float-only ops
}

template <class T>
__device__ T binary_value(BinaryOp op, T a, T b, const OpParams& p) {
  switch (op) {
    case BinaryOp::Add: return p.p0 == 1.0 ? static_cast<T>(a + b) : static_cast<T>(a + static_cast<T>(p.p0) * b);
    case BinaryOp::Sub: return p.p0 == 1.0 ? static_cast<T>(a - b) : static_cast<T>(a - static_cast<T>(p.p0) * b);
    case BinaryOp::Mul: return static_cast<T>(a * b);
    case BinaryOp::Div:
      if constexpr (!kFloat<T>) { if (b == T(0)) return T(0); }
      return static_cast<T>(a / b);
    case BinaryOp::Maximum:
      if (is_nan(a) || is_nan(b)) return a != a ? a : b;
      return a > b ? a : b;
    case BinaryOp::Minimum:
      if (is_nan(a) || is_nan(b)) return a != a ? a : b;
      return a < b ? a : b;
    case BinaryOp::Eq: return a == b;
    case BinaryOp::Ne: return a != b;
    case BinaryOp::Lt: return a < b;
    case BinaryOp::Le: return a <= b;
    case BinaryOp::Gt: return a > b;
    case BinaryOp::Ge: return a >= b;
    case BinaryOp::LogicalAnd: return (a != T(0)) && (b != T(0));
    case BinaryOp::LogicalOr: return (a != T(0)) || (b != T(0));
    case BinaryOp::LogicalXor: return (a != T(0)) != (b != T(0));
    case BinaryOp::ReluBackward: return b <= T(0) ? T(0) : a;
    case BinaryOp::Pow:
      if constexpr (kFloat<T>) {
        return pow(a, b);
      } else {
        if constexpr (std::is_signed_v<T>) { if (b < T(0)) return T(0); }
        T r = 1, base = a;
        for (auto e = static_cast<uint64_t>(b); e; e >>= 1, base = static_cast<T>(base * base))
          if (e & 1) r = static_cast<T>(r * base);
        return r;
      }
    case BinaryOp::Fmod:
      if constexpr (kFloat<T>) return fmod(a, b);
      else { if (b == T(0)) return T(0); return static_cast<T>(a % b); }
    case BinaryOp::Remainder:
      if constexpr (kFloat<T>) {
        T r = fmod(a, b);
        return (r != T(0) && ((r < T(0)) != (b < T(0)))) ? r + b : r;
      } else {
        if (b == T(0)) return T(0);
        T r = static_cast<T>(a % b);
        if constexpr (std::is_signed_v<T>) { if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b); }
        return r;
      }
    default: break;
  }
  if constexpr (kFloat<T>) {
    switch (op) {
      case BinaryOp::LeakyReluBackward: return b > T(0) ? a : a * static_cast<T>(p.p0);
      case BinaryOp::SigmoidBackward: return a * b * (T(1) - b);
      case BinaryOp::TanhBackward: return a * (T(1) - b * b);
      case BinaryOp::SoftplusBackward: {
        T z = b * static_cast<T>(p.p0);
        return z > static_cast<T>(p.p1) ? a : a * sigmoid_of(z);
      }
      case BinaryOp::GeluBackward: {
        T cdf = static_cast<T>(0.5) * erfc(-b * static_cast<T>(kSqrt1_2));
        T pdf = static_cast<T>(kInvSqrt2Pi) * exp(static_cast<T>(-0.5) * b * b);
        return a * (cdf + b * pdf);
      }
      case BinaryOp::GeluTanhBackward: {
        T x2 = b * b;
        T inner = static_cast<T>(kSqrt2OverPi) * (b + static_cast<T>(kGeluKappa) * x2 * b);
        T t = tanh(inner);
        T left = static_cast<T>(0.5) * b, right = T(1) + t;
        T d_inner = static_cast<T>(kSqrt2OverPi) * (T(1) + T(3) * static_cast<T>(kGeluKappa) * x2);
        return a * (static_cast<T>(0.5) * right + left * (T(1) - t * t) * d_inner);
      }
      case BinaryOp::HardtanhBackward: return (b > static_cast<T>(p.p0) && b < static_cast<T>(p.p1)) ? a : T(0);
      case BinaryOp::ClampBackward: return (b >= static_cast<T>(p.p0) && b <= static_cast<T>(p.p1)) ? a : T(0);
      case BinaryOp::SiluBackward: {
        T s = sigmoid_of(b);
        return a * s * (T(1) + b * (T(1) - s));
      }
      case BinaryOp::EluBackward: return b > T(0) ? a : a * static_cast<T>(p.p0) * exp(b);
      case BinaryOp::Atan2: return atan2(a, b);
      default: break;
    }
  }
  return a;  // unreachable: the host rejected integer inputs to float-only ops
}

}  // namespace dendrite::cuda

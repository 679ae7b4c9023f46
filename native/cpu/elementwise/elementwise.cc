// Driver and scalar reference for the elementwise family. The scalar functors below define
// the semantics (PyTorch's, including NaN propagation); SIMD tables only accelerate the
// contiguous float32 cases and are tested against these.
#include "elementwise.h"
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include "../../core/dispatch.h"
#include "../../core/iterator.h"

namespace dendrite::cpu {
namespace {

#define DENDRITE_NAME_ENTRY(name, str) str,
const char* const kUnaryNames[] = {DENDRITE_UNARY_OPS(DENDRITE_NAME_ENTRY) nullptr};
const char* const kBinaryNames[] = {DENDRITE_BINARY_OPS(DENDRITE_NAME_ENTRY) nullptr};
#undef DENDRITE_NAME_ENTRY

template <class T>
constexpr bool kFloat = std::is_floating_point_v<T>;

template <class T>
T nan_max(T a, T b) {
  if constexpr (kFloat<T>) {
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  }
  return a > b ? a : b;
}
template <class T>
T nan_min(T a, T b) {
  if constexpr (kFloat<T>) {
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  }
  return a < b ? a : b;
}

constexpr double kSqrt1_2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kGeluKappa = 0.044715;

template <class T>
T sigmoid_of(T x) { return T(1) / (T(1) + std::exp(-x)); }

template <class T>
T unary_value(UnaryOp op, T x, OpParams p) {
  switch (op) {
    case UnaryOp::Neg: return static_cast<T>(-x);
    case UnaryOp::Abs:
      if constexpr (std::is_unsigned_v<T>) return x; else return x < 0 ? static_cast<T>(-x) : x;
    case UnaryOp::Relu:
      if constexpr (kFloat<T>) { if (std::isnan(x)) return x; }
      return x > T(0) ? x : T(0);
    case UnaryOp::Clamp: {
      // min(max(x, lo), hi), so lo > hi gives hi everywhere, as torch.clamp.
      if constexpr (kFloat<T>) {
        if (std::isnan(x)) return x;
        T lo = static_cast<T>(p.p0), hi = static_cast<T>(p.p1);
        T r = x < lo ? lo : x;
        return r > hi ? hi : r;
      } else {
        double v = static_cast<double>(x);
        v = v < p.p0 ? p.p0 : v;
        return static_cast<T>(v > p.p1 ? p.p1 : v);
      }
    }
    case UnaryOp::Sign: return static_cast<T>((T(0) < x) - (x < T(0)));
    case UnaryOp::Square: return static_cast<T>(x * x);
    case UnaryOp::LogicalNot: return static_cast<T>(x == T(0));
    case UnaryOp::Cast: return x;
    default: break;
  }
  if constexpr (kFloat<T>) {
    switch (op) {
      case UnaryOp::Exp: return std::exp(x);
      case UnaryOp::Log: return std::log(x);
      case UnaryOp::Sqrt: return std::sqrt(x);
      case UnaryOp::Sigmoid: return sigmoid_of(x);
      case UnaryOp::Tanh: return std::tanh(x);
      case UnaryOp::Softplus: {
        T beta = static_cast<T>(p.p0), z = x * beta;
        return z > static_cast<T>(p.p1) ? x : std::log1p(std::exp(z)) / beta;
      }
      case UnaryOp::Gelu: return static_cast<T>(0.5) * x * std::erfc(-x * static_cast<T>(kSqrt1_2));
      case UnaryOp::GeluTanh: {
        T inner = static_cast<T>(kSqrt2OverPi) * (x + static_cast<T>(kGeluKappa) * x * x * x);
        return static_cast<T>(0.5) * x * (T(1) + std::tanh(inner));
      }
      case UnaryOp::LeakyRelu: return x > T(0) ? x : x * static_cast<T>(p.p0);
      case UnaryOp::Sin: return std::sin(x);
      case UnaryOp::Cos: return std::cos(x);
      case UnaryOp::Floor: return std::floor(x);
      case UnaryOp::Ceil: return std::ceil(x);
      case UnaryOp::Round: return std::nearbyint(x);  // half to even, like torch.round
      case UnaryOp::Reciprocal: return T(1) / x;
      case UnaryOp::Rsqrt: return T(1) / std::sqrt(x);
      case UnaryOp::Log1p: return std::log1p(x);
      case UnaryOp::Expm1: return std::expm1(x);
      case UnaryOp::Silu: return x * sigmoid_of(x);
      case UnaryOp::Elu: return x > T(0) ? x : static_cast<T>(p.p0) * std::expm1(x);
      case UnaryOp::Erf: return std::erf(x);
      default: break;
    }
  }
  fail(ErrorCode::DType, unary_op_names()[static_cast<int>(op)], "a floating-point tensor", "an integer tensor");
}

template <class T>
T binary_value(BinaryOp op, T a, T b, OpParams p) {
  switch (op) {
    case BinaryOp::Add:
      return p.p0 == 1.0 ? static_cast<T>(a + b) : static_cast<T>(a + static_cast<T>(p.p0) * b);
    case BinaryOp::Sub:
      return p.p0 == 1.0 ? static_cast<T>(a - b) : static_cast<T>(a - static_cast<T>(p.p0) * b);
    case BinaryOp::Mul: return static_cast<T>(a * b);
    case BinaryOp::Div:
      if constexpr (!kFloat<T>) {
        if (b == 0) fail(ErrorCode::Argument, "div", "a nonzero integer divisor", "0");
      }
      return static_cast<T>(a / b);
    case BinaryOp::Maximum: return nan_max(a, b);
    case BinaryOp::Minimum: return nan_min(a, b);
    case BinaryOp::Eq: return a == b;
    case BinaryOp::Ne: return a != b;
    case BinaryOp::Lt: return a < b;
    case BinaryOp::Le: return a <= b;
    case BinaryOp::Gt: return a > b;
    case BinaryOp::Ge: return a >= b;
    case BinaryOp::LogicalAnd: return (a != T(0)) && (b != T(0));
    case BinaryOp::LogicalOr: return (a != T(0)) || (b != T(0));
    case BinaryOp::LogicalXor: return (a != T(0)) != (b != T(0));
    // Masked only where x <= 0, so a NaN input passes the gradient (PyTorch's threshold_backward).
    case BinaryOp::ReluBackward: return b <= T(0) ? T(0) : a;
    case BinaryOp::Pow:
      if constexpr (kFloat<T>) {
        return std::pow(a, b);
      } else {
        if (b < 0) fail(ErrorCode::Argument, "pow", "a non-negative integer exponent", std::to_string(static_cast<int64_t>(b)));
        T r = 1, base = a;
        for (auto e = static_cast<uint64_t>(b); e; e >>= 1, base = static_cast<T>(base * base))
          if (e & 1) r = static_cast<T>(r * base);
        return r;
      }
    case BinaryOp::Fmod:
      if constexpr (kFloat<T>) return std::fmod(a, b);
      else { if (b == 0) fail(ErrorCode::Argument, "fmod", "a nonzero integer divisor", "0"); return static_cast<T>(a % b); }
    case BinaryOp::Remainder:
      if constexpr (kFloat<T>) {
        T r = std::fmod(a, b);
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
      } else {
        if (b == 0) fail(ErrorCode::Argument, "remainder", "a nonzero integer divisor", "0");
        T r = static_cast<T>(a % b);
        if constexpr (std::is_signed_v<T>) { if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b); }
        return r;
      }
    default: break;
  }
  if constexpr (kFloat<T>) {
    // Backward ops: a is the incoming gradient, b the saved input (x) or output (y).
    switch (op) {
      case BinaryOp::LeakyReluBackward: return b > T(0) ? a : a * static_cast<T>(p.p0);
      case BinaryOp::SigmoidBackward: return a * b * (T(1) - b);
      case BinaryOp::TanhBackward: return a * (T(1) - b * b);
      case BinaryOp::SoftplusBackward: {
        T z = b * static_cast<T>(p.p0);
        return z > static_cast<T>(p.p1) ? a : a * sigmoid_of(z);
      }
      case BinaryOp::GeluBackward: {
        T cdf = static_cast<T>(0.5) * std::erfc(-b * static_cast<T>(kSqrt1_2));
        T pdf = static_cast<T>(kInvSqrt2Pi) * std::exp(static_cast<T>(-0.5) * b * b);
        return a * (cdf + b * pdf);
      }
      case BinaryOp::GeluTanhBackward: {
        T x2 = b * b;
        T inner = static_cast<T>(kSqrt2OverPi) * (b + static_cast<T>(kGeluKappa) * x2 * b);
        T t = std::tanh(inner);
        T left = static_cast<T>(0.5) * b, right = T(1) + t;
        T d_inner = static_cast<T>(kSqrt2OverPi) * (T(1) + T(3) * static_cast<T>(kGeluKappa) * x2);
        return a * (static_cast<T>(0.5) * right + left * (T(1) - t * t) * d_inner);
      }
      case BinaryOp::HardtanhBackward:
        return (b > static_cast<T>(p.p0) && b < static_cast<T>(p.p1)) ? a : T(0);
      case BinaryOp::ClampBackward:
        return (b >= static_cast<T>(p.p0) && b <= static_cast<T>(p.p1)) ? a : T(0);
      case BinaryOp::SiluBackward: {
        T s = sigmoid_of(b);
        return a * s * (T(1) + b * (T(1) - s));
      }
      case BinaryOp::EluBackward: return b > T(0) ? a : a * static_cast<T>(p.p0) * std::exp(b);
      case BinaryOp::Atan2: return std::atan2(a, b);
      default: break;
    }
  }
  fail(ErrorCode::DType, binary_op_names()[static_cast<int>(op)], "a floating-point tensor", "an integer tensor");
}

void fill_scalar(ElementwiseTable& t) { std::memset(&t, 0, sizeof(t)); }

const ElementwiseTable& table() {
  static IsaTables<ElementwiseTable> tables(fill_scalar, DENDRITE_X86_FILLER(fill_elementwise_avx2),
                                            DENDRITE_X86_FILLER(fill_elementwise_avx512),
                                            DENDRITE_NEON_FILLER(fill_elementwise_neon));
  return tables.active();
}

// to_bool is a runtime flag: bool and uint8 share the C++ type bool_t = uint8_t, so the
// type alone cannot tell a cast to bool (0/1) from one to uint8 (the value).
template <class From, class To>
inline To convert_value(From v, bool to_bool) {
  if (to_bool) return static_cast<To>(v != From(0));
  if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) return float_to_int<To>(v);
  else return static_cast<To>(v);
}

template <class From, class To>
void cast_loop(char* const* p, const int64_t* s, int64_t n, bool to_bool) {
  if (s[0] == sizeof(To) && s[1] == sizeof(From)) {
    // Contiguous runs: a plain copy for same-type casts, else a unit-stride loop that the
    // compiler vectorises. Copies (contiguous(), clone(), cat) all come through here.
    if constexpr (std::is_same_v<From, To>) {
      if (!to_bool) {
        std::memcpy(p[0], p[1], static_cast<size_t>(n) * sizeof(To));
        return;
      }
    }
    const From* src = reinterpret_cast<const From*>(p[1]);
    To* dst = reinterpret_cast<To*>(p[0]);
    if (to_bool) for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<To>(src[i] != From(0));
    else for (int64_t i = 0; i < n; ++i) dst[i] = convert_value<From, To>(src[i], false);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    From v = *reinterpret_cast<const From*>(p[1] + i * s[1]);
    To r = convert_value<From, To>(v, to_bool);
    *reinterpret_cast<To*>(p[0] + i * s[0]) = r;
  }
}

}  // namespace

const char* const* unary_op_names() { return kUnaryNames; }
const char* const* binary_op_names() { return kBinaryNames; }

bool binary_is_comparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::Eq: case BinaryOp::Ne: case BinaryOp::Lt: case BinaryOp::Le: case BinaryOp::Gt:
    case BinaryOp::Ge: case BinaryOp::LogicalAnd: case BinaryOp::LogicalOr: case BinaryOp::LogicalXor:
      return true;
    default: return false;
  }
}

void check_elementwise_shape(const char* op, const TensorDesc& out, const TensorDesc& in) {
  if (in.ndim != out.ndim) fail(ErrorCode::Shape, op, "an operand of rank " + std::to_string(out.ndim), "rank " + std::to_string(in.ndim));
  for (int i = 0; i < out.ndim; ++i)
    if (in.shape[i] != out.shape[i])
      fail(ErrorCode::Shape, op, "operands of shape " + shape_str(out.shape, out.ndim), shape_str(in.shape, in.ndim));
}

void check_where_args(const TensorDesc& out, const TensorDesc& cond, const TensorDesc& a, const TensorDesc& b) {
  check_elementwise_shape("where", out, cond);
  check_elementwise_shape("where", out, a);
  check_elementwise_shape("where", out, b);
  if (cond.dtype != DType::Bool) fail(ErrorCode::DType, "where", "a bool condition", dtype_name(cond.dtype));
  if (a.dtype != b.dtype || out.dtype != a.dtype)
    fail(ErrorCode::DType, "where", std::string("x, y and out of one dtype, ") + dtype_name(out.dtype),
         std::string(dtype_name(a.dtype)) + " and " + dtype_name(b.dtype));
}

void unary(UnaryOp op, const TensorDesc& out, const TensorDesc& in, OpParams p) {
  const char* name = kUnaryNames[static_cast<int>(op)];
  check_elementwise_shape(name, out, in);
  const TensorDesc* descs[2] = {&out, &in};
  StridedOperands it(descs, 2);
  if (op == UnaryOp::Cast) {
    dispatch_dtype(in.dtype, [&](auto from) {
      dispatch_dtype(out.dtype, [&](auto to) {
        using From = decltype(from);
        using To = decltype(to);
        bool to_bool = out.dtype == DType::Bool;
        it.run([to_bool](char* const* ptrs, const int64_t* s, int64_t n) { cast_loop<From, To>(ptrs, s, n, to_bool); });
      });
    });
    return;
  }
  if (out.dtype != in.dtype) fail(ErrorCode::DType, name, std::string("an output of dtype ") + dtype_name(in.dtype), dtype_name(out.dtype));
  UnaryF32Fn fast = in.dtype == DType::Float32 ? table().unary_f32[static_cast<int>(op)] : nullptr;
  dispatch_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!kFloat<T>) {
      // Integer inputs only reach the ops that are defined for them; check once, not per element.
      if (in.numel() > 0) (void)unary_value<T>(op, T(0), p);
    }
    it.run([&](char* const* ptrs, const int64_t* s, int64_t n) {
      if (fast && s[0] == 4 && s[1] == 4) {
        fast(reinterpret_cast<float*>(ptrs[0]), reinterpret_cast<const float*>(ptrs[1]), n, p);
        return;
      }
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<T*>(ptrs[0] + i * s[0]) = unary_value<T>(op, *reinterpret_cast<const T*>(ptrs[1] + i * s[1]), p);
    });
  });
}

void binary(BinaryOp op, const TensorDesc& out, const TensorDesc& a, const TensorDesc& b, OpParams p) {
  const char* name = kBinaryNames[static_cast<int>(op)];
  check_elementwise_shape(name, out, a);
  check_elementwise_shape(name, out, b);
  if (a.dtype != b.dtype) fail(ErrorCode::DType, name, std::string("operands of one dtype, ") + dtype_name(a.dtype), dtype_name(b.dtype));
  bool cmp = binary_is_comparison(op);
  DType want = cmp ? DType::Bool : a.dtype;
  if (out.dtype != want) fail(ErrorCode::DType, name, std::string("an output of dtype ") + dtype_name(want), dtype_name(out.dtype));
  const TensorDesc* descs[3] = {&out, &a, &b};
  StridedOperands it(descs, 3);
  BinaryF32Fn fast = a.dtype == DType::Float32 ? table().binary_f32[static_cast<int>(op)] : nullptr;
  dispatch_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!kFloat<T>) {
      if (out.numel() > 0) {
        switch (op) {  // integer division by zero is detected per element, the rest checked once
          case BinaryOp::Div: case BinaryOp::Fmod: case BinaryOp::Remainder: case BinaryOp::Pow: break;
          default: (void)binary_value<T>(op, T(1), T(1), p);
        }
      }
    }
    it.run([&](char* const* ptrs, const int64_t* s, int64_t n) {
      if (fast && s[0] == 4 && (s[1] == 4 || s[1] == 0) && (s[2] == 4 || s[2] == 0)) {
        fast(reinterpret_cast<float*>(ptrs[0]), reinterpret_cast<const float*>(ptrs[1]), s[1] / 4,
             reinterpret_cast<const float*>(ptrs[2]), s[2] / 4, n, p);
        return;
      }
      for (int64_t i = 0; i < n; ++i) {
        T x = *reinterpret_cast<const T*>(ptrs[1] + i * s[1]);
        T y = *reinterpret_cast<const T*>(ptrs[2] + i * s[2]);
        T r = binary_value<T>(op, x, y, p);
        if (cmp) *reinterpret_cast<bool_t*>(ptrs[0] + i * s[0]) = r != T(0);
        else *reinterpret_cast<T*>(ptrs[0] + i * s[0]) = r;
      }
    });
  });
}

void where(const TensorDesc& out, const TensorDesc& cond, const TensorDesc& a, const TensorDesc& b) {
  check_where_args(out, cond, a, b);
  const TensorDesc* descs[4] = {&out, &cond, &a, &b};
  StridedOperands it(descs, 4);
  dispatch_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    it.run([](char* const* ptrs, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        bool c = *reinterpret_cast<const bool_t*>(ptrs[1] + i * s[1]) != 0;
        *reinterpret_cast<T*>(ptrs[0] + i * s[0]) = *reinterpret_cast<const T*>(ptrs[c ? 2 : 3] + i * s[c ? 2 : 3]);
      }
    });
  });
}

}  // namespace dendrite::cpu

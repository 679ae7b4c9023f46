// Elementwise unary, binary and ternary (where) ops over strided, broadcast operands.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

// The order of these lists is the op code; names go to JS through unary_op_names().
#define DENDRITE_UNARY_OPS(X) \
  X(Neg, "neg") X(Exp, "exp") X(Log, "log") X(Sqrt, "sqrt") X(Abs, "abs") X(Relu, "relu")          \
  X(Sigmoid, "sigmoid") X(Tanh, "tanh") X(Softplus, "softplus") X(Gelu, "gelu")                       \
  X(GeluTanh, "geluTanh") X(LeakyRelu, "leakyRelu") X(Clamp, "clamp") X(Sin, "sin") X(Cos, "cos")    \
  X(Floor, "floor") X(Ceil, "ceil") X(Round, "round") X(Sign, "sign") X(Reciprocal, "reciprocal")     \
  X(Rsqrt, "rsqrt") X(Square, "square") X(Log1p, "log1p") X(Expm1, "expm1") X(LogicalNot, "logicalNot") \
  X(Silu, "silu") X(Elu, "elu") X(Erf, "erf") X(Cast, "cast")

#define DENDRITE_BINARY_OPS(X)                                                                      \
  X(Add, "add") X(Sub, "sub") X(Mul, "mul") X(Div, "div") X(Pow, "pow") X(Maximum, "maximum")      \
  X(Minimum, "minimum") X(Eq, "eq") X(Ne, "ne") X(Lt, "lt") X(Le, "le") X(Gt, "gt") X(Ge, "ge")     \
  X(LogicalAnd, "logicalAnd") X(LogicalOr, "logicalOr") X(LogicalXor, "logicalXor")                \
  X(ReluBackward, "reluBackward") X(LeakyReluBackward, "leakyReluBackward")                         \
  X(SigmoidBackward, "sigmoidBackward") X(TanhBackward, "tanhBackward")                             \
  X(SoftplusBackward, "softplusBackward") X(GeluBackward, "geluBackward")                           \
  X(GeluTanhBackward, "geluTanhBackward") X(HardtanhBackward, "hardtanhBackward")                   \
  X(ClampBackward, "clampBackward") X(SiluBackward, "siluBackward") X(EluBackward, "eluBackward")   \
  X(Atan2, "atan2") X(Fmod, "fmod") X(Remainder, "remainder")

#define DENDRITE_ENUM_ENTRY(name, str) name,
enum class UnaryOp : int32_t { DENDRITE_UNARY_OPS(DENDRITE_ENUM_ENTRY) kCount };
enum class BinaryOp : int32_t { DENDRITE_BINARY_OPS(DENDRITE_ENUM_ENTRY) kCount };
#undef DENDRITE_ENUM_ENTRY
constexpr int kNumUnaryOps = static_cast<int>(UnaryOp::kCount);
constexpr int kNumBinaryOps = static_cast<int>(BinaryOp::kCount);

const char* const* unary_op_names();
const char* const* binary_op_names();

// Op parameters: leakyRelu slope (p0); clamp/hardtanh min, max (p0, p1); softplus beta,
// threshold (p0, p1); elu alpha (p0); add/sub alpha (p0, 1 by default from JS).
struct OpParams {
  double p0 = 0, p1 = 0;
};

bool binary_is_comparison(BinaryOp op);

// All inputs must have out's shape already (broadcast dims carry stride 0). `out` may be any
// strided view that does not alias an input partially. Unary: out.dtype may differ from in.dtype
// only for Cast. Binary: a and b share a dtype; out is bool for comparisons and logical ops,
// a.dtype otherwise.
void unary(UnaryOp op, const TensorDesc& out, const TensorDesc& in, OpParams p);
void binary(BinaryOp op, const TensorDesc& out, const TensorDesc& a, const TensorDesc& b, OpParams p);
void where(const TensorDesc& out, const TensorDesc& cond, const TensorDesc& a, const TensorDesc& b);

// Argument checks shared by the CPU and CUDA drivers, so both throw the same errors: `in` has
// out's shape (rank, then every dim); where's operands have out's shape, cond is bool, and x, y
// and out share one dtype.
void check_elementwise_shape(const char* op, const TensorDesc& out, const TensorDesc& in);
void check_where_args(const TensorDesc& out, const TensorDesc& cond, const TensorDesc& a, const TensorDesc& b);

// Contiguous float32 fast paths, one table per ISA. n elements; a_stride/b_stride are 0 (a
// broadcast scalar) or 1.
using UnaryF32Fn = void (*)(float* out, const float* in, int64_t n, OpParams p);
using BinaryF32Fn = void (*)(float* out, const float* a, int64_t a_stride, const float* b, int64_t b_stride,
                             int64_t n, OpParams p);
struct ElementwiseTable {
  UnaryF32Fn unary_f32[kNumUnaryOps];
  BinaryF32Fn binary_f32[kNumBinaryOps];
};
void fill_elementwise_avx2(ElementwiseTable& t);
void fill_elementwise_avx512(ElementwiseTable& t);
void fill_elementwise_neon(ElementwiseTable& t);

}  // namespace dendrite::cpu

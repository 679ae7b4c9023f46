// Reductions over any set of dims. The driver brings the input to (outer, R, inner) form
// — a view when the reduced dims are one contiguous block, else a permuted contiguous copy —
// and reduces each line of R elements.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

#define DENDRITE_REDUCE_OPS(X)                                                                    \
  X(Sum, "sum") X(Mean, "mean") X(Prod, "prod") X(Max, "max") X(Min, "min") X(Argmax, "argmax")   \
  X(Argmin, "argmin") X(Var, "var") X(LogSumExp, "logsumexp") X(All, "all") X(Any, "any")

#define DENDRITE_ENUM_ENTRY(name, str) name,
enum class ReduceOp : int32_t { DENDRITE_REDUCE_OPS(DENDRITE_ENUM_ENTRY) kCount };
#undef DENDRITE_ENUM_ENTRY
const char* const* reduce_op_names();

// `reduce_mask` has in.ndim entries, true for reduced dims. `out` is contiguous with the kept
// dims' shape (numel checked). Output dtypes: Sum/Prod: int64 for integer or bool input, else the
// input's; Mean/Var/LogSumExp: the (float) input's; Max/Min: the input's; Argmax/Argmin: int64;
// All/Any: bool. `indices` (Max/Min only, may be null) receives int64 argmax/argmin alongside.
// `correction` is Var's (1 = unbiased).
void reduce(ReduceOp op, const TensorDesc& out, const TensorDesc& in, const bool* reduce_mask, double correction,
            const TensorDesc* indices);

// What a reduction runs over: kept (= out's numel) outputs of R elements each; when in_place, the
// input is contiguous and its reduced dims (those of size > 1) form one block, so it is read as
// [outer, R, inner] where it lies; otherwise the drivers copy it with the kept dims first.
struct ReducePlan {
  int64_t kept, R, outer, inner;
  bool in_place;
};
// The argument checks of reduce (dtypes, output size, indices, empty reduced dims) and the plan
// above, shared by the CPU and CUDA drivers so both throw the same errors and split alike.
ReducePlan plan_reduce(ReduceOp op, const TensorDesc& out, const TensorDesc& in, const bool* reduce_mask,
                       const TensorDesc* indices);

// Contiguous float32 line kernels, one table per ISA; null entries fall back to scalar.
struct ReduceTable {
  double (*sum_f32)(const float* x, int64_t n);
  float (*max_f32)(const float* x, int64_t n);  // NaN if any element is NaN
  float (*min_f32)(const float* x, int64_t n);
  // Index of the first element equal to v (the first NaN when v is NaN); v must occur in x.
  int64_t (*index_of_f32)(const float* x, int64_t n, float v);
  // out[i] = sum_r x[r * inner + i] for i < inner (out overwritten).
  void (*sum_cols_f32)(const float* x, int64_t rows, int64_t inner, float* out);
};
void fill_reduce_avx2(ReduceTable& t);
void fill_reduce_avx512(ReduceTable& t);
void fill_reduce_neon(ReduceTable& t);

}  // namespace dendrite::cpu

#include "reduce.h"
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>
#include "../../core/allocator.h"
#include "../../core/dispatch.h"
#include "../../core/iterator.h"
#include "../elementwise/elementwise.h"

namespace dendrite::cpu {
namespace {

#define DENDRITE_NAME_ENTRY(name, str) str,
const char* const kReduceNames[] = {DENDRITE_REDUCE_OPS(DENDRITE_NAME_ENTRY) nullptr};
#undef DENDRITE_NAME_ENTRY

void fill_scalar(ReduceTable& t) { std::memset(&t, 0, sizeof(t)); }

const ReduceTable& table() {
  static IsaTables<ReduceTable> tables(fill_scalar, DENDRITE_X86_FILLER(fill_reduce_avx2),
                                      DENDRITE_X86_FILLER(fill_reduce_avx512), DENDRITE_NEON_FILLER(fill_reduce_neon));
  return tables.active();
}

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v); else return false;
}

// Accumulator type: double for floats (the scalar reference is the accurate one), int64 for ints.
template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

// Sum of one line (n elements, stride in elements). Full reductions of one long line are split
// over threads; the partial sums are combined in a fixed order, so the result does not depend
// on the thread count beyond rounding of the float32 SIMD partials.
template <class T>
Acc<T> line_sum(const T* x, int64_t n, int64_t stride) {
  auto serial = [&](int64_t lo, int64_t hi) -> Acc<T> {
    if constexpr (std::is_same_v<T, float>) {
      if (stride == 1 && table().sum_f32) return table().sum_f32(x + lo, hi - lo);
    }
    Acc<T> acc = 0;
    for (int64_t r = lo; r < hi; ++r) acc += static_cast<Acc<T>>(x[r * stride]);
    return acc;
  };
  constexpr int64_t kChunk = 1 << 16;
  if (n < 2 * kChunk) return serial(0, n);
  int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<Acc<T>> partial(static_cast<size_t>(chunks));
  parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) partial[c] = serial(c * kChunk, std::min(n, (c + 1) * kChunk));
  });
  Acc<T> acc = 0;
  for (auto v : partial) acc += v;
  return acc;
}

// Max (want_max) or min of a line with the index of its first occurrence; NaN wins (PyTorch).
template <class T>
T line_extreme(const T* x, int64_t n, int64_t stride, bool want_max, int64_t* index) {
  if constexpr (std::is_same_v<T, float>) {
    auto fn = want_max ? table().max_f32 : table().min_f32;
    if (stride == 1 && fn && table().index_of_f32) {
      // The vector pass finds the value; the index is then the first element equal to it (or
      // the first NaN), found by a second pass over a row that is already in L1.
      float best = fn(x, n);
      if (index) *index = table().index_of_f32(x, n, best);
      return best;
    }
  }
  T best = x[0];
  int64_t best_i = 0;
  if (!is_nan(best)) {
    for (int64_t r = 1; r < n; ++r) {
      T v = x[r * stride];
      if (is_nan(v)) { best = v; best_i = r; break; }
      if (want_max ? v > best : v < best) { best = v; best_i = r; }
    }
  }
  if (index) *index = best_i;
  return best;
}

template <class T, class O>
void reduce_lines(ReduceOp op, const T* x, int64_t outer, int64_t R, int64_t inner, O* out, int64_t* indices,
                  double correction) {
  int64_t lines = outer * inner;
  int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(R, 1));
  // Column sums of float32 (inner > 1): accumulate whole rows at once, vectorised across inner.
  if constexpr (std::is_same_v<T, float> && std::is_same_v<O, float>) {
    if ((op == ReduceOp::Sum || op == ReduceOp::Mean) && inner > 1 && table().sum_cols_f32) {
      parallel_for(0, outer, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t o = lo; o < hi; ++o) {
          table().sum_cols_f32(x + o * R * inner, R, inner, out + o * inner);
          if (op == ReduceOp::Mean)
            for (int64_t i = 0; i < inner; ++i) out[o * inner + i] /= static_cast<float>(R);
        }
      });
      return;
    }
  }
  parallel_for(0, lines, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t line = lo; line < hi; ++line) {
      int64_t o = line / inner, i = line % inner;
      const T* p = x + o * R * inner + i;
      O* dst = out + line;
      switch (op) {
        case ReduceOp::Sum: *dst = static_cast<O>(line_sum(p, R, inner)); break;
        case ReduceOp::Mean:
          if constexpr (std::is_floating_point_v<O>) *dst = static_cast<O>(static_cast<double>(line_sum(p, R, inner)) / static_cast<double>(R));
          break;
        case ReduceOp::Prod: {
          Acc<T> acc = 1;
          for (int64_t r = 0; r < R; ++r) acc *= static_cast<Acc<T>>(p[r * inner]);
          *dst = static_cast<O>(acc);
          break;
        }
        case ReduceOp::Max: case ReduceOp::Min:
          *dst = static_cast<O>(line_extreme(p, R, inner, op == ReduceOp::Max, indices ? indices + line : nullptr));
          break;
        case ReduceOp::Argmax: case ReduceOp::Argmin: {
          int64_t idx = 0;
          line_extreme(p, R, inner, op == ReduceOp::Argmax, &idx);
          *dst = static_cast<O>(idx);
          break;
        }
        case ReduceOp::Var: {
          if constexpr (std::is_floating_point_v<O>) {
            double mean = static_cast<double>(line_sum(p, R, inner)) / static_cast<double>(R);
            double ss = 0;
            for (int64_t r = 0; r < R; ++r) {
              double d = static_cast<double>(p[r * inner]) - mean;
              ss += d * d;
            }
            double dof = static_cast<double>(R) - correction;
            *dst = static_cast<O>(ss / (dof > 0 ? dof : 0.0));
          }
          break;
        }
        case ReduceOp::LogSumExp: {
          if constexpr (std::is_floating_point_v<O>) {
            // log of an empty sum; and line_extreme needs an element to start from
            if (R == 0) { *dst = -std::numeric_limits<O>::infinity(); break; }
            double m = static_cast<double>(line_extreme(p, R, inner, true, nullptr));
            if (std::isinf(m)) m = 0;  // all -inf gives -inf, any +inf gives +inf, as in PyTorch
            double s = 0;
            for (int64_t r = 0; r < R; ++r) s += std::exp(static_cast<double>(p[r * inner]) - m);
            *dst = static_cast<O>(std::log(s) + m);
          }
          break;
        }
        case ReduceOp::All: {
          bool all = true;
          for (int64_t r = 0; r < R && all; ++r) all = p[r * inner] != T(0);
          *dst = static_cast<O>(all);
          break;
        }
        case ReduceOp::Any: {
          bool any = false;
          for (int64_t r = 0; r < R && !any; ++r) any = p[r * inner] != T(0);
          *dst = static_cast<O>(any);
          break;
        }
        default: break;
      }
    }
  });
}

DType expected_out_dtype(ReduceOp op, DType in) {
  switch (op) {
    case ReduceOp::Sum: case ReduceOp::Prod: return dtype_is_float(in) ? in : DType::Int64;
    case ReduceOp::Argmax: case ReduceOp::Argmin: return DType::Int64;
    case ReduceOp::All: case ReduceOp::Any: return DType::Bool;
    default: return in;
  }
}

}  // namespace

const char* const* reduce_op_names() { return kReduceNames; }

ReducePlan plan_reduce(ReduceOp op, const TensorDesc& out, const TensorDesc& in, const bool* reduce_mask,
                       const TensorDesc* indices) {
  const char* name = kReduceNames[static_cast<int>(op)];
  bool float_only = op == ReduceOp::Mean || op == ReduceOp::Var || op == ReduceOp::LogSumExp;
  if (float_only && !dtype_is_float(in.dtype)) fail(ErrorCode::DType, name, "a floating-point input", dtype_name(in.dtype));
  DType want = expected_out_dtype(op, in.dtype);
  if (out.dtype != want) fail(ErrorCode::DType, name, std::string("an output of dtype ") + dtype_name(want), dtype_name(out.dtype));
  if (!out.is_contiguous()) fail(ErrorCode::Argument, name, "a contiguous output", "a strided view");
  int64_t kept = 1, R = 1;
  for (int d = 0; d < in.ndim; ++d) (reduce_mask[d] ? R : kept) *= in.shape[d];
  if (out.numel() != kept) fail(ErrorCode::Shape, name, "an output of " + std::to_string(kept) + " elements", std::to_string(out.numel()));
  if (indices) {
    if (op != ReduceOp::Max && op != ReduceOp::Min) fail(ErrorCode::Argument, name, "indices only for max/min", "indices");
    if (indices->dtype != DType::Int64 || !indices->is_contiguous() || indices->numel() != kept)
      fail(ErrorCode::Argument, name, "contiguous int64 indices of " + std::to_string(kept) + " elements", "another tensor");
  }
  bool needs_element = op == ReduceOp::Max || op == ReduceOp::Min || op == ReduceOp::Argmax || op == ReduceOp::Argmin;
  if (R == 0 && needs_element && kept > 0)
    fail(ErrorCode::Shape, name, "a non-empty reduced dimension", "a dimension of size 0");
  // (outer, R, inner) as a view when the input is contiguous and the reduced dims are one block.
  int first = -1, last = -1;
  bool block = true;
  for (int d = 0; d < in.ndim; ++d) {
    if (!reduce_mask[d] || in.shape[d] == 1) continue;
    if (first < 0) first = d;
    else if (last != d - 1) {
      for (int e = last + 1; e < d; ++e) if (in.shape[e] != 1) block = false;
    }
    last = d;
  }
  int64_t outer = 1, inner = 1;
  if (first < 0) {
    inner = kept;  // nothing of size > 1 is reduced: every line has R (== 1 or 0) elements
    outer = 1;
    if (!in.is_contiguous()) block = false;
  } else {
    for (int d = 0; d < first; ++d) outer *= in.shape[d];
    for (int d = last + 1; d < in.ndim; ++d) inner *= in.shape[d];
  }
  return {kept, R, outer, inner, block && in.is_contiguous()};
}

void reduce(ReduceOp op, const TensorDesc& out, const TensorDesc& in, const bool* reduce_mask, double correction,
            const TensorDesc* indices) {
  const ReducePlan plan = plan_reduce(op, out, in, reduce_mask, indices);
  const int64_t kept = plan.kept, R = plan.R;
  if (kept == 0) return;

  const int64_t outer = plan.outer, inner = plan.inner;
  if (!plan.in_place) {
    // Permute kept dims first, reduced dims last, and copy to a contiguous buffer.
    TensorDesc permuted = in;
    int k = 0;
    for (int pass = 0; pass < 2; ++pass)
      for (int d = 0; d < in.ndim; ++d)
        if (reduce_mask[d] == (pass == 1)) { permuted.shape[k] = in.shape[d]; permuted.strides[k] = in.strides[d]; ++k; }
    size_t bytes = static_cast<size_t>(kept * R) * dtype_size(in.dtype);
    struct Scratch {
      void* p;
      size_t n;
      ~Scratch() { release(p, n); }
    } scratch{allocate(bytes), bytes};
    unary(UnaryOp::Cast, contiguous_desc(scratch.p, in.dtype, permuted.shape, permuted.ndim), permuted, OpParams{});
    const void* src = scratch.p;
    dispatch_dtype(in.dtype, [&](auto tag) {
      using T = decltype(tag);
      dispatch_dtype(out.dtype, [&](auto otag) {
        using O = decltype(otag);
        reduce_lines<T, O>(op, static_cast<const T*>(src), kept, R, 1, out.ptr<O>(),
                           indices ? indices->ptr<int64_t>() : nullptr, correction);
      });
    });
    return;
  }
  dispatch_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    dispatch_dtype(out.dtype, [&](auto otag) {
      using O = decltype(otag);
      reduce_lines<T, O>(op, static_cast<const T*>(in.data), outer, R, inner, out.ptr<O>(),
                         indices ? indices->ptr<int64_t>() : nullptr, correction);
    });
  });
}

}  // namespace dendrite::cpu

#include "nll_loss.h"
#include <cstring>
#include <string>
#include <type_traits>

namespace dendrite::cpu {
namespace {

using Dims = NllLossDims;

// (N, C, inner) of the scores and the matching checks on target and weight.
Dims check_shapes(const char* op, const TensorDesc& input, const TensorDesc& target, const TensorDesc* weight) {
  if (!dtype_is_float(input.dtype)) fail(ErrorCode::DType, op, "floating-point scores", dtype_name(input.dtype));
  if (target.dtype != DType::Int32 && target.dtype != DType::Int64)
    fail(ErrorCode::DType, op, "an int32 or int64 target of class indices", dtype_name(target.dtype));
  if (input.ndim < 1) fail(ErrorCode::Shape, op, "scores of shape (C) or (N, C, ...)", "a 0-d tensor");
  if (!input.is_contiguous() || !target.is_contiguous()) fail(ErrorCode::Argument, op, "contiguous scores and target", "a strided view");
  Dims d;
  if (input.ndim == 1) {
    d.c = input.shape[0];
    if (target.ndim != 0) fail(ErrorCode::Shape, op, "a 0-d target for 1-D scores", shape_str(target.shape, target.ndim));
  } else {
    d.n = input.shape[0];
    d.c = input.shape[1];
    bool ok = target.ndim == input.ndim - 1 && target.shape[0] == d.n;
    for (int i = 2; ok && i < input.ndim; ++i) ok = target.shape[i - 1] == input.shape[i];
    if (!ok) fail(ErrorCode::Shape, op, "a target of the scores' shape without dim 1 (" + shape_str(input.shape, input.ndim) + ")",
                  shape_str(target.shape, target.ndim));
    for (int i = 2; i < input.ndim; ++i) d.inner *= input.shape[i];
  }
  if (weight) {
    if (weight->dtype != input.dtype) fail(ErrorCode::DType, op, std::string("a weight of dtype ") + dtype_name(input.dtype), dtype_name(weight->dtype));
    if (weight->ndim != 1 || weight->shape[0] != d.c)
      fail(ErrorCode::Shape, op, "a weight of shape [" + std::to_string(d.c) + "]", shape_str(weight->shape, weight->ndim));
  }
  return d;
}

template <class I>
void check_targets(const char* op, const I* t, int64_t count, int64_t c, int64_t ignore_index) {
  for (int64_t i = 0; i < count; ++i) {
    int64_t v = static_cast<int64_t>(t[i]);
    if (v != ignore_index && (v < 0 || v >= c))
      fail(ErrorCode::Index, op, "target values in [0, " + std::to_string(c) + ") or ignoreIndex " + std::to_string(ignore_index),
           std::to_string(v) + " at position " + std::to_string(i));
  }
}

template <class F>
void with_types(const TensorDesc& input, const TensorDesc& target, F f) {
  auto by_index = [&](auto tag) {
    using T = decltype(tag);
    if (target.dtype == DType::Int32) f(T{}, int32_t{});
    else f(T{}, int64_t{});
  };
  if (input.dtype == DType::Float32) by_index(float{});
  else by_index(double{});
}

// Strided element access for grad_out of Reduction::None (target-shaped, maybe a broadcast view).
int64_t strided_offset(const TensorDesc& t, int64_t flat) {
  int64_t off = 0;
  for (int d = t.ndim - 1; d >= 0; --d) {
    off += (flat % t.shape[d]) * t.strides[d];
    flat /= t.shape[d];
  }
  return off;
}

}  // namespace

NllLossDims check_nll_loss_forward_args(const TensorDesc& out, const TensorDesc& total_weight, const TensorDesc& input,
                                        const TensorDesc& target, const TensorDesc* weight, Reduction reduction) {
  const char* op = "nllLoss";
  const Dims d = check_shapes(op, input, target, weight);
  const int64_t count = d.n * d.inner;
  if (total_weight.dtype != input.dtype || total_weight.numel() != 1) fail(ErrorCode::Shape, op, "a one-element total_weight", "another");
  if (out.dtype != input.dtype) fail(ErrorCode::DType, op, std::string("an output of dtype ") + dtype_name(input.dtype), dtype_name(out.dtype));
  if (reduction == Reduction::None) {
    if (out.numel() != count || !out.is_contiguous()) fail(ErrorCode::Shape, op, "a contiguous output of the target's size", shape_str(out.shape, out.ndim));
  } else if (out.numel() != 1) {
    fail(ErrorCode::Shape, op, "a one-element output", shape_str(out.shape, out.ndim));
  }
  return d;
}

NllLossDims check_nll_loss_backward_args(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& target,
                                         const TensorDesc* weight, const TensorDesc& total_weight, Reduction reduction) {
  const char* op = "nllLoss backward";
  const Dims d = check_shapes(op, grad_input, target, weight);
  const int64_t count = d.n * d.inner;
  if (grad_out.dtype != grad_input.dtype || total_weight.dtype != grad_input.dtype || total_weight.numel() != 1)
    fail(ErrorCode::DType, op, std::string("grad and total_weight of dtype ") + dtype_name(grad_input.dtype), dtype_name(grad_out.dtype));
  if (reduction == Reduction::None ? grad_out.numel() != count : grad_out.numel() != 1)
    fail(ErrorCode::Shape, op, reduction == Reduction::None ? "a gradient of the target's size" : "a one-element gradient",
         shape_str(grad_out.shape, grad_out.ndim));
  return d;
}

void nll_loss_forward(const TensorDesc& out, const TensorDesc& total_weight, const TensorDesc& input,
                      const TensorDesc& target, const TensorDesc* weight, int64_t ignore_index, Reduction reduction) {
  const char* op = "nllLoss";
  const Dims d = check_nll_loss_forward_args(out, total_weight, input, target, weight, reduction);
  const int64_t count = d.n * d.inner;
  with_types(input, target, [&](auto ttag, auto itag) {
    using T = decltype(ttag);
    using I = decltype(itag);
    const T* x = input.ptr<T>();
    const I* t = target.ptr<I>();
    const T* w = weight ? weight->ptr<T>() : nullptr;
    check_targets(op, t, count, d.c, ignore_index);
    T* o = out.ptr<T>();
    double sum = 0, wsum = 0;
    for (int64_t n = 0; n < d.n; ++n) {
      for (int64_t i = 0; i < d.inner; ++i) {
        int64_t k = n * d.inner + i;
        int64_t cls = static_cast<int64_t>(t[k]);
        if (cls == ignore_index) {
          if (reduction == Reduction::None) o[k] = T(0);
          continue;
        }
        T wc = w ? w[cls] : T(1);
        T v = -wc * x[(n * d.c + cls) * d.inner + i];
        if (reduction == Reduction::None) o[k] = v;
        sum += static_cast<double>(v);
        wsum += static_cast<double>(wc);
      }
    }
    *total_weight.ptr<T>() = static_cast<T>(wsum);
    if (reduction == Reduction::Sum) *o = static_cast<T>(sum);
    else if (reduction == Reduction::Mean) *o = static_cast<T>(sum) / static_cast<T>(wsum);
  });
}

void nll_loss_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& target,
                       const TensorDesc* weight, const TensorDesc& total_weight, int64_t ignore_index, Reduction reduction) {
  const char* op = "nllLoss backward";
  const Dims d = check_nll_loss_backward_args(grad_input, grad_out, target, weight, total_weight, reduction);
  const int64_t count = d.n * d.inner;
  with_types(grad_input, target, [&](auto ttag, auto itag) {
    using T = decltype(ttag);
    using I = decltype(itag);
    const I* t = target.ptr<I>();
    const T* w = weight ? weight->ptr<T>() : nullptr;
    check_targets(op, t, count, d.c, ignore_index);
    T* gi = grad_input.ptr<T>();
    std::memset(gi, 0, static_cast<size_t>(grad_input.numel()) * sizeof(T));
    const T* go = grad_out.ptr<T>();
    T scalar = T(0);
    if (reduction != Reduction::None) scalar = reduction == Reduction::Mean ? -(*go / *total_weight.ptr<T>()) : -*go;
    for (int64_t n = 0; n < d.n; ++n) {
      for (int64_t i = 0; i < d.inner; ++i) {
        int64_t k = n * d.inner + i;
        int64_t cls = static_cast<int64_t>(t[k]);
        if (cls == ignore_index) continue;
        T g = reduction == Reduction::None ? -go[strided_offset(grad_out, k)] : scalar;
        gi[(n * d.c + cls) * d.inner + i] = w ? w[cls] * g : g;
      }
    }
  });
}

}  // namespace dendrite::cpu

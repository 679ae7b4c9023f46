// Driver and scalar reference for the optimizer family: validates the operands, splits the
// flat range across the thread pool, and runs the ISA's float32 kernel or the scalar rules.
#include "optim.h"
#include <cstring>
#include <string>
#include "../../core/dispatch.h"
#include "../../core/iterator.h"
#include "optim_rules.h"

namespace dendrite::cpu {
namespace {

void fill_scalar(OptimTable& t) { std::memset(&t, 0, sizeof(t)); }

const OptimTable& table() {
  static IsaTables<OptimTable> tables(fill_scalar, DENDRITE_X86_FILLER(fill_optim_avx2),
                                      DENDRITE_X86_FILLER(fill_optim_avx512), DENDRITE_NEON_FILLER(fill_optim_neon));
  return tables.active();
}

// Checks that every operand is a contiguous float tensor with param's dtype and element count.
void check_operands(const char* op, const TensorDesc& param, std::initializer_list<std::pair<const char*, const TensorDesc*>> others) {
  if (!dtype_is_float(param.dtype)) fail(ErrorCode::DType, op, "a float32 or float64 parameter", dtype_name(param.dtype));
  if (!param.is_contiguous()) fail(ErrorCode::Argument, op, "a contiguous parameter", "a strided view");
  const int64_t n = param.numel();
  for (const auto& [name, t] : others) {
    if (t == nullptr) continue;
    if (t->dtype != param.dtype)
      fail(ErrorCode::DType, op, std::string(name) + " of dtype " + dtype_name(param.dtype), dtype_name(t->dtype));
    if (t->numel() != n)
      fail(ErrorCode::Shape, op, std::string(name) + " of " + std::to_string(n) + " elements", shape_str(t->shape, t->ndim));
    if (!t->is_contiguous()) fail(ErrorCode::Argument, op, std::string("a contiguous ") + name, "a strided view");
  }
}

template <class T>
T* at(const TensorDesc* t, int64_t i) {
  return t ? t->ptr<T>() + i : nullptr;
}

// Runs body(lo, hi) over [0, n) on the pool; the update is elementwise, so chunks are independent.
template <class Body>
void for_range(int64_t n, Body body) {
  if (n < 2 * kElementwiseGrain) { if (n > 0) body(int64_t{0}, n); return; }
  parallel_for(0, n, kElementwiseGrain, [&](int64_t lo, int64_t hi) { body(lo, hi); });
}

}  // namespace

void sgd_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc* buf, const SgdHyper& h) {
  check_operands("SGD.step", param, {{"grad", &grad}, {"momentum_buffer", buf}});
  if (h.momentum != 0 && buf == nullptr) fail(ErrorCode::Argument, "SGD.step", "a momentum buffer when momentum != 0", "none");
  dispatch_dtype(param.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      for_range(param.numel(), [&](int64_t lo, int64_t hi) {
        T* b = h.momentum != 0 ? at<T>(buf, lo) : nullptr;
        if constexpr (std::is_same_v<T, float>)
          if (table().sgd_f32) return table().sgd_f32(at<T>(&param, lo), at<T>(&grad, lo), b, hi - lo, h);
        ScalarLoops<T>::sgd(at<T>(&param, lo), at<T>(&grad, lo), b, hi - lo, h);
      });
    }
  });
}

void adam_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc& exp_avg, const TensorDesc& exp_avg_sq,
               const TensorDesc* max_exp_avg_sq, const AdamHyper& h) {
  const char* op = h.decoupled ? "AdamW.step" : "Adam.step";
  check_operands(op, param, {{"grad", &grad}, {"exp_avg", &exp_avg}, {"exp_avg_sq", &exp_avg_sq}, {"max_exp_avg_sq", max_exp_avg_sq}});
  if (h.amsgrad && max_exp_avg_sq == nullptr) fail(ErrorCode::Argument, op, "a max_exp_avg_sq buffer with amsgrad", "none");
  dispatch_dtype(param.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      for_range(param.numel(), [&](int64_t lo, int64_t hi) {
        T* vmax = h.amsgrad ? at<T>(max_exp_avg_sq, lo) : nullptr;
        if constexpr (std::is_same_v<T, float>)
          if (table().adam_f32)
            return table().adam_f32(at<T>(&param, lo), at<T>(&grad, lo), at<T>(&exp_avg, lo), at<T>(&exp_avg_sq, lo), vmax, hi - lo, h);
        ScalarLoops<T>::adam(at<T>(&param, lo), at<T>(&grad, lo), at<T>(&exp_avg, lo), at<T>(&exp_avg_sq, lo), vmax, hi - lo, h);
      });
    }
  });
}

void adamax_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc& exp_avg, const TensorDesc& exp_inf,
                 const AdamaxHyper& h) {
  check_operands("Adamax.step", param, {{"grad", &grad}, {"exp_avg", &exp_avg}, {"exp_inf", &exp_inf}});
  dispatch_dtype(param.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      for_range(param.numel(), [&](int64_t lo, int64_t hi) {
        if constexpr (std::is_same_v<T, float>)
          if (table().adamax_f32)
            return table().adamax_f32(at<T>(&param, lo), at<T>(&grad, lo), at<T>(&exp_avg, lo), at<T>(&exp_inf, lo), hi - lo, h);
        ScalarLoops<T>::adamax(at<T>(&param, lo), at<T>(&grad, lo), at<T>(&exp_avg, lo), at<T>(&exp_inf, lo), hi - lo, h);
      });
    }
  });
}

void nadam_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc& exp_avg, const TensorDesc& exp_avg_sq,
                const NAdamHyper& h) {
  check_operands("NAdam.step", param, {{"grad", &grad}, {"exp_avg", &exp_avg}, {"exp_avg_sq", &exp_avg_sq}});
  dispatch_dtype(param.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      for_range(param.numel(), [&](int64_t lo, int64_t hi) {
        if constexpr (std::is_same_v<T, float>)
          if (table().nadam_f32)
            return table().nadam_f32(at<T>(&param, lo), at<T>(&grad, lo), at<T>(&exp_avg, lo), at<T>(&exp_avg_sq, lo), hi - lo, h);
        ScalarLoops<T>::nadam(at<T>(&param, lo), at<T>(&grad, lo), at<T>(&exp_avg, lo), at<T>(&exp_avg_sq, lo), hi - lo, h);
      });
    }
  });
}

void rmsprop_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc& square_avg, const TensorDesc* grad_avg,
                  const TensorDesc* buf, const RmspropHyper& h) {
  check_operands("RMSprop.step", param, {{"grad", &grad}, {"square_avg", &square_avg}, {"grad_avg", grad_avg}, {"momentum_buffer", buf}});
  if (h.centered && grad_avg == nullptr) fail(ErrorCode::Argument, "RMSprop.step", "a grad_avg buffer when centered", "none");
  if (h.momentum > 0 && buf == nullptr) fail(ErrorCode::Argument, "RMSprop.step", "a momentum buffer when momentum > 0", "none");
  dispatch_dtype(param.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      for_range(param.numel(), [&](int64_t lo, int64_t hi) {
        T* ga = h.centered ? at<T>(grad_avg, lo) : nullptr;
        T* b = h.momentum > 0 ? at<T>(buf, lo) : nullptr;
        if constexpr (std::is_same_v<T, float>)
          if (table().rmsprop_f32)
            return table().rmsprop_f32(at<T>(&param, lo), at<T>(&grad, lo), at<T>(&square_avg, lo), ga, b, hi - lo, h);
        ScalarLoops<T>::rmsprop(at<T>(&param, lo), at<T>(&grad, lo), at<T>(&square_avg, lo), ga, b, hi - lo, h);
      });
    }
  });
}

void adagrad_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc& sum, const AdagradHyper& h) {
  check_operands("Adagrad.step", param, {{"grad", &grad}, {"sum", &sum}});
  dispatch_dtype(param.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      for_range(param.numel(), [&](int64_t lo, int64_t hi) {
        if constexpr (std::is_same_v<T, float>)
          if (table().adagrad_f32)
            return table().adagrad_f32(at<T>(&param, lo), at<T>(&grad, lo), at<T>(&sum, lo), hi - lo, h);
        ScalarLoops<T>::adagrad(at<T>(&param, lo), at<T>(&grad, lo), at<T>(&sum, lo), hi - lo, h);
      });
    }
  });
}

}  // namespace dendrite::cpu

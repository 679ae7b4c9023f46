// Multi-tensor optimizer steps on CUDA, as the binding sees them: plain C++ (no CUDA headers).
//
// One call steps every parameter of a group in ONE kernel launch: the host builds a table of
// OptimTensor entries (pointers, sizes and each tensor's own hyper-parameters, which differ per
// tensor where the step count does), uploads it in one small copy, and the kernel's blocks walk
// fixed-size chunks of all tensors together, each finding its tensor by binary search over the
// chunk offsets. The per-element math is native/cpu/optim/optim_rules.h, operation for operation,
// with every product, sum, quotient and square root rounded on its own (no fma contraction), so
// the results match the CPU's scalar reference.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cuda {

// The binding's optimizer codes (native/binding/optim.cc, kKindNames).
enum class OptimKind : int32_t { Sgd = 0, Adam, Adamax, NAdam, Rmsprop, Adagrad };

constexpr int kOptimMaxHyper = 10;
constexpr int kOptimMaxState = 3;

// One parameter: device pointers of param, grad and the kind's state tensors (null where the
// options leave one out), all contiguous with `numel` elements of one float dtype, and its hyper
// values in the layout of the CPU binding's Float64Array for that kind (flags as 0 / 1).
struct OptimTensor {
  void* param = nullptr;
  const void* grad = nullptr;
  void* state[kOptimMaxState] = {nullptr, nullptr, nullptr};
  int64_t numel = 0;
  double hyper[kOptimMaxHyper] = {};
};

// Steps every tensor of `tensors` (float32 or float64) with one launch; checks that each has the
// state its options need first (ERR_ARGUMENT), as the CPU's *_step functions do.
void optim_step_multi(OptimKind kind, DType dtype, const OptimTensor* tensors, int64_t count);

// How many multi-tensor kernels have been launched so far (for tests: one per step and group).
int64_t optim_multi_launches();

}  // namespace dendrite::cuda

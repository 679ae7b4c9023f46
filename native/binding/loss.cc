// N-API side of the loss family, on the CPU or on CUDA (native/cuda/loss) by the operands' device.
#include "../cpu/loss/nll_loss.h"
#include "common.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/loss/loss.h"
#endif

namespace dendrite::binding {
namespace {

cpu::Reduction reduction_arg(const Napi::CallbackInfo& info, size_t i, const char* op) {
  int r = arg_int(info, i, op);
  if (r < 0 || r > 2) fail(ErrorCode::Argument, op, "a reduction code 0 (none), 1 (mean) or 2 (sum)", std::to_string(r));
  return static_cast<cpu::Reduction>(r);
}

int64_t index_arg(const Napi::CallbackInfo& info, size_t i, const char* op) {
  double v = arg_double(info, i, op);
  if (!(v >= -9007199254740992.0 && v <= 9007199254740992.0) || v != static_cast<double>(static_cast<int64_t>(v)))
    fail(ErrorCode::Argument, op, "an integer ignoreIndex", std::to_string(v));
  return static_cast<int64_t>(v);
}

// nllLoss(reduction, ignoreIndex, out, totalWeight, input, target[, weight])
Napi::Value NllLoss(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "nllLoss";
    cpu::Reduction r = reduction_arg(info, 0, op);
    int64_t ignore = index_arg(info, 1, op);
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[2], op);
    TensorDesc total = read_tensor(meta, info[3], op);
    TensorDesc input = read_tensor(meta, info[4], op);
    TensorDesc target = read_tensor(meta, info[5], op);
    TensorDesc weight;
    bool has_weight = info.Length() > 6 && !info[6].IsUndefined() && !info[6].IsNull();
    if (has_weight) weight = read_tensor(meta, info[6], op);
    const Device dev = has_weight ? common_device(op, {&out, &total, &input, &target, &weight}) : common_device(op, {&out, &total, &input, &target});
    if (dev == Device::Cuda) DENDRITE_ON_CUDA(cuda::nll_loss_forward(out, total, input, target, has_weight ? &weight : nullptr, ignore, r));
    else cpu::nll_loss_forward(out, total, input, target, has_weight ? &weight : nullptr, ignore, r);
    return info.Env().Undefined();
  });
}

// nllLossBackward(reduction, ignoreIndex, gradInput, gradOut, target, totalWeight[, weight])
Napi::Value NllLossBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "nllLoss backward";
    cpu::Reduction r = reduction_arg(info, 0, op);
    int64_t ignore = index_arg(info, 1, op);
    MetaReader meta(kRoutesCuda);
    TensorDesc gi = read_tensor(meta, info[2], op);
    TensorDesc go = read_tensor(meta, info[3], op);
    TensorDesc target = read_tensor(meta, info[4], op);
    TensorDesc total = read_tensor(meta, info[5], op);
    TensorDesc weight;
    bool has_weight = info.Length() > 6 && !info[6].IsUndefined() && !info[6].IsNull();
    if (has_weight) weight = read_tensor(meta, info[6], op);
    const Device dev = has_weight ? common_device(op, {&gi, &go, &target, &total, &weight}) : common_device(op, {&gi, &go, &target, &total});
    if (dev == Device::Cuda) DENDRITE_ON_CUDA(cuda::nll_loss_backward(gi, go, target, has_weight ? &weight : nullptr, total, ignore, r));
    else cpu::nll_loss_backward(gi, go, target, has_weight ? &weight : nullptr, total, ignore, r);
    return info.Env().Undefined();
  });
}

}  // namespace

void init_loss(Napi::Env env, Napi::Object exports) {
  exports.Set("nllLoss", Napi::Function::New(env, NllLoss, "nllLoss"));
  exports.Set("nllLossBackward", Napi::Function::New(env, NllLossBackward, "nllLossBackward"));
}

}  // namespace dendrite::binding

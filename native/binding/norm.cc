// N-API side of batch norm. Optional tensors are passed as undefined (and have no layout in
// the metadata channel); the layouts present come in argument order.
#include "../cpu/norm/batch_norm.h"
#include "common.h"

namespace dendrite::binding {
namespace {

bool present(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() && !info[i].IsUndefined() && !info[i].IsNull(); }

// batchNorm(training, momentum, eps, y, saveMean, saveInvstd, x, weight?, bias?, runningMean?, runningVar?)
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "batchNorm";
    const bool training = arg_bool(info, 0, op);
    const double momentum = arg_double(info, 1, op), eps = arg_double(info, 2, op);
    MetaReader meta;
    TensorDesc y = read_tensor(meta, info[3], op);
    TensorDesc save_mean = read_tensor(meta, info[4], op);
    TensorDesc save_invstd = read_tensor(meta, info[5], op);
    TensorDesc x = read_tensor(meta, info[6], op);
    TensorDesc opt[4];
    const TensorDesc* ptrs[4] = {nullptr, nullptr, nullptr, nullptr};
    for (size_t k = 0; k < 4; ++k)
      if (present(info, 7 + k)) {
        opt[k] = read_tensor(meta, info[7 + k], op);
        ptrs[k] = &opt[k];
      }
    cpu::batch_norm_forward(y, save_mean, save_invstd, x, ptrs[0], ptrs[1], ptrs[2], ptrs[3], training, momentum, eps);
    return info.Env().Undefined();
  });
}

// batchNormBackward(training, gy, x, saveMean, saveInvstd, weight?, gx?, gw?, gb?)
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "batchNorm backward";
    const bool training = arg_bool(info, 0, op);
    MetaReader meta;
    TensorDesc gy = read_tensor(meta, info[1], op);
    TensorDesc x = read_tensor(meta, info[2], op);
    TensorDesc save_mean = read_tensor(meta, info[3], op);
    TensorDesc save_invstd = read_tensor(meta, info[4], op);
    TensorDesc opt[4];
    const TensorDesc* ptrs[4] = {nullptr, nullptr, nullptr, nullptr};
    for (size_t k = 0; k < 4; ++k)
      if (present(info, 5 + k)) {
        opt[k] = read_tensor(meta, info[5 + k], op);
        ptrs[k] = &opt[k];
      }
    cpu::batch_norm_backward(ptrs[1], ptrs[2], ptrs[3], gy, x, ptrs[0], save_mean, save_invstd, training);
    return info.Env().Undefined();
  });
}

}  // namespace

void init_norm(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm, "batchNorm"));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward, "batchNormBackward"));
}

}  // namespace dendrite::binding

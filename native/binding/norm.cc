// N-API side of batch norm, and of the CUDA-only embedding kernels (the deterministic backward
// and the max-norm renormalisation; on the CPU, embedding composes indexSelect / indexAdd).
// Optional tensors are passed as undefined (and have no layout in the metadata channel); the
// layouts present come in argument order. CUDA tensors go to native/cuda/norm.
#include "../cpu/norm/batch_norm.h"
#include "common.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/norm/norm.h"
#endif

namespace dendrite::binding {
namespace {

bool present(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() && !info[i].IsUndefined() && !info[i].IsNull(); }

// Whether the operands (the required ones and the optional ones given) sit on CUDA; operands on
// different devices throw ERR_DEVICE.
bool on_cuda(const char* op, std::initializer_list<const TensorDesc*> required, const TensorDesc* const (&optional)[4]) {
  Device dev = common_device(op, required);
  for (const TensorDesc* t : optional)
    if (t) dev = common_device(op, {required.begin()[0], t});
  return dev == Device::Cuda;
}

// batchNorm(training, momentum, eps, y, saveMean, saveInvstd, x, weight?, bias?, runningMean?, runningVar?)
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "batchNorm";
    const bool training = arg_bool(info, 0, op);
    const double momentum = arg_double(info, 1, op), eps = arg_double(info, 2, op);
    MetaReader meta(kRoutesCuda);
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
    if (on_cuda(op, {&y, &save_mean, &save_invstd, &x}, ptrs))
      DENDRITE_ON_CUDA(cuda::batch_norm_forward(y, save_mean, save_invstd, x, ptrs[0], ptrs[1], ptrs[2], ptrs[3], training, momentum, eps));
    else
      cpu::batch_norm_forward(y, save_mean, save_invstd, x, ptrs[0], ptrs[1], ptrs[2], ptrs[3], training, momentum, eps);
    return info.Env().Undefined();
  });
}

// batchNormBackward(training, gy, x, saveMean, saveInvstd, weight?, gx?, gw?, gb?)
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "batchNorm backward";
    const bool training = arg_bool(info, 0, op);
    MetaReader meta(kRoutesCuda);
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
    if (on_cuda(op, {&gy, &x, &save_mean, &save_invstd}, ptrs))
      DENDRITE_ON_CUDA(cuda::batch_norm_backward(ptrs[1], ptrs[2], ptrs[3], gy, x, ptrs[0], save_mean, save_invstd, training));
    else
      cpu::batch_norm_backward(ptrs[1], ptrs[2], ptrs[3], gy, x, ptrs[0], save_mean, save_invstd, training);
    return info.Env().Undefined();
  });
}

// embeddingBackward(paddingIdx, gw, indices, gy): CUDA only; paddingIdx -1 for none.
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "embedding backward";
    [[maybe_unused]] const int64_t padding_idx = static_cast<int64_t>(arg_double(info, 0, op));
    MetaReader meta(kRoutesCuda);
    TensorDesc gw = read_tensor(meta, info[1], op);
    TensorDesc indices = read_tensor(meta, info[2], op);
    TensorDesc gy = read_tensor(meta, info[3], op);
    if (common_device(op, {&gw, &indices, &gy}) != Device::Cuda)
      fail(ErrorCode::Device, op, "cuda tensors (on the CPU, embedding's backward is indexAdd)", "cpu tensors");
    DENDRITE_ON_CUDA(cuda::embedding_backward(gw, indices, gy, padding_idx));
    return info.Env().Undefined();
  });
}

// embeddingRenorm(maxNorm, normType, weight, indices): CUDA only.
Napi::Value EmbeddingRenorm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "embedding";
    [[maybe_unused]] const double max_norm = arg_double(info, 0, op);
    [[maybe_unused]] const double norm_type = arg_double(info, 1, op);
    MetaReader meta(kRoutesCuda);
    TensorDesc weight = read_tensor(meta, info[2], op);
    TensorDesc indices = read_tensor(meta, info[3], op);
    if (common_device(op, {&weight, &indices}) != Device::Cuda)
      fail(ErrorCode::Device, op, "cuda tensors (on the CPU, maxNorm composes tensor ops)", "cpu tensors");
    DENDRITE_ON_CUDA(cuda::embedding_renorm(weight, indices, max_norm, norm_type));
    return info.Env().Undefined();
  });
}

}  // namespace

void init_norm(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm, "batchNorm"));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward, "batchNormBackward"));
  exports.Set("embeddingBackward", Napi::Function::New(env, EmbeddingBackward, "embeddingBackward"));
  exports.Set("embeddingRenorm", Napi::Function::New(env, EmbeddingRenorm, "embeddingRenorm"));
}

}  // namespace dendrite::binding

// N-API side of the pooling family. Window arguments come first as numbers:
// (kH, kW, strideH, strideW, padH, padW, dilH, dilW), then the options, then the tensors.
// Every function routes CUDA tensors to native/cuda/pool; resample / resampleBackward (the
// one-dim resampling behind interpolate and pad on CUDA) exist on CUDA only: the CPU composes
// those ops from indexSelect.
#include "../cpu/pool/pool.h"
#include "common.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/pool/pool.h"
#endif

namespace dendrite::binding {
namespace {

constexpr size_t kNumParams = 8;

cpu::PoolParams pool_params(const Napi::CallbackInfo& info, const char* op, size_t first = 0) {
  cpu::PoolParams p;
  p.kernel_h = arg_int(info, first + 0, op);
  p.kernel_w = arg_int(info, first + 1, op);
  p.stride_h = arg_int(info, first + 2, op);
  p.stride_w = arg_int(info, first + 3, op);
  p.pad_h = arg_int(info, first + 4, op);
  p.pad_w = arg_int(info, first + 5, op);
  p.dil_h = arg_int(info, first + 6, op);
  p.dil_w = arg_int(info, first + 7, op);
  return p;
}

bool present(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() && !info[i].IsUndefined() && !info[i].IsNull(); }

// maxPool2d(window..., y, indices, x, ignoreNan?)
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "maxPool2d";
    cpu::PoolParams p = pool_params(info, op);
    MetaReader meta(kRoutesCuda);
    TensorDesc y = read_tensor(meta, info[kNumParams], op);
    TensorDesc indices = read_tensor(meta, info[kNumParams + 1], op);
    TensorDesc x = read_tensor(meta, info[kNumParams + 2], op);
    if (info.Length() > kNumParams + 3 && !info[kNumParams + 3].IsUndefined()) p.ignore_nan = arg_bool(info, kNumParams + 3, op);
    if (common_device(op, {&y, &indices, &x}) == Device::Cuda) DENDRITE_ON_CUDA(cuda::max_pool2d_forward(y, indices, x, p));
    else cpu::max_pool2d_forward(y, indices, x, p);
    return info.Env().Undefined();
  });
}

// maxPool2dBackward(gx, gy, indices, window...?): also the backward of adaptive max pooling.
// The CPU scatters through the indices alone; CUDA gathers, and needs to know which outputs can
// name an input element: those of the window (the 8 numbers after the tensors) or, when that
// is the single number -1, of the adaptive windows.
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "maxPool2d backward";
    MetaReader meta(kRoutesCuda);
    TensorDesc gx = read_tensor(meta, info[0], op);
    TensorDesc gy = read_tensor(meta, info[1], op);
    TensorDesc indices = read_tensor(meta, info[2], op);
    if (common_device(op, {&gx, &gy, &indices}) == Device::Cuda) {
      if (!present(info, 3))
        fail(ErrorCode::Argument, op, "the pooling window after the tensors on cuda (8 numbers, or -1 for adaptive windows)", "none");
      const bool windowed = arg_int(info, 3, op) != -1;
      cpu::PoolParams p;
      if (windowed) p = pool_params(info, op, 3);
      DENDRITE_ON_CUDA(cuda::max_pool2d_backward(gx, gy, indices, windowed ? &p : nullptr));
    } else {
      cpu::max_pool2d_backward(gx, gy, indices);
    }
    return info.Env().Undefined();
  });
}

// avgPool2d(window..., countIncludePad, divisorOverride, y, x)
// avgPool2dBackward(window..., countIncludePad, divisorOverride, gx, gy)
template <bool Backward>
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = Backward ? "avgPool2d backward" : "avgPool2d";
    cpu::PoolParams p = pool_params(info, op);
    const bool count_include_pad = arg_bool(info, kNumParams, op);
    const int64_t divisor_override = arg_int(info, kNumParams + 1, op);
    MetaReader meta(kRoutesCuda);
    TensorDesc a = read_tensor(meta, info[kNumParams + 2], op);
    TensorDesc b = read_tensor(meta, info[kNumParams + 3], op);
    if (common_device(op, {&a, &b}) == Device::Cuda) {
      if (Backward) DENDRITE_ON_CUDA(cuda::avg_pool2d_backward(a, b, p, count_include_pad, divisor_override));
      else DENDRITE_ON_CUDA(cuda::avg_pool2d_forward(a, b, p, count_include_pad, divisor_override));
    } else if (Backward) {
      cpu::avg_pool2d_backward(a, b, p, count_include_pad, divisor_override);
    } else {
      cpu::avg_pool2d_forward(a, b, p, count_include_pad, divisor_override);
    }
    return info.Env().Undefined();
  });
}

// adaptiveAvgPool2d(y, x) / adaptiveAvgPool2dBackward(gx, gy)
template <bool Backward>
Napi::Value AdaptiveAvg(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = Backward ? "adaptiveAvgPool2d backward" : "adaptiveAvgPool2d";
    MetaReader meta(kRoutesCuda);
    TensorDesc a = read_tensor(meta, info[0], op);
    TensorDesc b = read_tensor(meta, info[1], op);
    if (common_device(op, {&a, &b}) == Device::Cuda) {
      if (Backward) DENDRITE_ON_CUDA(cuda::adaptive_avg_pool2d_backward(a, b));
      else DENDRITE_ON_CUDA(cuda::adaptive_avg_pool2d_forward(a, b));
    } else if (Backward) {
      cpu::adaptive_avg_pool2d_backward(a, b);
    } else {
      cpu::adaptive_avg_pool2d_forward(a, b);
    }
    return info.Env().Undefined();
  });
}

// adaptiveMaxPool2d(y, indices, x)
Napi::Value AdaptiveMaxPool2d(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "adaptiveMaxPool2d";
    MetaReader meta(kRoutesCuda);
    TensorDesc y = read_tensor(meta, info[0], op);
    TensorDesc indices = read_tensor(meta, info[1], op);
    TensorDesc x = read_tensor(meta, info[2], op);
    if (common_device(op, {&y, &indices, &x}) == Device::Cuda) DENDRITE_ON_CUDA(cuda::adaptive_max_pool2d_forward(y, indices, x));
    else cpu::adaptive_max_pool2d_forward(y, indices, x);
    return info.Env().Undefined();
  });
}

// resample(dim, out, x, plan, weights?) / resampleBackward(dim, gx, gy, plan, weights?): see
// native/cuda/pool/pool_math.cuh for the plan.
template <bool Backward>
Napi::Value Resample(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = Backward ? "resample backward" : "resample";
    [[maybe_unused]] const int32_t dim = arg_int(info, 0, op);
    MetaReader meta(kRoutesCuda);
    TensorDesc a = read_tensor(meta, info[1], op);
    TensorDesc b = read_tensor(meta, info[2], op);
    TensorDesc plan = read_tensor(meta, info[3], op);
    const bool weighted = present(info, 4);
    TensorDesc weights;
    if (weighted) weights = read_tensor(meta, info[4], op);
    Device dev = weighted ? common_device(op, {&a, &b, &plan, &weights}) : common_device(op, {&a, &b, &plan});
    if (dev != Device::Cuda) fail(ErrorCode::Device, op, "cuda tensors (on the CPU, interpolate and pad compose indexSelect)", "cpu tensors");
    if (Backward) DENDRITE_ON_CUDA(cuda::resample_backward(a, b, dim, plan, weighted ? &weights : nullptr));
    else DENDRITE_ON_CUDA(cuda::resample_forward(a, b, dim, plan, weighted ? &weights : nullptr));
    return info.Env().Undefined();
  });
}

}  // namespace

void init_pool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool2d", Napi::Function::New(env, MaxPool2d, "maxPool2d"));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward, "maxPool2dBackward"));
  exports.Set("avgPool2d", Napi::Function::New(env, AvgPool2d<false>, "avgPool2d"));
  exports.Set("avgPool2dBackward", Napi::Function::New(env, AvgPool2d<true>, "avgPool2dBackward"));
  exports.Set("adaptiveAvgPool2d", Napi::Function::New(env, AdaptiveAvg<false>, "adaptiveAvgPool2d"));
  exports.Set("adaptiveAvgPool2dBackward", Napi::Function::New(env, AdaptiveAvg<true>, "adaptiveAvgPool2dBackward"));
  exports.Set("adaptiveMaxPool2d", Napi::Function::New(env, AdaptiveMaxPool2d, "adaptiveMaxPool2d"));
  exports.Set("resample", Napi::Function::New(env, Resample<false>, "resample"));
  exports.Set("resampleBackward", Napi::Function::New(env, Resample<true>, "resampleBackward"));
}

}  // namespace dendrite::binding

// N-API side of the pooling family. Window arguments come first as numbers:
// (kH, kW, strideH, strideW, padH, padW, dilH, dilW), then the options, then the tensors.
#include "../cpu/pool/pool.h"
#include "common.h"

namespace dendrite::binding {
namespace {

constexpr size_t kNumParams = 8;

cpu::PoolParams pool_params(const Napi::CallbackInfo& info, const char* op) {
  cpu::PoolParams p;
  p.kernel_h = arg_int(info, 0, op);
  p.kernel_w = arg_int(info, 1, op);
  p.stride_h = arg_int(info, 2, op);
  p.stride_w = arg_int(info, 3, op);
  p.pad_h = arg_int(info, 4, op);
  p.pad_w = arg_int(info, 5, op);
  p.dil_h = arg_int(info, 6, op);
  p.dil_w = arg_int(info, 7, op);
  return p;
}

// maxPool2d(window..., y, indices, x, ignoreNan?)
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "maxPool2d";
    cpu::PoolParams p = pool_params(info, op);
    MetaReader meta;
    TensorDesc y = read_tensor(meta, info[kNumParams], op);
    TensorDesc indices = read_tensor(meta, info[kNumParams + 1], op);
    TensorDesc x = read_tensor(meta, info[kNumParams + 2], op);
    if (info.Length() > kNumParams + 3 && !info[kNumParams + 3].IsUndefined()) p.ignore_nan = arg_bool(info, kNumParams + 3, op);
    cpu::max_pool2d_forward(y, indices, x, p);
    return info.Env().Undefined();
  });
}

// maxPool2dBackward(gx, gy, indices): also the backward of adaptive max pooling.
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "maxPool2d backward";
    MetaReader meta;
    TensorDesc gx = read_tensor(meta, info[0], op);
    TensorDesc gy = read_tensor(meta, info[1], op);
    TensorDesc indices = read_tensor(meta, info[2], op);
    cpu::max_pool2d_backward(gx, gy, indices);
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
    MetaReader meta;
    TensorDesc a = read_tensor(meta, info[kNumParams + 2], op);
    TensorDesc b = read_tensor(meta, info[kNumParams + 3], op);
    if (Backward) cpu::avg_pool2d_backward(a, b, p, count_include_pad, divisor_override);
    else cpu::avg_pool2d_forward(a, b, p, count_include_pad, divisor_override);
    return info.Env().Undefined();
  });
}

// adaptiveAvgPool2d(y, x) / adaptiveAvgPool2dBackward(gx, gy)
template <void (*Kernel)(const TensorDesc&, const TensorDesc&)>
Napi::Value AdaptiveAvg(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "adaptiveAvgPool2d";
    MetaReader meta;
    TensorDesc a = read_tensor(meta, info[0], op);
    TensorDesc b = read_tensor(meta, info[1], op);
    Kernel(a, b);
    return info.Env().Undefined();
  });
}

// adaptiveMaxPool2d(y, indices, x)
Napi::Value AdaptiveMaxPool2d(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "adaptiveMaxPool2d";
    MetaReader meta;
    TensorDesc y = read_tensor(meta, info[0], op);
    TensorDesc indices = read_tensor(meta, info[1], op);
    TensorDesc x = read_tensor(meta, info[2], op);
    cpu::adaptive_max_pool2d_forward(y, indices, x);
    return info.Env().Undefined();
  });
}

}  // namespace

void init_pool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool2d", Napi::Function::New(env, MaxPool2d, "maxPool2d"));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward, "maxPool2dBackward"));
  exports.Set("avgPool2d", Napi::Function::New(env, AvgPool2d<false>, "avgPool2d"));
  exports.Set("avgPool2dBackward", Napi::Function::New(env, AvgPool2d<true>, "avgPool2dBackward"));
  exports.Set("adaptiveAvgPool2d", Napi::Function::New(env, AdaptiveAvg<cpu::adaptive_avg_pool2d_forward>, "adaptiveAvgPool2d"));
  exports.Set("adaptiveAvgPool2dBackward", Napi::Function::New(env, AdaptiveAvg<cpu::adaptive_avg_pool2d_backward>, "adaptiveAvgPool2dBackward"));
  exports.Set("adaptiveMaxPool2d", Napi::Function::New(env, AdaptiveMaxPool2d, "adaptiveMaxPool2d"));
}

}  // namespace dendrite::binding

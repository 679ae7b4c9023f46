// N-API side of the conv family. Geometry arguments come first as numbers:
// (strideH, strideW, padH, padW, dilH, dilW, groups), then the tensors. Every kernel routes
// to native/cuda/conv when its operands are CUDA tensors (all on one device).
#include "../cpu/conv/conv.h"
#include "common.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/conv/conv.h"
#endif

namespace dendrite::binding {
namespace {

constexpr size_t kNumParams = 7;

cpu::ConvParams conv_params(const Napi::CallbackInfo& info, const char* op) {
  cpu::ConvParams p;
  p.stride_h = arg_int(info, 0, op);
  p.stride_w = arg_int(info, 1, op);
  p.pad_h = arg_int(info, 2, op);
  p.pad_w = arg_int(info, 3, op);
  p.dil_h = arg_int(info, 4, op);
  p.dil_w = arg_int(info, 5, op);
  p.groups = arg_int(info, 6, op);
  return p;
}

bool has_tensor(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() && !info[i].IsUndefined() && !info[i].IsNull(); }

// conv2d(params..., y, x, w, bias?)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "conv2d";
    cpu::ConvParams p = conv_params(info, op);
    MetaReader meta(kRoutesCuda);
    TensorDesc y = read_tensor(meta, info[kNumParams], op);
    TensorDesc x = read_tensor(meta, info[kNumParams + 1], op);
    TensorDesc w = read_tensor(meta, info[kNumParams + 2], op);
    TensorDesc bias;
    const bool with_bias = has_tensor(info, kNumParams + 3);
    if (with_bias) bias = read_tensor(meta, info[kNumParams + 3], op);
    const Device dev = with_bias ? common_device(op, {&y, &x, &w, &bias}) : common_device(op, {&y, &x, &w});
    if (dev == Device::Cuda) DENDRITE_ON_CUDA(cuda::conv2d_forward(y, x, w, with_bias ? &bias : nullptr, p));
    else cpu::conv2d_forward(y, x, w, with_bias ? &bias : nullptr, p);
    return info.Env().Undefined();
  });
}

// conv2dBackwardInput(params..., gx, gy, w, bias?)
Napi::Value Conv2dBackwardInput(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "conv2d backward";
    cpu::ConvParams p = conv_params(info, op);
    MetaReader meta(kRoutesCuda);
    TensorDesc gx = read_tensor(meta, info[kNumParams], op);
    TensorDesc gy = read_tensor(meta, info[kNumParams + 1], op);
    TensorDesc w = read_tensor(meta, info[kNumParams + 2], op);
    TensorDesc bias;
    const bool with_bias = has_tensor(info, kNumParams + 3);
    if (with_bias) bias = read_tensor(meta, info[kNumParams + 3], op);
    const Device dev = with_bias ? common_device(op, {&gx, &gy, &w, &bias}) : common_device(op, {&gx, &gy, &w});
    if (dev == Device::Cuda) DENDRITE_ON_CUDA(cuda::conv2d_backward_input(gx, gy, w, with_bias ? &bias : nullptr, p));
    else cpu::conv2d_backward_input(gx, gy, w, with_bias ? &bias : nullptr, p);
    return info.Env().Undefined();
  });
}

// conv2dBackwardWeight(params..., gw, gy, x)
Napi::Value Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "conv2d backward";
    cpu::ConvParams p = conv_params(info, op);
    MetaReader meta(kRoutesCuda);
    TensorDesc gw = read_tensor(meta, info[kNumParams], op);
    TensorDesc gy = read_tensor(meta, info[kNumParams + 1], op);
    TensorDesc x = read_tensor(meta, info[kNumParams + 2], op);
    if (common_device(op, {&gw, &gy, &x}) == Device::Cuda) DENDRITE_ON_CUDA(cuda::conv2d_backward_weight(gw, gy, x, p));
    else cpu::conv2d_backward_weight(gw, gy, x, p);
    return info.Env().Undefined();
  });
}

}  // namespace

void init_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d, "conv2d"));
  exports.Set("conv2dBackwardInput", Napi::Function::New(env, Conv2dBackwardInput, "conv2dBackwardInput"));
  exports.Set("conv2dBackwardWeight", Napi::Function::New(env, Conv2dBackwardWeight, "conv2dBackwardWeight"));
}

}  // namespace dendrite::binding

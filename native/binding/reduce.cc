// N-API side of reductions and softmax.
#include "../cpu/reduce/reduce.h"
#include "../cpu/softmax/softmax.h"
#include "common.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/cuda.h"
#endif

namespace dendrite::binding {
namespace {

// reduce(op, dimMask (bits per dim), correction, out, in[, indices])
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int code = arg_int(info, 0, "reduce");
    if (code < 0 || code >= static_cast<int>(cpu::ReduceOp::kCount)) fail(ErrorCode::Argument, "reduce", "a known op code", std::to_string(code));
    int mask = arg_int(info, 1, "reduce");
    double correction = arg_double(info, 2, "reduce");
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[3], "reduce");
    TensorDesc in = read_tensor(meta, info[4], "reduce");
    bool dims[kMaxDims];
    for (int d = 0; d < kMaxDims; ++d) dims[d] = (mask >> d) & 1;
    if (in.ndim < kMaxDims && (mask >> in.ndim) != 0) fail(ErrorCode::Index, "reduce", "dims below rank " + std::to_string(in.ndim), "mask " + std::to_string(mask));
    auto op = static_cast<cpu::ReduceOp>(code);
    const char* name = cpu::reduce_op_names()[code];
    bool has_indices = info.Length() > 5 && !info[5].IsUndefined();
    TensorDesc indices;
    if (has_indices) indices = read_tensor(meta, info[5], "reduce");
    Device dev = has_indices ? common_device(name, {&out, &in, &indices}) : common_device(name, {&out, &in});
    if (dev == Device::Cuda) DENDRITE_ON_CUDA(cuda::reduce(op, out, in, dims, correction, has_indices ? &indices : nullptr));
    else cpu::reduce(op, out, in, dims, correction, has_indices ? &indices : nullptr);
    return info.Env().Undefined();
  });
}

// softmax(dim, log, out, in)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int dim = arg_int(info, 0, "softmax");
    bool log = arg_bool(info, 1, "softmax");
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[2], "softmax");
    TensorDesc in = read_tensor(meta, info[3], "softmax");
    if (common_device(log ? "logSoftmax" : "softmax", {&out, &in}) == Device::Cuda) DENDRITE_ON_CUDA(cuda::softmax_forward(out, in, dim, log));
    else cpu::softmax_forward(out, in, dim, log);
    return info.Env().Undefined();
  });
}

// softmaxBackward(dim, log, gradIn, gradOut, out)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int dim = arg_int(info, 0, "softmaxBackward");
    bool log = arg_bool(info, 1, "softmaxBackward");
    MetaReader meta(kRoutesCuda);
    TensorDesc gi = read_tensor(meta, info[2], "softmaxBackward");
    TensorDesc go = read_tensor(meta, info[3], "softmaxBackward");
    TensorDesc y = read_tensor(meta, info[4], "softmaxBackward");
    if (common_device("softmaxBackward", {&gi, &go, &y}) == Device::Cuda) DENDRITE_ON_CUDA(cuda::softmax_backward(gi, go, y, dim, log));
    else cpu::softmax_backward(gi, go, y, dim, log);
    return info.Env().Undefined();
  });
}

}  // namespace

void init_reduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward, "softmaxBackward"));
  Napi::Array arr = Napi::Array::New(env);
  for (uint32_t i = 0; cpu::reduce_op_names()[i]; ++i) arr.Set(i, Napi::String::New(env, cpu::reduce_op_names()[i]));
  exports.Set("reduceOps", arr);
}

}  // namespace dendrite::binding

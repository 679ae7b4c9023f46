// N-API side of the elementwise family.
#include "../cpu/elementwise/elementwise.h"
#include "common.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/cuda.h"
#endif

namespace dendrite::binding {
namespace {

template <class Enum>
Enum op_code(const Napi::CallbackInfo& info, int count, const char* what) {
  int code = arg_int(info, 0, what);
  if (code < 0 || code >= count) fail(ErrorCode::Argument, what, "a known op code", std::to_string(code));
  return static_cast<Enum>(code);
}

// unary(op, p0, p1, out, in)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto op = op_code<cpu::UnaryOp>(info, cpu::kNumUnaryOps, "unary");
    cpu::OpParams p{arg_double(info, 1, "unary"), arg_double(info, 2, "unary")};
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[3], "unary");
    TensorDesc in = read_tensor(meta, info[4], "unary");
    if (common_device("unary", {&out, &in}) == Device::Cuda) DENDRITE_ON_CUDA(cuda::unary(op, out, in, p));
    else cpu::unary(op, out, in, p);
    return info.Env().Undefined();
  });
}

// binary(op, p0, p1, out, a, b)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto op = op_code<cpu::BinaryOp>(info, cpu::kNumBinaryOps, "binary");
    cpu::OpParams p{arg_double(info, 1, "binary"), arg_double(info, 2, "binary")};
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[3], "binary");
    TensorDesc a = read_tensor(meta, info[4], "binary");
    TensorDesc b = read_tensor(meta, info[5], "binary");
    if (common_device(cpu::binary_op_names()[static_cast<int>(op)], {&out, &a, &b}) == Device::Cuda)
      DENDRITE_ON_CUDA(cuda::binary(op, out, a, b, p));
    else cpu::binary(op, out, a, b, p);
    return info.Env().Undefined();
  });
}

// binaryScalar(op, p0, p1, scalar, scalarFirst, out, t): `t op scalar` (or `scalar op t`) with the
// scalar converted to t's dtype and broadcast by stride 0, no allocation.
Napi::Value BinaryScalar(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto op = op_code<cpu::BinaryOp>(info, cpu::kNumBinaryOps, "binary");
    cpu::OpParams p{arg_double(info, 1, "binary"), arg_double(info, 2, "binary")};
    double scalar = arg_double(info, 3, "binary");
    bool scalar_first = arg_bool(info, 4, "binary");
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[5], "binary");
    TensorDesc t = read_tensor(meta, info[6], "binary");
    if (common_device(cpu::binary_op_names()[static_cast<int>(op)], {&out, &t}) == Device::Cuda) {
      DENDRITE_ON_CUDA(cuda::binary_scalar(op, out, t, scalar, scalar_first, p));
      return info.Env().Undefined();
    }
    alignas(8) unsigned char storage[8];
    dispatch_dtype(t.dtype, [&](auto tag) {
      using T = decltype(tag);
      T v = from_double<T>(scalar, t.dtype == DType::Bool);
      *reinterpret_cast<T*>(storage) = v;
    });
    TensorDesc s = t;
    s.data = storage;
    for (int i = 0; i < s.ndim; ++i) s.strides[i] = 0;
    if (scalar_first) cpu::binary(op, out, s, t, p);
    else cpu::binary(op, out, t, s, p);
    return info.Env().Undefined();
  });
}

// where(out, cond, a, b)
Napi::Value Where(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[0], "where");
    TensorDesc cond = read_tensor(meta, info[1], "where");
    TensorDesc a = read_tensor(meta, info[2], "where");
    TensorDesc b = read_tensor(meta, info[3], "where");
    if (common_device("where", {&out, &cond, &a, &b}) == Device::Cuda) DENDRITE_ON_CUDA(cuda::where(out, cond, a, b));
    else cpu::where(out, cond, a, b);
    return info.Env().Undefined();
  });
}

Napi::Array names(Napi::Env env, const char* const* list) {
  Napi::Array arr = Napi::Array::New(env);
  for (uint32_t i = 0; list[i]; ++i) arr.Set(i, Napi::String::New(env, list[i]));
  return arr;
}

}  // namespace

void init_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("binaryScalar", Napi::Function::New(env, BinaryScalar, "binaryScalar"));
  exports.Set("where", Napi::Function::New(env, Where, "where"));
  exports.Set("unaryOps", names(env, cpu::unary_op_names()));
  exports.Set("binaryOps", names(env, cpu::binary_op_names()));
}

}  // namespace dendrite::binding

// N-API side of GEMM / matmul.
#include "../cpu/gemm/gemm.h"
#include "common.h"

namespace dendrite::binding {
namespace {

// matmul(out, a, b)
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MetaReader meta;
    TensorDesc out = read_tensor(meta, info[0], "matmul");
    TensorDesc a = read_tensor(meta, info[1], "matmul");
    TensorDesc b = read_tensor(meta, info[2], "matmul");
    cpu::matmul(out, a, b);
    return info.Env().Undefined();
  });
}

}  // namespace

void init_gemm(Napi::Env env, Napi::Object exports) { exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul")); }

}  // namespace dendrite::binding

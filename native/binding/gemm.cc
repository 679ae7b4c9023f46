// N-API side of GEMM / matmul / linear, and the BLAS-style sgemm entry the tests use to reach
// transposes, alpha, beta and leading dimensions.
#include <string>
#include "../core/thread_pool.h"
#include "../cpu/gemm/gemm.h"
#include "common.h"
#include "sgemm_args.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/cuda.h"
#endif

namespace dendrite::binding {
namespace {

// matmul(out, a, b)
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[0], "matmul");
    TensorDesc a = read_tensor(meta, info[1], "matmul");
    TensorDesc b = read_tensor(meta, info[2], "matmul");
    if (common_device("matmul", {&out, &a, &b}) == Device::Cuda) DENDRITE_ON_CUDA(cuda::matmul(out, a, b));
    else cpu::matmul(out, a, b);
    return info.Env().Undefined();
  });
}

// linear(act, out, x, weight, bias?) — layouts in the metadata channel in that order.
Napi::Value Linear(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int32_t act = arg_int(info, 0, "linear");
    if (act < 0 || act > static_cast<int32_t>(cpu::GemmActivation::GeluTanh))
      fail(ErrorCode::Argument, "linear", "an activation code 0..5", std::to_string(act));
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[1], "linear");
    TensorDesc x = read_tensor(meta, info[2], "linear");
    TensorDesc w = read_tensor(meta, info[3], "linear");
    bool has_bias = info.Length() > 4 && !info[4].IsUndefined() && !info[4].IsNull();
    TensorDesc bias;
    if (has_bias) bias = read_tensor(meta, info[4], "linear");
    Device dev = has_bias ? common_device("linear", {&out, &x, &w, &bias}) : common_device("linear", {&out, &x, &w});
    auto activation = static_cast<cpu::GemmActivation>(act);
    if (dev == Device::Cuda) DENDRITE_ON_CUDA(cuda::linear(out, x, w, has_bias ? &bias : nullptr, activation));
    else cpu::linear(out, x, w, has_bias ? &bias : nullptr, activation);
    return info.Env().Undefined();
  });
}

// The float32 data of a Float32Array argument, checked to hold at least `need` elements.
float* f32_array(const Napi::CallbackInfo& info, size_t i, int64_t need, const char* what) {
  if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    fail(ErrorCode::Argument, "sgemm", std::string("a Float32Array ") + what, "another value");
  Napi::Float32Array arr = info[i].As<Napi::Float32Array>();
  if (static_cast<int64_t>(arr.ElementLength()) < need)
    fail(ErrorCode::Index, "sgemm", std::string(what) + " of at least " + std::to_string(need) + " elements",
         std::to_string(arr.ElementLength()));
  return arr.Data();
}

// sgemm(transA, transB, M, N, K, alpha, beta, lda, ldb, ldc, A, B, C, biasKind?, act?, bias?, prepack?):
// C = act(alpha op(A) op(B) + beta C + bias), row-major, in place on C. prepack 1 (2) packs A (B)
// first with sgemm_pack_a (_b) and multiplies with sgemm_packed, so tests reach that path.
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "sgemm";
    const SgemmCall c = read_sgemm_call(info, op, [&](size_t i, int64_t need, const char* what) { return f32_array(info, i, need, what); });
    int32_t prepack = info.Length() > 16 && !info[16].IsUndefined() ? arg_int(info, 16, op) : 0;
    if (prepack < 0 || prepack > 2) fail(ErrorCode::Argument, op, "a prepack code 0..2", std::to_string(prepack));
    if (prepack == 1)
      cpu::sgemm_packed(c.M, c.N, c.K, c.alpha, cpu::sgemm_pack_a(c.ta, c.M, c.K, c.A, c.lda), c.tb, c.B, c.ldb, c.beta, c.C, c.ldc, c.ep);
    else if (prepack == 2)
      cpu::sgemm_packed(c.ta, c.M, c.N, c.K, c.alpha, c.A, c.lda, cpu::sgemm_pack_b(c.tb, c.K, c.N, c.B, c.ldb), c.beta, c.C, c.ldc, c.ep);
    else
      cpu::sgemm_ex(c.ta, c.tb, c.M, c.N, c.K, c.alpha, c.A, c.lda, c.B, c.ldb, c.beta, c.C, c.ldc, c.ep);
    return info.Env().Undefined();
  });
}

// fmaPeak(threads, seconds) -> GFLOP/s of independent FMA chains on the active path.
Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int32_t threads = arg_int(info, 0, "fmaPeak");
    double seconds = arg_double(info, 1, "fmaPeak");
    if (threads < 1 || threads > num_threads())
      fail(ErrorCode::Argument, "fmaPeak", "1.." + std::to_string(num_threads()) + " threads", std::to_string(threads));
    if (!(seconds >= 0 && seconds <= 10)) fail(ErrorCode::Argument, "fmaPeak", "0..10 seconds", std::to_string(seconds));
    return Napi::Number::New(info.Env(), cpu::sgemm_fma_peak(threads, seconds));
  });
}

}  // namespace

void init_gemm(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("linear", Napi::Function::New(env, Linear, "linear"));
  exports.Set("sgemm", Napi::Function::New(env, Sgemm, "sgemm"));
  exports.Set("fmaPeak", Napi::Function::New(env, FmaPeak, "fmaPeak"));
}

}  // namespace dendrite::binding

// N-API side of GEMM / matmul / linear, and the BLAS-style sgemm entry the tests use to reach
// transposes, alpha, beta and leading dimensions.
#include <string>
#include "../core/thread_pool.h"
#include "../cpu/gemm/gemm.h"
#include "common.h"
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

// Elements a rows x cols row-major matrix with leading dimension ld reaches; validates ld.
int64_t matrix_extent(int64_t rows, int64_t cols, int64_t ld, const char* what) {
  if (ld < std::max<int64_t>(1, cols))
    fail(ErrorCode::Argument, "sgemm", std::string(what) + " >= max(1, " + std::to_string(cols) + ")", std::to_string(ld));
  return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
}

// sgemm(transA, transB, M, N, K, alpha, beta, lda, ldb, ldc, A, B, C, biasKind?, act?, bias?, prepack?):
// C = act(alpha op(A) op(B) + beta C + bias), row-major, in place on C. prepack 1 (2) packs A (B)
// first with sgemm_pack_a (_b) and multiplies with sgemm_packed, so tests reach that path.
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "sgemm";
    bool ta = arg_bool(info, 0, op), tb = arg_bool(info, 1, op);
    int64_t M = arg_int(info, 2, op), N = arg_int(info, 3, op), K = arg_int(info, 4, op);
    float alpha = static_cast<float>(arg_double(info, 5, op)), beta = static_cast<float>(arg_double(info, 6, op));
    int64_t lda = arg_int(info, 7, op), ldb = arg_int(info, 8, op), ldc = arg_int(info, 9, op);
    if (M < 0 || N < 0 || K < 0)
      fail(ErrorCode::Shape, op, "non-negative M, N, K", std::to_string(M) + ", " + std::to_string(N) + ", " + std::to_string(K));
    int64_t need_a = ta ? matrix_extent(K, M, lda, "lda") : matrix_extent(M, K, lda, "lda");
    int64_t need_b = tb ? matrix_extent(N, K, ldb, "ldb") : matrix_extent(K, N, ldb, "ldb");
    int64_t need_c = matrix_extent(M, N, ldc, "ldc");
    const float* A = f32_array(info, 10, need_a, "A");
    const float* B = f32_array(info, 11, need_b, "B");
    float* C = f32_array(info, 12, need_c, "C");
    cpu::GemmEpilogue ep;
    if (info.Length() > 13 && !info[13].IsUndefined()) {
      int32_t kind = arg_int(info, 13, op), act = arg_int(info, 14, op);
      if (kind < 0 || kind > 2) fail(ErrorCode::Argument, op, "a bias kind 0..2", std::to_string(kind));
      if (act < 0 || act > static_cast<int32_t>(cpu::GemmActivation::GeluTanh))
        fail(ErrorCode::Argument, op, "an activation code 0..5", std::to_string(act));
      ep.bias_kind = static_cast<cpu::GemmBias>(kind);
      ep.act = static_cast<cpu::GemmActivation>(act);
      if (kind != 0) ep.bias = f32_array(info, 15, kind == 1 ? M : N, "bias");
    }
    int32_t prepack = info.Length() > 16 && !info[16].IsUndefined() ? arg_int(info, 16, op) : 0;
    if (prepack < 0 || prepack > 2) fail(ErrorCode::Argument, op, "a prepack code 0..2", std::to_string(prepack));
    if (prepack == 1) cpu::sgemm_packed(M, N, K, alpha, cpu::sgemm_pack_a(ta, M, K, A, lda), tb, B, ldb, beta, C, ldc, ep);
    else if (prepack == 2) cpu::sgemm_packed(ta, M, N, K, alpha, A, lda, cpu::sgemm_pack_b(tb, K, N, B, ldb), beta, C, ldc, ep);
    else cpu::sgemm_ex(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ep);
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

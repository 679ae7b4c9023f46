// The argument list dt.linalg.sgemm and dt.cuda.sgemm share:
//   (transA, transB, M, N, K, alpha, beta, lda, ldb, ldc, A, B, C, biasKind?, act?, bias?)
// read and checked once for both; only how an operand's floats are reached differs (a
// Float32Array on the CPU, a CUDA storage on the device), which the caller passes as `floats`.
#pragma once
#include <algorithm>
#include <string>
#include "../cpu/gemm/gemm.h"
#include "common.h"

namespace dendrite::binding {

struct SgemmCall {
  bool ta = false, tb = false;
  int64_t M = 0, N = 0, K = 0, lda = 0, ldb = 0, ldc = 0;
  float alpha = 1.0f, beta = 0.0f;
  float *A = nullptr, *B = nullptr, *C = nullptr;
  cpu::GemmEpilogue ep;
};

// Elements a rows x cols row-major matrix with leading dimension ld reaches; validates ld.
inline int64_t matrix_extent(const char* op, int64_t rows, int64_t cols, int64_t ld, const char* what) {
  if (ld < std::max<int64_t>(1, cols))
    fail(ErrorCode::Argument, op, std::string(what) + " >= max(1, " + std::to_string(cols) + ")", std::to_string(ld));
  return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
}

// floats(i, need, what) -> float*: argument i, checked to hold at least `need` floats.
template <class Floats>
SgemmCall read_sgemm_call(const Napi::CallbackInfo& info, const char* op, Floats&& floats) {
  SgemmCall c;
  c.ta = arg_bool(info, 0, op);
  c.tb = arg_bool(info, 1, op);
  c.M = arg_int(info, 2, op);
  c.N = arg_int(info, 3, op);
  c.K = arg_int(info, 4, op);
  c.alpha = static_cast<float>(arg_double(info, 5, op));
  c.beta = static_cast<float>(arg_double(info, 6, op));
  c.lda = arg_int(info, 7, op);
  c.ldb = arg_int(info, 8, op);
  c.ldc = arg_int(info, 9, op);
  if (c.M < 0 || c.N < 0 || c.K < 0)
    fail(ErrorCode::Shape, op, "non-negative M, N, K", std::to_string(c.M) + ", " + std::to_string(c.N) + ", " + std::to_string(c.K));
  int64_t need_a = c.ta ? matrix_extent(op, c.K, c.M, c.lda, "lda") : matrix_extent(op, c.M, c.K, c.lda, "lda");
  int64_t need_b = c.tb ? matrix_extent(op, c.N, c.K, c.ldb, "ldb") : matrix_extent(op, c.K, c.N, c.ldb, "ldb");
  int64_t need_c = matrix_extent(op, c.M, c.N, c.ldc, "ldc");
  c.A = floats(10, need_a, "A");
  c.B = floats(11, need_b, "B");
  c.C = floats(12, need_c, "C");
  if (info.Length() > 13 && !info[13].IsUndefined()) {
    int32_t kind = arg_int(info, 13, op), act = arg_int(info, 14, op);
    if (kind < 0 || kind > 2) fail(ErrorCode::Argument, op, "a bias kind 0..2", std::to_string(kind));
    if (act < 0 || act > static_cast<int32_t>(cpu::GemmActivation::GeluTanh))
      fail(ErrorCode::Argument, op, "an activation code 0..5", std::to_string(act));
    c.ep.bias_kind = static_cast<cpu::GemmBias>(kind);
    c.ep.act = static_cast<cpu::GemmActivation>(act);
    if (kind != 0) c.ep.bias = floats(15, kind == 1 ? c.M : c.N, "bias");
  }
  return c;
}

}  // namespace dendrite::binding

// GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, op = optional transpose; and the
// batched, broadcasting matmul driver built on it. beta == 0 overwrites C (NaNs in C ignored),
// as in BLAS.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void dgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
           const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

// out[..., M, N] = a[..., M, K] @ b[..., K, N]. a and b carry out's batch shape already
// (broadcast batch dims have stride 0); the matrices may be row- or column-major views; any
// other layout is copied first. out must be contiguous. Every dtype but bool.
void matmul(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b);

// The SGEMM kernel table (issue: the tuned Goto/BLIS GEMM replaces the scalar blocked one).
struct GemmTable {
  void (*sgemm)(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
};

}  // namespace dendrite::cpu

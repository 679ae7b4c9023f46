// Scalar reference GEMM (blocked, with op(A)/op(B) packed row-major per block so the inner
// loop runs over contiguous memory) and the batched matmul driver.
#include "gemm.h"
#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>
#include "../../core/dispatch.h"
#include "../../core/thread_pool.h"

namespace dendrite::cpu {
namespace {

constexpr int64_t kBlockM = 64, kBlockN = 256, kBlockK = 256;

template <class T>
void gemm_ref(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
              int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  // Scale C by beta first (beta == 0 overwrites).
  parallel_for(0, M, std::max<int64_t>(1, 65536 / std::max<int64_t>(N, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      T* c = C + i * ldc;
      if (beta == T(0)) std::fill(c, c + N, T(0));
      else if (beta != T(1)) for (int64_t j = 0; j < N; ++j) c[j] = static_cast<T>(c[j] * beta);
    }
  });
  if (K <= 0 || alpha == T(0)) return;
  auto a_at = [&](int64_t i, int64_t k) { return ta ? A[k * lda + i] : A[i * lda + k]; };
  auto b_at = [&](int64_t k, int64_t j) { return tb ? B[j * ldb + k] : B[k * ldb + j]; };
  int64_t row_blocks = (M + kBlockM - 1) / kBlockM;
  parallel_for(0, row_blocks, 1, [&](int64_t blo, int64_t bhi) {
    std::vector<T> packed_b(static_cast<size_t>(kBlockK * kBlockN));
    for (int64_t rb = blo; rb < bhi; ++rb) {
      int64_t i0 = rb * kBlockM, i1 = std::min(M, i0 + kBlockM);
      for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
        int64_t k1 = std::min(K, k0 + kBlockK);
        for (int64_t j0 = 0; j0 < N; j0 += kBlockN) {
          int64_t j1 = std::min(N, j0 + kBlockN), nb = j1 - j0;
          for (int64_t k = k0; k < k1; ++k)
            for (int64_t j = j0; j < j1; ++j) packed_b[(k - k0) * nb + (j - j0)] = b_at(k, j);
          for (int64_t i = i0; i < i1; ++i) {
            T* c = C + i * ldc + j0;
            for (int64_t k = k0; k < k1; ++k) {
              T av = static_cast<T>(alpha * a_at(i, k));
              const T* b = packed_b.data() + (k - k0) * nb;
              for (int64_t j = 0; j < nb; ++j) c[j] = static_cast<T>(c[j] + av * b[j]);
            }
          }
        }
      }
    }
  });
}

void fill_scalar(GemmTable& t) { t.sgemm = gemm_ref<float>; }

const GemmTable& table() {
  // The per-ISA micro-kernels arrive with the tuned GEMM; until then every path runs the
  // blocked reference.
  static IsaTables<GemmTable> tables(fill_scalar, nullptr, nullptr, nullptr);
  return tables.active();
}

// A matrix view's layout: row-major (trans = false, ld = row stride) or column-major.
struct MatrixLayout {
  bool ok = false, trans = false;
  int64_t ld = 0;
};

MatrixLayout matrix_layout(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  if (col_stride == 1 || cols == 1) {
    int64_t ld = rows == 1 ? std::max<int64_t>(cols, 1) : row_stride;
    if (ld >= std::max<int64_t>(cols, 1)) return {true, false, ld};
  }
  if (row_stride == 1 || rows == 1) {
    int64_t ld = cols == 1 ? std::max<int64_t>(rows, 1) : col_stride;
    if (ld >= std::max<int64_t>(rows, 1)) return {true, true, ld};
  }
  return {};
}

}  // namespace

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  table().sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void dgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
           const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  gemm_ref<double>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void matmul(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b) {
  if (a.ndim < 2 || b.ndim != a.ndim || out.ndim != a.ndim)
    fail(ErrorCode::Shape, "matmul", "operands of equal rank >= 2", "ranks " + std::to_string(a.ndim) + ", " + std::to_string(b.ndim) + ", " + std::to_string(out.ndim));
  if (a.dtype != b.dtype || out.dtype != a.dtype) fail(ErrorCode::DType, "matmul", std::string("one dtype, ") + dtype_name(a.dtype), dtype_name(b.dtype));
  if (a.dtype == DType::Bool) fail(ErrorCode::DType, "matmul", "a numeric dtype", "bool");
  if (!out.is_contiguous()) fail(ErrorCode::Argument, "matmul", "a contiguous output", "a strided view");
  int nd = a.ndim;
  int64_t M = a.shape[nd - 2], K = a.shape[nd - 1], N = b.shape[nd - 1];
  if (b.shape[nd - 2] != K || out.shape[nd - 2] != M || out.shape[nd - 1] != N)
    fail(ErrorCode::Shape, "matmul", "[..., M, K] @ [..., K, N] -> [..., M, N]",
         shape_str(a.shape, nd) + " @ " + shape_str(b.shape, nd) + " -> " + shape_str(out.shape, nd));
  int64_t batch = 1;
  for (int d = 0; d < nd - 2; ++d) {
    if (a.shape[d] != out.shape[d] || b.shape[d] != out.shape[d])
      fail(ErrorCode::Shape, "matmul", "batch dims broadcast to " + shape_str(out.shape, nd - 2), shape_str(a.shape, nd - 2) + " and " + shape_str(b.shape, nd - 2));
    batch *= out.shape[d];
  }
  if (batch == 0 || M == 0 || N == 0) return;
  if (K == 0) {  // empty sums: zeros, whatever strides the empty operands carry
    std::memset(out.data, 0, static_cast<size_t>(batch * M * N) * dtype_size(out.dtype));
    return;
  }
  MatrixLayout la = matrix_layout(M, K, a.strides[nd - 2], a.strides[nd - 1]);
  MatrixLayout lb = matrix_layout(K, N, b.strides[nd - 2], b.strides[nd - 1]);
  if (!la.ok || !lb.ok) fail(ErrorCode::Argument, "matmul", "row- or column-major matrices (the caller copies others)", "another layout");
  dispatch_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    size_t es = sizeof(T);
    for (int64_t bi = 0; bi < batch; ++bi) {
      int64_t rem = bi, off_a = 0, off_b = 0;
      for (int d = nd - 3; d >= 0; --d) {
        int64_t idx = rem % out.shape[d];
        rem /= out.shape[d];
        off_a += idx * a.strides[d];
        off_b += idx * b.strides[d];
      }
      const T* pa = reinterpret_cast<const T*>(static_cast<const char*>(a.data) + off_a * es);
      const T* pb = reinterpret_cast<const T*>(static_cast<const char*>(b.data) + off_b * es);
      T* pc = out.ptr<T>() + bi * M * N;
      if constexpr (std::is_same_v<T, float>) {
        sgemm(la.trans, lb.trans, M, N, K, 1.0f, pa, la.ld, pb, lb.ld, 0.0f, pc, N);
      } else {
        gemm_ref<T>(la.trans, lb.trans, M, N, K, T(1), pa, la.ld, pb, lb.ld, T(0), pc, N);
      }
    }
  });
}

}  // namespace dendrite::cpu

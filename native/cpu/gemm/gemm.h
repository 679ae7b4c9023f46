// GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, op = optional transpose; and the
// batched, broadcasting matmul driver built on it. beta == 0 overwrites C (NaNs in C ignored),
// as in BLAS; alpha == 0 or K == 0 reads neither A nor B.
//
// SGEMM follows Goto & van de Geijn (2008) / BLIS: a portable driver (gemm.cc: cache blocking,
// packing, threading, fast paths) around a tiny per-ISA register-blocked micro-kernel
// (gemm_simd.inl instantiated by gemm_avx2.cc / gemm_avx512.cc / gemm_neon.cc; a scalar one in
// gemm.cc), chosen through GemmTable at load time.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include "../../core/tensor.h"

namespace dendrite::cpu {

// Activation applied by the fused epilogue. Numbers are part of the binding's ABI (lib/ops/linear.ts).
enum class GemmActivation : int32_t { None = 0, Relu = 1, Sigmoid = 2, Tanh = 3, Gelu = 4, GeluTanh = 5 };
enum class GemmBias : int32_t { None = 0, Row = 1, Col = 2 };  // bias[i] per row of C, or bias[j] per column

// What happens to each C tile after alpha * op(A) op(B) + beta * C, while the tile is in
// registers: C = act(C + bias). `bias` has M (Row) or N (Col) entries.
struct GemmEpilogue {
  const float* bias = nullptr;
  GemmBias bias_kind = GemmBias::None;
  GemmActivation act = GemmActivation::None;
};

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void sgemm_ex(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const GemmEpilogue& epilogue);

struct GemmTable;

// op(A) (M x K) or op(B) (K x N) packed once into the micro-kernel's panels, for an operand that
// several products share (an RNN's W_hh at every time step): sgemm packs it again per call. The
// layout is sgemm's own (gemm_pack.h), block after block of K:
//   for each K block [pc, pc + kc_p) (kc_p = min(kc, K - pc)), at offset pc * stride:
//     ceil(outer / r) panels of kc_p x r values (r = MR for A, NR for B, zero-padded),
//   where outer = M (A) or N (B) and stride = round_up(outer, r).
// So the panels for rows (columns) [x, ...) of block pc start at pc * stride + x * kc_p, which is
// all the driver needs. kc and the ISA's micro-tile are fixed at pack time: the product runs on
// the GemmTable that packed, even if the active path changed since.
class PackedMatrix {
 public:
  PackedMatrix() = default;
  bool empty() const { return table_ == nullptr; }
  bool is_a() const { return is_a_; }
  int64_t outer() const { return outer_; }  // M for A, N for B
  int64_t depth() const { return depth_; }  // K
  int64_t kc() const { return kc_; }
  int64_t stride() const { return stride_; }
  const float* data() const { return data_.get(); }
  const GemmTable& table() const { return *table_; }

 private:
  friend PackedMatrix sgemm_pack_a(bool, int64_t, int64_t, const float*, int64_t);
  friend PackedMatrix sgemm_pack_b(bool, int64_t, int64_t, const float*, int64_t);
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> data_;
  const GemmTable* table_ = nullptr;
  bool is_a_ = false;
  int64_t outer_ = 0, depth_ = 0, kc_ = 0, stride_ = 0;
};

// Packs op(A) (trans_a: A is stored K x M) or op(B) (trans_b: B is stored N x K).
PackedMatrix sgemm_pack_a(bool trans_a, int64_t M, int64_t K, const float* A, int64_t lda);
PackedMatrix sgemm_pack_b(bool trans_b, int64_t K, int64_t N, const float* B, int64_t ldb);
// sgemm_ex with one operand prepacked (M, N, K must match the packed shape). Every result equals
// the unpacked sgemm's up to summation order; the fast paths that read an operand unpacked (GEMV,
// tiny, skinny K) are not taken, the micro-kernel runs exact-height edge tiles instead.
void sgemm_packed(bool trans_a, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const PackedMatrix& B, float beta, float* C, int64_t ldc, const GemmEpilogue& epilogue = {});
void sgemm_packed(int64_t M, int64_t N, int64_t K, float alpha, const PackedMatrix& A, bool trans_b, const float* B,
                  int64_t ldb, float beta, float* C, int64_t ldc, const GemmEpilogue& epilogue = {});

void dgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
           const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

struct GemmTable;

// Writes rows [k0, k0 + kc) x columns [j0, j0 + nc) of a GEMM's B operand as ceil(nc / nr)
// panels of kc x nr (panel[k * nr + c] = B(k0 + k, j0 + p * nr + c), columns past nc zero): lets
// a caller whose B is implicit (conv's column matrix) pack it straight from its source.
using GemmPackB = std::function<void(int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr, float* dst)>;

// op(A) packed once into the micro-kernel's panels, for many products with the same left
// operand (a convolution's weights against every image or column tile). Holds the ISA table
// it was packed for, so a run-time ISA switch cannot mismatch the layout.
class SgemmPackedA {
 public:
  SgemmPackedA(bool trans_a, int64_t M, int64_t K, const float* A, int64_t lda);
  ~SgemmPackedA();
  SgemmPackedA(const SgemmPackedA&) = delete;
  SgemmPackedA& operator=(const SgemmPackedA&) = delete;
  // C = epilogue(op(A) * op(B) + beta * C) with B [K, N] (trans_b: stored [N, K]).
  void multiply(bool trans_b, int64_t N, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                const GemmEpilogue& epilogue, int max_threads) const;
  // The same with B packed by `pack_b`, called on each thread for the blocks it needs.
  void multiply(int64_t N, const GemmPackB& pack_b, float beta, float* C, int64_t ldc, const GemmEpilogue& epilogue,
                int max_threads) const;

 private:
  const GemmTable* table_;
  int64_t M_, K_;
  float* packed_;
};

// How a GEMM reads a rows x cols view with these strides: row-major (trans = false, ld = row
// stride) or column-major (trans, ld = column stride); anything else is not ok.
struct MatrixLayout {
  bool ok = false, trans = false;
  int64_t ld = 0;
};
MatrixLayout matrix_layout(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride);

// matmul's checked geometry, shared by the CPU and CUDA drivers (so both fail alike): throws on
// bad ranks, dtypes, shapes or a strided output. la/lb are filled (and checked) only when there
// is work: batch, M, N and K all non-zero.
struct MatmulPlan {
  int64_t M = 0, N = 0, K = 0, batch = 0;
  MatrixLayout la, lb;
};
MatmulPlan plan_matmul(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b);

// linear's checked geometry, shared by the CPU and CUDA drivers: x's rows (row_stride), the
// weight's layout and the fused epilogue. row_stride and lw are filled (and checked) only when
// M and N are non-zero.
struct LinearPlan {
  int64_t M = 0, N = 0, K = 0, row_stride = 0;
  MatrixLayout lw;
  GemmEpilogue ep;
};
LinearPlan plan_linear(const TensorDesc& out, const TensorDesc& x, const TensorDesc& weight, const TensorDesc* bias,
                       GemmActivation act);

// out[..., M, N] = a[..., M, K] @ b[..., K, N]. a and b carry out's batch shape already
// (broadcast batch dims have stride 0); the matrices may be row- or column-major views; any
// other layout is copied first. out must be contiguous. Every dtype but bool.
void matmul(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b);

// out[..., N] = act(x[..., K] @ weight[N, K]^T + bias[N]) (PyTorch's linear, float32): one
// SGEMM with the bias and activation fused into its epilogue. x's leading dims are flattened
// (x must be row-major in its last dim with rows evenly strided, out contiguous).
void linear(const TensorDesc& out, const TensorDesc& x, const TensorDesc& weight, const TensorDesc* bias,
            GemmActivation act);

// This CPU's measured float32 FMA peak (GFLOP/s) on the active path with `threads` threads:
// independent FMA chains, no memory traffic. The bench divides GEMM rates by it.
double sgemm_fma_peak(int threads, double seconds);

// Per-tile arguments of the micro-kernel: the valid part (m <= MR, n <= NR) of the tile at c,
// and what its epilogue applies. `bias` is already offset to the tile.
struct GemmTile {
  int64_t ldc;
  int m, n;
  float alpha, beta;
  const float* bias;
  GemmBias bias_kind;
  GemmActivation act;  // None on all but the last K block
};

// One ISA's SGEMM pieces; the driver in gemm.cc owns everything else.
struct GemmTable {
  int mr = 0, nr = 0;  // micro-tile (rows of C x columns of C)
  // C tile (mr x nr at c) = epilogue(alpha * packed_a . packed_b + beta * C): packed_a holds kc
  // columns of mr values, packed_b kc rows of nr values.
  using Kernel = void (*)(int64_t kc, const float* packed_a, const float* packed_b, float* c, const GemmTile& tile);
  Kernel kernel = nullptr;
  // kernel_rows[m], 1 <= m <= mr: the same for a tile of only m rows (the packed A panel still
  // steps by mr), so an edge tile costs m rows of FMAs, not mr. kernel_rows[mr] == kernel.
  static constexpr int kMaxMr = 16;
  Kernel kernel_rows[kMaxMr + 1] = {};
  // Packs the mc x kc block of op(A) at A into ceil(mc/mr) panels of kc x mr (zero-padded rows).
  void (*pack_a)(bool trans, int64_t mc, int64_t kc, const float* A, int64_t lda, float* dst) = nullptr;
  // Packs the kc x nc block of op(B) at B into ceil(nc/nr) panels of kc x nr (zero-padded columns).
  void (*pack_b)(bool trans, int64_t kc, int64_t nc, const float* B, int64_t ldb, float* dst) = nullptr;
  // GEMV forms without packing. Row-major mat:
  //   gemv_n: y[j] = sum_k x[k * incx] * mat[k * ld + j], j < n (mat is K x n)
  //   gemv_t: y[j] = sum_k x[k] * mat[j * ld + k],          j < n (mat is n x K, x contiguous)
  void (*gemv_n)(int64_t K, int64_t n, const float* x, int64_t incx, const float* mat, int64_t ld, float* y) = nullptr;
  void (*gemv_t)(int64_t K, int64_t n, const float* x, const float* mat, int64_t ld, float* y) = nullptr;
  // dst[i * inc] = act(alpha * acc[i] + beta * dst[i * inc] + bias[i * bias_inc]), i < n.
  void (*finish)(int64_t n, const float* acc, float alpha, float beta, const float* bias, int64_t bias_inc,
                 GemmActivation act, float* dst, int64_t inc) = nullptr;
  // Runs `iters` rounds of independent FMA chains; returns the FLOPs done (for sgemm_fma_peak).
  double (*fma_loop)(int64_t iters) = nullptr;
};

}  // namespace dendrite::cpu

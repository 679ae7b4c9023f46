// The SGEMM driver (Goto & van de Geijn 2008; the BLIS five-loop structure, Van Zee & van de
// Geijn 2015): cache blocking, packing and threading, identical for every ISA, around the
// micro-kernel of the active GemmTable; GEMV-shaped and tiny problems skip packing. Also the
// scalar micro-kernel, the reference GEMM for the other dtypes, and the batched matmul driver.
#include "gemm.h"
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <type_traits>
#include <vector>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif
#include "../../core/dispatch.h"
#include "../../core/thread_pool.h"
#include "gemm_pack.h"

namespace dendrite::cpu {

void fill_gemm_avx2(GemmTable& t);
void fill_gemm_avx512(GemmTable& t);
void fill_gemm_neon(GemmTable& t);

namespace {

// ---------------------------------------------------------------------------------------------
// Blocking parameters, all in one place. With the loop order below (jc -> pc -> ic -> jr -> ir):
//   kc: depth of a rank-kc update. Each micro-tile call reads and writes its C tile once per kc
//       and pays a fixed prologue/epilogue, so kc should be long; the kc x NR micro-panel of
//       packed B is reused across the A block from L2 (Zen 5 and recent cores feed the FMAs from
//       L2 comfortably), so it only has to be a small share of L2: kc * NR * 4 = L2 / 16.
//       Measured on Zen 5 (1 MiB L2) at 1024^3: kc 256 -> 180, 512 -> 202 GFLOP/s (AVX-512);
//       kc 256 -> 90, 1024 -> 102 (AVX2).
//   mc: the packed mc x kc block of A stays in L2 beside the B micro-panels and C tiles passing
//       through: mc * kc * 4 = L2 / 4.
//   nc: the packed kc x nc block of B lives in (a share of) L3.
// Cache sizes are read once at load time; DENDRITE_GEMM_MC/KC/NC override (for tuning).
// ---------------------------------------------------------------------------------------------
struct CacheSizes {
  int64_t l1d = 32 * 1024, l2 = 512 * 1024, l3 = 8 * 1024 * 1024;
};

int64_t parse_cache_size(const std::string& s) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (v <= 0) return 0;
  if (end && (*end == 'K' || *end == 'k')) v *= 1024;
  else if (end && (*end == 'M' || *end == 'm')) v *= 1024 * 1024;
  return v;
}

CacheSizes detect_caches() {
  CacheSizes c;
  int64_t found[4] = {0, 0, 0, 0};
#if defined(__linux__)
  // sysfs describes the caches this CPU's core sees (sysconf may report a host's whole L3).
  for (int idx = 0; idx < 16; ++idx) {
    std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(idx) + "/";
    std::ifstream level_f(dir + "level"), type_f(dir + "type"), size_f(dir + "size");
    if (!level_f || !type_f || !size_f) break;
    int level = 0;
    std::string type, size;
    level_f >> level;
    type_f >> type;
    size_f >> size;
    if (level >= 1 && level <= 3 && type != "Instruction") found[level] = parse_cache_size(size);
  }
#endif
#if defined(_SC_LEVEL1_DCACHE_SIZE)
  if (!found[1]) found[1] = sysconf(_SC_LEVEL1_DCACHE_SIZE);
  if (!found[2]) found[2] = sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (!found[3]) found[3] = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
  // Sane ranges only: a VM may report nonsense.
  if (found[1] >= 8 * 1024 && found[1] <= 1024 * 1024) c.l1d = found[1];
  if (found[2] >= 64 * 1024 && found[2] <= 64 * 1024 * 1024) c.l2 = found[2];
  if (found[3] >= 512 * 1024 && found[3] <= 1024ll * 1024 * 1024) c.l3 = found[3];
  return c;
}

const CacheSizes& caches() {
  static const CacheSizes c = detect_caches();
  return c;
}

int64_t env_int(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atoll(v) : 0;
}

struct GemmBlocking {
  int64_t mc, kc, nc;
};

int64_t round_down(int64_t v, int64_t to) { return std::max(to, v / to * to); }
int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

GemmBlocking blocking_for(const GemmTable& t) {
  static const int64_t env_mc = env_int("DENDRITE_GEMM_MC"), env_kc = env_int("DENDRITE_GEMM_KC"),
                       env_nc = env_int("DENDRITE_GEMM_NC");
  const CacheSizes& cs = caches();
  GemmBlocking b;
  b.kc = env_kc > 0 ? env_kc : std::clamp<int64_t>(round_down(cs.l2 / 16 / (t.nr * 4), 16), 128, 1024);
  b.mc = env_mc > 0 ? round_up(env_mc, t.mr) : std::clamp<int64_t>(round_down(cs.l2 / 4 / (b.kc * 4), t.mr), t.mr, 4096);
  b.nc = env_nc > 0 ? round_up(env_nc, t.nr) : std::clamp<int64_t>(round_down(cs.l3 / 4 / (b.kc * 4), t.nr), t.nr, 8192);
  return b;
}

// Work below which a problem stays on one thread (in multiply-adds): waking a worker costs a
// few microseconds.
constexpr int64_t kMinWorkPerThread = int64_t{1} << 18;
// Problems up to this many multiply-adds skip packing (row-by-row GEMV).
constexpr int64_t kTinyWork = 32 * 32 * 32;
// K up to this runs unpacked when op(B) is row-major: a rank-k update is one pass over C.
constexpr int64_t kSkinnyK = 8;
// Batched matmul: matrices up to this many multiply-adds run one per thread.
constexpr int64_t kSmallBatchWork = int64_t{1} << 21;

// ---------------------------------------------------------------------------------------------
// Scalar path: a 4 x 8 register tile in plain C++ (the compiler may vectorise it for the
// baseline ISA) and plain GEMV/epilogue loops.
// ---------------------------------------------------------------------------------------------
constexpr int kScalarMr = 4, kScalarNr = 8;

float activate_scalar(float x, GemmActivation act) {
  switch (act) {
    case GemmActivation::None: return x;
    case GemmActivation::Relu: return std::isnan(x) ? x : (x > 0.0f ? x : 0.0f);
    case GemmActivation::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case GemmActivation::Tanh: return std::tanh(x);
    case GemmActivation::Gelu: return 0.5f * x * std::erfc(x * -0.70710678118654752f);
    case GemmActivation::GeluTanh: {
      float inner = 0.79788456080286535588f * (x + 0.044715f * x * x * x);
      return 0.5f * x * (1.0f + std::tanh(inner));
    }
  }
  return x;
}

void scalar_kernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, const GemmTile& t) {
  float acc[kScalarMr][kScalarNr] = {};
  for (int64_t k = 0; k < kc; ++k, a += kScalarMr, b += kScalarNr)
    for (int r = 0; r < kScalarMr; ++r)
      for (int j = 0; j < kScalarNr; ++j) acc[r][j] += a[r] * b[j];
  for (int r = 0; r < t.m; ++r) {
    float* crow = c + r * t.ldc;
    for (int j = 0; j < t.n; ++j) {
      float v = t.alpha * acc[r][j];
      if (t.beta != 0.0f) v += t.beta * crow[j];
      if (t.bias_kind == GemmBias::Row) v += t.bias[r];
      else if (t.bias_kind == GemmBias::Col) v += t.bias[j];
      crow[j] = activate_scalar(v, t.act);
    }
  }
}

void scalar_pack_a(bool trans, int64_t mc, int64_t kc, const float* A, int64_t lda, float* dst) {
  pack_a_panels<kScalarMr>(trans, mc, kc, A, lda, dst);
}
void scalar_pack_b(bool trans, int64_t kc, int64_t nc, const float* B, int64_t ldb, float* dst) {
  pack_b_panels<kScalarNr>(trans, kc, nc, B, ldb, dst);
}

void scalar_gemv_n(int64_t K, int64_t n, const float* x, int64_t incx, const float* mat, int64_t ld, float* y) {
  std::fill(y, y + n, 0.0f);
  for (int64_t k = 0; k < K; ++k) {
    const float xv = x[k * incx];
    const float* row = mat + k * ld;
    for (int64_t j = 0; j < n; ++j) y[j] += xv * row[j];
  }
}

void scalar_gemv_t(int64_t K, int64_t n, const float* x, const float* mat, int64_t ld, float* y) {
  for (int64_t j = 0; j < n; ++j) {
    const float* row = mat + j * ld;
    float s = 0.0f;
    for (int64_t k = 0; k < K; ++k) s += x[k] * row[k];
    y[j] = s;
  }
}

void scalar_finish(int64_t n, const float* acc, float alpha, float beta, const float* bias, int64_t bias_inc,
                   GemmActivation act, float* dst, int64_t inc) {
  for (int64_t i = 0; i < n; ++i) {
    float v = acc ? alpha * acc[i] : 0.0f;
    if (beta != 0.0f) v += beta * dst[i * inc];
    if (bias) v += bias[i * bias_inc];
    dst[i * inc] = activate_scalar(v, act);
  }
}

double scalar_fma_loop(int64_t iters) {
  constexpr int kChains = 8;
  float acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = 1.0f + 1e-3f * i;
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * 0.9999999f + 1e-7f;
  float s = 0.0f;
  for (int i = 0; i < kChains; ++i) s += acc[i];
  volatile float sink = s;
  (void)sink;
  return static_cast<double>(iters) * kChains * 2.0;
}

void fill_scalar(GemmTable& t) {
  t.mr = kScalarMr;
  t.nr = kScalarNr;
  t.kernel = scalar_kernel;
  for (int m = 1; m <= kScalarMr; ++m) t.kernel_rows[m] = scalar_kernel;
  t.pack_a = scalar_pack_a;
  t.pack_b = scalar_pack_b;
  t.gemv_n = scalar_gemv_n;
  t.gemv_t = scalar_gemv_t;
  t.finish = scalar_finish;
  t.fma_loop = scalar_fma_loop;
}

const GemmTable& table() {
  static IsaTables<GemmTable> tables(fill_scalar, DENDRITE_X86_FILLER(fill_gemm_avx2),
                                     DENDRITE_X86_FILLER(fill_gemm_avx512), DENDRITE_NEON_FILLER(fill_gemm_neon));
  return tables.active();
}

// ---------------------------------------------------------------------------------------------
// The driver.
// ---------------------------------------------------------------------------------------------

// A per-thread, 64-byte-aligned scratch buffer that only grows (pool threads live on, so the
// packing buffers are allocated once per thread).
class Scratch {
 public:
  ~Scratch() { std::free(data_); }
  float* get(size_t n) {
    if (n > cap_) {
      std::free(data_);
      data_ = nullptr;
      cap_ = 0;
      size_t bytes = round_up(static_cast<int64_t>(n * sizeof(float)), 64);
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) throw std::bad_alloc();
      cap_ = n;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t cap_ = 0;
};

thread_local Scratch t_packed_a, t_packed_b, t_vec_x, t_vec_y;

// One SGEMM call's operands; sub-problems are views into it.
struct Problem {
  bool ta, tb;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
  GemmEpilogue ep;
  // A prepacked operand (PackedMatrix / SgemmPackedA layout, gemm.h): the panels of block pc for
  // rows (columns) from x of this problem start at packed + pc * stride + (offset + x) * kc_p.
  // Null: packed per call. pack_b, if set, packs op(B) from an implicit source (conv's column
  // matrix), whose columns start at b_col0.
  const float* packed_a = nullptr;
  const float* packed_b = nullptr;
  int64_t pa_stride = 0, pa_offset = 0, pb_stride = 0, pb_offset = 0;
  int64_t packed_kc = 0;  // the K blocking the packed operand fixed
  const GemmPackB* pack_b = nullptr;
  int64_t b_col0 = 0;

  bool prepacked() const { return packed_a || packed_b || pack_b; }
  const float* a_at(int64_t i, int64_t k) const { return ta ? A + k * lda + i : A + i * lda + k; }
  const float* b_at(int64_t k, int64_t j) const { return tb ? B + j * ldb + k : B + k * ldb + j; }
  // The bias pointer and its step along a vector of C's row i (along_row) or column j.
  const float* row_bias(int64_t i, int64_t j0, int64_t& inc) const {
    if (ep.bias_kind == GemmBias::Row) { inc = 0; return ep.bias + i; }
    if (ep.bias_kind == GemmBias::Col) { inc = 1; return ep.bias + j0; }
    inc = 0;
    return nullptr;
  }
  const float* col_bias(int64_t i0, int64_t j, int64_t& inc) const {
    if (ep.bias_kind == GemmBias::Row) { inc = 1; return ep.bias + i0; }
    if (ep.bias_kind == GemmBias::Col) { inc = 0; return ep.bias + j; }
    inc = 0;
    return nullptr;
  }
  // The rows [m0, m1) x columns [n0, n1) of this problem.
  Problem sub(int64_t m0, int64_t m1, int64_t n0, int64_t n1) const {
    Problem p = *this;
    p.M = m1 - m0;
    p.N = n1 - n0;
    // A prepacked operand has no source pointer (null), and gets its offset instead.
    if (A) p.A = ta ? A + m0 : A + m0 * lda;
    if (B) p.B = tb ? B + n0 * ldb : B + n0;
    p.C = C + m0 * ldc + n0;
    p.pa_offset = pa_offset + m0;
    p.pb_offset = pb_offset + n0;
    p.b_col0 = b_col0 + n0;
    if (ep.bias_kind == GemmBias::Row) p.ep.bias = ep.bias + m0;
    else if (ep.bias_kind == GemmBias::Col) p.ep.bias = ep.bias + n0;
    return p;
  }
};

int threads_for(int64_t work, int max_threads) {
  return static_cast<int>(std::clamp<int64_t>(work / kMinWorkPerThread, 1, std::max(1, max_threads)));
}

// C = beta * C then the epilogue: alpha == 0 or K == 0, where A and B are not read.
void scale_only(const GemmTable& t, const Problem& p, int threads) {
  int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(p.N, 1));
  auto rows = [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      int64_t inc;
      const float* bias = p.row_bias(i, 0, inc);
      t.finish(p.N, nullptr, 0.0f, p.beta, bias, inc, p.ep.act, p.C + i * p.ldc, 1);
    }
  };
  if (threads > 1) parallel_for(0, p.M, grain, rows);
  else rows(0, p.M);
}

// The contiguous column x of op(B) (N == 1) or row of op(A) (M == 1), gathered if strided.
const float* contiguous_vector(const float* v, int64_t n, int64_t inc, Scratch& buf) {
  if (inc == 1) return v;
  float* dst = buf.get(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) dst[k] = v[k * inc];
  return dst;
}

// M == 1: c = op(A)(0, :) . op(B), split over column blocks.
void gemv_row(const GemmTable& t, const Problem& p, int threads) {
  const float* x = p.A;
  const int64_t incx = p.ta ? p.lda : 1;
  const float* xc = p.tb ? contiguous_vector(x, p.K, incx, t_vec_x) : nullptr;
  int64_t chunk = round_up((p.N + threads - 1) / threads, 128);
  int64_t blocks = (p.N + chunk - 1) / chunk;
  parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t bi = lo; bi < hi; ++bi) {
      int64_t j0 = bi * chunk, n = std::min(chunk, p.N - j0);
      float* y = t_vec_y.get(static_cast<size_t>(n));
      if (p.tb) t.gemv_t(p.K, n, xc, p.B + j0 * p.ldb, p.ldb, y);
      else t.gemv_n(p.K, n, x, incx, p.B + j0, p.ldb, y);
      int64_t inc;
      const float* bias = p.row_bias(0, j0, inc);
      t.finish(n, y, p.alpha, p.beta, bias, inc, p.ep.act, p.C + j0, 1);
    }
  });
}

// N == 1: c = op(A) . op(B)(:, 0), split over row blocks.
void gemv_col(const GemmTable& t, const Problem& p, int threads) {
  const float* x = p.B;
  const int64_t incx = p.tb ? 1 : p.ldb;
  const float* xc = !p.ta ? contiguous_vector(x, p.K, incx, t_vec_x) : nullptr;
  int64_t chunk = round_up((p.M + threads - 1) / threads, 128);
  int64_t blocks = (p.M + chunk - 1) / chunk;
  parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t bi = lo; bi < hi; ++bi) {
      int64_t i0 = bi * chunk, m = std::min(chunk, p.M - i0);
      float* y = t_vec_y.get(static_cast<size_t>(m));
      if (p.ta) t.gemv_n(p.K, m, x, incx, p.A + i0, p.lda, y);
      else t.gemv_t(p.K, m, xc, p.A + i0 * p.lda, p.lda, y);
      int64_t inc;
      const float* bias = p.col_bias(i0, 0, inc);
      t.finish(m, y, p.alpha, p.beta, bias, inc, p.ep.act, p.C + i0 * p.ldc, p.ldc);
    }
  });
}

// Tiny or skinny-K problems: one GEMV per row of C, no packing.
void gemm_rowwise(const GemmTable& t, const Problem& p, int threads) {
  auto rows = [&](int64_t lo, int64_t hi) {
    float* y = t_vec_y.get(static_cast<size_t>(p.N));
    for (int64_t i = lo; i < hi; ++i) {
      const float* x = p.a_at(i, 0);
      const int64_t incx = p.ta ? p.lda : 1;
      if (p.tb) t.gemv_t(p.K, p.N, contiguous_vector(x, p.K, incx, t_vec_x), p.B, p.ldb, y);
      else t.gemv_n(p.K, p.N, x, incx, p.B, p.ldb, y);
      int64_t inc;
      const float* bias = p.row_bias(i, 0, inc);
      t.finish(p.N, y, p.alpha, p.beta, bias, inc, p.ep.act, p.C + i * p.ldc, 1);
    }
  };
  if (threads > 1) parallel_for(0, p.M, std::max<int64_t>(1, kMinWorkPerThread / std::max<int64_t>(1, p.N * p.K)), rows);
  else rows(0, p.M);
}

// The five loops around the micro-kernel, on one thread: jc (nc columns of C) -> pc (kc of K;
// pack B) -> ic (mc rows; pack A) -> jr (nr) -> ir (mr). A prepacked operand is not packed again
// and fixes kc; edge tiles (m < mr) run the exact-height kernel.
void goto_serial(const GemmTable& t, const Problem& p, const GemmBlocking& blocking) {
  GemmBlocking bl = blocking;
  if (p.packed_kc > 0) bl.kc = p.packed_kc;
  const int mr = t.mr, nr = t.nr;
  const int64_t kc_max = std::min(bl.kc, p.K);
  float* packed_a = p.packed_a ? nullptr : t_packed_a.get(static_cast<size_t>(round_up(std::min(bl.mc, p.M), mr) * kc_max));
  float* packed_b = p.packed_b ? nullptr : t_packed_b.get(static_cast<size_t>(round_up(std::min(bl.nc, p.N), nr) * kc_max));
  GemmTile tile;
  tile.ldc = p.ldc;
  for (int64_t jc = 0; jc < p.N; jc += bl.nc) {
    const int64_t nc = std::min(bl.nc, p.N - jc);
    for (int64_t pc = 0; pc < p.K; pc += bl.kc) {
      const int64_t kc = std::min(bl.kc, p.K - pc);
      const bool last = pc + kc >= p.K;
      // Earlier K blocks accumulate into C; bias and activation wait for the last one.
      tile.alpha = p.alpha;
      tile.beta = pc == 0 ? p.beta : 1.0f;
      tile.bias_kind = last ? p.ep.bias_kind : GemmBias::None;
      tile.act = last ? p.ep.act : GemmActivation::None;
      const float* block_b;
      if (p.packed_b) {
        block_b = p.packed_b + pc * p.pb_stride + (p.pb_offset + jc) * kc;
      } else {
        if (p.pack_b) (*p.pack_b)(pc, kc, p.b_col0 + jc, nc, nr, packed_b);
        else t.pack_b(p.tb, kc, nc, p.b_at(pc, jc), p.ldb, packed_b);
        block_b = packed_b;
      }
      for (int64_t ic = 0; ic < p.M; ic += bl.mc) {
        const int64_t mc = std::min(bl.mc, p.M - ic);
        const float* block_a;
        if (p.packed_a) {
          block_a = p.packed_a + pc * p.pa_stride + (p.pa_offset + ic) * kc;
        } else {
          t.pack_a(p.ta, mc, kc, p.a_at(ic, pc), p.lda, packed_a);
          block_a = packed_a;
        }
        for (int64_t jr = 0; jr < nc; jr += nr) {
          tile.n = static_cast<int>(std::min<int64_t>(nr, nc - jr));
          const float* pb = block_b + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += mr) {
            tile.m = static_cast<int>(std::min<int64_t>(mr, mc - ir));
            const int64_t i = ic + ir, j = jc + jr;
            tile.bias = tile.bias_kind == GemmBias::Row ? p.ep.bias + i
                        : tile.bias_kind == GemmBias::Col ? p.ep.bias + j
                                                          : nullptr;
            t.kernel_rows[tile.m](kc, block_a + ir * kc, pb, p.C + i * p.ldc + j, tile);
          }
        }
      }
    }
  }
}

// Threads get disjoint blocks of C from a tm x tn grid over the M and N loops, each packing
// its own panels (no barriers: the pool has none, and with few cores the extra packing of the
// shared operand is cheaper than synchronising). The grid minimises modelled time: the
// largest block's multiply-adds plus its packing, weighted by how much slower packing is.
void goto_parallel(const GemmTable& t, const Problem& p, int threads) {
  const GemmBlocking bl = blocking_for(t);
  const int64_t m_tiles = (p.M + t.mr - 1) / t.mr, n_tiles = (p.N + t.nr - 1) / t.nr;
  int best_tm = 1, best_tn = 1;
  double best_cost = -1;
  for (int tm = 1; tm <= threads; ++tm) {
    if (threads % tm) continue;
    int tn = threads / tm;
    if (tm > m_tiles || tn > n_tiles) continue;
    double rows = static_cast<double>((m_tiles + tm - 1) / tm * t.mr);
    double cols = static_cast<double>((n_tiles + tn - 1) / tn * t.nr);
    double k = static_cast<double>(p.K);
    double pack = (p.packed_a ? 0.0 : rows * k * std::ceil(cols / static_cast<double>(bl.nc))) + (p.packed_b ? 0.0 : k * cols);
    double cost = rows * cols * k + 16.0 * pack;
    if (best_cost < 0 || cost < best_cost) best_cost = cost, best_tm = tm, best_tn = tn;
  }
  if (best_cost < 0) {  // fewer tiles than threads along both dims: use the longer one
    if (m_tiles >= n_tiles) best_tm = static_cast<int>(std::min<int64_t>(threads, m_tiles)), best_tn = 1;
    else best_tn = static_cast<int>(std::min<int64_t>(threads, n_tiles)), best_tm = 1;
  }
  if (best_tm * best_tn == 1) {
    goto_serial(t, p, bl);
    return;
  }
  const int tm = best_tm, tn = best_tn;
  parallel_for(0, tm * tn, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t id = lo; id < hi; ++id) {
      const int64_t ti = id / tn, tj = id % tn;
      const int64_t m0 = std::min(p.M, m_tiles * ti / tm * t.mr), m1 = std::min(p.M, m_tiles * (ti + 1) / tm * t.mr);
      const int64_t n0 = std::min(p.N, n_tiles * tj / tn * t.nr), n1 = std::min(p.N, n_tiles * (tj + 1) / tn * t.nr);
      if (m1 > m0 && n1 > n0) goto_serial(t, p.sub(m0, m1, n0, n1), bl);
    }
  });
}

void sgemm_run(const GemmTable& t, const Problem& p, int max_threads) {
  if (p.M <= 0 || p.N <= 0) return;
  const int64_t work = p.M * p.N * std::max<int64_t>(p.K, 1);
  const int threads = threads_for(work, max_threads);
  if (p.K <= 0 || p.alpha == 0.0f) return scale_only(t, p, threads);
  if (p.prepacked()) return goto_parallel(t, p, threads);  // the operands exist only as panels
  if (p.M == 1) return gemv_row(t, p, threads);
  if (p.N == 1) return gemv_col(t, p, threads);
  if (work <= kTinyWork || (p.K <= kSkinnyK && !p.tb)) return gemm_rowwise(t, p, threads);
  goto_parallel(t, p, threads);
}

// ---------------------------------------------------------------------------------------------
// Reference GEMM for float64 and the integer dtypes (blocked, op(B) packed per block).
// ---------------------------------------------------------------------------------------------
constexpr int64_t kRefBlockM = 64, kRefBlockN = 256, kRefBlockK = 256;

template <class T>
void gemm_ref(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
              int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
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
  int64_t row_blocks = (M + kRefBlockM - 1) / kRefBlockM;
  parallel_for(0, row_blocks, 1, [&](int64_t blo, int64_t bhi) {
    std::vector<T> packed_b(static_cast<size_t>(kRefBlockK * kRefBlockN));
    for (int64_t rb = blo; rb < bhi; ++rb) {
      int64_t i0 = rb * kRefBlockM, i1 = std::min(M, i0 + kRefBlockM);
      for (int64_t k0 = 0; k0 < K; k0 += kRefBlockK) {
        int64_t k1 = std::min(K, k0 + kRefBlockK);
        for (int64_t j0 = 0; j0 < N; j0 += kRefBlockN) {
          int64_t j1 = std::min(N, j0 + kRefBlockN), nb = j1 - j0;
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

// The epilogue with a consistent "no bias".
GemmEpilogue normalised(const GemmEpilogue& epilogue) {
  GemmEpilogue ep = epilogue;
  if (!ep.bias) ep.bias_kind = GemmBias::None;
  if (ep.bias_kind == GemmBias::None) ep.bias = nullptr;
  return ep;
}

}  // namespace

void sgemm_ex(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const GemmEpilogue& epilogue) {
  Problem p{ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, normalised(epilogue)};
  sgemm_run(table(), p, num_threads());
}

void PackedMatrix::Free::operator()(float* p) const { std::free(p); }

namespace {

// Packs op(X) block after block of K (the PackedMatrix layout), the outer dimension in chunks
// of panels over the pool. at(k, x): op(X)(k, x) for B, op(X)(x, k) for A.
template <class PackPanels, class At>
void pack_blocks(int64_t outer, int64_t K, int64_t kc, int64_t stride, int64_t r, float* dst, PackPanels pack, At at) {
  const int64_t chunk = r * 16, chunks = (outer + chunk - 1) / chunk;
  for (int64_t pc = 0; pc < K; pc += kc) {
    const int64_t kc_p = std::min(kc, K - pc);
    float* block = dst + pc * stride;
    auto run = [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        const int64_t x0 = c * chunk;
        pack(kc_p, std::min(chunk, outer - x0), at(pc, x0), block + x0 * kc_p);
      }
    };
    if (outer * kc_p >= kMinWorkPerThread / 4) parallel_for(0, chunks, 1, run);
    else run(0, chunks);
  }
}

float* packed_alloc(int64_t n) {
  size_t bytes = round_up(std::max<int64_t>(n, 1) * static_cast<int64_t>(sizeof(float)), 64);
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p) throw std::bad_alloc();
  return p;
}

void check_packed(const char* op, const PackedMatrix& P, bool want_a, int64_t outer, int64_t K) {
  if (P.empty()) fail(ErrorCode::Argument, op, std::string("a packed ") + (want_a ? "A" : "B"), "an empty PackedMatrix");
  if (P.is_a() != want_a) fail(ErrorCode::Argument, op, std::string("a matrix packed as ") + (want_a ? "A" : "B"), want_a ? "B" : "A");
  if (P.outer() != outer || P.depth() != K)
    fail(ErrorCode::Shape, op, std::string(want_a ? "packed A of M x K = " : "packed B of K x N = ") +
             (want_a ? std::to_string(outer) + " x " + std::to_string(K) : std::to_string(K) + " x " + std::to_string(outer)),
         want_a ? std::to_string(P.outer()) + " x " + std::to_string(P.depth()) : std::to_string(P.depth()) + " x " + std::to_string(P.outer()));
}

}  // namespace

PackedMatrix sgemm_pack_a(bool ta, int64_t M, int64_t K, const float* A, int64_t lda) {
  if (M < 0 || K < 0) fail(ErrorCode::Shape, "sgemm_pack_a", "non-negative M, K", std::to_string(M) + ", " + std::to_string(K));
  const GemmTable& t = table();
  PackedMatrix P;
  P.table_ = &t;
  P.is_a_ = true;
  P.outer_ = M;
  P.depth_ = K;
  P.kc_ = blocking_for(t).kc;
  P.stride_ = round_up(M, t.mr);
  P.data_.reset(packed_alloc(K * P.stride_));
  pack_blocks(
      M, K, P.kc_, P.stride_, t.mr, P.data_.get(),
      [&](int64_t kc, int64_t m, const float* src, float* dst) { t.pack_a(ta, m, kc, src, lda, dst); },
      [&](int64_t k, int64_t i) { return ta ? A + k * lda + i : A + i * lda + k; });
  return P;
}

PackedMatrix sgemm_pack_b(bool tb, int64_t K, int64_t N, const float* B, int64_t ldb) {
  if (N < 0 || K < 0) fail(ErrorCode::Shape, "sgemm_pack_b", "non-negative K, N", std::to_string(K) + ", " + std::to_string(N));
  const GemmTable& t = table();
  PackedMatrix P;
  P.table_ = &t;
  P.is_a_ = false;
  P.outer_ = N;
  P.depth_ = K;
  P.kc_ = blocking_for(t).kc;
  P.stride_ = round_up(N, t.nr);
  P.data_.reset(packed_alloc(K * P.stride_));
  pack_blocks(
      N, K, P.kc_, P.stride_, t.nr, P.data_.get(),
      [&](int64_t kc, int64_t n, const float* src, float* dst) { t.pack_b(tb, kc, n, src, ldb, dst); },
      [&](int64_t k, int64_t j) { return tb ? B + j * ldb + k : B + k * ldb + j; });
  return P;
}

void sgemm_packed(bool ta, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const PackedMatrix& B, float beta, float* C, int64_t ldc, const GemmEpilogue& epilogue) {
  check_packed("sgemm_packed", B, false, N, K);
  Problem p{ta, false, M, N, K, alpha, A, lda, nullptr, 0, beta, C, ldc, normalised(epilogue)};
  p.packed_b = B.data();
  p.pb_stride = B.stride();
  p.packed_kc = B.kc();
  sgemm_run(B.table(), p, num_threads());
}

void sgemm_packed(int64_t M, int64_t N, int64_t K, float alpha, const PackedMatrix& A, bool tb, const float* B,
                  int64_t ldb, float beta, float* C, int64_t ldc, const GemmEpilogue& epilogue) {
  check_packed("sgemm_packed", A, true, M, K);
  Problem p{false, tb, M, N, K, alpha, nullptr, 0, B, ldb, beta, C, ldc, normalised(epilogue)};
  p.packed_a = A.data();
  p.pa_stride = A.stride();
  p.packed_kc = A.kc();
  sgemm_run(A.table(), p, num_threads());
}

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  sgemm_ex(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, GemmEpilogue{});
}

void dgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
           const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  gemm_ref<double>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

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

MatmulPlan plan_matmul(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b) {
  if (a.ndim < 2 || b.ndim != a.ndim || out.ndim != a.ndim)
    fail(ErrorCode::Shape, "matmul", "operands of equal rank >= 2", "ranks " + std::to_string(a.ndim) + ", " + std::to_string(b.ndim) + ", " + std::to_string(out.ndim));
  if (a.dtype != b.dtype || out.dtype != a.dtype) fail(ErrorCode::DType, "matmul", std::string("one dtype, ") + dtype_name(a.dtype), dtype_name(b.dtype));
  if (a.dtype == DType::Bool) fail(ErrorCode::DType, "matmul", "a numeric dtype", "bool");
  if (!out.is_contiguous()) fail(ErrorCode::Argument, "matmul", "a contiguous output", "a strided view");
  const int nd = a.ndim;
  MatmulPlan p;
  p.M = a.shape[nd - 2];
  p.K = a.shape[nd - 1];
  p.N = b.shape[nd - 1];
  if (b.shape[nd - 2] != p.K || out.shape[nd - 2] != p.M || out.shape[nd - 1] != p.N)
    fail(ErrorCode::Shape, "matmul", "[..., M, K] @ [..., K, N] -> [..., M, N]",
         shape_str(a.shape, nd) + " @ " + shape_str(b.shape, nd) + " -> " + shape_str(out.shape, nd));
  p.batch = 1;
  for (int d = 0; d < nd - 2; ++d) {
    if (a.shape[d] != out.shape[d] || b.shape[d] != out.shape[d])
      fail(ErrorCode::Shape, "matmul", "batch dims broadcast to " + shape_str(out.shape, nd - 2), shape_str(a.shape, nd - 2) + " and " + shape_str(b.shape, nd - 2));
    p.batch *= out.shape[d];
  }
  if (p.batch == 0 || p.M == 0 || p.N == 0 || p.K == 0) return p;
  p.la = matrix_layout(p.M, p.K, a.strides[nd - 2], a.strides[nd - 1]);
  p.lb = matrix_layout(p.K, p.N, b.strides[nd - 2], b.strides[nd - 1]);
  if (!p.la.ok || !p.lb.ok) fail(ErrorCode::Argument, "matmul", "row- or column-major matrices (the caller copies others)", "another layout");
  return p;
}

void matmul(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b) {
  const MatmulPlan plan = plan_matmul(out, a, b);
  const int nd = a.ndim;
  const int64_t M = plan.M, N = plan.N, K = plan.K, batch = plan.batch;
  if (batch == 0 || M == 0 || N == 0) return;
  if (K == 0) {  // empty sums: zeros, whatever strides the empty operands carry
    std::memset(out.data, 0, static_cast<size_t>(batch * M * N) * dtype_size(out.dtype));
    return;
  }
  const MatrixLayout la = plan.la, lb = plan.lb;
  dispatch_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    size_t es = sizeof(T);
    auto operands = [&](int64_t bi, const T*& pa, const T*& pb, T*& pc) {
      int64_t rem = bi, off_a = 0, off_b = 0;
      for (int d = nd - 3; d >= 0; --d) {
        int64_t idx = rem % out.shape[d];
        rem /= out.shape[d];
        off_a += idx * a.strides[d];
        off_b += idx * b.strides[d];
      }
      pa = reinterpret_cast<const T*>(static_cast<const char*>(a.data) + off_a * es);
      pb = reinterpret_cast<const T*>(static_cast<const char*>(b.data) + off_b * es);
      pc = out.ptr<T>() + bi * M * N;
    };
    if constexpr (std::is_same_v<T, float>) {
      const GemmTable& t = table();
      const int64_t work = M * N * std::max<int64_t>(K, 1);
      auto one = [&](int64_t bi, int threads) {
        const float *pa, *pb;
        float* pc;
        operands(bi, pa, pb, pc);
        Problem p{la.trans, lb.trans, M, N, K, 1.0f, pa, la.ld, pb, lb.ld, 0.0f, pc, N, GemmEpilogue{}};
        sgemm_run(t, p, threads);
      };
      if (batch > 1 && work <= kSmallBatchWork) {
        // Small matrices: one matrix per thread beats splitting each one.
        parallel_for(0, batch, std::max<int64_t>(1, kMinWorkPerThread / work), [&](int64_t lo, int64_t hi) {
          for (int64_t bi = lo; bi < hi; ++bi) one(bi, 1);
        });
      } else {
        for (int64_t bi = 0; bi < batch; ++bi) one(bi, num_threads());
      }
    } else {
      for (int64_t bi = 0; bi < batch; ++bi) {
        const T *pa, *pb;
        T* pc;
        operands(bi, pa, pb, pc);
        gemm_ref<T>(la.trans, lb.trans, M, N, K, T(1), pa, la.ld, pb, lb.ld, T(0), pc, N);
      }
    }
  });
}

LinearPlan plan_linear(const TensorDesc& out, const TensorDesc& x, const TensorDesc& weight, const TensorDesc* bias,
                       GemmActivation act) {
  const char* op = "linear";
  if (x.dtype != DType::Float32 || weight.dtype != DType::Float32 || out.dtype != DType::Float32 ||
      (bias && bias->dtype != DType::Float32))
    fail(ErrorCode::DType, op, "float32 operands", std::string(dtype_name(x.dtype)) + " and " + dtype_name(weight.dtype));
  if (x.ndim < 1 || weight.ndim != 2 || out.ndim != x.ndim)
    fail(ErrorCode::Shape, op, "x [..., in], weight [out, in], out [..., out]",
         shape_str(x.shape, x.ndim) + ", " + shape_str(weight.shape, weight.ndim) + ", " + shape_str(out.shape, out.ndim));
  const int nd = x.ndim;
  const int64_t K = x.shape[nd - 1], N = weight.shape[0];
  if (weight.shape[1] != K || out.shape[nd - 1] != N)
    fail(ErrorCode::Shape, op, "weight [out, " + std::to_string(K) + "] and out [..., out]",
         shape_str(weight.shape, 2) + " and " + shape_str(out.shape, nd));
  LinearPlan p;
  p.K = K;
  p.N = N;
  int64_t M = 1;
  for (int d = 0; d < nd - 1; ++d) {
    if (out.shape[d] != x.shape[d]) fail(ErrorCode::Shape, op, "out's leading dims equal to x's", shape_str(out.shape, nd));
    M *= x.shape[d];
  }
  if (bias && (bias->ndim != 1 || bias->shape[0] != N))
    fail(ErrorCode::Shape, op, "bias [" + std::to_string(N) + "]", shape_str(bias->shape, bias->ndim));
  if (bias && N > 1 && bias->strides[0] != 1) fail(ErrorCode::Argument, op, "a contiguous bias", "a strided view");
  if (!out.is_contiguous()) fail(ErrorCode::Argument, op, "a contiguous output", "a strided view");
  if (static_cast<int32_t>(act) < 0 || static_cast<int32_t>(act) > static_cast<int32_t>(GemmActivation::GeluTanh))
    fail(ErrorCode::Argument, op, "an activation code 0..5", std::to_string(static_cast<int32_t>(act)));
  p.M = M;
  if (M == 0 || N == 0) return p;
  // x's rows: last dim contiguous and the leading dims collapsible into one row stride.
  int64_t row_stride = K, expect = -1;
  if (K > 1 && x.strides[nd - 1] != 1) fail(ErrorCode::Argument, op, "x contiguous in its last dim", "a strided view");
  for (int d = nd - 2; d >= 0; --d) {
    if (x.shape[d] == 1) continue;
    if (expect < 0) row_stride = expect = x.strides[d];
    else if (x.strides[d] != expect) fail(ErrorCode::Argument, op, "x's leading dims evenly strided", "a strided view");
    expect *= x.shape[d];
  }
  if (M > 1 && row_stride < K) fail(ErrorCode::Argument, op, "non-overlapping rows of x", "overlapping rows");
  row_stride = std::max<int64_t>(row_stride, std::max<int64_t>(K, 1));
  // op(B) = weight^T: a row-major weight [N, K] is B transposed; a column-major one is B as is.
  MatrixLayout lw = matrix_layout(N, K, weight.strides[0], weight.strides[1]);
  if (!lw.ok) fail(ErrorCode::Argument, op, "a row- or column-major weight", "another layout");
  p.row_stride = row_stride;
  p.lw = lw;
  p.ep.bias = bias ? bias->ptr<float>() : nullptr;
  p.ep.bias_kind = bias ? GemmBias::Col : GemmBias::None;
  p.ep.act = act;
  return p;
}

void linear(const TensorDesc& out, const TensorDesc& x, const TensorDesc& weight, const TensorDesc* bias,
            GemmActivation act) {
  const LinearPlan p = plan_linear(out, x, weight, bias, act);
  if (p.M == 0 || p.N == 0) return;
  sgemm_ex(false, !p.lw.trans, p.M, p.N, p.K, 1.0f, x.ptr<float>(), p.row_stride, weight.ptr<float>(), p.lw.ld, 0.0f,
           out.ptr<float>(), p.N, p.ep);
}

SgemmPackedA::SgemmPackedA(bool trans_a, int64_t M, int64_t K, const float* A, int64_t lda)
    : table_(&table()), M_(std::max<int64_t>(M, 0)), K_(std::max<int64_t>(K, 0)), packed_(nullptr) {
  const GemmBlocking bl = blocking_for(*table_);
  const int64_t rows = round_up(std::max<int64_t>(M_, 1), table_->mr);
  packed_ = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(round_up(rows * std::max<int64_t>(K_, 1) * 4, 64))));
  if (!packed_) throw std::bad_alloc();
  // K blocks as goto_serial walks them, so block pc starts at rows * pc.
  for (int64_t pc = 0; pc < K_ && M_ > 0; pc += bl.kc) {
    const int64_t kc = std::min(bl.kc, K_ - pc);
    table_->pack_a(trans_a, M_, kc, trans_a ? A + pc * lda : A + pc, lda, packed_ + rows * pc);
  }
}

SgemmPackedA::~SgemmPackedA() { std::free(packed_); }

void SgemmPackedA::multiply(bool trans_b, int64_t N, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                            const GemmEpilogue& epilogue, int max_threads) const {
  GemmEpilogue ep = epilogue;
  if (!ep.bias) ep.bias_kind = GemmBias::None;
  if (ep.bias_kind == GemmBias::None) ep.bias = nullptr;
  Problem p{false, trans_b, M_, N, K_, 1.0f, nullptr, 0, B, ldb, beta, C, ldc, ep};
  p.packed_a = packed_;
  p.pa_stride = round_up(std::max<int64_t>(M_, 1), table_->mr);
  p.packed_kc = blocking_for(*table_).kc;
  sgemm_run(*table_, p, max_threads);
}

void SgemmPackedA::multiply(int64_t N, const GemmPackB& pack_b, float beta, float* C, int64_t ldc,
                            const GemmEpilogue& epilogue, int max_threads) const {
  GemmEpilogue ep = epilogue;
  if (!ep.bias) ep.bias_kind = GemmBias::None;
  if (ep.bias_kind == GemmBias::None) ep.bias = nullptr;
  Problem p{false, false, M_, N, K_, 1.0f, nullptr, 0, nullptr, 0, beta, C, ldc, ep};
  p.packed_a = packed_;
  p.pa_stride = round_up(std::max<int64_t>(M_, 1), table_->mr);
  p.packed_kc = blocking_for(*table_).kc;
  p.pack_b = &pack_b;
  sgemm_run(*table_, p, max_threads);
}

double sgemm_fma_peak(int threads, double seconds) {
  const GemmTable& t = table();
  threads = std::max(1, threads);
  // Calibrate one thread's rounds for ~10 ms, then time `threads` threads doing that many.
  int64_t iters = 1 << 16;
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    t.fma_loop(iters);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dt > 0.01 || iters > (int64_t{1} << 34)) break;
    iters *= 2;
  }
  double best = 0;
  auto start = std::chrono::steady_clock::now();
  do {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<double> flops(static_cast<size_t>(threads), 0.0);
    parallel_for(0, threads, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) flops[static_cast<size_t>(i)] = t.fma_loop(iters);
    });
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double total = 0;
    for (double f : flops) total += f;
    best = std::max(best, total / dt * 1e-9);
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
  return best;
}

}  // namespace dendrite::cpu

// The sequence drivers (validation, the GEMMs and the time loops) and the scalar pointwise path.
#include "rnn.h"
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>
#include "../../core/dispatch.h"
#include "../../core/thread_pool.h"
#include "../gemm/gemm.h"
#include "rnn_rows.h"

namespace dendrite::cpu {
namespace {

void fill_scalar(RnnTable& t) {
  t.lstm_forward_row = [](float* g, const float* b, const float* cp, float* c, float* h, int64_t H) {
    rows::lstm_forward<float>(g, b, cp, c, h, H);
  };
  t.lstm_backward_row = [](float* dg, const float* g, const float* cp, const float* c, const float* dh, float* dc,
                           int64_t H) { rows::lstm_backward<float>(dg, g, cp, c, dh, dc, H); };
  t.gru_forward_row = [](float* s, const float* gh, const float* bi, const float* bh, const float* hp, float* h,
                         int64_t H) { rows::gru_forward<float>(s, gh, bi, bh, hp, h, H); };
  t.gru_backward_row = [](float* dgx, float* dgh, float* dhp, const float* s, const float* hp, const float* dh,
                          int64_t H) { rows::gru_backward<float>(dgx, dgh, dhp, s, hp, dh, H); };
  t.rnn_forward_row = [](float* g, const float* b, float* h, int64_t H, bool relu) {
    rows::rnn_forward<float>(g, b, h, H, relu);
  };
  t.rnn_backward_row = [](float* dg, const float* g, const float* dh, int64_t H, bool relu) {
    rows::rnn_backward<float>(dg, g, dh, H, relu);
  };
}

const RnnTable& table() {
  static IsaTables<RnnTable> tables(fill_scalar, DENDRITE_X86_FILLER(fill_rnn_avx2),
                                    DENDRITE_X86_FILLER(fill_rnn_avx512), DENDRITE_NEON_FILLER(fill_rnn_neon));
  return tables.active();
}

// Row kernels by element type: float32 goes through the ISA table, float64 is scalar.
template <class T>
struct Rows;
template <>
struct Rows<float> {
  const RnnTable& t = table();
  void lstm_fwd(float* g, const float* b, const float* cp, float* c, float* h, int64_t H) const { t.lstm_forward_row(g, b, cp, c, h, H); }
  void lstm_bwd(float* dg, const float* g, const float* cp, const float* c, const float* dh, float* dc, int64_t H) const {
    t.lstm_backward_row(dg, g, cp, c, dh, dc, H);
  }
  void gru_fwd(float* s, const float* gh, const float* bi, const float* bh, const float* hp, float* h, int64_t H) const {
    t.gru_forward_row(s, gh, bi, bh, hp, h, H);
  }
  void gru_bwd(float* dgx, float* dgh, float* dhp, const float* s, const float* hp, const float* dh, int64_t H) const {
    t.gru_backward_row(dgx, dgh, dhp, s, hp, dh, H);
  }
  void rnn_fwd(float* g, const float* b, float* h, int64_t H, bool relu) const { t.rnn_forward_row(g, b, h, H, relu); }
  void rnn_bwd(float* dg, const float* g, const float* dh, int64_t H, bool relu) const { t.rnn_backward_row(dg, g, dh, H, relu); }
};
template <>
struct Rows<double> {
  void lstm_fwd(double* g, const double* b, const double* cp, double* c, double* h, int64_t H) const { rows::lstm_forward(g, b, cp, c, h, H); }
  void lstm_bwd(double* dg, const double* g, const double* cp, const double* c, const double* dh, double* dc, int64_t H) const {
    rows::lstm_backward(dg, g, cp, c, dh, dc, H);
  }
  void gru_fwd(double* s, const double* gh, const double* bi, const double* bh, const double* hp, double* h, int64_t H) const {
    rows::gru_forward(s, gh, bi, bh, hp, h, H);
  }
  void gru_bwd(double* dgx, double* dgh, double* dhp, const double* s, const double* hp, const double* dh, int64_t H) const {
    rows::gru_backward(dgx, dgh, dhp, s, hp, dh, H);
  }
  void rnn_fwd(double* g, const double* b, double* h, int64_t H, bool relu) const { rows::rnn_forward(g, b, h, H, relu); }
  void rnn_bwd(double* dg, const double* g, const double* dh, int64_t H, bool relu) const { rows::rnn_backward(dg, g, dh, H, relu); }
};

inline void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                 int64_t ldb, float beta, float* C, int64_t ldc) {
  sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}
inline void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const double* A, int64_t lda, const double* B,
                 int64_t ldb, double beta, double* C, int64_t ldc) {
  dgemm(ta, tb, M, N, K, 1.0, A, lda, B, ldb, beta, C, ldc);
}

// The per-step product with W_hh, out = beta * out + h · op(W_hh), every step of one sequence call
// against the same weight. float32 packs op(W_hh) once into the GEMM's panels (re-packing a
// G·H x H weight at every step cost about as much as a step's multiply-adds for small batches,
// and ~10% of an LSTM forward at batch 64); float64 runs the reference dgemm.
template <class T>
class RecurrentProduct;
template <>
class RecurrentProduct<float> {
 public:
  // op(W) is K x N: W (N x K) read transposed (trans) or W (K x N) as is.
  RecurrentProduct(bool trans, int64_t K, int64_t N, const float* w) : K_(K), N_(N), packed_(sgemm_pack_b(trans, K, N, w, trans ? K : N)) {}
  void operator()(int64_t M, const float* h, float beta, float* out, int64_t ldo) const {
    sgemm_packed(false, M, N_, K_, 1.0f, h, K_, packed_, beta, out, ldo);
  }

 private:
  int64_t K_, N_;
  PackedMatrix packed_;
};
template <>
class RecurrentProduct<double> {
 public:
  RecurrentProduct(bool trans, int64_t K, int64_t N, const double* w) : trans_(trans), K_(K), N_(N), w_(w) {}
  void operator()(int64_t M, const double* h, double beta, double* out, int64_t ldo) const {
    dgemm(false, trans_, M, N_, K_, 1.0, h, K_, w_, trans_ ? K_ : N_, beta, out, ldo);
  }

 private:
  bool trans_;
  int64_t K_, N_;
  const double* w_;
};

// Uninitialised scratch (the loops write every element before reading it).
template <class T>
std::unique_ptr<T[]> scratch(int64_t n) {
  return std::unique_ptr<T[]>(new T[static_cast<size_t>(std::max<int64_t>(n, 1))]);
}

// The backward's gate-gradient buffers, carved from one block that is kept per thread for the
// next call: a fresh multi-MB buffer costs a page fault per 4 KiB on first touch, which showed
// as about 6% of an LSTM training step (T=50, N=32, H=256). Blocks above kKeepBytes are freed.
class ScratchBlock {
 public:
  explicit ScratchBlock(size_t bytes) {
    Block& cached = cache();
    if (cached.bytes >= bytes) {
      block_ = std::move(cached);
      cached = Block{};
    } else {
      block_.data.reset(new char[std::max<size_t>(bytes, 1)]);
      block_.bytes = bytes;
    }
  }
  ~ScratchBlock() {
    Block& cached = cache();
    if (block_.bytes <= kKeepBytes && block_.bytes > cached.bytes) cached = std::move(block_);
  }
  ScratchBlock(const ScratchBlock&) = delete;
  ScratchBlock& operator=(const ScratchBlock&) = delete;

  // Successive 64-byte-aligned pieces of n elements.
  template <class T>
  T* take(int64_t n) {
    size_t at = (used_ + 63) / 64 * 64;
    used_ = at + sizeof(T) * static_cast<size_t>(n);
    return reinterpret_cast<T*>(block_.data.get() + at);
  }
  template <class T>
  static size_t bytes_for(std::initializer_list<int64_t> counts) {
    size_t total = 0;
    for (int64_t n : counts) total += (sizeof(T) * static_cast<size_t>(n) + 63) / 64 * 64;
    return total + 64;
  }

 private:
  static constexpr size_t kKeepBytes = size_t{64} << 20;
  struct Block {
    std::unique_ptr<char[]> data;
    size_t bytes = 0;
  };
  static Block& cache() {
    thread_local Block block;
    return block;
  }
  Block block_;
  size_t used_ = 0;
};

// Rows per parallel chunk so each chunk has some thousands of elements of pointwise work.
int64_t row_grain(int64_t width) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(width, 1)); }

// ---- validation ------------------------------------------------------------------------

struct Dims {
  int64_t T = 0, N = 0, I = 0, H = 0, G = 1, S = 1;
  int64_t ldx = 1;  // row stride of X read as one (T·N) x I matrix
  DType dtype = DType::Float32;
};

std::string shape_of(const TensorDesc& d) { return shape_str(d.shape, d.ndim); }

void expect_shape(const char* op, const char* what, const TensorDesc& d, std::initializer_list<int64_t> shape) {
  bool ok = d.ndim == static_cast<int>(shape.size());
  int i = 0;
  for (int64_t s : shape) {
    if (ok && d.shape[i] != s) ok = false;
    ++i;
  }
  if (!ok) {
    std::vector<int64_t> want(shape);
    fail(ErrorCode::Shape, op, std::string(what) + " of shape " + shape_str(want.data(), static_cast<int>(want.size())), shape_of(d));
  }
}

void expect_float(const char* op, const char* what, const TensorDesc& d, DType dtype) {
  if (d.dtype != dtype) fail(ErrorCode::DType, op, std::string(what) + " of dtype " + dtype_name(dtype), dtype_name(d.dtype));
}

void expect_contiguous(const char* op, const char* what, const TensorDesc& d) {
  if (!d.is_contiguous()) fail(ErrorCode::Argument, op, std::string("a contiguous ") + what, "a strided view");
}

void expect_numel(const char* op, const char* what, const TensorDesc& d, int64_t n, DType dtype) {
  expect_float(op, what, d, dtype);
  expect_contiguous(op, what, d);
  if (d.numel() != n) fail(ErrorCode::Shape, op, std::string(what) + " of " + std::to_string(n) + " elements", std::to_string(d.numel()));
}

// A (T, N, W) sequence view with a unit inner stride.
void expect_sequence(const char* op, const char* what, const TensorDesc& d, int64_t T, int64_t N, int64_t W, DType dtype) {
  expect_float(op, what, d, dtype);
  expect_shape(op, what, d, {T, N, W});
  if (W > 1 && d.strides[2] != 1) fail(ErrorCode::Argument, op, std::string(what) + " with a unit inner stride", "stride " + std::to_string(d.strides[2]));
}

void expect_state(const char* op, const char* what, const TensorDesc* d, int64_t N, int64_t H, DType dtype) {
  if (d == nullptr) return;
  expect_float(op, what, *d, dtype);
  expect_shape(op, what, *d, {N, H});
  expect_contiguous(op, what, *d);
}

Dims check_common(const char* op, RnnMode mode, const TensorDesc* x, const RnnWeights& w, const TensorDesc* lengths) {
  if (mode != RnnMode::Lstm && mode != RnnMode::Gru && mode != RnnMode::RnnTanh && mode != RnnMode::RnnRelu)
    fail(ErrorCode::Argument, op, "a mode in 0..3", std::to_string(static_cast<int>(mode)));
  if (x == nullptr || w.w_ih == nullptr || w.w_hh == nullptr) fail(ErrorCode::Argument, op, "an input and both weights", "null");
  Dims d;
  d.dtype = x->dtype;
  if (!dtype_is_float(d.dtype)) fail(ErrorCode::DType, op, "a float32 or float64 input", dtype_name(d.dtype));
  if (x->ndim != 3) fail(ErrorCode::Shape, op, "an input of shape [T, N, inputSize]", shape_of(*x));
  d.T = x->shape[0];
  d.N = x->shape[1];
  d.I = x->shape[2];
  d.G = rnn_gate_count(mode);
  d.S = rnn_saved_count(mode);
  const TensorDesc& wh = *w.w_hh;
  expect_float(op, "weight_hh", wh, d.dtype);
  if (wh.ndim != 2 || wh.shape[0] % d.G != 0 || wh.shape[0] / d.G != wh.shape[1])
    fail(ErrorCode::Shape, op, "weight_hh of shape [" + std::to_string(d.G) + "·hidden, hidden]", shape_of(wh));
  d.H = wh.shape[1];
  expect_contiguous(op, "weight_hh", wh);
  expect_float(op, "weight_ih", *w.w_ih, d.dtype);
  expect_shape(op, "weight_ih", *w.w_ih, {d.G * d.H, d.I});
  expect_contiguous(op, "weight_ih", *w.w_ih);
  if (d.I > 1 && x->strides[2] != 1) fail(ErrorCode::Argument, op, "an input with a unit inner stride", "stride " + std::to_string(x->strides[2]));
  // X is read as one (T·N) x I matrix by the input projection: rows of a step, then the next step.
  d.ldx = d.N > 1 ? x->strides[1] : d.T > 1 ? x->strides[0] : std::max<int64_t>(d.I, 1);
  if (d.T > 1 && d.N > 1 && x->strides[0] != d.N * x->strides[1])
    fail(ErrorCode::Argument, op, "a time-major input whose steps are consecutive rows", "another layout");
  if (d.T * d.N > 1 && d.ldx < d.I) fail(ErrorCode::Argument, op, "input rows that do not overlap", "overlapping rows");
  d.ldx = std::max<int64_t>(d.ldx, 1);
  if (lengths != nullptr) {
    if (lengths->dtype != DType::Int32 && lengths->dtype != DType::Int64)
      fail(ErrorCode::DType, op, "int32 or int64 lengths", dtype_name(lengths->dtype));
    expect_shape(op, "lengths", *lengths, {d.N});
  }
  return d;
}

// Per-row valid lengths (T when none), checked to lie in [0, T].
std::vector<int64_t> read_lengths(const char* op, const TensorDesc* lengths, const Dims& d) {
  std::vector<int64_t> len(static_cast<size_t>(d.N), d.T);
  if (lengths == nullptr) return len;
  for (int64_t n = 0; n < d.N; ++n) {
    const char* p = static_cast<const char*>(lengths->data) + n * lengths->strides[0] * static_cast<int64_t>(dtype_size(lengths->dtype));
    int64_t v = lengths->dtype == DType::Int32 ? *reinterpret_cast<const int32_t*>(p) : *reinterpret_cast<const int64_t*>(p);
    if (v < 0 || v > d.T)
      fail(ErrorCode::Index, op, "lengths in [0, " + std::to_string(d.T) + "]", std::to_string(v) + " at batch row " + std::to_string(n));
    len[static_cast<size_t>(n)] = v;
  }
  return len;
}

// b_ih + b_hh, or zeros (LSTM and RNN add both biases in one place).
template <class T>
std::vector<T> combined_bias(const RnnWeights& w, int64_t width, bool sum) {
  std::vector<T> b(static_cast<size_t>(width), T(0));
  if (w.b_ih == nullptr) return b;
  const T* bi = w.b_ih->ptr<T>();
  const T* bh = w.b_hh->ptr<T>();
  for (int64_t j = 0; j < width; ++j) b[static_cast<size_t>(j)] = sum ? bi[j] + bh[j] : bi[j];
  return b;
}

// ---- forward ---------------------------------------------------------------------------

template <class T>
void forward_impl(const RnnForwardArgs& a, const Dims& d, const std::vector<int64_t>& len) {
  const int64_t T_ = d.T, N = d.N, I = d.I, H = d.H, GH = d.G * d.H, SH = d.S * d.H, NH = N * H;
  const bool lstm = a.mode == RnnMode::Lstm, gru = a.mode == RnnMode::Gru, relu = a.mode == RnnMode::RnnRelu;
  const Rows<T> rows;
  const T* x = a.x->ptr<T>();
  const int64_t ldx = d.ldx;
  const T* w_ih = a.w.w_ih->ptr<T>();
  const T* w_hh = a.w.w_hh->ptr<T>();
  // Without saved buffers (inference) the gates and states live in per-thread scratch that the
  // next call reuses: a fresh T·N·S·H buffer page-faults on first touch, ~15% of the forward.
  const bool keep = a.saved_gates != nullptr;
  std::unique_ptr<ScratchBlock> work;
  if (!keep) work = std::make_unique<ScratchBlock>(ScratchBlock::bytes_for<T>({T_ * N * SH, (T_ + 1) * NH, lstm ? (T_ + 1) * NH : 0}));
  T* saved = keep ? a.saved_gates->ptr<T>() : work->take<T>(T_ * N * SH);
  T* hs = keep ? a.saved_h->ptr<T>() : work->take<T>((T_ + 1) * NH);
  T* cs = !lstm ? nullptr : keep ? a.saved_c->ptr<T>() : work->take<T>((T_ + 1) * NH);
  const std::vector<T> bias = combined_bias<T>(a.w, GH, !gru);
  const std::vector<T> bias_hh = gru ? (a.w.b_hh ? std::vector<T>(a.w.b_hh->ptr<T>(), a.w.b_hh->ptr<T>() + GH) : std::vector<T>(GH, T(0))) : std::vector<T>();

  // Initial state in the row the first step reads.
  const int64_t first = a.reverse ? T_ : 0;
  if (a.h0) std::memcpy(hs + first * NH, a.h0->ptr<T>(), sizeof(T) * NH);
  else std::fill(hs + first * NH, hs + (first + 1) * NH, T(0));
  if (lstm) {
    if (a.c0) std::memcpy(cs + first * NH, a.c0->ptr<T>(), sizeof(T) * NH);
    else std::fill(cs + first * NH, cs + (first + 1) * NH, T(0));
  }

  // Input projection for every step at once: saved[t, n, 0:GH] = x[t, n] · W_ihᵀ.
  gemm(false, true, T_ * N, GH, I, x, ldx, w_ih, I, T(0), saved, SH);

  const RecurrentProduct<T> recurrent(true, H, GH, w_hh);
  // GRU keeps h·W_hhᵀ apart from the input projection (r multiplies only its n block).
  std::unique_ptr<T[]> gh = gru ? scratch<T>(N * GH) : nullptr;
  const TensorDesc& y = *a.y;
  T* ybase = y.ptr<T>();
  const bool zero_h0 = a.h0 == nullptr;
  for (int64_t s = 0; s < T_; ++s) {
    const int64_t t = a.reverse ? T_ - 1 - s : s;
    const int64_t prev_row = a.reverse ? t + 1 : t, next_row = a.reverse ? t : t + 1;
    const T* h_prev = hs + prev_row * NH;
    T* h_next = hs + next_row * NH;
    const T* c_prev = lstm ? cs + prev_row * NH : nullptr;
    T* c_next = lstm ? cs + next_row * NH : nullptr;
    T* step = saved + t * N * SH;
    // With no initial state the first recurrent product is zero and is skipped.
    const bool skip = s == 0 && zero_h0;
    if (gru) {
      if (skip) std::fill(gh.get(), gh.get() + N * GH, T(0));
      else recurrent(N, h_prev, T(0), gh.get(), GH);
    } else if (!skip) {
      recurrent(N, h_prev, T(1), step, SH);
    }
    parallel_for(0, N, row_grain(SH), [&](int64_t lo, int64_t hi) {
      for (int64_t n = lo; n < hi; ++n) {
        T* yrow = ybase + t * y.strides[0] + n * y.strides[1];
        T* hn = h_next + n * H;
        if (t >= len[static_cast<size_t>(n)]) {
          // Padding: the state carries over, the output is zero.
          std::memcpy(hn, h_prev + n * H, sizeof(T) * H);
          if (lstm) std::memcpy(c_next + n * H, c_prev + n * H, sizeof(T) * H);
          std::fill(yrow, yrow + H, T(0));
          continue;
        }
        T* g = step + n * SH;
        if (lstm) rows.lstm_fwd(g, bias.data(), c_prev + n * H, c_next + n * H, hn, H);
        else if (gru) rows.gru_fwd(g, gh.get() + n * GH, bias.data(), bias_hh.data(), h_prev + n * H, hn, H);
        else rows.rnn_fwd(g, bias.data(), hn, H, relu);
        std::memcpy(yrow, hn, sizeof(T) * H);
      }
    });
  }
  const int64_t last = a.reverse ? 0 : T_;
  std::memcpy(a.h_n->ptr<T>(), hs + last * NH, sizeof(T) * NH);
  if (lstm) std::memcpy(a.c_n->ptr<T>(), cs + last * NH, sizeof(T) * NH);
}

// ---- backward --------------------------------------------------------------------------

// out[j] = sum over rows of m[r * ld + j], j < width (bias gradients). Runs of kRun rows are
// summed in T (contiguous, vectorisable), the runs in double.
template <class T>
void column_sums(T* out, const T* m, int64_t rows, int64_t width, int64_t ld) {
  constexpr int64_t kBlock = 64, kRun = 64;
  parallel_for(0, (width + kBlock - 1) / kBlock, 1, [&](int64_t lo, int64_t hi) {
    double acc[kBlock];
    T run[kBlock];
    for (int64_t b = lo; b < hi; ++b) {
      int64_t j0 = b * kBlock, w = std::min(kBlock, width - j0);
      std::fill(acc, acc + w, 0.0);
      for (int64_t r0 = 0; r0 < rows; r0 += kRun) {
        std::fill(run, run + w, T(0));
        for (int64_t r = r0, r1 = std::min(rows, r0 + kRun); r < r1; ++r) {
          const T* p = m + r * ld + j0;
          for (int64_t j = 0; j < w; ++j) run[j] += p[j];
        }
        for (int64_t j = 0; j < w; ++j) acc[j] += run[j];
      }
      for (int64_t j = 0; j < w; ++j) out[j0 + j] = static_cast<T>(acc[j]);
    }
  });
}

template <class T>
void backward_impl(const RnnBackwardArgs& a, const Dims& d, const std::vector<int64_t>& len) {
  const int64_t T_ = d.T, N = d.N, I = d.I, H = d.H, GH = d.G * d.H, SH = d.S * d.H, NH = N * H;
  const bool lstm = a.mode == RnnMode::Lstm, gru = a.mode == RnnMode::Gru, relu = a.mode == RnnMode::RnnRelu;
  const Rows<T> rows;
  const T* x = a.x->ptr<T>();
  const int64_t ldx = d.ldx;
  const T* w_ih = a.w.w_ih->ptr<T>();
  const T* w_hh = a.w.w_hh->ptr<T>();
  const T* saved = a.saved_gates->ptr<T>();
  const T* hs = a.saved_h->ptr<T>();
  const T* cs = lstm ? a.saved_c->ptr<T>() : nullptr;

  // Gate gradients for every step, time-indexed like X: dgx for the input projection, dgh for
  // the recurrent one (the same buffer except for GRU, whose n block differs by the factor r).
  const int64_t gate_grads = T_ * N * GH;
  ScratchBlock block(ScratchBlock::bytes_for<T>({gate_grads, gru ? gate_grads : 0, NH, lstm ? NH : 0}));
  T* dgx = block.take<T>(gate_grads);
  T* dgh = gru ? block.take<T>(gate_grads) : dgx;
  T* dh = block.take<T>(NH);
  T* dc = lstm ? block.take<T>(NH) : nullptr;
  if (a.dh_n) std::memcpy(dh, a.dh_n->ptr<T>(), sizeof(T) * NH);
  else std::fill(dh, dh + NH, T(0));
  if (lstm) {
    if (a.dc_n) std::memcpy(dc, a.dc_n->ptr<T>(), sizeof(T) * NH);
    else std::fill(dc, dc + NH, T(0));
  }
  const T* dybase = a.dy ? a.dy->ptr<T>() : nullptr;
  const RecurrentProduct<T> recurrent(false, GH, H, w_hh);

  for (int64_t s = T_ - 1; s >= 0; --s) {
    const int64_t t = a.reverse ? T_ - 1 - s : s;
    const int64_t prev_row = a.reverse ? t + 1 : t, next_row = a.reverse ? t : t + 1;
    const T* h_prev = hs + prev_row * NH;
    const T* c_prev = lstm ? cs + prev_row * NH : nullptr;
    const T* c_next = lstm ? cs + next_row * NH : nullptr;
    const T* step = saved + t * N * SH;
    T* dgx_t = dgx + t * N * GH;
    T* dgh_t = dgh + t * N * GH;
    parallel_for(0, N, row_grain(SH), [&](int64_t lo, int64_t hi) {
      for (int64_t n = lo; n < hi; ++n) {
        T* dhn = dh + n * H;
        if (t >= len[static_cast<size_t>(n)]) {
          // Padding: the output was a constant zero, dh and dc pass through to the previous step.
          std::fill(dgx_t + n * GH, dgx_t + (n + 1) * GH, T(0));
          if (gru) std::fill(dgh_t + n * GH, dgh_t + (n + 1) * GH, T(0));
          continue;
        }
        if (dybase) {
          const T* dy = dybase + t * a.dy->strides[0] + n * a.dy->strides[1];
          for (int64_t j = 0; j < H; ++j) dhn[j] += dy[j];
        }
        const T* g = step + n * SH;
        if (lstm) {
          rows.lstm_bwd(dgx_t + n * GH, g, c_prev + n * H, c_next + n * H, dhn, dc + n * H, H);
          std::fill(dhn, dhn + H, T(0));
        } else if (gru) {
          rows.gru_bwd(dgx_t + n * GH, dgh_t + n * GH, dhn, g, h_prev + n * H, dhn, H);
        } else {
          rows.rnn_bwd(dgx_t + n * GH, g, dhn, H, relu);
          std::fill(dhn, dhn + H, T(0));
        }
      }
    });
    // dh_{t-1} += dG_t · W_hh (not needed after the first step unless dh0 is wanted).
    if (s > 0 || a.dh0) recurrent(N, dgh_t, T(1), dh, H);
  }
  if (a.dh0) std::memcpy(a.dh0->ptr<T>(), dh, sizeof(T) * NH);
  if (a.dc0) std::memcpy(a.dc0->ptr<T>(), dc, sizeof(T) * NH);

  const int64_t TN = T_ * N;
  if (a.dx) gemm(false, false, TN, I, GH, dgx, GH, w_ih, I, T(0), a.dx->ptr<T>(), I);
  if (a.dw_ih) gemm(true, false, GH, I, TN, dgx, GH, x, ldx, T(0), a.dw_ih->ptr<T>(), I);
  // The previous states in time order start at row `reverse` of saved_h.
  if (a.dw_hh) gemm(true, false, GH, H, TN, dgh, GH, hs + (a.reverse ? NH : 0), H, T(0), a.dw_hh->ptr<T>(), H);
  if (a.db_ih) column_sums(a.db_ih->ptr<T>(), dgx, TN, GH, GH);
  if (a.db_hh) {
    // Outside GRU both biases see the same gate gradient.
    if (a.db_ih && !gru) std::memcpy(a.db_hh->ptr<T>(), a.db_ih->ptr<T>(), sizeof(T) * GH);
    else column_sums(a.db_hh->ptr<T>(), dgh, TN, GH, GH);
  }
}

}  // namespace

int rnn_gate_count(RnnMode mode) {
  switch (mode) {
    case RnnMode::Lstm: return 4;
    case RnnMode::Gru: return 3;
    default: return 1;
  }
}

int rnn_saved_count(RnnMode mode) {
  switch (mode) {
    case RnnMode::Lstm: return 4;
    case RnnMode::Gru: return 4;
    default: return 1;
  }
}

void rnn_forward(const RnnForwardArgs& a) {
  const char* op = "rnn forward";
  Dims d = check_common(op, a.mode, a.x, a.w, a.lengths);
  const bool lstm = a.mode == RnnMode::Lstm;
  const int64_t GH = d.G * d.H;
  if ((a.w.b_ih == nullptr) != (a.w.b_hh == nullptr)) fail(ErrorCode::Argument, op, "both biases or neither", "one");
  for (const TensorDesc* b : {a.w.b_ih, a.w.b_hh})
    if (b) {
      expect_float(op, "bias", *b, d.dtype);
      expect_shape(op, "bias", *b, {GH});
      expect_contiguous(op, "bias", *b);
    }
  expect_state(op, "h0", a.h0, d.N, d.H, d.dtype);
  if (a.c0 && !lstm) fail(ErrorCode::Argument, op, "no cell state outside LSTM", "c0");
  expect_state(op, "c0", a.c0, d.N, d.H, d.dtype);
  if (a.y == nullptr || a.h_n == nullptr || (lstm && a.c_n == nullptr))
    fail(ErrorCode::Argument, op, "every output buffer", "a missing one");
  const bool keep = a.saved_gates != nullptr;
  if ((a.saved_h != nullptr) != keep || (lstm && (a.saved_c != nullptr) != keep))
    fail(ErrorCode::Argument, op, "every buffer for backward or none", "some");
  expect_sequence(op, "output", *a.y, d.T, d.N, d.H, d.dtype);
  expect_state(op, "h_n", a.h_n, d.N, d.H, d.dtype);
  if (lstm) expect_state(op, "c_n", a.c_n, d.N, d.H, d.dtype);
  if (keep) {
    expect_numel(op, "saved gates", *a.saved_gates, d.T * d.N * d.S * d.H, d.dtype);
    expect_numel(op, "saved states", *a.saved_h, (d.T + 1) * d.N * d.H, d.dtype);
    if (lstm) expect_numel(op, "saved cells", *a.saved_c, (d.T + 1) * d.N * d.H, d.dtype);
  }
  std::vector<int64_t> len = read_lengths(op, a.lengths, d);
  if (d.T == 0 || d.N == 0 || d.H == 0) {
    // Nothing to run: the final state is the initial one.
    if (d.N * d.H > 0) {
      dispatch_dtype(d.dtype, [&](auto tag) {
        using T = decltype(tag);
        if constexpr (std::is_floating_point_v<T>) {
          T* hn = a.h_n->ptr<T>();
          if (a.h0) std::memcpy(hn, a.h0->ptr<T>(), sizeof(T) * d.N * d.H); else std::fill(hn, hn + d.N * d.H, T(0));
          if (lstm) {
            T* cn = a.c_n->ptr<T>();
            if (a.c0) std::memcpy(cn, a.c0->ptr<T>(), sizeof(T) * d.N * d.H); else std::fill(cn, cn + d.N * d.H, T(0));
          }
        }
      });
    }
    return;
  }
  if (d.dtype == DType::Float32) forward_impl<float>(a, d, len);
  else forward_impl<double>(a, d, len);
}

void rnn_backward(const RnnBackwardArgs& a) {
  const char* op = "rnn backward";
  Dims d = check_common(op, a.mode, a.x, a.w, a.lengths);
  const bool lstm = a.mode == RnnMode::Lstm;
  const int64_t GH = d.G * d.H;
  if (a.saved_gates == nullptr || a.saved_h == nullptr || (lstm && a.saved_c == nullptr))
    fail(ErrorCode::Argument, op, "the buffers saved by forward", "a missing one");
  expect_numel(op, "saved gates", *a.saved_gates, d.T * d.N * d.S * d.H, d.dtype);
  expect_numel(op, "saved states", *a.saved_h, (d.T + 1) * d.N * d.H, d.dtype);
  if (lstm) expect_numel(op, "saved cells", *a.saved_c, (d.T + 1) * d.N * d.H, d.dtype);
  if (a.dy) expect_sequence(op, "output gradient", *a.dy, d.T, d.N, d.H, d.dtype);
  expect_state(op, "h_n gradient", a.dh_n, d.N, d.H, d.dtype);
  if ((a.dc_n || a.dc0) && !lstm) fail(ErrorCode::Argument, op, "no cell state outside LSTM", "a cell gradient");
  expect_state(op, "c_n gradient", a.dc_n, d.N, d.H, d.dtype);
  if (a.dx) {
    expect_sequence(op, "input gradient", *a.dx, d.T, d.N, d.I, d.dtype);
    expect_contiguous(op, "input gradient", *a.dx);
  }
  expect_state(op, "h0 gradient", a.dh0, d.N, d.H, d.dtype);
  expect_state(op, "c0 gradient", a.dc0, d.N, d.H, d.dtype);
  if (a.dw_ih) {
    expect_float(op, "weight_ih gradient", *a.dw_ih, d.dtype);
    expect_shape(op, "weight_ih gradient", *a.dw_ih, {GH, d.I});
    expect_contiguous(op, "weight_ih gradient", *a.dw_ih);
  }
  if (a.dw_hh) {
    expect_float(op, "weight_hh gradient", *a.dw_hh, d.dtype);
    expect_shape(op, "weight_hh gradient", *a.dw_hh, {GH, d.H});
    expect_contiguous(op, "weight_hh gradient", *a.dw_hh);
  }
  for (const TensorDesc* b : {a.db_ih, a.db_hh})
    if (b) expect_numel(op, "bias gradient", *b, GH, d.dtype);
  std::vector<int64_t> len = read_lengths(op, a.lengths, d);
  auto zero = [&](const TensorDesc* t) {
    if (t == nullptr || t->numel() == 0) return;
    std::memset(t->data, 0, static_cast<size_t>(t->numel()) * dtype_size(t->dtype));
  };
  if (d.T == 0 || d.N == 0 || d.H == 0) {
    for (const TensorDesc* t : {a.dx, a.dw_ih, a.dw_hh, a.db_ih, a.db_hh}) zero(t);
    if (d.N * d.H > 0) {
      // The final state was the initial one.
      if (a.dh0) { if (a.dh_n) std::memcpy(a.dh0->data, a.dh_n->data, d.N * d.H * dtype_size(d.dtype)); else zero(a.dh0); }
      if (a.dc0) { if (a.dc_n) std::memcpy(a.dc0->data, a.dc_n->data, d.N * d.H * dtype_size(d.dtype)); else zero(a.dc0); }
    } else {
      zero(a.dh0);
      zero(a.dc0);
    }
    return;
  }
  if (d.dtype == DType::Float32) backward_impl<float>(a, d, len);
  else backward_impl<double>(a, d, len);
}

}  // namespace dendrite::cpu

// LSTM / GRU / RNN through time on CUDA, the contract of native/cpu/rnn/rnn.h (the same saved
// buffers, the same padding rules), float32.
//
// Forward, for one (layer, direction):
//   1. one SGEMM projects every step's input at once into the saved gates,
//      saved[t, n, 0:GH] = x[t, n] · W_ihᵀ + bias, with the bias in the GEMM epilogue: b_ih + b_hh
//      for LSTM and RNN (the CPU adds the same sum), and for GRU b_ih + b_hh on the r and z
//      blocks but b_ih alone on n (b_hn sits inside r ⊙ (W_hn h + b_hn), added per step);
//   2. per step one SGEMM h_{t-1} · W_hhᵀ (accumulated into the step's gates for LSTM / RNN, into
//      a separate N x 3H buffer for GRU, whose n block is scaled by r) and one fused pointwise
//      kernel, a thread per (batch row, unit), that applies the gates, writes h_t, c_t and the
//      output row and overwrites the gates with what backward reads (LSTM i, f, g, o; GRU r, z,
//      n, hn; RNN the activation). With no initial state the first step's product is zero and
//      is skipped, as on the CPU.
// Backward runs the steps in reverse: one fused pointwise kernel producing the step's gate
// gradients (and the direct dh / dc paths), then one SGEMM dh_{t-1} += dG_t · W_hh; after the
// loop dx = dG · W_ih, dW_ih = dGᵀ · X and dW_hh = dGᵀ · H_prev as three large SGEMMs, and the
// bias gradients as column sums of dG (a deterministic two-pass reduction, double accumulators).
//
// Lengths: row n runs steps t < lengths[n]; at a padded step its state is carried unchanged, its
// output row is zero, and backward writes a zero gate gradient and passes dh / dc through.
//
// No persistent kernel (W_hh kept on chip across steps for small H): every step goes through
// the general SGEMM, which is simpler to get right without a GPU at hand.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>
#include "../core/cuda_utils.cuh"
#include "rnn.h"

namespace dendrite::cuda {

using cpu::RnnMode;

namespace {

// ---- validation (the CPU's checks, plus float32 only) -----------------------------------

struct Dims {
  int64_t T = 0, N = 0, I = 0, H = 0, G = 1, S = 1;
  int64_t ldx = 1;  // row stride of X read as one (T·N) x I matrix
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

void expect_f32(const char* op, const char* what, const TensorDesc& d) {
  if (d.dtype == DType::Float32) return;
  if (d.dtype == DType::Float64)
    fail(ErrorCode::DType, op, "float32 on cuda (float64 recurrent layers run on the cpu)", std::string("a float64 ") + what);
  fail(ErrorCode::DType, op, std::string(what) + " of dtype float32", dtype_name(d.dtype));
}

void expect_contiguous(const char* op, const char* what, const TensorDesc& d) {
  if (!d.is_contiguous()) fail(ErrorCode::Argument, op, std::string("a contiguous ") + what, "a strided view");
}

void expect_numel(const char* op, const char* what, const TensorDesc& d, int64_t n) {
  expect_f32(op, what, d);
  expect_contiguous(op, what, d);
  if (d.numel() != n) fail(ErrorCode::Shape, op, std::string(what) + " of " + std::to_string(n) + " elements", std::to_string(d.numel()));
}

// A (T, N, W) sequence view with a unit inner stride.
void expect_sequence(const char* op, const char* what, const TensorDesc& d, int64_t T, int64_t N, int64_t W) {
  expect_f32(op, what, d);
  expect_shape(op, what, d, {T, N, W});
  if (W > 1 && d.strides[2] != 1) fail(ErrorCode::Argument, op, std::string(what) + " with a unit inner stride", "stride " + std::to_string(d.strides[2]));
}

void expect_state(const char* op, const char* what, const TensorDesc* d, int64_t N, int64_t H) {
  if (d == nullptr) return;
  expect_f32(op, what, *d);
  expect_shape(op, what, *d, {N, H});
  expect_contiguous(op, what, *d);
}

Dims check_common(const char* op, RnnMode mode, const TensorDesc* x, const cpu::RnnWeights& w, const TensorDesc* lengths) {
  if (mode != RnnMode::Lstm && mode != RnnMode::Gru && mode != RnnMode::RnnTanh && mode != RnnMode::RnnRelu)
    fail(ErrorCode::Argument, op, "a mode in 0..3", std::to_string(static_cast<int>(mode)));
  if (x == nullptr || w.w_ih == nullptr || w.w_hh == nullptr) fail(ErrorCode::Argument, op, "an input and both weights", "null");
  Dims d;
  if (!dtype_is_float(x->dtype)) fail(ErrorCode::DType, op, "a float32 or float64 input", dtype_name(x->dtype));
  expect_f32(op, "input", *x);
  if (x->ndim != 3) fail(ErrorCode::Shape, op, "an input of shape [T, N, inputSize]", shape_of(*x));
  d.T = x->shape[0];
  d.N = x->shape[1];
  d.I = x->shape[2];
  d.G = cpu::rnn_gate_count(mode);
  d.S = cpu::rnn_saved_count(mode);
  const TensorDesc& wh = *w.w_hh;
  expect_f32(op, "weight_hh", wh);
  if (wh.ndim != 2 || wh.shape[0] % d.G != 0 || wh.shape[0] / d.G != wh.shape[1])
    fail(ErrorCode::Shape, op, "weight_hh of shape [" + std::to_string(d.G) + "·hidden, hidden]", shape_of(wh));
  d.H = wh.shape[1];
  expect_contiguous(op, "weight_hh", wh);
  expect_f32(op, "weight_ih", *w.w_ih);
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

// Checks every length lies in [0, T], as the CPU does (ERR_INDEX otherwise). This is the one read
// of device memory in the family, and it is unavoidable for that check: N values copied back,
// one synchronisation per call (PyTorch keeps packed-sequence lengths on the CPU for the same
// reason). The kernels then read the lengths where they are (LenView).
void check_lengths(const char* op, const TensorDesc* lengths, const Dims& d) {
  if (lengths == nullptr || d.N == 0) return;
  const int64_t es = static_cast<int64_t>(dtype_size(lengths->dtype));
  const int64_t st = lengths->strides[0];
  const int64_t lo = std::min<int64_t>(0, (d.N - 1) * st), hi = std::max<int64_t>(0, (d.N - 1) * st);
  std::vector<char> host(static_cast<size_t>((hi - lo + 1) * es));
  copy_to_host(host.data(), static_cast<const char*>(lengths->data) + lo * es, host.size());
  for (int64_t n = 0; n < d.N; ++n) {
    const char* p = host.data() + (n * st - lo) * es;
    int64_t v = lengths->dtype == DType::Int32 ? *reinterpret_cast<const int32_t*>(p) : *reinterpret_cast<const int64_t*>(p);
    if (v < 0 || v > d.T)
      fail(ErrorCode::Index, op, "lengths in [0, " + std::to_string(d.T) + "]", std::to_string(v) + " at batch row " + std::to_string(n));
  }
}

// ---- device helpers --------------------------------------------------------------------------

// The lengths as the kernels read them in place (null pointer: every row runs every step).
struct LenView {
  const char* p = nullptr;
  int64_t stride_bytes = 0;
  int is64 = 0;
};

LenView len_view(const TensorDesc* lengths) {
  LenView v;
  if (lengths == nullptr) return v;
  v.p = static_cast<const char*>(lengths->data);
  v.stride_bytes = lengths->strides[0] * static_cast<int64_t>(dtype_size(lengths->dtype));
  v.is64 = lengths->dtype == DType::Int64 ? 1 : 0;
  return v;
}

// Whether batch row n runs step t.
__device__ __forceinline__ bool runs(const LenView& len, int64_t n, int64_t t) {
  if (len.p == nullptr) return true;
  const char* q = len.p + n * len.stride_bytes;
  const int64_t l = len.is64 ? *reinterpret_cast<const int64_t*>(q) : static_cast<int64_t>(*reinterpret_cast<const int32_t*>(q));
  return t < l;
}

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

void zero_fill(void* p, int64_t count) {
  if (count <= 0) return;
  check(cudaMemsetAsync(p, 0, static_cast<size_t>(count) * sizeof(float), stream()), "rnn (zero fill)");
}

void copy_floats(float* dst, const float* src, int64_t count) {
  if (count <= 0) return;
  copy_on_device(dst, src, static_cast<size_t>(count) * sizeof(float));
}

// out[j] = b_ih[j] + b_hh[j] for j < hh_end, b_ih[j] past it (GRU keeps b_hn apart).
__global__ void combine_bias(float* out, const float* b_ih, const float* b_hh, int64_t width, int64_t hh_end) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < width; j += stride)
    out[j] = j < hh_end ? b_ih[j] + b_hh[j] : b_ih[j];
}

// ---- forward step kernels: a thread per (batch row n, unit j), idx = n·H + j -----------------

struct StepForward {
  int64_t N, H;
  int64_t SH;             // row stride of the saved gates
  int64_t t;              // the time index of this step
  LenView len;
  float* gates;           // saved gates of step t: row n at gates + n·SH
  const float* gh;        // GRU: h_{t-1}·W_hhᵀ, row n at gh + n·3H; null when it is zero
  const float* b_hn;      // GRU: b_hh + 2H, or null (no bias)
  const float* h_prev;    // (N, H)
  float* h_next;          // (N, H)
  const float* c_prev;    // LSTM
  float* c_next;          // LSTM
  float* y;               // output at step t: row n at y + n·y_row, unit stride
  int64_t y_row;
  int relu;
};

__global__ void lstm_forward_step(StepForward p) {
  const int64_t total = p.N * p.H, H = p.H;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t n = idx / H, j = idx - n * H;
    float* yv = p.y + n * p.y_row + j;
    if (!runs(p.len, n, p.t)) {
      // Padding: the state carries over, the output is zero.
      p.h_next[idx] = p.h_prev[idx];
      p.c_next[idx] = p.c_prev[idx];
      *yv = 0.0f;
      continue;
    }
    float* g = p.gates + n * p.SH;
    const float i = sigmoid(g[j]);
    const float f = sigmoid(g[H + j]);
    const float gg = tanhf(g[2 * H + j]);
    const float o = sigmoid(g[3 * H + j]);
    const float c = f * p.c_prev[idx] + i * gg;
    g[j] = i;
    g[H + j] = f;
    g[2 * H + j] = gg;
    g[3 * H + j] = o;
    p.c_next[idx] = c;
    const float h = o * tanhf(c);
    p.h_next[idx] = h;
    *yv = h;
  }
}

// h = (1 - z) ⊙ n + z ⊙ h_prev, n = tanh(x_n + b_in + r ⊙ (h_n + b_hn)); the saved gates hold
// x·W_ihᵀ + bias on entry and r, z, n, hn on exit.
__global__ void gru_forward_step(StepForward p) {
  const int64_t total = p.N * p.H, H = p.H;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t n = idx / H, j = idx - n * H;
    float* yv = p.y + n * p.y_row + j;
    if (!runs(p.len, n, p.t)) {
      p.h_next[idx] = p.h_prev[idx];
      *yv = 0.0f;
      continue;
    }
    float* s = p.gates + n * p.SH;
    const float* gh = p.gh ? p.gh + n * 3 * H : nullptr;
    const float ghr = gh ? gh[j] : 0.0f, ghz = gh ? gh[H + j] : 0.0f, ghn = gh ? gh[2 * H + j] : 0.0f;
    const float r = sigmoid(s[j] + ghr);
    const float z = sigmoid(s[H + j] + ghz);
    const float hn = ghn + (p.b_hn ? p.b_hn[j] : 0.0f);
    const float nn = tanhf(s[2 * H + j] + r * hn);
    s[j] = r;
    s[H + j] = z;
    s[2 * H + j] = nn;
    s[3 * H + j] = hn;
    const float h = nn + z * (p.h_prev[idx] - nn);
    p.h_next[idx] = h;
    *yv = h;
  }
}

__global__ void rnn_forward_step(StepForward p) {
  const int64_t total = p.N * p.H, H = p.H;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t n = idx / H, j = idx - n * H;
    float* yv = p.y + n * p.y_row + j;
    if (!runs(p.len, n, p.t)) {
      p.h_next[idx] = p.h_prev[idx];
      *yv = 0.0f;
      continue;
    }
    float* g = p.gates + n * p.SH;
    const float v = g[j];
    // relu keeps NaN, as torch.relu.
    const float a = p.relu ? ((v > 0.0f || isnan(v)) ? v : 0.0f) : tanhf(v);
    g[j] = a;
    p.h_next[idx] = a;
    *yv = a;
  }
}

// ---- backward step kernels ---------------------------------------------------------------------

struct StepBackward {
  int64_t N, H;
  int64_t SH, GH;
  int64_t t;
  LenView len;
  const float* saved;     // saved gates of step t: row n at saved + n·SH
  const float* h_prev;    // GRU: the state before step t (N, H)
  const float* c_prev;    // LSTM: the cells before and after step t (N, H)
  const float* c_next;
  const float* dy;        // output gradient at step t, row n at dy + n·dy_row; null = none
  int64_t dy_row;
  float* dh;              // (N, H): in, the gradient reaching h_t; out, the direct part for h_{t-1}
  float* dc;              // LSTM (N, H): in, reaching c_t; out, reaching c_{t-1}
  float* dgx;             // gate gradients of step t, row n at dgx + n·GH (input projection)
  float* dgh;             // GRU: those of the recurrent projection (else unused)
  int relu;
};

__global__ void lstm_backward_step(StepBackward p) {
  const int64_t total = p.N * p.H, H = p.H;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t n = idx / H, j = idx - n * H;
    float* dg = p.dgx + n * p.GH;
    if (!runs(p.len, n, p.t)) {
      // Padding: no gate gradient; dh and dc pass through to the previous step.
      dg[j] = 0.0f;
      dg[H + j] = 0.0f;
      dg[2 * H + j] = 0.0f;
      dg[3 * H + j] = 0.0f;
      continue;
    }
    const float d = p.dh[idx] + (p.dy ? p.dy[n * p.dy_row + j] : 0.0f);
    const float* g = p.saved + n * p.SH;
    const float i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j];
    const float tc = tanhf(p.c_next[idx]);
    const float dct = p.dc[idx] + d * o * (1.0f - tc * tc);
    dg[j] = dct * gg * i * (1.0f - i);
    dg[H + j] = dct * p.c_prev[idx] * f * (1.0f - f);
    dg[2 * H + j] = dct * i * (1.0f - gg * gg);
    dg[3 * H + j] = d * tc * o * (1.0f - o);
    p.dc[idx] = dct * f;
    p.dh[idx] = 0.0f;  // the recurrent SGEMM adds dG_t · W_hh next
  }
}

__global__ void gru_backward_step(StepBackward p) {
  const int64_t total = p.N * p.H, H = p.H;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t n = idx / H, j = idx - n * H;
    float* gx = p.dgx + n * p.GH;
    float* gh = p.dgh + n * p.GH;
    if (!runs(p.len, n, p.t)) {
      gx[j] = 0.0f;
      gx[H + j] = 0.0f;
      gx[2 * H + j] = 0.0f;
      gh[j] = 0.0f;
      gh[H + j] = 0.0f;
      gh[2 * H + j] = 0.0f;
      continue;
    }
    const float d = p.dh[idx] + (p.dy ? p.dy[n * p.dy_row + j] : 0.0f);
    const float* s = p.saved + n * p.SH;
    const float r = s[j], z = s[H + j], nn = s[2 * H + j], hn = s[3 * H + j];
    const float dn = d * (1.0f - z) * (1.0f - nn * nn);
    const float dz = d * (p.h_prev[idx] - nn) * z * (1.0f - z);
    const float dr = dn * hn * r * (1.0f - r);
    gx[j] = dr;
    gx[H + j] = dz;
    gx[2 * H + j] = dn;
    gh[j] = dr;
    gh[H + j] = dz;
    gh[2 * H + j] = dn * r;
    p.dh[idx] = d * z;  // the direct path; the recurrent SGEMM adds dG_t · W_hh next
  }
}

__global__ void rnn_backward_step(StepBackward p) {
  const int64_t total = p.N * p.H, H = p.H;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t n = idx / H, j = idx - n * H;
    float* dg = p.dgx + n * p.GH;
    if (!runs(p.len, n, p.t)) {
      dg[j] = 0.0f;
      continue;
    }
    const float d = p.dh[idx] + (p.dy ? p.dy[n * p.dy_row + j] : 0.0f);
    const float a = p.saved[n * p.SH + j];
    dg[j] = p.relu ? (a > 0.0f ? d : 0.0f) : d * (1.0f - a * a);
    p.dh[idx] = 0.0f;
  }
}

// ---- bias gradients: column sums --------------------------------------------------------------

constexpr int kSumCols = 32, kSumRows = 8;

// Block (32, 8): 32 columns, the rows [blockIdx.y·chunk, +chunk) split over 8 thread rows;
// writes the block's sums to out[blockIdx.y·width + j].
template <class Out>
__global__ void column_sums_part(const float* m, int64_t rows, int64_t width, int64_t ld, int64_t chunk, Out* out) {
  __shared__ double part[kSumRows][kSumCols];
  const int64_t j = static_cast<int64_t>(blockIdx.x) * kSumCols + threadIdx.x;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * chunk;
  const int64_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
  double acc = 0.0;
  if (j < width)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kSumRows) acc += static_cast<double>(m[r * ld + j]);
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && j < width) {
    double total = 0.0;
    for (int k = 0; k < kSumRows; ++k) total += part[k][threadIdx.x];
    out[static_cast<int64_t>(blockIdx.y) * width + j] = static_cast<Out>(total);
  }
}

__global__ void column_sums_finish(const double* part, int64_t splits, int64_t width, float* out) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < width; j += stride) {
    double total = 0.0;
    for (int64_t s = 0; s < splits; ++s) total += part[s * width + j];
    out[j] = static_cast<float>(total);
  }
}

// out[j] = sum over r < rows of m[r·ld + j], j < width (rows >= 1, width >= 1).
void column_sums(float* out, const float* m, int64_t rows, int64_t width, int64_t ld) {
  if (width <= 0) return;
  if (rows <= 0) {
    zero_fill(out, width);
    return;
  }
  cudaStream_t s = stream();
  const int64_t col_blocks = (width + kSumCols - 1) / kSumCols;
  // Enough row splits to give the GPU some blocks, each at least 512 rows.
  int64_t splits = std::min<int64_t>((rows + 511) / 512, std::max<int64_t>(1, static_cast<int64_t>(sm_count()) * 4 / col_blocks));
  splits = std::max<int64_t>(1, std::min<int64_t>(splits, 65535));
  const int64_t chunk = (rows + splits - 1) / splits;
  splits = (rows + chunk - 1) / chunk;
  const dim3 block(kSumCols, kSumRows);
  if (splits == 1) {
    column_sums_part<float><<<dim3(static_cast<unsigned>(col_blocks), 1), block, 0, s>>>(m, rows, width, ld, chunk, out);
    check_launch("rnn backward (bias gradient)");
    return;
  }
  Scratch part(static_cast<size_t>(splits * width) * sizeof(double));
  column_sums_part<double><<<dim3(static_cast<unsigned>(col_blocks), static_cast<unsigned>(splits)), block, 0, s>>>(
      m, rows, width, ld, chunk, part.as<double>());
  check_launch("rnn backward (bias gradient)");
  column_sums_finish<<<grid_for(width), kThreads, 0, s>>>(part.as<double>(), splits, width, out);
  check_launch("rnn backward (bias gradient)");
}

// C = A · op(B) (+ C when accumulate), the plain SGEMM without epilogue.
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
          float beta, float* C, int64_t ldc) {
  cuda::sgemm_ex(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc, cpu::GemmEpilogue{});
}

}  // namespace

// ---- forward ----------------------------------------------------------------------------------

void rnn_forward(const cpu::RnnForwardArgs& a) {
  const char* op = "rnn forward";
  const Dims d = check_common(op, a.mode, a.x, a.w, a.lengths);
  const bool lstm = a.mode == RnnMode::Lstm, gru = a.mode == RnnMode::Gru;
  const int64_t T = d.T, N = d.N, I = d.I, H = d.H, GH = d.G * d.H, SH = d.S * d.H, NH = N * H;
  if ((a.w.b_ih == nullptr) != (a.w.b_hh == nullptr)) fail(ErrorCode::Argument, op, "both biases or neither", "one");
  for (const TensorDesc* b : {a.w.b_ih, a.w.b_hh})
    if (b) {
      expect_f32(op, "bias", *b);
      expect_shape(op, "bias", *b, {GH});
      expect_contiguous(op, "bias", *b);
    }
  expect_state(op, "h0", a.h0, N, H);
  if (a.c0 && !lstm) fail(ErrorCode::Argument, op, "no cell state outside LSTM", "c0");
  expect_state(op, "c0", a.c0, N, H);
  if (a.y == nullptr || a.h_n == nullptr || (lstm && a.c_n == nullptr))
    fail(ErrorCode::Argument, op, "every output buffer", "a missing one");
  const bool keep = a.saved_gates != nullptr;
  if ((a.saved_h != nullptr) != keep || (lstm && (a.saved_c != nullptr) != keep))
    fail(ErrorCode::Argument, op, "every buffer for backward or none", "some");
  expect_sequence(op, "output", *a.y, T, N, H);
  expect_state(op, "h_n", a.h_n, N, H);
  if (lstm) expect_state(op, "c_n", a.c_n, N, H);
  if (keep) {
    expect_numel(op, "saved gates", *a.saved_gates, T * N * SH);
    expect_numel(op, "saved states", *a.saved_h, (T + 1) * NH);
    if (lstm) expect_numel(op, "saved cells", *a.saved_c, (T + 1) * NH);
  }
  check_lengths(op, a.lengths, d);
  if (T == 0 || N == 0 || H == 0) {
    // Nothing to run: the final state is the initial one.
    if (NH > 0) {
      if (a.h0) copy_floats(a.h_n->ptr<float>(), a.h0->ptr<float>(), NH);
      else zero_fill(a.h_n->data, NH);
      if (lstm) {
        if (a.c0) copy_floats(a.c_n->ptr<float>(), a.c0->ptr<float>(), NH);
        else zero_fill(a.c_n->data, NH);
      }
    }
    return;
  }
  cudaStream_t s = stream();

  // Without saved buffers (inference) the gates and states live in scratch.
  Scratch saved_tmp(keep ? 0 : static_cast<size_t>(T * N * SH) * sizeof(float));
  Scratch hs_tmp(keep ? 0 : static_cast<size_t>((T + 1) * NH) * sizeof(float));
  Scratch cs_tmp(keep || !lstm ? 0 : static_cast<size_t>((T + 1) * NH) * sizeof(float));
  float* saved = keep ? a.saved_gates->ptr<float>() : saved_tmp.as<float>();
  float* hs = keep ? a.saved_h->ptr<float>() : hs_tmp.as<float>();
  float* cs = !lstm ? nullptr : keep ? a.saved_c->ptr<float>() : cs_tmp.as<float>();

  // The bias folded into the input projection's epilogue (see the top of the file).
  const bool has_bias = a.w.b_ih != nullptr;
  Scratch bias(has_bias ? static_cast<size_t>(GH) * sizeof(float) : 0);
  if (has_bias) {
    combine_bias<<<grid_for(GH), kThreads, 0, s>>>(bias.as<float>(), a.w.b_ih->ptr<float>(), a.w.b_hh->ptr<float>(), GH,
                                                    gru ? 2 * H : GH);
    check_launch(op);
  }

  // Initial state in the row the first step reads.
  const int64_t first = a.reverse ? T : 0;
  if (a.h0) copy_floats(hs + first * NH, a.h0->ptr<float>(), NH);
  else zero_fill(hs + first * NH, NH);
  if (lstm) {
    if (a.c0) copy_floats(cs + first * NH, a.c0->ptr<float>(), NH);
    else zero_fill(cs + first * NH, NH);
  }

  // Input projection for every step at once: saved[t, n, 0:GH] = x[t, n] · W_ihᵀ + bias.
  cpu::GemmEpilogue ep;
  if (has_bias) {
    ep.bias = bias.as<float>();
    ep.bias_kind = cpu::GemmBias::Col;
  }
  cuda::sgemm_ex(false, true, T * N, GH, I, 1.0f, a.x->ptr<float>(), d.ldx, a.w.w_ih->ptr<float>(), std::max<int64_t>(I, 1),
           0.0f, saved, SH, ep);

  // GRU keeps h·W_hhᵀ apart from the input projection (r multiplies only its n block).
  Scratch gh(gru ? static_cast<size_t>(N * GH) * sizeof(float) : 0);
  const float* w_hh = a.w.w_hh->ptr<float>();
  const TensorDesc& y = *a.y;
  StepForward p{};
  p.N = N;
  p.H = H;
  p.SH = SH;
  p.len = len_view(a.lengths);
  p.b_hn = gru && has_bias ? a.w.b_hh->ptr<float>() + 2 * H : nullptr;
  p.y_row = y.strides[1];
  p.relu = a.mode == RnnMode::RnnRelu ? 1 : 0;
  const unsigned blocks = grid_for(NH);
  for (int64_t step = 0; step < T; ++step) {
    const int64_t t = a.reverse ? T - 1 - step : step;
    const int64_t prev_row = a.reverse ? t + 1 : t, next_row = a.reverse ? t : t + 1;
    const float* h_prev = hs + prev_row * NH;
    float* gates = saved + t * N * SH;
    // With no initial state the first recurrent product is zero and is skipped.
    const bool skip = step == 0 && a.h0 == nullptr;
    if (gru) {
      if (!skip) gemm(false, true, N, GH, H, h_prev, H, w_hh, H, 0.0f, gh.as<float>(), GH);
      p.gh = skip ? nullptr : gh.as<float>();
    } else if (!skip) {
      gemm(false, true, N, GH, H, h_prev, H, w_hh, H, 1.0f, gates, SH);
    }
    p.t = t;
    p.gates = gates;
    p.h_prev = h_prev;
    p.h_next = hs + next_row * NH;
    p.c_prev = lstm ? cs + prev_row * NH : nullptr;
    p.c_next = lstm ? cs + next_row * NH : nullptr;
    p.y = y.ptr<float>() + t * y.strides[0];
    if (lstm) lstm_forward_step<<<blocks, kThreads, 0, s>>>(p);
    else if (gru) gru_forward_step<<<blocks, kThreads, 0, s>>>(p);
    else rnn_forward_step<<<blocks, kThreads, 0, s>>>(p);
    check_launch(op);
  }
  const int64_t last = a.reverse ? 0 : T;
  copy_floats(a.h_n->ptr<float>(), hs + last * NH, NH);
  if (lstm) copy_floats(a.c_n->ptr<float>(), cs + last * NH, NH);
}

// ---- backward ---------------------------------------------------------------------------------

void rnn_backward(const cpu::RnnBackwardArgs& a) {
  const char* op = "rnn backward";
  const Dims d = check_common(op, a.mode, a.x, a.w, a.lengths);
  const bool lstm = a.mode == RnnMode::Lstm, gru = a.mode == RnnMode::Gru;
  const int64_t T = d.T, N = d.N, I = d.I, H = d.H, GH = d.G * d.H, SH = d.S * d.H, NH = N * H;
  if (a.saved_gates == nullptr || a.saved_h == nullptr || (lstm && a.saved_c == nullptr))
    fail(ErrorCode::Argument, op, "the buffers saved by forward", "a missing one");
  expect_numel(op, "saved gates", *a.saved_gates, T * N * SH);
  expect_numel(op, "saved states", *a.saved_h, (T + 1) * NH);
  if (lstm) expect_numel(op, "saved cells", *a.saved_c, (T + 1) * NH);
  if (a.dy) expect_sequence(op, "output gradient", *a.dy, T, N, H);
  expect_state(op, "h_n gradient", a.dh_n, N, H);
  if ((a.dc_n || a.dc0) && !lstm) fail(ErrorCode::Argument, op, "no cell state outside LSTM", "a cell gradient");
  expect_state(op, "c_n gradient", a.dc_n, N, H);
  if (a.dx) {
    expect_sequence(op, "input gradient", *a.dx, T, N, I);
    expect_contiguous(op, "input gradient", *a.dx);
  }
  expect_state(op, "h0 gradient", a.dh0, N, H);
  expect_state(op, "c0 gradient", a.dc0, N, H);
  if (a.dw_ih) {
    expect_f32(op, "weight_ih gradient", *a.dw_ih);
    expect_shape(op, "weight_ih gradient", *a.dw_ih, {GH, I});
    expect_contiguous(op, "weight_ih gradient", *a.dw_ih);
  }
  if (a.dw_hh) {
    expect_f32(op, "weight_hh gradient", *a.dw_hh);
    expect_shape(op, "weight_hh gradient", *a.dw_hh, {GH, H});
    expect_contiguous(op, "weight_hh gradient", *a.dw_hh);
  }
  for (const TensorDesc* b : {a.db_ih, a.db_hh})
    if (b) expect_numel(op, "bias gradient", *b, GH);
  check_lengths(op, a.lengths, d);
  auto zero = [](const TensorDesc* t) {
    if (t != nullptr) zero_fill(t->data, t->numel());
  };
  if (T == 0 || N == 0 || H == 0) {
    for (const TensorDesc* t : {a.dx, a.dw_ih, a.dw_hh, a.db_ih, a.db_hh}) zero(t);
    // The final state was the initial one.
    if (a.dh0) {
      if (a.dh_n && NH > 0) copy_floats(a.dh0->ptr<float>(), a.dh_n->ptr<float>(), NH);
      else zero(a.dh0);
    }
    if (a.dc0) {
      if (a.dc_n && NH > 0) copy_floats(a.dc0->ptr<float>(), a.dc_n->ptr<float>(), NH);
      else zero(a.dc0);
    }
    return;
  }
  cudaStream_t s = stream();
  const float* x = a.x->ptr<float>();
  const float* w_ih = a.w.w_ih->ptr<float>();
  const float* w_hh = a.w.w_hh->ptr<float>();
  const float* saved = a.saved_gates->ptr<float>();
  const float* hs = a.saved_h->ptr<float>();
  const float* cs = lstm ? a.saved_c->ptr<float>() : nullptr;

  // Gate gradients for every step, time-indexed like X: dgx for the input projection, dgh for
  // the recurrent one (the same buffer except for GRU, whose n block differs by the factor r).
  const int64_t TN = T * N;
  Scratch dgx_buf(static_cast<size_t>(TN * GH) * sizeof(float));
  Scratch dgh_buf(gru ? static_cast<size_t>(TN * GH) * sizeof(float) : 0);
  Scratch dh_buf(static_cast<size_t>(NH) * sizeof(float));
  Scratch dc_buf(lstm ? static_cast<size_t>(NH) * sizeof(float) : 0);
  float* dgx = dgx_buf.as<float>();
  float* dgh = gru ? dgh_buf.as<float>() : dgx;
  float* dh = dh_buf.as<float>();
  float* dc = lstm ? dc_buf.as<float>() : nullptr;
  if (a.dh_n) copy_floats(dh, a.dh_n->ptr<float>(), NH);
  else zero_fill(dh, NH);
  if (lstm) {
    if (a.dc_n) copy_floats(dc, a.dc_n->ptr<float>(), NH);
    else zero_fill(dc, NH);
  }

  StepBackward p{};
  p.N = N;
  p.H = H;
  p.SH = SH;
  p.GH = GH;
  p.len = len_view(a.lengths);
  p.dy_row = a.dy ? a.dy->strides[1] : 0;
  p.dh = dh;
  p.dc = dc;
  p.relu = a.mode == RnnMode::RnnRelu ? 1 : 0;
  const unsigned blocks = grid_for(NH);
  for (int64_t step = T - 1; step >= 0; --step) {
    const int64_t t = a.reverse ? T - 1 - step : step;
    const int64_t prev_row = a.reverse ? t + 1 : t, next_row = a.reverse ? t : t + 1;
    p.t = t;
    p.saved = saved + t * N * SH;
    p.h_prev = hs + prev_row * NH;
    p.c_prev = lstm ? cs + prev_row * NH : nullptr;
    p.c_next = lstm ? cs + next_row * NH : nullptr;
    p.dy = a.dy ? a.dy->ptr<float>() + t * a.dy->strides[0] : nullptr;
    p.dgx = dgx + t * N * GH;
    p.dgh = dgh + t * N * GH;
    if (lstm) lstm_backward_step<<<blocks, kThreads, 0, s>>>(p);
    else if (gru) gru_backward_step<<<blocks, kThreads, 0, s>>>(p);
    else rnn_backward_step<<<blocks, kThreads, 0, s>>>(p);
    check_launch(op);
    // dh_{t-1} += dG_t · W_hh (not needed after the first step unless dh0 is wanted).
    if (step > 0 || a.dh0) gemm(false, false, N, H, GH, p.dgh, GH, w_hh, H, 1.0f, dh, H);
  }
  if (a.dh0) copy_floats(a.dh0->ptr<float>(), dh, NH);
  if (a.dc0) copy_floats(a.dc0->ptr<float>(), dc, NH);

  if (a.dx) gemm(false, false, TN, I, GH, dgx, GH, w_ih, std::max<int64_t>(I, 1), 0.0f, a.dx->ptr<float>(), std::max<int64_t>(I, 1));
  if (a.dw_ih) gemm(true, false, GH, I, TN, dgx, GH, x, d.ldx, 0.0f, a.dw_ih->ptr<float>(), std::max<int64_t>(I, 1));
  // The previous states in time order start at row `reverse` of saved_h.
  if (a.dw_hh) gemm(true, false, GH, H, TN, dgh, GH, hs + (a.reverse ? NH : 0), H, 0.0f, a.dw_hh->ptr<float>(), H);
  if (a.db_ih) column_sums(a.db_ih->ptr<float>(), dgx, TN, GH, GH);
  if (a.db_hh) {
    // Outside GRU both biases see the same gate gradient.
    if (a.db_ih && !gru) copy_floats(a.db_hh->ptr<float>(), a.db_ih->ptr<float>(), GH);
    else column_sums(a.db_hh->ptr<float>(), dgh, TN, GH, GH);
  }
}

}  // namespace dendrite::cuda

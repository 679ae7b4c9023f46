// conv2d on CUDA, float32, NCHW: the forward and its two adjoints with the contracts of
// native/cpu/conv/conv.h (the CPU kernels are the reference the tests compare against).
//
//   general:   im2col into a column buffer col[(c, r, s), j] whose columns j run over the output
//              positions of a step: a tile of one image's positions, or all positions of a chunk
//              of images when an image has few of them (so the GEMM gets wide enough to fill the
//              GPU), the buffer bounded by kColElems. Then one SGEMM per (step, group):
//                forward          y   = W_g . col           (bias fused in the epilogue)
//                input adjoint    col = W_g^T . gy, then col2im
//                weight adjoint   gW += gy . col^T          (split over K, see below)
//              A chunk of several images has its outputs (or its gy) laid out [k, image, position]
//              in a scratch buffer, moved from / to NCHW by a small copy kernel.
//   col2im:    a gather: one thread per input-gradient element sums, in a fixed order, the
//              column entries of every (output position, tap) that read it. No atomics, so the
//              result is deterministic. When an image spans several column tiles, gx is filled
//              with the bias first and each tile adds onto the rows of gx its taps reach.
//   pointwise: 1x1, stride 1, no padding (and OH = H, OW = W): the input is the column matrix,
//              so the SGEMMs run on x / gx straight, image by image, when an image is wide
//              enough on its own; small images go through the general path, chunked.
//   depthwise: groups == C (output channel k reads input channel k / multiplier): direct
//              kernels, a thread per output (forward) or per input element (input adjoint,
//              a gather as above); the weight gradient reduces over (image, position) per
//              (channel, tap), split across blocks and summed in a fixed order.
// The weight adjoint's GEMM has an output of only Kg x CRS and a long inner dimension, so a
// single SGEMM would run a handful of blocks; it is split along K into slices run as one
// batched matmul into partial sums, which a last kernel adds in slice order (deterministic).
//
// Index math runs in 32 bits when every offset a kernel forms fits (the host checks), else in
// 64 bits. Everything is queued on cuda::stream(); nothing here reads device memory back.
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include "../core/cuda_utils.cuh"
#include "conv.h"

namespace dendrite::cuda {
namespace {

using cpu::ConvParams;
using cpu::GemmBias;
using cpu::GemmEpilogue;

// Columns (floats per column times columns) one step may hold in each scratch buffer: 64 MiB.
constexpr int64_t kColElems = int64_t{16} << 20;
// At least this many columns per step, whatever the column height.
constexpr int64_t kMinCols = 256;
// A pointwise image this wide runs its SGEMMs on x straight even in a batch.
constexpr int64_t kPointwiseDirectP = 2048;
// The depthwise weight reduction gives a block at least this many (image, position) pairs.
constexpr int64_t kReduceChunk = 4096;

struct Geo {
  int64_t N, C, H, W, K, R, S, OH, OW;
  int64_t sh, sw, ph, pw, dh, dw, groups;
  int64_t Cg, Kg, RS, CRS, P, HW;

  bool pointwise() const {
    return R == 1 && S == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && OH == H && OW == W;
  }
  bool depthwise() const { return groups == C; }
};

// The geometry in the index type of a kernel.
template <class I>
struct KGeo {
  I N, C, H, W, K, R, S, OH, OW, sh, sw, ph, pw, dh, dw, Cg, Kg, RS, P, HW;
};

template <class I>
KGeo<I> narrow(const Geo& g) {
  auto c = [](int64_t v) { return static_cast<I>(v); };
  return KGeo<I>{c(g.N),  c(g.C),  c(g.H),  c(g.W),  c(g.K),  c(g.R),  c(g.S),  c(g.OH), c(g.OW), c(g.sh),
                 c(g.sw), c(g.ph), c(g.pw), c(g.dh), c(g.dw), c(g.Cg), c(g.Kg), c(g.RS), c(g.P),  c(g.HW)};
}

// True when 32-bit index math is exact: every extent given (element counts, coordinate
// reaches) is below 2^30, so the offsets and intermediates kernels form from them (sums of
// two such values at most) stay below 2^31.
bool fits32(std::initializer_list<int64_t> extents) {
  constexpr int64_t kLimit = int64_t{1} << 30;  // headroom for the sums of two such values
  for (int64_t e : extents)
    if (e < 0 || e >= kLimit) return false;
  return true;
}

// Coordinate reaches of the geometry (for fits32): the largest |ih|, |iw|, |oh|, |ow| the
// kernels compute, with slack.
int64_t reach(const Geo& g) {
  const int64_t rh = g.OH * g.sh + g.R * g.dh + g.ph + g.H;
  const int64_t rw = g.OW * g.sw + g.S * g.dw + g.pw + g.W;
  return std::max(rh, rw);
}

template <class F>
void with_index(bool small, F&& f) {
  if (small) f(int32_t{});
  else f(int64_t{});
}

// ---- kernels -------------------------------------------------------------------------------

#define GRID_STRIDE(i, total)                                                                        \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (total);     \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// col[row, j] for row = (c * R + r) * S + s over the group's Cg channels from c0, and column j
// = output position q0 + j of the chunk (image n0 + q / P, position q % P); width columns.
template <class I>
__global__ void im2col_kernel(float* __restrict__ col, const float* __restrict__ x, KGeo<I> g, I n0, I c0, I q0,
                              I width, int64_t total) {
  GRID_STRIDE(i, total) {
    const I idx = static_cast<I>(i);
    const I row = idx / width, j = idx - row * width;
    const I q = q0 + j, b = q / g.P, p = q - b * g.P;
    const I oh = p / g.OW, ow = p - oh * g.OW;
    const I c = row / g.RS, t = row - c * g.RS, r = t / g.S, s = t - r * g.S;
    const I ih = oh * g.sh - g.ph + r * g.dh, iw = ow * g.sw - g.pw + s * g.dw;
    float v = 0.0f;
    if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) v = __ldg(x + ((n0 + b) * g.C + c0 + c) * g.HW + ih * g.W + iw);
    col[i] = v;
  }
}

// dst[k, b * P + p] = src[n0 + b, k0 + k, p] for k < rows, b < nb: a chunk of images' planes
// [rows] of an [N, Ktot, P] tensor, laid out as one [rows, nb * P] matrix.
template <class I>
__global__ void pack_kernel(float* __restrict__ dst, const float* __restrict__ src, I P, I Ktot, I n0, I k0, I nb,
                            int64_t total) {
  const I width = nb * P;
  GRID_STRIDE(i, total) {
    const I idx = static_cast<I>(i);
    const I k = idx / width, j = idx - k * width, b = j / P, p = j - b * P;
    dst[i] = __ldg(src + ((n0 + b) * Ktot + k0 + k) * P + p);
  }
}

// The inverse: dst[n0 + b, k0 + k, p] = src[k, b * P + p].
template <class I>
__global__ void unpack_kernel(float* __restrict__ dst, const float* __restrict__ src, I P, I Ktot, I n0, I k0, I nb,
                              int64_t total) {
  const I width = nb * P;
  GRID_STRIDE(i, total) {
    const I idx = static_cast<I>(i);
    const I k = idx / width, j = idx - k * width, b = j / P, p = j - b * P;
    dst[((n0 + b) * Ktot + k0 + k) * P + p] = src[i];
  }
}

// col2im as a gather over input rows [ih0, ih0 + rows) of the chunk's nb images, the group's
// channels from c0: gx = (accumulate ? gx : bias[c] or 0) + the sum of col[(c, r, s), j] over
// the taps (r, s) and columns j (position q0 + j of the chunk) that read (ih, iw).
// Tap r reaches row ih from output row oh = (ih + ph - r * dh) / sh when that divides exactly;
// that numerator falls as r grows, so the loop stops at the first negative one.
template <class I>
__global__ void col2im_kernel(float* __restrict__ gx, const float* __restrict__ col, KGeo<I> g, I n0, I c0, I q0,
                              I width, I ih0, I rows, const float* __restrict__ bias, bool accumulate, int64_t total) {
  GRID_STRIDE(i, total) {
    const I idx = static_cast<I>(i);
    I t = idx / g.W;
    const I iw = idx - t * g.W;
    I q = t / rows;
    const I ih = ih0 + (t - q * rows);
    t = q / g.Cg;
    const I c = q - t * g.Cg, b = t;
    const float* colc = col + c * g.RS * width;
    const I jb = b * g.P - q0;
    float acc = 0.0f;
    for (I r = 0; r < g.R; ++r) {
      const I th = ih + g.ph - r * g.dh;
      if (th < 0) break;
      const I oh = th / g.sh;
      if (oh * g.sh != th || oh >= g.OH) continue;
      for (I s = 0; s < g.S; ++s) {
        const I tw = iw + g.pw - s * g.dw;
        if (tw < 0) break;
        const I ow = tw / g.sw;
        if (ow * g.sw != tw || ow >= g.OW) continue;
        const I j = jb + oh * g.OW + ow;
        if (j < 0 || j >= width) continue;
        acc += colc[(r * g.S + s) * width + j];
      }
    }
    float* dst = gx + ((n0 + b) * g.C + c0 + c) * g.HW + ih * g.W + iw;
    const float base = accumulate ? *dst : (bias ? bias[c] : 0.0f);
    *dst = base + acc;
  }
}

// out[n, c, :] = bias[c] (or 0) over [N, C, HW].
template <class I>
__global__ void fill_planes_kernel(float* __restrict__ out, I C, I HW, const float* __restrict__ bias, int64_t total) {
  GRID_STRIDE(i, total) {
    const I idx = static_cast<I>(i);
    out[i] = bias ? bias[(idx / HW) % C] : 0.0f;
  }
}

// Depthwise forward: y[n, k, oh, ow] = bias[k] + sum_{r, s} w[k, r, s] x[n, k / Kg, ih, iw].
template <class I>
__global__ void depthwise_forward_kernel(float* __restrict__ y, const float* __restrict__ x, const float* __restrict__ w,
                                         const float* __restrict__ bias, KGeo<I> g, int64_t total) {
  GRID_STRIDE(i, total) {
    const I idx = static_cast<I>(i);
    I t = idx / g.OW;
    const I ow = idx - t * g.OW;
    I q = t / g.OH;
    const I oh = t - q * g.OH;
    const I n = q / g.K, k = q - n * g.K;
    const float* xp = x + (n * g.C + k / g.Kg) * g.HW;
    const float* wk = w + k * g.RS;
    float acc = 0.0f;
    for (I r = 0; r < g.R; ++r) {
      const I ih = oh * g.sh - g.ph + r * g.dh;
      if (ih < 0 || ih >= g.H) continue;
      for (I s = 0; s < g.S; ++s) {
        const I iw = ow * g.sw - g.pw + s * g.dw;
        if (iw < 0 || iw >= g.W) continue;
        acc += __ldg(wk + r * g.S + s) * __ldg(xp + ih * g.W + iw);
      }
    }
    y[i] = acc + (bias ? bias[k] : 0.0f);
  }
}

// Depthwise input adjoint, a gather per input element: gx[n, c, ih, iw] = bias[c] + the sum
// over the channel's outputs k = c * Kg + m and the taps that read (ih, iw).
template <class I>
__global__ void depthwise_backward_input_kernel(float* __restrict__ gx, const float* __restrict__ gy,
                                                const float* __restrict__ w, const float* __restrict__ bias, KGeo<I> g,
                                                int64_t total) {
  GRID_STRIDE(i, total) {
    const I idx = static_cast<I>(i);
    I t = idx / g.W;
    const I iw = idx - t * g.W;
    I q = t / g.H;
    const I ih = t - q * g.H;
    const I n = q / g.C, c = q - n * g.C;
    float acc = 0.0f;
    for (I m = 0; m < g.Kg; ++m) {
      const I k = c * g.Kg + m;
      const float* gyp = gy + (n * g.K + k) * g.P;
      const float* wk = w + k * g.RS;
      for (I r = 0; r < g.R; ++r) {
        const I th = ih + g.ph - r * g.dh;
        if (th < 0) break;
        const I oh = th / g.sh;
        if (oh * g.sh != th || oh >= g.OH) continue;
        for (I s = 0; s < g.S; ++s) {
          const I tw = iw + g.pw - s * g.dw;
          if (tw < 0) break;
          const I ow = tw / g.sw;
          if (ow * g.sw != tw || ow >= g.OW) continue;
          acc += __ldg(wk + r * g.S + s) * __ldg(gyp + oh * g.OW + ow);
        }
      }
    }
    gx[i] = acc + (bias ? bias[c] : 0.0f);
  }
}

// Depthwise weight adjoint: block (kt, split) sums gy[n, k, p] * x[n, k / Kg, tap (r, s) of p]
// over its share [lo, hi) of the N * P (image, position) pairs, kt = k * RS + r * S + s, then a
// fixed-order tree reduction; out[split * K * RS + kt] (or gw itself with one split).
template <class I>
__global__ void depthwise_weight_partial_kernel(float* __restrict__ out, const float* __restrict__ gy,
                                                const float* __restrict__ x, KGeo<I> g, int64_t chunk) {
  __shared__ float part[kThreads];
  const I kt = static_cast<I>(blockIdx.x);
  const I k = kt / g.RS, t = kt - k * g.RS, r = t / g.S, s = t - r * g.S, c = k / g.Kg;
  const int64_t NP = static_cast<int64_t>(g.N) * g.P;
  const int64_t lo = static_cast<int64_t>(blockIdx.y) * chunk, hi = lo + chunk < NP ? lo + chunk : NP;
  float acc = 0.0f;
  for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) {
    const I idx = static_cast<I>(i);
    const I n = idx / g.P, p = idx - n * g.P, oh = p / g.OW, ow = p - oh * g.OW;
    const I ih = oh * g.sh - g.ph + r * g.dh, iw = ow * g.sw - g.pw + s * g.dw;
    if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
      acc += __ldg(gy + (n * g.K + k) * g.P + p) * __ldg(x + (n * g.C + c) * g.HW + ih * g.W + iw);
  }
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half >>= 1) {
    if (static_cast<int>(threadIdx.x) < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[static_cast<int64_t>(blockIdx.y) * gridDim.x + kt] = part[0];
}

// dst[i] = (accumulate ? dst[i] : 0) + sum over s < splits of partial[s * n + i], in order.
__global__ void sum_partials_kernel(float* __restrict__ dst, const float* __restrict__ partial, int splits, int64_t n,
                                    bool accumulate) {
  GRID_STRIDE(i, n) {
    float acc = accumulate ? dst[i] : 0.0f;
    for (int s = 0; s < splits; ++s) acc += partial[s * n + i];
    dst[i] = acc;
  }
}

#undef GRID_STRIDE

// ---- validation (the checks of the CPU kernels, plus float32 only) --------------------------

void check_tensor(const char* op, const char* what, const TensorDesc& t) {
  if (t.dtype != DType::Float32)
    fail(ErrorCode::DType, op, std::string("float32 ") + what + " on cuda (float64 convolutions run on the CPU)",
         dtype_name(t.dtype));
  if (!t.is_contiguous()) fail(ErrorCode::Argument, op, std::string("a contiguous ") + what, "a strided view");
}

// x [N, C, H, W], w [K, C/groups, R, S], y [N, K, OH, OW]: checks them against each other.
Geo make_geo(const char* op, const TensorDesc& x, const TensorDesc& w, const TensorDesc& y, const ConvParams& p) {
  if (x.ndim != 4) fail(ErrorCode::Shape, op, "input of shape [N, C, H, W]", shape_str(x.shape, x.ndim));
  if (y.ndim != 4) fail(ErrorCode::Shape, op, "output of shape [N, K, OH, OW]", shape_str(y.shape, y.ndim));
  if (w.ndim != 4) fail(ErrorCode::Shape, op, "weight of shape [outC, inC/groups, kH, kW]", shape_str(w.shape, w.ndim));
  check_tensor(op, "input", x);
  check_tensor(op, "weight", w);
  check_tensor(op, "output", y);
  if (p.stride_h < 1 || p.stride_w < 1)
    fail(ErrorCode::Argument, op, "strides >= 1", std::to_string(p.stride_h) + ", " + std::to_string(p.stride_w));
  if (p.dil_h < 1 || p.dil_w < 1)
    fail(ErrorCode::Argument, op, "dilations >= 1", std::to_string(p.dil_h) + ", " + std::to_string(p.dil_w));
  if (p.pad_h < 0 || p.pad_w < 0)
    fail(ErrorCode::Argument, op, "paddings >= 0", std::to_string(p.pad_h) + ", " + std::to_string(p.pad_w));
  if (p.groups < 1) fail(ErrorCode::Argument, op, "groups >= 1", std::to_string(p.groups));
  Geo g{};
  g.N = x.shape[0];
  g.C = x.shape[1];
  g.H = x.shape[2];
  g.W = x.shape[3];
  g.K = y.shape[1];
  g.R = w.shape[2];
  g.S = w.shape[3];
  g.OH = y.shape[2];
  g.OW = y.shape[3];
  g.sh = p.stride_h;
  g.sw = p.stride_w;
  g.ph = p.pad_h;
  g.pw = p.pad_w;
  g.dh = p.dil_h;
  g.dw = p.dil_w;
  g.groups = p.groups;
  if (g.C % g.groups != 0 || g.K % g.groups != 0)
    fail(ErrorCode::Shape, op, "channel counts divisible by groups = " + std::to_string(g.groups),
         "in " + std::to_string(g.C) + ", out " + std::to_string(g.K));
  if (y.shape[0] != g.N) fail(ErrorCode::Shape, op, "batch " + std::to_string(g.N) + " in the output", shape_str(y.shape, 4));
  g.Cg = g.C / g.groups;
  g.Kg = g.K / g.groups;
  if (w.shape[0] != g.K || w.shape[1] != g.Cg)
    fail(ErrorCode::Shape, op,
         "weight of shape [outC, inC/groups, kH, kW] = [" + std::to_string(g.K) + ", " + std::to_string(g.Cg) + ", *, *]",
         shape_str(w.shape, 4));
  g.RS = g.R * g.S;
  g.CRS = g.Cg * g.RS;
  g.P = g.OH * g.OW;
  g.HW = g.H * g.W;
  return g;
}

void check_bias(const char* op, const TensorDesc* bias, int64_t channels) {
  if (!bias) return;
  if (bias->ndim != 1 || bias->shape[0] != channels)
    fail(ErrorCode::Shape, op, "bias of shape [" + std::to_string(channels) + "]", shape_str(bias->shape, bias->ndim));
  check_tensor(op, "bias", *bias);
}

// ---- launch helpers --------------------------------------------------------------------------

void fill_planes(float* out, int64_t N, int64_t C, int64_t HW, const float* bias, const char* op) {
  const int64_t total = N * C * HW;
  if (total == 0) return;
  with_index(fits32({total}), [&](auto tag) {
    using I = decltype(tag);
    fill_planes_kernel<I><<<grid_for(total), kThreads, 0, stream()>>>(out, static_cast<I>(C), static_cast<I>(HW), bias, total);
    check_launch(op);
  });
}

// How the columns are stepped through: nb images per step when an image has few output
// positions (then tile == P), else one image per step in tiles of `tile` positions; `cols` is
// the widest step.
struct Plan {
  int64_t nb, tile, cols;
};

Plan make_plan(const Geo& g) {
  const int64_t height = std::max<int64_t>({g.CRS, g.Kg, 1});
  const int64_t cap = std::max<int64_t>(kColElems / height, kMinCols);
  if (g.P >= cap) return {1, cap, cap};
  const int64_t nb = std::max<int64_t>(1, std::min<int64_t>(g.N, cap / g.P));
  return {nb, g.P, nb * g.P};
}

// Every step of the plan in order: f(n0, nbb, q0, width), width = columns of the step.
template <class F>
void for_each_step(const Geo& g, const Plan& pl, F&& f) {
  for (int64_t n0 = 0; n0 < g.N; n0 += pl.nb) {
    const int64_t nbb = std::min(pl.nb, g.N - n0);
    for (int64_t q0 = 0; q0 < g.P; q0 += pl.tile) f(n0, nbb, q0, nbb * std::min(pl.tile, g.P - q0));
  }
}

// 32-bit index math for the general path's kernels?
bool general_fits32(const Geo& g, const Plan& pl) {
  return fits32({g.N * g.C * g.HW, g.N * g.K * g.P, g.CRS * pl.cols, std::max(g.CRS, g.Kg) * pl.cols, reach(g)});
}

void launch_im2col(float* col, const float* x, const Geo& g, bool small, int64_t n0, int64_t c0, int64_t q0,
                   int64_t width, const char* op) {
  const int64_t total = g.CRS * width;
  with_index(small, [&](auto tag) {
    using I = decltype(tag);
    im2col_kernel<I><<<grid_for(total), kThreads, 0, stream()>>>(col, x, narrow<I>(g), static_cast<I>(n0), static_cast<I>(c0),
                                                                  static_cast<I>(q0), static_cast<I>(width), total);
    check_launch(op);
  });
}

// to_matrix: dst [rows, nb * P] = planes [n0, n0 + nb) x [k0, k0 + rows) of src, an
// [N, Ktot, P] tensor; else the inverse, dst the tensor and src the matrix.
void launch_pack(bool to_matrix, float* dst, const float* src, int64_t P, int64_t Ktot, int64_t n0, int64_t k0,
                 int64_t rows, int64_t nb, bool small, const char* op) {
  const int64_t total = rows * nb * P;
  with_index(small, [&](auto tag) {
    using I = decltype(tag);
    const unsigned blocks = grid_for(total);
    if (to_matrix)
      pack_kernel<I><<<blocks, kThreads, 0, stream()>>>(dst, src, static_cast<I>(P), static_cast<I>(Ktot), static_cast<I>(n0),
                                                        static_cast<I>(k0), static_cast<I>(nb), total);
    else
      unpack_kernel<I><<<blocks, kThreads, 0, stream()>>>(dst, src, static_cast<I>(P), static_cast<I>(Ktot), static_cast<I>(n0),
                                                          static_cast<I>(k0), static_cast<I>(nb), total);
    check_launch(op);
  });
}

GemmEpilogue row_bias(const float* bias) {
  GemmEpilogue ep;
  ep.bias = bias;
  ep.bias_kind = bias ? GemmBias::Row : GemmBias::None;
  return ep;
}

// A row-major descriptor of a float32 device matrix batch (for cuda::matmul).
TensorDesc matrix_desc(const float* data, std::initializer_list<int64_t> shape, std::initializer_list<int64_t> strides) {
  TensorDesc d;
  d.data = const_cast<float*>(data);
  d.dtype = DType::Float32;
  d.device = Device::Cuda;
  d.ndim = static_cast<int>(shape.size());
  int i = 0;
  for (int64_t s : shape) d.shape[i++] = s;
  i = 0;
  for (int64_t s : strides) d.strides[i++] = s;
  return d;
}

// K-slices for a weight-gradient GEMM of an M x N output over `depth` summed columns: enough
// to give the GPU a few blocks per SM, slices of at least kMinCols columns, the partial sums
// within kColElems.
int64_t weight_splits(int64_t M, int64_t N, int64_t depth) {
  const int64_t tiles = ((M + 127) / 128) * ((N + 127) / 128);
  const int64_t want = (2 * static_cast<int64_t>(sm_count()) + tiles - 1) / tiles;
  int64_t splits = std::min<int64_t>(want, depth / kMinCols);
  splits = std::min<int64_t>(splits, kColElems / std::max<int64_t>(M * N, 1));
  splits = std::min<int64_t>(splits, 1024);
  return std::max<int64_t>(splits, 1);
}

// C (M x N, ld N) = (accumulate ? C : 0) + A . B^T, A = M x depth (ld lda), B = N x depth (ld
// ldb), both row-major, depth split into `splits` slices run as one batched matmul into
// `partial` (splits * M * N floats) and summed in slice order.
void weight_gemm(int64_t M, int64_t N, int64_t depth, const float* A, int64_t lda, const float* B, int64_t ldb,
                 float* C, bool accumulate, int64_t splits, float* partial, const char* op) {
  if (splits <= 1) {
    cuda::sgemm_ex(false, true, M, N, depth, 1.0f, A, lda, B, ldb, accumulate ? 1.0f : 0.0f, C, N, GemmEpilogue{});
    return;
  }
  const int64_t slice = depth / splits, rest = depth - splits * slice;
  // Slice s: [M, slice] at A + s * slice times ([N, slice] at B + s * slice)^T, the latter read
  // as a [slice, N] matrix with element (k, n) at B[n * ldb + s * slice + k].
  const TensorDesc a = matrix_desc(A, {splits, M, slice}, {slice, lda, 1});
  const TensorDesc b = matrix_desc(B, {splits, slice, N}, {slice, 1, ldb});
  const TensorDesc out = matrix_desc(partial, {splits, M, N}, {M * N, N, 1});
  cuda::matmul(out, a, b);
  if (rest > 0)  // the leftover columns onto the first slice's sum
    cuda::sgemm_ex(false, true, M, N, rest, 1.0f, A + splits * slice, lda, B + splits * slice, ldb, 1.0f, partial, N,
                   GemmEpilogue{});
  const int64_t n = M * N;
  sum_partials_kernel<<<grid_for(n), kThreads, 0, stream()>>>(C, partial, static_cast<int>(splits), n, accumulate);
  check_launch(op);
}

// ---- the three operations ----------------------------------------------------------------------

void forward_impl(const Geo& g, float* y, const float* x, const float* w, const float* bias) {
  const char* op = "conv2d";
  if (g.N == 0 || g.K == 0 || g.P == 0) return;
  if (g.CRS == 0) return fill_planes(y, g.N, g.K, g.P, bias, op);
  if (g.depthwise()) {
    const int64_t total = g.N * g.K * g.P;
    with_index(fits32({g.N * g.C * g.HW, total, g.K * g.RS, reach(g)}), [&](auto tag) {
      using I = decltype(tag);
      depthwise_forward_kernel<I><<<grid_for(total), kThreads, 0, stream()>>>(y, x, w, bias, narrow<I>(g), total);
      check_launch(op);
    });
    return;
  }
  const Plan pl = make_plan(g);
  if (g.pointwise() && (pl.nb == 1 || g.P >= kPointwiseDirectP)) {
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t grp = 0; grp < g.groups; ++grp)
        cuda::sgemm_ex(false, false, g.Kg, g.P, g.Cg, 1.0f, w + grp * g.Kg * g.Cg, g.Cg, x + (n * g.C + grp * g.Cg) * g.HW,
                       g.HW, 0.0f, y + (n * g.K + grp * g.Kg) * g.P, g.P, row_bias(bias ? bias + grp * g.Kg : nullptr));
    return;
  }
  const bool small = general_fits32(g, pl);
  Scratch col(static_cast<size_t>(g.CRS * pl.cols) * sizeof(float));
  Scratch out(pl.nb > 1 ? static_cast<size_t>(g.Kg * pl.cols) * sizeof(float) : 0);
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    const float* wg = w + grp * g.Kg * g.CRS;
    const GemmEpilogue ep = row_bias(bias ? bias + grp * g.Kg : nullptr);
    for_each_step(g, pl, [&](int64_t n0, int64_t nbb, int64_t q0, int64_t width) {
      launch_im2col(col.as<float>(), x, g, small, n0, grp * g.Cg, q0, width, op);
      if (nbb == 1) {
        cuda::sgemm_ex(false, false, g.Kg, width, g.CRS, 1.0f, wg, g.CRS, col.as<float>(), width, 0.0f,
                       y + (n0 * g.K + grp * g.Kg) * g.P + q0, g.P, ep);
      } else {
        cuda::sgemm_ex(false, false, g.Kg, width, g.CRS, 1.0f, wg, g.CRS, col.as<float>(), width, 0.0f, out.as<float>(),
                       width, ep);
        launch_pack(false, y, out.as<float>(), g.P, g.K, n0, grp * g.Kg, g.Kg, nbb, small, op);
      }
    });
  }
}

void backward_input_impl(const Geo& g, float* gx, const float* gy, const float* w, const float* bias) {
  const char* op = "conv2d backward";
  if (g.N == 0 || g.C == 0 || g.HW == 0) return;
  if (g.K == 0 || g.P == 0 || g.RS == 0) return fill_planes(gx, g.N, g.C, g.HW, bias, op);
  if (g.depthwise()) {
    const int64_t total = g.N * g.C * g.HW;
    with_index(fits32({total, g.N * g.K * g.P, g.K * g.RS, reach(g)}), [&](auto tag) {
      using I = decltype(tag);
      depthwise_backward_input_kernel<I><<<grid_for(total), kThreads, 0, stream()>>>(gx, gy, w, bias, narrow<I>(g), total);
      check_launch(op);
    });
    return;
  }
  const Plan pl = make_plan(g);
  if (g.pointwise() && (pl.nb == 1 || g.P >= kPointwiseDirectP)) {
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t grp = 0; grp < g.groups; ++grp)
        cuda::sgemm_ex(true, false, g.Cg, g.HW, g.Kg, 1.0f, w + grp * g.Kg * g.Cg, g.Cg, gy + (n * g.K + grp * g.Kg) * g.P,
                       g.P, 0.0f, gx + (n * g.C + grp * g.Cg) * g.HW, g.HW, row_bias(bias ? bias + grp * g.Cg : nullptr));
    return;
  }
  const bool small = general_fits32(g, pl);
  // An image over several tiles: gx starts as the bias and every tile adds its share.
  const bool tiled = pl.tile < g.P;
  if (tiled) fill_planes(gx, g.N, g.C, g.HW, bias, op);
  Scratch col(static_cast<size_t>(g.CRS * pl.cols) * sizeof(float));
  Scratch packed(pl.nb > 1 ? static_cast<size_t>(g.Kg * pl.cols) * sizeof(float) : 0);
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    const float* wg = w + grp * g.Kg * g.CRS;
    const float* bias_g = bias && !tiled ? bias + grp * g.Cg : nullptr;
    for_each_step(g, pl, [&](int64_t n0, int64_t nbb, int64_t q0, int64_t width) {
      const float* B = gy + (n0 * g.K + grp * g.Kg) * g.P + q0;
      int64_t ldb = g.P;
      if (nbb > 1) {
        launch_pack(true, packed.as<float>(), gy, g.P, g.K, n0, grp * g.Kg, g.Kg, nbb, small, op);
        B = packed.as<float>();
        ldb = width;
      }
      cuda::sgemm_ex(true, false, g.CRS, width, g.Kg, 1.0f, wg, g.CRS, B, ldb, 0.0f, col.as<float>(), width, GemmEpilogue{});
      // Input rows the step's output rows [oh_lo, oh_hi] reach (all of them for whole images).
      int64_t ih0 = 0, ih1 = g.H;
      if (tiled) {
        const int64_t oh_lo = q0 / g.OW, oh_hi = (q0 + width - 1) / g.OW;
        ih0 = std::max<int64_t>(0, oh_lo * g.sh - g.ph);
        ih1 = std::min<int64_t>(g.H, oh_hi * g.sh - g.ph + (g.R - 1) * g.dh + 1);
      }
      if (ih1 <= ih0) return;
      const int64_t rows = ih1 - ih0, total = nbb * g.Cg * rows * g.W;
      with_index(small, [&](auto tag) {
        using I = decltype(tag);
        col2im_kernel<I><<<grid_for(total), kThreads, 0, stream()>>>(
            gx, col.as<float>(), narrow<I>(g), static_cast<I>(n0), static_cast<I>(grp * g.Cg), static_cast<I>(q0),
            static_cast<I>(width), static_cast<I>(ih0), static_cast<I>(rows), bias_g, tiled, total);
        check_launch(op);
      });
    });
  }
}

void backward_weight_impl(const Geo& g, float* gw, const float* gy, const float* x) {
  const char* op = "conv2d backward";
  const int64_t wsize = g.K * g.CRS;
  if (wsize == 0) return;
  if (g.N == 0 || g.P == 0) {
    check(cudaMemsetAsync(gw, 0, static_cast<size_t>(wsize) * sizeof(float), stream()), op);
    return;
  }
  if (g.depthwise()) {
    const int64_t NP = g.N * g.P;
    const int64_t tiles = g.K * g.RS;
    const int64_t want = (4 * static_cast<int64_t>(sm_count()) + tiles - 1) / tiles;
    int64_t splits = std::max<int64_t>(1, std::min<int64_t>({want, (NP + kReduceChunk - 1) / kReduceChunk, 65535}));
    const int64_t chunk = (NP + splits - 1) / splits;
    splits = (NP + chunk - 1) / chunk;
    Scratch partial(splits > 1 ? static_cast<size_t>(splits * tiles) * sizeof(float) : 0);
    float* out = splits > 1 ? partial.as<float>() : gw;
    with_index(fits32({g.N * g.C * g.HW, g.N * g.K * g.P, tiles, reach(g)}), [&](auto tag) {
      using I = decltype(tag);
      depthwise_weight_partial_kernel<I><<<dim3(static_cast<unsigned>(tiles), static_cast<unsigned>(splits)), kThreads, 0,
                                           stream()>>>(out, gy, x, narrow<I>(g), chunk);
      check_launch(op);
    });
    if (splits > 1) {
      sum_partials_kernel<<<grid_for(tiles), kThreads, 0, stream()>>>(gw, partial.as<float>(), static_cast<int>(splits),
                                                                      tiles, false);
      check_launch(op);
    }
    return;
  }
  const Plan pl = make_plan(g);
  const bool direct = g.pointwise() && (pl.nb == 1 || g.P >= kPointwiseDirectP);
  const int64_t depth = direct ? g.P : pl.cols;  // the widest step
  const int64_t max_splits = weight_splits(g.Kg, g.CRS, depth);
  Scratch partial(max_splits > 1 ? static_cast<size_t>(max_splits * g.Kg * g.CRS) * sizeof(float) : 0);
  if (direct) {
    const int64_t splits = weight_splits(g.Kg, g.Cg, g.P);
    for (int64_t grp = 0; grp < g.groups; ++grp)
      for (int64_t n = 0; n < g.N; ++n)
        weight_gemm(g.Kg, g.Cg, g.P, gy + (n * g.K + grp * g.Kg) * g.P, g.P, x + (n * g.C + grp * g.Cg) * g.HW, g.HW,
                    gw + grp * g.Kg * g.Cg, n > 0, splits, partial.as<float>(), op);
    return;
  }
  const bool small = general_fits32(g, pl);
  Scratch col(static_cast<size_t>(g.CRS * pl.cols) * sizeof(float));
  Scratch packed(pl.nb > 1 ? static_cast<size_t>(g.Kg * pl.cols) * sizeof(float) : 0);
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    bool first = true;
    for_each_step(g, pl, [&](int64_t n0, int64_t nbb, int64_t q0, int64_t width) {
      launch_im2col(col.as<float>(), x, g, small, n0, grp * g.Cg, q0, width, op);
      const float* A = gy + (n0 * g.K + grp * g.Kg) * g.P + q0;
      int64_t lda = g.P;
      if (nbb > 1) {
        launch_pack(true, packed.as<float>(), gy, g.P, g.K, n0, grp * g.Kg, g.Kg, nbb, small, op);
        A = packed.as<float>();
        lda = width;
      }
      weight_gemm(g.Kg, g.CRS, width, A, lda, col.as<float>(), width, gw + grp * g.Kg * g.CRS, !first,
                  std::min(max_splits, weight_splits(g.Kg, g.CRS, width)), partial.as<float>(), op);
      first = false;
    });
  }
}

}  // namespace

void conv2d_forward(const TensorDesc& y, const TensorDesc& x, const TensorDesc& w, const TensorDesc* bias,
                    const ConvParams& p) {
  const char* op = "conv2d";
  const Geo g = make_geo(op, x, w, y, p);
  check_bias(op, bias, g.K);
  forward_impl(g, y.ptr<float>(), x.ptr<float>(), w.ptr<float>(), bias ? bias->ptr<float>() : nullptr);
}

void conv2d_backward_input(const TensorDesc& gx, const TensorDesc& gy, const TensorDesc& w, const TensorDesc* bias,
                           const ConvParams& p) {
  const char* op = "conv2d backward";
  const Geo g = make_geo(op, gx, w, gy, p);
  check_bias(op, bias, g.C);
  backward_input_impl(g, gx.ptr<float>(), gy.ptr<float>(), w.ptr<float>(), bias ? bias->ptr<float>() : nullptr);
}

void conv2d_backward_weight(const TensorDesc& gw, const TensorDesc& gy, const TensorDesc& x, const ConvParams& p) {
  const char* op = "conv2d backward";
  const Geo g = make_geo(op, x, gw, gy, p);
  backward_weight_impl(g, gw.ptr<float>(), gy.ptr<float>(), x.ptr<float>());
}

}  // namespace dendrite::cuda

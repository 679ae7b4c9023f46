// Driver and scalar reference for conv2d.
//   flat:      stride 1, float32: the column matrix read straight from zero-padded planes of
//              pitch Wp (its rows are contiguous runs there), packed into the GEMM's panels by a
//              callback, weights packed once, bias in the GEMM epilogue; the adjoints use the
//              same layout (one long axpy per row for col2im, one copy per row for im2col).
//   general:   im2col from zero-padded planes over column tiles sized to stay in L2, then one
//              GEMM per tile (Chellapilla et al. 2006, "High performance convolutional neural
//              networks for document processing"); the input adjoint is GEMM + col2im over the
//              same tiles.
//   pointwise: 1x1, stride 1, no padding: the input already is the column matrix.
//   depthwise: groups == C: a direct kernel over a zero-padded copy of each input plane, since
//              im2col would make each output a GEMM of inner size R*S.
// Threads: over images (and tiles in the forward) when there are at least as many as threads,
// each thread with its own column buffer; otherwise images run one after another and the GEMM
// and col2im spread over the threads instead.
#include "conv.h"
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>
#include "../../core/dispatch.h"
#include "../../core/thread_pool.h"
#include "../gemm/gemm.h"

namespace dendrite::cpu {
namespace {

void axpy_ref(float* y, float a, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}
void add_scalar_ref(float* y, float b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += b;
}
float dot_ref(const float* a, const float* b, int64_t n) {
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}
void taps_ref(float* out, const float* base, const int64_t* offsets, const float* w, int64_t ntaps, int64_t n,
              bool accumulate) {
  for (int64_t j = 0; j < n; ++j) {
    float acc = accumulate ? out[j] : 0.0f;
    for (int64_t t = 0; t < ntaps; ++t) acc += w[t] * base[j + offsets[t]];
    out[j] = acc;
  }
}

void gather_rows_ref(float* dst, int64_t dst_stride, const float* src, const int64_t* offsets, int64_t rows, int64_t len) {
  for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + r * dst_stride, src + offsets[r], sizeof(float) * len);
}

void fill_scalar(ConvTable& t) {
  t.axpy_f32 = axpy_ref;
  t.add_scalar_f32 = add_scalar_ref;
  t.dot_f32 = dot_ref;
  t.taps_f32 = taps_ref;
  t.gather_rows_f32 = gather_rows_ref;
}

const ConvTable& table() {
  static IsaTables<ConvTable> tables(fill_scalar, DENDRITE_X86_FILLER(fill_conv_avx2),
                                     DENDRITE_X86_FILLER(fill_conv_avx512), DENDRITE_NEON_FILLER(fill_conv_neon));
  return tables.active();
}

// float goes through the ISA table; double (gradcheck, float64 models) through plain loops.
template <class T>
void axpy(T* y, T a, const T* x, int64_t n) {
  if constexpr (std::is_same_v<T, float>) table().axpy_f32(y, a, x, n);
  else for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}
template <class T>
void add_scalar(T* y, T b, int64_t n) {
  if constexpr (std::is_same_v<T, float>) table().add_scalar_f32(y, b, n);
  else for (int64_t i = 0; i < n; ++i) y[i] += b;
}
template <class T>
T dot(const T* a, const T* b, int64_t n) {
  if constexpr (std::is_same_v<T, float>) return table().dot_f32(a, b, n);
  else {
    T acc = 0;
    for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
    return acc;
  }
}
template <class T>
void taps(T* out, const T* base, const int64_t* offsets, const T* w, int64_t ntaps, int64_t n, bool accumulate) {
  if constexpr (std::is_same_v<T, float>) table().taps_f32(out, base, offsets, w, ntaps, n, accumulate);
  else {
    for (int64_t j = 0; j < n; ++j) {
      T acc = accumulate ? out[j] : T(0);
      for (int64_t t = 0; t < ntaps; ++t) acc += w[t] * base[j + offsets[t]];
      out[j] = acc;
    }
  }
}
template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb, T beta,
          T* C, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
  else dgemm(ta, tb, M, N, K, 1.0, A, lda, B, ldb, beta, C, ldc);
}

// Per-thread scratch that only grows. Column tiles and padded planes run to hundreds of KiB;
// allocated per call, glibc serves such blocks from fresh mmap()s, so every call would pay a
// page fault per 4 KiB it touches (measured: ~1.5 ms per MiB on the bench machine).
enum ScratchSlot { kScratchA = 0, kScratchB = 1, kScratchC = 2, kScratchD = 3, kNumScratch = 4 };

template <class T>
T* scratch(ScratchSlot slot, int64_t n) {
  thread_local std::vector<unsigned char> buffers[kNumScratch];
  std::vector<unsigned char>& b = buffers[slot];
  const size_t bytes = static_cast<size_t>(std::max<int64_t>(n, 1)) * sizeof(T);
  if (b.size() < bytes) b.resize(bytes);
  return reinterpret_cast<T*>(b.data());
}

struct Geometry {
  int64_t N, C, H, W, K, R, S, OH, OW;
  ConvParams p;
  int64_t Cg, Kg, CRS, P, HW;

  bool pointwise() const {
    return R == 1 && S == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 && p.pad_w == 0 && OH == H && OW == W;
  }
  bool depthwise() const { return p.groups == C; }
  // Extent of the zero-padded plane the depthwise kernels work on: every tap the output reads,
  // and every input element (so the input adjoint can crop it back out).
  int64_t padded_h() const { return std::max(OH > 0 ? (OH - 1) * p.stride_h + (R - 1) * p.dil_h + 1 : 0, H + p.pad_h); }
  int64_t padded_w() const { return std::max(OW > 0 ? (OW - 1) * p.stride_w + (S - 1) * p.dil_w + 1 : 0, W + p.pad_w); }
};

void check_float(const char* op, const char* what, const TensorDesc& t, DType dtype) {
  if (t.dtype != dtype) fail(ErrorCode::DType, op, std::string(what) + " of dtype " + dtype_name(dtype), dtype_name(t.dtype));
  if (!t.is_contiguous()) fail(ErrorCode::Argument, op, std::string("a contiguous ") + what, "a strided view");
}

// x [N, C, H, W], w [K, C/groups, R, S], y [N, K, OH, OW]: checks them against each other.
Geometry make_geometry(const char* op, const TensorDesc& x, const TensorDesc& w, const TensorDesc& y, const ConvParams& p) {
  if (x.ndim != 4) fail(ErrorCode::Shape, op, "input of shape [N, C, H, W]", shape_str(x.shape, x.ndim));
  if (y.ndim != 4) fail(ErrorCode::Shape, op, "output of shape [N, K, OH, OW]", shape_str(y.shape, y.ndim));
  if (w.ndim != 4) fail(ErrorCode::Shape, op, "weight of shape [outC, inC/groups, kH, kW]", shape_str(w.shape, w.ndim));
  if (!dtype_is_float(x.dtype)) fail(ErrorCode::DType, op, "float32 or float64 tensors", dtype_name(x.dtype));
  check_float(op, "input", x, x.dtype);
  check_float(op, "weight", w, x.dtype);
  check_float(op, "output", y, x.dtype);
  if (p.stride_h < 1 || p.stride_w < 1) fail(ErrorCode::Argument, op, "strides >= 1", std::to_string(p.stride_h) + ", " + std::to_string(p.stride_w));
  if (p.dil_h < 1 || p.dil_w < 1) fail(ErrorCode::Argument, op, "dilations >= 1", std::to_string(p.dil_h) + ", " + std::to_string(p.dil_w));
  if (p.pad_h < 0 || p.pad_w < 0) fail(ErrorCode::Argument, op, "paddings >= 0", std::to_string(p.pad_h) + ", " + std::to_string(p.pad_w));
  if (p.groups < 1) fail(ErrorCode::Argument, op, "groups >= 1", std::to_string(p.groups));
  Geometry g{};
  g.N = x.shape[0]; g.C = x.shape[1]; g.H = x.shape[2]; g.W = x.shape[3];
  g.K = y.shape[1]; g.R = w.shape[2]; g.S = w.shape[3]; g.OH = y.shape[2]; g.OW = y.shape[3];
  g.p = p;
  if (g.C % p.groups != 0 || g.K % p.groups != 0)
    fail(ErrorCode::Shape, op, "channel counts divisible by groups = " + std::to_string(p.groups),
         "in " + std::to_string(g.C) + ", out " + std::to_string(g.K));
  if (y.shape[0] != g.N) fail(ErrorCode::Shape, op, "batch " + std::to_string(g.N) + " in the output", shape_str(y.shape, 4));
  g.Cg = g.C / p.groups;
  g.Kg = g.K / p.groups;
  if (w.shape[0] != g.K || w.shape[1] != g.Cg)
    fail(ErrorCode::Shape, op,
         "weight of shape [outC, inC/groups, kH, kW] = [" + std::to_string(g.K) + ", " + std::to_string(g.Cg) + ", *, *]",
         shape_str(w.shape, 4));
  g.CRS = g.Cg * g.R * g.S;
  g.P = g.OH * g.OW;
  g.HW = g.H * g.W;
  return g;
}

void check_bias(const char* op, const TensorDesc* bias, int64_t channels, DType dtype) {
  if (!bias) return;
  if (bias->ndim != 1 || bias->shape[0] != channels)
    fail(ErrorCode::Shape, op, "bias of shape [" + std::to_string(channels) + "]", shape_str(bias->shape, bias->ndim));
  check_float(op, "bias", *bias, dtype);
}

constexpr int64_t kColBytes = 512 * 1024;  // half of a typical L2, the rest for GEMM's packed panels
constexpr int64_t kMinTile = 256;          // below this the per-tile repacking of the weight shows

// Columns (output positions) per im2col tile. `outer_items` is the number of independent
// (image, group) pairs; when it is below the thread count the forward splits images finer.
int64_t choose_tile(const Geometry& g, size_t elem, int64_t outer_items, int threads) {
  int64_t tile = std::max<int64_t>(kColBytes / std::max<int64_t>(g.CRS * static_cast<int64_t>(elem), 1), kMinTile);
  if (outer_items < threads) {
    int64_t want = (threads + outer_items - 1) / outer_items;
    tile = std::min(tile, std::max<int64_t>((g.P + want - 1) / want, 64));
  }
  return std::max<int64_t>(std::min(tile, g.P), 1);
}

// ---- depthwise (groups == C; K = C * multiplier, output channel k reads input channel k / Kg) ----
//
// Each input plane is copied once into a zero-padded buffer of row pitch Wp. With stride 1 the
// buffer is read as one flat row: output (oh, ow) sits at flat position oh * Wp + ow and tap
// (r, s) at the fixed offset r*dh*Wp + s*dw, so a plane is one long vectorised run instead of
// OH short rows with scalar tails (the Wp - OW extra columns per row are computed and dropped).
// The input adjoint is then a correlation of the flat-padded gradient with the flipped taps, and
// each weight gradient a dot product of it with the shifted plane.

struct Depthwise {
  int64_t Hp, Wp, RS;
  int64_t plane_size;            // Hp * Wp plus the flat reads past the last row
  std::vector<int64_t> offsets;  // tap t = r * S + s at r*dh*Wp + s*dw
  bool flat;                     // stride 1
};

Depthwise depthwise_layout(const Geometry& g) {
  Depthwise d;
  d.Hp = g.padded_h();
  d.Wp = g.padded_w();
  d.RS = g.R * g.S;
  d.plane_size = d.Hp * d.Wp + (g.S - 1) * g.p.dil_w;
  d.offsets.resize(static_cast<size_t>(d.RS));
  for (int64_t r = 0; r < g.R; ++r)
    for (int64_t s = 0; s < g.S; ++s) d.offsets[r * g.S + s] = r * g.p.dil_h * d.Wp + s * g.p.dil_w;
  d.flat = g.p.stride_h == 1 && g.p.stride_w == 1;
  return d;
}

// Zero-padded copy of one input plane: element (ih + pad_h, iw + pad_w) = x[ih, iw].
template <class T>
void pad_plane(const T* src, const Geometry& g, const Depthwise& d, T* dst) {
  std::fill(dst, dst + d.plane_size, T(0));
  for (int64_t ih = 0; ih < g.H; ++ih) std::memcpy(dst + (ih + g.p.pad_h) * d.Wp + g.p.pad_w, src + ih * g.W, sizeof(T) * g.W);
}

// im2col and col2im through zero-padded planes (the layout above, any stride): tap (r, s) of
// output (oh, ow) is element (oh*sh + r*dh) * Wp + ow*sw + s*dw of the plane, always inside it,
// so the loops carry no bounds checks or divisions. Columns are the output positions [p0, p1)
// (row-major over OH x OW); row (c, r, s) of the tile starts at col + ((c*R + r)*S + s) * ld.
// planes holds the group's Cg padded planes; rows of channels [c_lo, c_hi) are done.
template <class T>
void im2col_padded(const T* planes, const Geometry& g, const Depthwise& d, int64_t p0, int64_t p1, T* col, int64_t ld,
                   int64_t c_lo, int64_t c_hi) {
  const int64_t sh = g.p.stride_h, sw = g.p.stride_w;
  for (int64_t c = c_lo; c < c_hi; ++c)
    for (int64_t t = 0; t < d.RS; ++t) {
      const T* base = planes + c * d.plane_size + d.offsets[t];
      T* dst = col + (c * d.RS + t) * ld;
      int64_t oh = p0 / g.OW, ow = p0 - oh * g.OW;
      for (int64_t p = p0; p < p1; ++oh, ow = 0) {
        const int64_t len = std::min(g.OW - ow, p1 - p);
        const T* src = base + oh * sh * d.Wp + ow * sw;
        if (sw == 1) std::memcpy(dst, src, sizeof(T) * len);
        else for (int64_t i = 0; i < len; ++i) dst[i] = src[i * sw];
        dst += len;
        p += len;
      }
    }
}

// The adjoint: adds each column entry onto the padded-plane element it was read from.
template <class T>
void col2im_padded(T* planes, const Geometry& g, const Depthwise& d, int64_t p0, int64_t p1, const T* col, int64_t ld,
                   int64_t c_lo, int64_t c_hi) {
  const int64_t sh = g.p.stride_h, sw = g.p.stride_w;
  for (int64_t c = c_lo; c < c_hi; ++c)
    for (int64_t t = 0; t < d.RS; ++t) {
      T* base = planes + c * d.plane_size + d.offsets[t];
      const T* src = col + (c * d.RS + t) * ld;
      int64_t oh = p0 / g.OW, ow = p0 - oh * g.OW;
      for (int64_t p = p0; p < p1; ++oh, ow = 0) {
        const int64_t len = std::min(g.OW - ow, p1 - p);
        T* dst = base + oh * sh * d.Wp + ow * sw;
        if (sw == 1) axpy<T>(dst, T(1), src, len);
        else for (int64_t i = 0; i < len; ++i) dst[i * sw] += src[i];
        src += len;
        p += len;
      }
    }
}

// gx planes of one (image, group) cropped out of its padded planes (+ bias per channel).
template <class T>
void crop_planes(T* gxg, const T* planes, const Geometry& g, const Depthwise& d, const T* bias) {
  for (int64_t c = 0; c < g.Cg; ++c) {
    T* dst = gxg + c * g.HW;
    const T* src = planes + c * d.plane_size + g.p.pad_h * d.Wp + g.p.pad_w;
    for (int64_t ih = 0; ih < g.H; ++ih) std::memcpy(dst + ih * g.W, src + ih * d.Wp, sizeof(T) * g.W);
    if (bias) add_scalar<T>(dst, bias[c], g.HW);
  }
}

template <class T>
void depthwise_forward(const Geometry& g, T* y, const T* x, const T* w, const T* bias) {
  const Depthwise d = depthwise_layout(g);
  const int64_t sh = g.p.stride_h, sw = g.p.stride_w;
  // Items are (image, output channel); a chunk pads each input plane once for all its
  // consecutive output channels.
  parallel_for(0, g.N * g.K, 1, [&](int64_t lo, int64_t hi) {
    T* plane = scratch<T>(kScratchA, d.plane_size);
    T* flat = scratch<T>(kScratchB, d.flat ? g.OH * d.Wp : 0);
    int64_t padded = -1;
    for (int64_t it = lo; it < hi; ++it) {
      const int64_t n = it / g.K, k = it % g.K, src = n * g.C + k / g.Kg;
      if (src != padded) {
        pad_plane(x + src * g.HW, g, d, plane);
        padded = src;
      }
      const T* wk = w + k * d.RS;
      T* yk = y + (n * g.K + k) * g.P;
      if (d.flat) {
        taps<T>(flat, plane, d.offsets.data(), wk, d.RS, g.OH * d.Wp, false);
        for (int64_t oh = 0; oh < g.OH; ++oh) std::memcpy(yk + oh * g.OW, flat + oh * d.Wp, sizeof(T) * g.OW);
      } else {
        for (int64_t oh = 0; oh < g.OH; ++oh)
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            const T* base = plane + oh * sh * d.Wp + ow * sw;
            T acc = 0;
            for (int64_t t = 0; t < d.RS; ++t) acc += wk[t] * base[d.offsets[t]];
            yk[oh * g.OW + ow] = acc;
          }
      }
      if (bias) add_scalar<T>(yk, bias[k], g.P);
    }
  });
}

template <class T>
void depthwise_backward_input(const Geometry& g, T* gx, const T* gy, const T* w, const T* bias) {
  const Depthwise d = depthwise_layout(g);
  const int64_t sh = g.p.stride_h, sw = g.p.stride_w, Wp = d.Wp;
  // Flat: acc[ih * Wp + pw + iw] = gx[ih, iw] = sum_t w[t] * gyflat[(ih + ph) * Wp + pw + iw - offsets[t]],
  // with gyflat stored `shift` elements into its buffer so every index is non-negative.
  const int64_t shift = d.offsets.back();
  std::vector<int64_t> flipped(d.offsets.size());
  for (size_t t = 0; t < flipped.size(); ++t) flipped[t] = shift - d.offsets[t];
  const int64_t gq_size = std::max((g.H + g.p.pad_h) * Wp, g.OH * Wp) + shift;
  parallel_for(0, g.N * g.C, 1, [&](int64_t lo, int64_t hi) {
    const int64_t buf_size = d.flat ? gq_size : d.Hp * Wp;
    T* buf = scratch<T>(kScratchA, buf_size);
    T* acc = scratch<T>(kScratchB, d.flat ? g.H * Wp : 0);
    for (int64_t it = lo; it < hi; ++it) {
      const int64_t n = it / g.C, c = it % g.C;
      T* gxc = gx + (n * g.C + c) * g.HW;
      std::fill(buf, buf + buf_size, T(0));
      if (d.flat) {
        for (int64_t m = 0; m < g.Kg; ++m) {
          const int64_t k = c * g.Kg + m;
          const T* gyk = gy + (n * g.K + k) * g.P;
          for (int64_t oh = 0; oh < g.OH; ++oh) std::memcpy(buf + shift + oh * Wp, gyk + oh * g.OW, sizeof(T) * g.OW);
          taps<T>(acc, buf + g.p.pad_h * Wp, flipped.data(), w + k * d.RS, d.RS, g.H * Wp, m > 0);
        }
        for (int64_t ih = 0; ih < g.H; ++ih) std::memcpy(gxc + ih * g.W, acc + ih * Wp + g.p.pad_w, sizeof(T) * g.W);
      } else {
        // Strided: scatter each output gradient onto the padded plane, then crop it out.
        for (int64_t m = 0; m < g.Kg; ++m) {
          const int64_t k = c * g.Kg + m;
          const T* wk = w + k * d.RS;
          const T* gyk = gy + (n * g.K + k) * g.P;
          for (int64_t oh = 0; oh < g.OH; ++oh)
            for (int64_t ow = 0; ow < g.OW; ++ow) {
              T* base = buf + oh * sh * Wp + ow * sw;
              const T v = gyk[oh * g.OW + ow];
              for (int64_t t = 0; t < d.RS; ++t) base[d.offsets[t]] += wk[t] * v;
            }
        }
        for (int64_t ih = 0; ih < g.H; ++ih) std::memcpy(gxc + ih * g.W, buf + (ih + g.p.pad_h) * Wp + g.p.pad_w, sizeof(T) * g.W);
      }
      if (bias) add_scalar<T>(gxc, bias[c], g.HW);
    }
  });
}

template <class T>
void depthwise_backward_weight(const Geometry& g, T* gw, const T* gy, const T* x) {
  const Depthwise d = depthwise_layout(g);
  const int64_t sh = g.p.stride_h, sw = g.p.stride_w, Wp = d.Wp;
  parallel_for(0, g.K, 1, [&](int64_t lo, int64_t hi) {
    T* plane = scratch<T>(kScratchA, d.plane_size);
    T* gq = scratch<T>(kScratchB, d.flat ? g.OH * Wp : 0);  // gy at pitch Wp, zero columns past OW
    if (d.flat) std::fill(gq, gq + g.OH * Wp, T(0));
    std::vector<double> acc(static_cast<size_t>((hi - lo) * d.RS), 0.0);
    int64_t padded = -1;
    for (int64_t n = 0; n < g.N; ++n) {
      for (int64_t k = lo; k < hi; ++k) {
        const int64_t src = n * g.C + k / g.Kg;
        if (src != padded) {
          pad_plane(x + src * g.HW, g, d, plane);
          padded = src;
        }
        const T* gyk = gy + (n * g.K + k) * g.P;
        double* a = acc.data() + (k - lo) * d.RS;
        if (d.flat) {
          for (int64_t oh = 0; oh < g.OH; ++oh) std::memcpy(gq + oh * Wp, gyk + oh * g.OW, sizeof(T) * g.OW);
          for (int64_t t = 0; t < d.RS; ++t) a[t] += dot<T>(gq, plane + d.offsets[t], g.OH * Wp);
        } else {
          for (int64_t t = 0; t < d.RS; ++t) {
            double sum = 0;
            for (int64_t oh = 0; oh < g.OH; ++oh)
              for (int64_t ow = 0; ow < g.OW; ++ow)
                sum += static_cast<double>(gyk[oh * g.OW + ow]) * plane[oh * sh * Wp + ow * sw + d.offsets[t]];
            a[t] += sum;
          }
        }
      }
    }
    for (int64_t i = 0; i < (hi - lo) * d.RS; ++i) gw[lo * d.RS + i] = static_cast<T>(acc[i]);
  });
}

// ---- stride 1, float32: the flat column matrix ----
//
// Each image's channels are copied into zero-padded planes of pitch Wp (the depthwise layout).
// Output (oh, ow) is then flat column oh * Wp + ow, and row (c, r, s) of the column matrix is
// plane c read from the fixed offset r*dh*Wp + s*dw: one contiguous run. So the GEMM packs its
// B panels straight from the planes (no column matrix, no per-element index math), the weights
// are packed once per call, and bias and activation run in the GEMM's epilogue. The price is
// Wp - OW extra columns per output row, computed and dropped when the result is cropped into y.
// One GEMM may span several images (column j is image j / Q, flat position j % Q, Q = OH * Wp),
// so small images still give the GEMM long rows.

bool flat_applies(const Geometry& g) {
  return g.p.stride_h == 1 && g.p.stride_w == 1 && !g.depthwise() && !g.pointwise();
}

void flat_forward(const Geometry& g, float* y, const float* x, const float* w, const float* bias) {
  const Depthwise d = depthwise_layout(g);
  const int64_t RS = g.R * g.S;
  // Without padding the input planes already have the flat layout (Hp = H, Wp = W), so the
  // GEMM packs from x itself. Each image then stops after its last output, short of the last
  // row's gap columns: their taps would read past the plane (past x, for the last one).
  const bool direct = d.Hp == g.H && d.Wp == g.W;
  const int64_t Q = direct ? (g.OH - 1) * d.Wp + g.OW : g.OH * d.Wp;  // flat columns per image
  const int64_t chan_stride = direct ? g.HW : d.plane_size;
  const int threads = num_threads();
  // Columns per GEMM call: its B block (CRS x cols) and C block (Kg x cols) each within kColBytes.
  const int64_t cols = std::max<int64_t>(kMinTile, kColBytes / (4 * std::max(g.CRS, g.Kg)));
  int64_t batch = std::clamp<int64_t>(cols / Q, 1, g.N);
  if (threads > 1 && g.N * g.p.groups >= threads)
    batch = std::min(batch, std::max<int64_t>(1, g.N * g.p.groups / threads));
  const int64_t batches = (g.N + batch - 1) / batch, items = batches * g.p.groups;
  const bool outer = threads > 1 && items >= threads;
  // Row k = (c, r, s) of the column matrix starts at this offset from an image's first plane.
  std::vector<int64_t> row_offsets(static_cast<size_t>(g.CRS));
  for (int64_t c = 0; c < g.Cg; ++c)
    for (int64_t t = 0; t < RS; ++t) row_offsets[c * RS + t] = c * chan_stride + d.offsets[t];
  std::vector<std::unique_ptr<SgemmPackedA>> packed;
  for (int64_t grp = 0; grp < g.p.groups; ++grp)
    packed.push_back(std::make_unique<SgemmPackedA>(false, g.Kg, g.CRS, w + grp * g.Kg * g.CRS, g.CRS));
  const ConvTable& t = table();
  auto run = [&](int64_t lo, int64_t hi) {
    float* planes = direct ? nullptr : scratch<float>(kScratchA, batch * g.Cg * d.plane_size);
    float* cblock = scratch<float>(kScratchB, g.Kg * cols);
    for (int64_t it = lo; it < hi; ++it) {
      const int64_t grp = it % g.p.groups, n0 = it / g.p.groups * batch, nb = std::min(batch, g.N - n0);
      if (!direct)
        for (int64_t b = 0; b < nb; ++b)
          for (int64_t c = 0; c < g.Cg; ++c)
            pad_plane(x + ((n0 + b) * g.C + grp * g.Cg + c) * g.HW, g, d, planes + (b * g.Cg + c) * d.plane_size);
      // Image b's first plane.
      auto image = [&](int64_t b) -> const float* {
        return direct ? x + ((n0 + b) * g.C + grp * g.Cg) * g.HW : planes + b * g.Cg * d.plane_size;
      };
      GemmEpilogue ep;
      ep.bias = bias ? bias + grp * g.Kg : nullptr;
      ep.bias_kind = GemmBias::Row;
      const int64_t total = nb * Q;
      for (int64_t j0 = 0; j0 < total; j0 += cols) {
        const int64_t j1 = std::min(total, j0 + cols), width = j1 - j0;
        GemmPackB pack = [&](int64_t k0, int64_t kc, int64_t c0, int64_t nc, int nr, float* dst) {
          for (int64_t p0 = 0; p0 < nc; p0 += nr, dst += nr * kc) {
            const int64_t n = std::min<int64_t>(nr, nc - p0);
            for (int64_t i = 0; i < n;) {  // a panel may straddle two images
              const int64_t j = j0 + c0 + p0 + i, b = j / Q, q = j - b * Q, len = std::min(n - i, Q - q);
              t.gather_rows_f32(dst + i, nr, image(b) + q, row_offsets.data() + k0, kc, len);
              i += len;
            }
            if (n < nr)
              for (int64_t k = 0; k < kc; ++k) std::fill(dst + k * nr + n, dst + (k + 1) * nr, 0.0f);
          }
        };
        packed[grp]->multiply(width, pack, 0.0f, cblock, width, ep, outer ? 1 : threads);
        // Crop: keep the columns ow < OW of every output row the block touches.
        for (int64_t j = j0; j < j1;) {
          const int64_t b = j / Q, q = j - b * Q, oh = q / d.Wp, ow = q - oh * d.Wp;
          const int64_t len = std::min({d.Wp - ow, j1 - j, Q - q}), valid = std::min(ow + len, g.OW) - ow;
          if (valid > 0) {
            float* yrow = y + ((n0 + b) * g.K + grp * g.Kg) * g.P + oh * g.OW + ow;
            const float* crow = cblock + (j - j0);
            for (int64_t k = 0; k < g.Kg; ++k) std::memcpy(yrow + k * g.P, crow + k * width, sizeof(float) * valid);
          }
          j += len;
        }
      }
    }
  };
  if (outer) parallel_for(0, items, 1, run);
  else run(0, items);
}

// The stride-1 adjoints on the same flat layout. gy enters as flat columns too (flat_rows: zero
// in the Wp - OW gap columns). Input: col = W^T gy over flat columns, whose gap columns are
// then exactly zero, so col2im is one long axpy per row (c, r, s) onto zero-padded planes,
// cropped into gx. Weight: im2col is one contiguous copy per row (c, r, s) of the padded
// planes, then gw += gy col^T.

// Rows k < rows of gy (row k at src + k * P, OH x OW) as flat columns [j0, j0 + width) of
// pitch Wp, into dst with row stride ld.
void flat_rows(float* dst, int64_t ld, const float* src, int64_t rows, const Geometry& g, int64_t Wp, int64_t j0,
               int64_t width) {
  for (int64_t j = j0; j < j0 + width;) {
    const int64_t oh = j / Wp, ow = j - oh * Wp, len = std::min(Wp - ow, j0 + width - j);
    const int64_t valid = std::clamp<int64_t>(g.OW - ow, 0, len);
    for (int64_t k = 0; k < rows; ++k) {
      float* dk = dst + k * ld + (j - j0);
      std::memcpy(dk, src + k * g.P + oh * g.OW + ow, sizeof(float) * valid);
      std::fill(dk + valid, dk + len, 0.0f);
    }
    j += len;
  }
}

void flat_backward_input(const Geometry& g, float* gx, const float* gy, const float* w, const float* bias) {
  const Depthwise d = depthwise_layout(g);
  const int64_t Q = g.OH * d.Wp, plane = d.plane_size, RS = g.R * g.S;
  const int threads = num_threads();
  const int64_t cols = std::max<int64_t>(kMinTile, kColBytes / (4 * std::max(g.CRS, g.Kg)));
  const int64_t items = g.N * g.p.groups;
  const bool outer = threads > 1 && items >= threads;
  std::vector<int64_t> row_offsets(static_cast<size_t>(g.CRS));
  for (int64_t c = 0; c < g.Cg; ++c)
    for (int64_t t = 0; t < RS; ++t) row_offsets[c * RS + t] = c * plane + d.offsets[t];
  std::vector<std::unique_ptr<SgemmPackedA>> packed;
  for (int64_t grp = 0; grp < g.p.groups; ++grp)
    packed.push_back(std::make_unique<SgemmPackedA>(true, g.CRS, g.Kg, w + grp * g.Kg * g.CRS, g.CRS));
  auto run = [&](int64_t lo, int64_t hi) {
    float* planes = scratch<float>(kScratchA, g.Cg * plane);
    float* gyc = scratch<float>(kScratchB, g.Kg * cols);
    float* col = scratch<float>(kScratchC, g.CRS * cols);
    for (int64_t it = lo; it < hi; ++it) {
      const int64_t n = it / g.p.groups, grp = it % g.p.groups;
      std::fill(planes, planes + g.Cg * plane, 0.0f);
      for (int64_t j0 = 0; j0 < Q; j0 += cols) {
        const int64_t width = std::min(cols, Q - j0);
        flat_rows(gyc, width, gy + (n * g.K + grp * g.Kg) * g.P, g.Kg, g, d.Wp, j0, width);
        packed[grp]->multiply(false, width, gyc, width, 0.0f, col, width, GemmEpilogue{}, outer ? 1 : threads);
        // Rows of channel c land on plane c only, so channels split over threads.
        auto scatter = [&](int64_t c_lo, int64_t c_hi) {
          for (int64_t k = c_lo * RS; k < c_hi * RS; ++k) axpy<float>(planes + row_offsets[k] + j0, 1.0f, col + k * width, width);
        };
        if (outer) scatter(0, g.Cg);
        else parallel_for(0, g.Cg, 1, scatter);
      }
      for (int64_t c = 0; c < g.Cg; ++c) {
        float* gxc = gx + (n * g.C + grp * g.Cg + c) * g.HW;
        const float* src = planes + c * plane + g.p.pad_h * d.Wp + g.p.pad_w;
        for (int64_t ih = 0; ih < g.H; ++ih) std::memcpy(gxc + ih * g.W, src + ih * d.Wp, sizeof(float) * g.W);
        if (bias) add_scalar<float>(gxc, bias[grp * g.Cg + c], g.HW);
      }
    }
  };
  if (outer) parallel_for(0, items, 1, run);
  else run(0, items);
}

// acc (K x CRS) += image n's contribution (slot C stays free for the caller's partial sums).
void flat_backward_weight_image(const Geometry& g, const Depthwise& d, const std::vector<int64_t>& row_offsets, int64_t n,
                                const float* gy, const float* x, float* acc, int64_t cols) {
  const int64_t Q = g.OH * d.Wp, plane = d.plane_size;
  float* planes = scratch<float>(kScratchA, g.Cg * plane);
  float* gyc = scratch<float>(kScratchB, g.Kg * cols);
  float* col = scratch<float>(kScratchD, g.CRS * cols);
  const ConvTable& t = table();
  for (int64_t grp = 0; grp < g.p.groups; ++grp) {
    for (int64_t c = 0; c < g.Cg; ++c) pad_plane(x + (n * g.C + grp * g.Cg + c) * g.HW, g, d, planes + c * plane);
    for (int64_t j0 = 0; j0 < Q; j0 += cols) {
      const int64_t width = std::min(cols, Q - j0);
      flat_rows(gyc, width, gy + (n * g.K + grp * g.Kg) * g.P, g.Kg, g, d.Wp, j0, width);
      t.gather_rows_f32(col, width, planes + j0, row_offsets.data(), g.CRS, width);
      sgemm(false, true, g.Kg, g.CRS, width, 1.0f, gyc, width, col, width, 1.0f, acc + grp * g.Kg * g.CRS, g.CRS);
    }
  }
}

// ---- small outputs, float32: several images per GEMM in the strided input adjoint ----
//
// With few output positions per image (a transposed convolution from 7 x 7: P = 49) a GEMM per
// image runs mostly partial column panels (49 columns on 32-wide panels compute 64). Here the
// GEMM's columns run over several images' positions (column j = image j / P, position j % P),
// gy's rows gathered straight into the panels, and col2im then works image by image.
void batched_backward_input(const Geometry& g, float* gx, const float* gy, const float* w, const float* bias) {
  const Depthwise d = depthwise_layout(g);
  const int threads = num_threads();
  const int64_t cols = std::max<int64_t>(kMinTile, kColBytes / (4 * g.CRS));
  int64_t batch = std::clamp<int64_t>(cols / g.P, 1, g.N);
  if (threads > 1 && g.N * g.p.groups >= threads)
    batch = std::min(batch, std::max<int64_t>(1, g.N * g.p.groups / threads));
  const int64_t batches = (g.N + batch - 1) / batch, items = batches * g.p.groups;
  const bool outer = threads > 1 && items >= threads;
  std::vector<int64_t> gy_rows(static_cast<size_t>(g.Kg));
  for (int64_t k = 0; k < g.Kg; ++k) gy_rows[k] = k * g.P;
  std::vector<std::unique_ptr<SgemmPackedA>> packed;
  for (int64_t grp = 0; grp < g.p.groups; ++grp)
    packed.push_back(std::make_unique<SgemmPackedA>(true, g.CRS, g.Kg, w + grp * g.Kg * g.CRS, g.CRS));
  const ConvTable& t = table();
  auto run = [&](int64_t lo, int64_t hi) {
    float* col = scratch<float>(kScratchA, g.CRS * batch * g.P);
    float* planes = scratch<float>(kScratchB, g.Cg * d.plane_size);
    for (int64_t it = lo; it < hi; ++it) {
      const int64_t grp = it % g.p.groups, n0 = it / g.p.groups * batch, nb = std::min(batch, g.N - n0), width = nb * g.P;
      GemmPackB pack = [&](int64_t k0, int64_t kc, int64_t c0, int64_t nc, int nr, float* dst) {
        for (int64_t p0 = 0; p0 < nc; p0 += nr, dst += nr * kc) {
          const int64_t n = std::min<int64_t>(nr, nc - p0);
          for (int64_t i = 0; i < n;) {  // a panel may straddle images
            const int64_t j = c0 + p0 + i, b = j / g.P, q = j - b * g.P, len = std::min(n - i, g.P - q);
            t.gather_rows_f32(dst + i, nr, gy + ((n0 + b) * g.K + grp * g.Kg) * g.P + q, gy_rows.data() + k0, kc, len);
            i += len;
          }
          if (n < nr)
            for (int64_t k = 0; k < kc; ++k) std::fill(dst + k * nr + n, dst + (k + 1) * nr, 0.0f);
        }
      };
      packed[grp]->multiply(width, pack, 0.0f, col, width, GemmEpilogue{}, outer ? 1 : threads);
      for (int64_t b = 0; b < nb; ++b) {
        std::fill(planes, planes + g.Cg * d.plane_size, 0.0f);
        if (outer) col2im_padded(planes, g, d, 0, g.P, col + b * g.P, width, 0, g.Cg);
        else parallel_for(0, g.Cg, 1, [&](int64_t c_lo, int64_t c_hi) { col2im_padded(planes, g, d, 0, g.P, col + b * g.P, width, c_lo, c_hi); });
        crop_planes(gx + ((n0 + b) * g.C + grp * g.Cg) * g.HW, planes, g, d, bias ? bias + grp * g.Cg : nullptr);
      }
    }
  };
  if (outer) parallel_for(0, items, 1, run);
  else run(0, items);
}

// ---- drivers ----

template <class T>
void fill_planes(T* t, int64_t N, int64_t C, int64_t HW, const T* bias) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) std::fill(t + (n * C + c) * HW, t + (n * C + c + 1) * HW, bias ? bias[c] : T(0));
}

template <class T>
void forward_impl(const Geometry& g, T* y, const T* x, const T* w, const T* bias) {
  if (g.N == 0 || g.K == 0 || g.P == 0) return;
  if (g.CRS == 0) return fill_planes(y, g.N, g.K, g.P, bias);
  if (g.depthwise()) return depthwise_forward(g, y, x, w, bias);
  if constexpr (std::is_same_v<T, float>) {
    if (flat_applies(g)) return flat_forward(g, y, x, w, bias);
  }
  const int threads = num_threads();
  if (g.pointwise()) {
    auto images = [&](int64_t lo, int64_t hi) {
      for (int64_t n = lo; n < hi; ++n)
        for (int64_t grp = 0; grp < g.p.groups; ++grp) {
          T* yg = y + (n * g.K + grp * g.Kg) * g.P;
          gemm<T>(false, false, g.Kg, g.P, g.Cg, w + grp * g.Kg * g.Cg, g.Cg, x + (n * g.C + grp * g.Cg) * g.HW, g.HW, T(0), yg, g.P);
          if (bias) for (int64_t k = 0; k < g.Kg; ++k) add_scalar<T>(yg + k * g.P, bias[grp * g.Kg + k], g.P);
        }
    };
    if (threads > 1 && g.N >= threads) parallel_for(0, g.N, 1, images);
    else images(0, g.N);
    return;
  }
  const int64_t tile = choose_tile(g, sizeof(T), g.N * g.p.groups, threads);
  const int64_t tiles = (g.P + tile - 1) / tile;
  const int64_t items = g.N * g.p.groups * tiles;
  // float32: each group's weights packed once for every tile, the bias added in the epilogue.
  std::vector<std::unique_ptr<SgemmPackedA>> packed;
  if constexpr (std::is_same_v<T, float>)
    for (int64_t grp = 0; grp < g.p.groups; ++grp)
      packed.push_back(std::make_unique<SgemmPackedA>(false, g.Kg, g.CRS, w + grp * g.Kg * g.CRS, g.CRS));
  const Depthwise d = depthwise_layout(g);
  auto run = [&](int64_t lo, int64_t hi) {
    T* col = scratch<T>(kScratchA, g.CRS * tile);
    T* planes = scratch<T>(kScratchB, g.Cg * d.plane_size);
    int64_t padded = -1;  // the (image, group) whose planes are in `planes`: items run tile-fastest
    for (int64_t it = lo; it < hi; ++it) {
      const int64_t t = it % tiles, ng = it / tiles, grp = ng % g.p.groups, n = ng / g.p.groups;
      const int64_t p0 = t * tile, p1 = std::min(g.P, p0 + tile);
      if (ng != padded) {
        for (int64_t c = 0; c < g.Cg; ++c) pad_plane(x + (n * g.C + grp * g.Cg + c) * g.HW, g, d, planes + c * d.plane_size);
        padded = ng;
      }
      im2col_padded(planes, g, d, p0, p1, col, p1 - p0, 0, g.Cg);
      T* yt = y + (n * g.K + grp * g.Kg) * g.P + p0;
      if constexpr (std::is_same_v<T, float>) {
        GemmEpilogue ep;
        ep.bias = bias ? bias + grp * g.Kg : nullptr;
        ep.bias_kind = GemmBias::Row;
        packed[grp]->multiply(false, p1 - p0, col, p1 - p0, 0.0f, yt, g.P, ep, threads);
      } else {
        gemm<T>(false, false, g.Kg, p1 - p0, g.CRS, w + grp * g.Kg * g.CRS, g.CRS, col, p1 - p0, T(0), yt, g.P);
        if (bias) for (int64_t k = 0; k < g.Kg; ++k) add_scalar<T>(yt + k * g.P, bias[grp * g.Kg + k], p1 - p0);
      }
    }
  };
  if (threads > 1 && items >= threads) parallel_for(0, items, 1, run);
  else run(0, items);
}

template <class T>
void backward_input_impl(const Geometry& g, T* gx, const T* gy, const T* w, const T* bias) {
  if (g.N == 0 || g.C == 0 || g.HW == 0) return;
  if (g.K == 0 || g.P == 0 || g.R * g.S == 0) return fill_planes(gx, g.N, g.C, g.HW, bias);
  if (g.depthwise()) return depthwise_backward_input(g, gx, gy, w, bias);
  if constexpr (std::is_same_v<T, float>) {
    if (flat_applies(g)) return flat_backward_input(g, gx, gy, w, bias);
    if (!g.pointwise() && g.P < kMinTile) return batched_backward_input(g, gx, gy, w, bias);
  }
  const int threads = num_threads();
  const bool outer = threads > 1 && g.N >= threads;
  auto add_bias = [&](int64_t n) {
    if (bias) for (int64_t c = 0; c < g.C; ++c) add_scalar<T>(gx + (n * g.C + c) * g.HW, bias[c], g.HW);
  };
  if (g.pointwise()) {
    auto images = [&](int64_t lo, int64_t hi) {
      for (int64_t n = lo; n < hi; ++n) {
        for (int64_t grp = 0; grp < g.p.groups; ++grp)
          gemm<T>(true, false, g.Cg, g.HW, g.Kg, w + grp * g.Kg * g.Cg, g.Cg, gy + (n * g.K + grp * g.Kg) * g.P, g.P, T(0),
                  gx + (n * g.C + grp * g.Cg) * g.HW, g.HW);
        add_bias(n);
      }
    };
    if (outer) parallel_for(0, g.N, 1, images);
    else images(0, g.N);
    return;
  }
  const int64_t tile = choose_tile(g, sizeof(T), std::numeric_limits<int64_t>::max(), threads);
  // float32: each group's W^T packed once for every tile.
  std::vector<std::unique_ptr<SgemmPackedA>> packed;
  if constexpr (std::is_same_v<T, float>)
    for (int64_t grp = 0; grp < g.p.groups; ++grp)
      packed.push_back(std::make_unique<SgemmPackedA>(true, g.CRS, g.Kg, w + grp * g.Kg * g.CRS, g.CRS));
  // Tiles of one image overlap in the input (the kernel's halo), so one image stays on one
  // thread; with fewer images than threads, col2im splits over channels instead.
  const Depthwise d = depthwise_layout(g);
  auto image = [&](int64_t n, T* col, bool split_channels) {
    T* planes = scratch<T>(kScratchB, g.Cg * d.plane_size);
    for (int64_t grp = 0; grp < g.p.groups; ++grp) {
      std::fill(planes, planes + g.Cg * d.plane_size, T(0));
      for (int64_t p0 = 0; p0 < g.P; p0 += tile) {
        const int64_t p1 = std::min(g.P, p0 + tile);
        const T* gyt = gy + (n * g.K + grp * g.Kg) * g.P + p0;
        if constexpr (std::is_same_v<T, float>)
          packed[grp]->multiply(false, p1 - p0, gyt, g.P, 0.0f, col, p1 - p0, GemmEpilogue{}, num_threads());
        else
          gemm<T>(true, false, g.CRS, p1 - p0, g.Kg, w + grp * g.Kg * g.CRS, g.CRS, gyt, g.P, T(0), col, p1 - p0);
        if (split_channels) parallel_for(0, g.Cg, 1, [&](int64_t lo, int64_t hi) { col2im_padded(planes, g, d, p0, p1, col, p1 - p0, lo, hi); });
        else col2im_padded(planes, g, d, p0, p1, col, p1 - p0, 0, g.Cg);
      }
      crop_planes(gx + (n * g.C + grp * g.Cg) * g.HW, planes, g, d, bias ? bias + grp * g.Cg : nullptr);
    }
  };
  if (outer) {
    parallel_for(0, g.N, 1, [&](int64_t lo, int64_t hi) {
      T* col = scratch<T>(kScratchA, g.CRS * tile);
      for (int64_t n = lo; n < hi; ++n) image(n, col, false);
    });
  } else {
    T* col = scratch<T>(kScratchA, g.CRS * tile);
    for (int64_t n = 0; n < g.N; ++n) image(n, col, true);
  }
}

template <class T>
void backward_weight_impl(const Geometry& g, T* gw, const T* gy, const T* x) {
  const int64_t wsize = g.K * g.CRS;
  std::fill(gw, gw + wsize, T(0));
  if (g.N == 0 || g.P == 0 || g.K == 0 || g.CRS == 0) return;
  if (g.depthwise()) return depthwise_backward_weight(g, gw, gy, x);
  const int threads = num_threads();
  const bool pointwise = g.pointwise();
  const int64_t tile = pointwise ? g.P : choose_tile(g, sizeof(T), std::numeric_limits<int64_t>::max(), threads);
  bool flat = false;
  const Depthwise d = depthwise_layout(g);
  std::vector<int64_t> row_offsets;
  const int64_t flat_cols = std::max<int64_t>(kMinTile, kColBytes / (4 * std::max(g.CRS, g.Kg)));
  if constexpr (std::is_same_v<T, float>) {
    flat = flat_applies(g);
    if (flat) {
      row_offsets.resize(static_cast<size_t>(g.CRS));
      for (int64_t c = 0; c < g.Cg; ++c)
        for (int64_t t = 0; t < d.RS; ++t) row_offsets[c * d.RS + t] = c * d.plane_size + d.offsets[t];
    }
  }
  // acc += this range of images' contribution.
  auto images = [&](int64_t lo, int64_t hi, T* acc, T* col, bool split_channels) {
    if constexpr (std::is_same_v<T, float>) {
      if (flat) {
        for (int64_t n = lo; n < hi; ++n) flat_backward_weight_image(g, d, row_offsets, n, gy, x, acc, flat_cols);
        return;
      }
    }
    for (int64_t n = lo; n < hi; ++n)
      for (int64_t grp = 0; grp < g.p.groups; ++grp) {
        const T* gyg = gy + (n * g.K + grp * g.Kg) * g.P;
        const T* xg = x + (n * g.C + grp * g.Cg) * g.HW;
        T* accg = acc + grp * g.Kg * g.CRS;
        if (pointwise) {
          gemm<T>(false, true, g.Kg, g.Cg, g.P, gyg, g.P, xg, g.HW, T(1), accg, g.CRS);
          continue;
        }
        T* planes = scratch<T>(kScratchB, g.Cg * d.plane_size);
        for (int64_t c = 0; c < g.Cg; ++c) pad_plane(xg + c * g.HW, g, d, planes + c * d.plane_size);
        for (int64_t p0 = 0; p0 < g.P; p0 += tile) {
          const int64_t p1 = std::min(g.P, p0 + tile);
          if (split_channels) parallel_for(0, g.Cg, 1, [&](int64_t a, int64_t b) { im2col_padded(planes, g, d, p0, p1, col, p1 - p0, a, b); });
          else im2col_padded(planes, g, d, p0, p1, col, p1 - p0, 0, g.Cg);
          gemm<T>(false, true, g.Kg, g.CRS, p1 - p0, gyg + p0, g.P, col, p1 - p0, T(1), accg, g.CRS);
        }
      }
  };
  const int64_t col_size = pointwise || flat ? 0 : g.CRS * tile;
  if (threads > 1 && g.N >= threads) {
    // Each chunk of images sums into its own buffer; the buffers are added in chunk order, so
    // the result depends only on the thread count.
    const int64_t chunks = threads;
    T* partial = scratch<T>(kScratchC, (chunks - 1) * wsize);
    std::fill(partial, partial + (chunks - 1) * wsize, T(0));
    parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
      T* col = scratch<T>(kScratchA, col_size);
      for (int64_t c = lo; c < hi; ++c)
        images(c * g.N / chunks, (c + 1) * g.N / chunks, c == 0 ? gw : partial + (c - 1) * wsize, col, false);
    });
    for (int64_t c = 0; c + 1 < chunks; ++c)
      for (int64_t i = 0; i < wsize; ++i) gw[i] += partial[c * wsize + i];
  } else {
    T* col = scratch<T>(kScratchA, col_size);
    images(0, g.N, gw, col, true);
  }
}

}  // namespace

void conv2d_forward(const TensorDesc& y, const TensorDesc& x, const TensorDesc& w, const TensorDesc* bias,
                    const ConvParams& p) {
  const char* op = "conv2d";
  Geometry g = make_geometry(op, x, w, y, p);
  check_bias(op, bias, g.K, x.dtype);
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>)
      forward_impl<T>(g, y.ptr<T>(), x.ptr<T>(), w.ptr<T>(), bias ? bias->ptr<T>() : nullptr);
  });
}

void conv2d_backward_input(const TensorDesc& gx, const TensorDesc& gy, const TensorDesc& w, const TensorDesc* bias,
                           const ConvParams& p) {
  const char* op = "conv2d backward";
  Geometry g = make_geometry(op, gx, w, gy, p);
  check_bias(op, bias, g.C, gx.dtype);
  dispatch_dtype(gx.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>)
      backward_input_impl<T>(g, gx.ptr<T>(), gy.ptr<T>(), w.ptr<T>(), bias ? bias->ptr<T>() : nullptr);
  });
}

void conv2d_backward_weight(const TensorDesc& gw, const TensorDesc& gy, const TensorDesc& x, const ConvParams& p) {
  const char* op = "conv2d backward";
  Geometry g = make_geometry(op, x, gw, gy, p);
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) backward_weight_impl<T>(g, gw.ptr<T>(), gy.ptr<T>(), x.ptr<T>());
  });
}

}  // namespace dendrite::cpu

// The per-element arithmetic of the CUDA pooling and resampling kernels, as __host__ __device__
// functions of one output (forward) or one input element (backward), so the window and index
// math can be checked against native/cpu/pool on a machine without a GPU. Every function follows
// its CPU twin step for step (same window clipping, same tap order, same accumulation order), so
// results are bitwise those of the CPU's scalar path.
//
// The backwards are gathers: each input element walks the few outputs whose window can contain
// it, in output order, and sums their shares. That is the CPU's scatter order for every input
// element, with no atomics, so a backward is deterministic and equal to the CPU's.
#pragma once
#include <cmath>
#include <cstdint>

#ifdef __CUDACC__
#define DENDRITE_HD __host__ __device__ __forceinline__
#else
#define DENDRITE_HD inline
#endif

namespace dendrite::cuda::pool_math {

struct Planes {
  int64_t planes, H, W, OH, OW;
};

struct Window {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
};

DENDRITE_HD int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
DENDRITE_HD int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

// Rounded products and sums: the CPU computes these as separate float operations, so the GPU
// must not contract them into one fused multiply-add.
DENDRITE_HD float mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
DENDRITE_HD double mul_rn(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
DENDRITE_HD float add_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
DENDRITE_HD double add_rn(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

template <class T> DENDRITE_HD bool is_nan(T v) { return v != v; }

// The first tap at or after 0 of a dilated window whose first tap is `start` (the CPU's
// `while (h0 < 0) h0 += dil`).
DENDRITE_HD int64_t first_inside(int64_t start, int64_t dil) {
  return start >= 0 ? start : start + ((-start + dil - 1) / dil) * dil;
}

// ceil(num / den) clamped below at 0, for den > 0 and any num.
DENDRITE_HD int64_t ceil_div_clamped(int64_t num, int64_t den) { return num <= 0 ? 0 : (num + den - 1) / den; }

// ---- max pooling --------------------------------------------------------------------------

// Output (oh, ow) of one plane: the max over the window's taps in row-major tap order; NaN wins
// (the last NaN) unless ignore_nan, ties keep the first tap; an empty window points at element 0.
template <class T>
DENDRITE_HD void max_pool_one(const T* in, const Planes& g, const Window& w, bool ignore_nan, int64_t oh, int64_t ow,
                              T* out, int64_t* index) {
  int64_t h0 = oh * w.sh - w.ph;
  const int64_t h1 = imin(h0 + (w.kh - 1) * w.dh + 1, g.H);
  h0 = first_inside(h0, w.dh);
  int64_t w0 = ow * w.sw - w.pw;
  const int64_t w1 = imin(w0 + (w.kw - 1) * w.dw + 1, g.W);
  w0 = first_inside(w0, w.dw);
  T best = static_cast<T>(-INFINITY);
  int64_t best_i = (h0 < h1 && w0 < w1) ? h0 * g.W + w0 : 0;
  for (int64_t ih = h0; ih < h1; ih += w.dh)
    for (int64_t iw = w0; iw < w1; iw += w.dw) {
      const T v = in[ih * g.W + iw];
      if (v > best || (!ignore_nan && is_nan(v))) {
        best = v;
        best_i = ih * g.W + iw;
      }
    }
  *out = best;
  *index = best_i;
}

// Outputs along one dim whose window (first tap o * s - p, taps every d, k of them) can hold
// position i: o * s in [i + p - (k - 1) * d, i + p]. A superset when d > 1 (gaps between taps);
// callers filter by the recorded argmax.
DENDRITE_HD void window_range(int64_t i, int64_t k, int64_t s, int64_t p, int64_t d, int64_t out_size, int64_t* lo,
                              int64_t* hi) {
  *lo = ceil_div_clamped(i + p - (k - 1) * d, s);
  *hi = imin((i + p) / s, out_size - 1);
}

// Outputs along one dim whose adaptive window [floor(o * I / O), ceil((o + 1) * I / O)) holds
// position i: o in [floor(i * O / I), ceil((i + 1) * O / I) - 1].
DENDRITE_HD int64_t adaptive_start(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
DENDRITE_HD int64_t adaptive_end(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }
DENDRITE_HD void adaptive_range(int64_t i, int64_t in, int64_t out, int64_t* lo, int64_t* hi) {
  *lo = (i * out) / in;  // < out since i < in
  *hi = imin(((i + 1) * out + in - 1) / in - 1, out - 1);
}

// Whether the window of output o along one dim has no tap inside [0, size) (possible with
// dilation: taps can straddle a small input). Such an output records index 0.
DENDRITE_HD bool window_empty(int64_t o, int64_t k, int64_t s, int64_t p, int64_t d, int64_t size) {
  const int64_t start = o * s - p;
  return first_inside(start, d) >= imin(start + (k - 1) * d + 1, size);
}

// Input element (ih, iw) of one plane: the sum, in output order, of the gradients of the outputs
// whose argmax is this element. `window` null: the adaptive windows. `empty_windows`: some
// output window holds no input element and points at element 0, so element 0 reads every output.
template <class T>
DENDRITE_HD T max_pool_grad_one(const T* gy, const int64_t* index, const Planes& g, const Window* window, bool empty_windows,
                                int64_t ih, int64_t iw) {
  const int64_t k = ih * g.W + iw;
  int64_t oh0, oh1, ow0, ow1;
  if (k == 0 && empty_windows) {
    oh0 = ow0 = 0;
    oh1 = g.OH - 1;
    ow1 = g.OW - 1;
  } else if (window) {
    window_range(ih, window->kh, window->sh, window->ph, window->dh, g.OH, &oh0, &oh1);
    window_range(iw, window->kw, window->sw, window->pw, window->dw, g.OW, &ow0, &ow1);
  } else {
    adaptive_range(ih, g.H, g.OH, &oh0, &oh1);
    adaptive_range(iw, g.W, g.OW, &ow0, &ow1);
  }
  T acc = 0;
  for (int64_t oh = oh0; oh <= oh1; ++oh)
    for (int64_t ow = ow0; ow <= ow1; ++ow) {
      const int64_t o = oh * g.OW + ow;
      if (index[o] == k) acc += gy[o];
    }
  return acc;
}

// ---- average pooling ----------------------------------------------------------------------

struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};

// The clipped window of output (oh, ow) and its divisor (PyTorch's rules, as the CPU).
DENDRITE_HD AvgWindow avg_window(int64_t oh, int64_t ow, const Planes& g, const Window& w, bool count_include_pad,
                                 int64_t divisor_override) {
  int64_t h0 = oh * w.sh - w.ph, w0 = ow * w.sw - w.pw;
  int64_t h1 = imin(h0 + w.kh, g.H + w.ph), w1 = imin(w0 + w.kw, g.W + w.pw);
  const int64_t padded_size = (h1 - h0) * (w1 - w0);
  h0 = imax(h0, 0);
  w0 = imax(w0, 0);
  h1 = imin(h1, g.H);
  w1 = imin(w1, g.W);
  const int64_t divisor = divisor_override > 0 ? divisor_override : count_include_pad ? padded_size : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, divisor};
}

template <class T>
DENDRITE_HD T avg_pool_one(const T* in, const Planes& g, const Window& w, bool count_include_pad, int64_t divisor_override,
                           int64_t oh, int64_t ow) {
  const AvgWindow a = avg_window(oh, ow, g, w, count_include_pad, divisor_override);
  if (a.h0 >= a.h1 || a.w0 >= a.w1) return T(0);
  T sum = 0;
  for (int64_t ih = a.h0; ih < a.h1; ++ih)
    for (int64_t iw = a.w0; iw < a.w1; ++iw) sum += in[ih * g.W + iw];
  return sum / static_cast<T>(a.divisor);
}

// Input element (ih, iw): the sum, in output order, of gy / divisor over the outputs whose
// clipped window holds it.
template <class T>
DENDRITE_HD T avg_pool_grad_one(const T* gy, const Planes& g, const Window& w, bool count_include_pad,
                                int64_t divisor_override, int64_t ih, int64_t iw) {
  int64_t oh0, oh1, ow0, ow1;
  window_range(ih, w.kh, w.sh, w.ph, 1, g.OH, &oh0, &oh1);
  window_range(iw, w.kw, w.sw, w.pw, 1, g.OW, &ow0, &ow1);
  T acc = 0;
  for (int64_t oh = oh0; oh <= oh1; ++oh)
    for (int64_t ow = ow0; ow <= ow1; ++ow) {
      const AvgWindow a = avg_window(oh, ow, g, w, count_include_pad, divisor_override);
      if (ih < a.h0 || ih >= a.h1 || iw < a.w0 || iw >= a.w1) continue;
      acc += gy[oh * g.OW + ow] / static_cast<T>(a.divisor);
    }
  return acc;
}

// ---- adaptive pooling ---------------------------------------------------------------------

template <class T>
DENDRITE_HD T adaptive_avg_one(const T* in, const Planes& g, int64_t oh, int64_t ow) {
  const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
  const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
  T sum = 0;
  for (int64_t ih = h0; ih < h1; ++ih)
    for (int64_t iw = w0; iw < w1; ++iw) sum += in[ih * g.W + iw];
  const int64_t count = (h1 - h0) * (w1 - w0);
  return count > 0 ? sum / static_cast<T>(count) : T(0);
}

template <class T>
DENDRITE_HD T adaptive_avg_grad_one(const T* gy, const Planes& g, int64_t ih, int64_t iw) {
  int64_t oh0, oh1, ow0, ow1;
  adaptive_range(ih, g.H, g.OH, &oh0, &oh1);
  adaptive_range(iw, g.W, g.OW, &ow0, &ow1);
  T acc = 0;
  for (int64_t oh = oh0; oh <= oh1; ++oh) {
    const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
    if (ih < h0 || ih >= h1) continue;
    for (int64_t ow = ow0; ow <= ow1; ++ow) {
      const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
      if (iw < w0 || iw >= w1) continue;
      acc += gy[oh * g.OW + ow] / static_cast<T>((h1 - h0) * (w1 - w0));
    }
  }
  return acc;
}

template <class T>
DENDRITE_HD void adaptive_max_one(const T* in, const Planes& g, int64_t oh, int64_t ow, T* out, int64_t* index) {
  const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
  const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
  T best = static_cast<T>(-INFINITY);
  int64_t best_i = (h0 < h1 && w0 < w1) ? h0 * g.W + w0 : 0;
  for (int64_t ih = h0; ih < h1; ++ih)
    for (int64_t iw = w0; iw < w1; ++iw) {
      const T v = in[ih * g.W + iw];
      if (v > best || is_nan(v)) {
        best = v;
        best_i = ih * g.W + iw;
      }
    }
  *out = best;
  *index = best_i;
}

// ---- resampling along one dim (interpolate, pad) --------------------------------------------
//
// A tensor seen as [outer, n_in, inner] becomes [outer, n_out, inner]: output row o reads input
// row taps[o] (K = 1: nearest, reflect / replicate / circular padding), or the weighted pair
// taps[o] * w0[o] + taps[n_out + o] * w1[o] (K = 2: linear), the products and the sum rounded
// separately as the CPU's composition (indexSelect, mul, add) rounds them.
//
// The plan, int32, K * (2 * n_out + n_in + 1) values:
//   taps    [K][n_out]      input row of each output row and tap
//   offsets [K][n_in + 1]   for tap k, the outputs reading input row i are
//   entries [K][n_out]      entries[k][offsets[k][i] .. offsets[k][i + 1]), in increasing order
// so the backward is a gather: input row i sums, per tap, its outputs' gradients (times the
// weight) in output order (the CPU's indexAdd order), then adds the two taps' sums.
// Out-of-range plan values are skipped, never followed.
struct ResamplePlan {
  const int32_t* taps;
  const int32_t* offsets;
  const int32_t* entries;
  int K;
  int64_t n_in, n_out, inner;
};

DENDRITE_HD ResamplePlan resample_plan(const int32_t* plan, int K, int64_t n_in, int64_t n_out, int64_t inner) {
  return {plan, plan + K * n_out, plan + K * n_out + K * (n_in + 1), K, n_in, n_out, inner};
}

// Output element (outer index r, row o, inner index c).
template <class T>
DENDRITE_HD T resample_one(const T* x, const T* weights, const ResamplePlan& p, int64_t r, int64_t o, int64_t c) {
  const T* base = x + r * p.n_in * p.inner + c;
  const int64_t t0 = p.taps[o];
  const T v0 = t0 >= 0 && t0 < p.n_in ? base[t0 * p.inner] : T(0);
  if (p.K == 1) return v0;
  const int64_t t1 = p.taps[p.n_out + o];
  const T v1 = t1 >= 0 && t1 < p.n_in ? base[t1 * p.inner] : T(0);
  return add_rn(mul_rn(v0, weights[o]), mul_rn(v1, weights[p.n_out + o]));
}

// Input element (outer index r, row i, inner index c) of the backward.
template <class T>
DENDRITE_HD T resample_grad_one(const T* gy, const T* weights, const ResamplePlan& p, int64_t r, int64_t i, int64_t c) {
  const T* base = gy + r * p.n_out * p.inner + c;
  T total = 0;
  for (int k = 0; k < p.K; ++k) {
    const int32_t* off = p.offsets + k * (p.n_in + 1);
    const int32_t* ent = p.entries + k * p.n_out;
    const int64_t q0 = imin(imax(off[i], 0), p.n_out);
    const int64_t q1 = imin(imax(off[i + 1], q0), p.n_out);
    T sum = 0;
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t o = ent[q];
      if (o < 0 || o >= p.n_out) continue;
      const T g = base[o * p.inner];
      sum = add_rn(sum, p.K == 1 ? g : mul_rn(g, weights[k * p.n_out + o]));
    }
    total = k == 0 ? sum : add_rn(total, sum);
  }
  return total;
}

}  // namespace dendrite::cuda::pool_math

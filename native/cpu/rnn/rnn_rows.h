// The scalar reference of the fused recurrent pointwise kernels (see RnnTable in rnn.h), over the
// units [j0, H) of one batch row. rnn.cc instantiates them for float64 and the scalar float32
// path; the SIMD kernels run them on the tail that does not fill a vector.
//
// Internal linkage: each ISA's translation unit gets its own copy, so the linker can never pick
// an AVX-512 compilation of these templates for the scalar path.
#pragma once
#include <cmath>
#include <cstdint>

namespace dendrite::cpu {
namespace {
namespace rows {

template <class T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

template <class T>
void lstm_forward(T* g, const T* b, const T* c_prev, T* c, T* h, int64_t H, int64_t j0 = 0) {
  for (int64_t j = j0; j < H; ++j) {
    T i = sigmoid(g[j] + b[j]);
    T f = sigmoid(g[H + j] + b[H + j]);
    T gg = std::tanh(g[2 * H + j] + b[2 * H + j]);
    T o = sigmoid(g[3 * H + j] + b[3 * H + j]);
    T cj = f * c_prev[j] + i * gg;
    g[j] = i;
    g[H + j] = f;
    g[2 * H + j] = gg;
    g[3 * H + j] = o;
    c[j] = cj;
    h[j] = o * std::tanh(cj);
  }
}

template <class T>
void lstm_backward(T* dg, const T* g, const T* c_prev, const T* c, const T* dh, T* dc, int64_t H, int64_t j0 = 0) {
  for (int64_t j = j0; j < H; ++j) {
    T i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j];
    T tc = std::tanh(c[j]);
    T dct = dc[j] + dh[j] * o * (T(1) - tc * tc);
    dg[j] = dct * gg * i * (T(1) - i);
    dg[H + j] = dct * c_prev[j] * f * (T(1) - f);
    dg[2 * H + j] = dct * i * (T(1) - gg * gg);
    dg[3 * H + j] = dh[j] * tc * o * (T(1) - o);
    dc[j] = dct * f;
  }
}

// h = (1 - z) ⊙ n + z ⊙ h_prev, n = tanh(x_n + b_in + r ⊙ (h_n + b_hn)).
template <class T>
void gru_forward(T* s, const T* gh, const T* bi, const T* bh, const T* h_prev, T* h, int64_t H, int64_t j0 = 0) {
  for (int64_t j = j0; j < H; ++j) {
    T r = sigmoid(s[j] + bi[j] + gh[j] + bh[j]);
    T z = sigmoid(s[H + j] + bi[H + j] + gh[H + j] + bh[H + j]);
    T hn = gh[2 * H + j] + bh[2 * H + j];
    T n = std::tanh(s[2 * H + j] + bi[2 * H + j] + r * hn);
    s[j] = r;
    s[H + j] = z;
    s[2 * H + j] = n;
    s[3 * H + j] = hn;
    h[j] = n + z * (h_prev[j] - n);
  }
}

template <class T>
void gru_backward(T* dgx, T* dgh, T* dh_prev, const T* s, const T* h_prev, const T* dh, int64_t H, int64_t j0 = 0) {
  for (int64_t j = j0; j < H; ++j) {
    T r = s[j], z = s[H + j], n = s[2 * H + j], hn = s[3 * H + j];
    T d = dh[j];
    T dn = d * (T(1) - z) * (T(1) - n * n);
    T dz = d * (h_prev[j] - n) * z * (T(1) - z);
    T dr = dn * hn * r * (T(1) - r);
    dgx[j] = dr;
    dgx[H + j] = dz;
    dgx[2 * H + j] = dn;
    dgh[j] = dr;
    dgh[H + j] = dz;
    dgh[2 * H + j] = dn * r;
    dh_prev[j] = d * z;
  }
}

template <class T>
void rnn_forward(T* g, const T* b, T* h, int64_t H, bool relu, int64_t j0 = 0) {
  for (int64_t j = j0; j < H; ++j) {
    T p = g[j] + b[j];
    // relu keeps NaN, as torch.relu.
    T a = relu ? (p > T(0) || std::isnan(p) ? p : T(0)) : std::tanh(p);
    g[j] = a;
    h[j] = a;
  }
}

template <class T>
void rnn_backward(T* dg, const T* g, const T* dh, int64_t H, bool relu, int64_t j0 = 0) {
  for (int64_t j = j0; j < H; ++j) dg[j] = relu ? (g[j] > T(0) ? dh[j] : T(0)) : dh[j] * (T(1) - g[j] * g[j]);
}

}  // namespace rows
}  // namespace
}  // namespace dendrite::cpu

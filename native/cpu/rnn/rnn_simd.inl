// The fused recurrent pointwise kernels over the VecF vocabulary (see RnnTable in rnn.h).
// Included by rnn_<isa>.cc after that ISA's vec header and vec_math.h; the units past the last
// full vector run the scalar reference (rnn_rows.h).
#include "rnn.h"
#include "rnn_rows.h"

namespace dendrite::cpu {
namespace {

using namespace dendrite::simd;
constexpr int L = VecF::kLanes;

inline int64_t vector_end(int64_t H) { return H - H % L; }

// The gate nonlinearities, five per LSTM unit and step. tanh is the [13/6] odd rational minimax
// form on [-7.905, 7.905] (as in Eigen's fast tanh; saturated past it): |error| < 3.5e-7
// against float64 tanh, one division and no exp, about half the work of vec_math's exp-based
// vtanh / vsigmoid. σ(x) = ½ + ½·tanh(x/2) (|error| < 2.5e-7). NaN propagates.
inline VecF gate_tanh(VecF x) {
  const VecF clamp = set1(7.90531110763549805f);
  VecF xc = min_raw(max_raw(x, neg(clamp)), clamp);
  VecF x2 = xc * xc;
  VecF p = fmadd(x2, set1(-2.76076847742355e-16f), set1(2.00018790482477e-13f));
  p = fmadd(p, x2, set1(-8.60467152213735e-11f));
  p = fmadd(p, x2, set1(5.12229709037114e-08f));
  p = fmadd(p, x2, set1(1.48572235717979e-05f));
  p = fmadd(p, x2, set1(6.37261928875436e-04f));
  p = fmadd(p, x2, set1(4.89352455891786e-03f));
  VecF q = fmadd(x2, set1(1.19825839466702e-06f), set1(1.18534705686654e-04f));
  q = fmadd(q, x2, set1(2.26843463243900e-03f));
  q = fmadd(q, x2, set1(4.89352518554385e-03f));
  return select(isnan(x), x, p * xc / q);
}
inline VecF gate_sigmoid(VecF x) { return fmadd(set1(0.5f), gate_tanh(x * set1(0.5f)), set1(0.5f)); }

void k_lstm_forward(float* g, const float* b, const float* c_prev, float* c, float* h, int64_t H) {
  const int64_t end = vector_end(H);
  for (int64_t j = 0; j < end; j += L) {
    VecF i = gate_sigmoid(loadu(g + j) + loadu(b + j));
    VecF f = gate_sigmoid(loadu(g + H + j) + loadu(b + H + j));
    VecF gg = gate_tanh(loadu(g + 2 * H + j) + loadu(b + 2 * H + j));
    VecF o = gate_sigmoid(loadu(g + 3 * H + j) + loadu(b + 3 * H + j));
    VecF cj = fmadd(f, loadu(c_prev + j), i * gg);
    storeu(g + j, i);
    storeu(g + H + j, f);
    storeu(g + 2 * H + j, gg);
    storeu(g + 3 * H + j, o);
    storeu(c + j, cj);
    storeu(h + j, o * gate_tanh(cj));
  }
  rows::lstm_forward<float>(g, b, c_prev, c, h, H, end);
}

void k_lstm_backward(float* dg, const float* g, const float* c_prev, const float* c, const float* dh, float* dc,
                     int64_t H) {
  const int64_t end = vector_end(H);
  const VecF one = set1(1.0f);
  for (int64_t j = 0; j < end; j += L) {
    VecF i = loadu(g + j), f = loadu(g + H + j), gg = loadu(g + 2 * H + j), o = loadu(g + 3 * H + j);
    VecF tc = gate_tanh(loadu(c + j));
    VecF d = loadu(dh + j);
    VecF dct = fmadd(d * o, fnmadd(tc, tc, one), loadu(dc + j));
    storeu(dg + j, dct * gg * i * (one - i));
    storeu(dg + H + j, dct * loadu(c_prev + j) * f * (one - f));
    storeu(dg + 2 * H + j, dct * i * fnmadd(gg, gg, one));
    storeu(dg + 3 * H + j, d * tc * o * (one - o));
    storeu(dc + j, dct * f);
  }
  rows::lstm_backward<float>(dg, g, c_prev, c, dh, dc, H, end);
}

void k_gru_forward(float* s, const float* gh, const float* bi, const float* bh, const float* h_prev, float* h,
                   int64_t H) {
  const int64_t end = vector_end(H);
  for (int64_t j = 0; j < end; j += L) {
    VecF r = gate_sigmoid(loadu(s + j) + loadu(bi + j) + loadu(gh + j) + loadu(bh + j));
    VecF z = gate_sigmoid(loadu(s + H + j) + loadu(bi + H + j) + loadu(gh + H + j) + loadu(bh + H + j));
    VecF hn = loadu(gh + 2 * H + j) + loadu(bh + 2 * H + j);
    VecF n = gate_tanh(fmadd(r, hn, loadu(s + 2 * H + j) + loadu(bi + 2 * H + j)));
    storeu(s + j, r);
    storeu(s + H + j, z);
    storeu(s + 2 * H + j, n);
    storeu(s + 3 * H + j, hn);
    storeu(h + j, fmadd(z, loadu(h_prev + j) - n, n));
  }
  rows::gru_forward<float>(s, gh, bi, bh, h_prev, h, H, end);
}

void k_gru_backward(float* dgx, float* dgh, float* dh_prev, const float* s, const float* h_prev, const float* dh,
                    int64_t H) {
  const int64_t end = vector_end(H);
  const VecF one = set1(1.0f);
  for (int64_t j = 0; j < end; j += L) {
    VecF r = loadu(s + j), z = loadu(s + H + j), n = loadu(s + 2 * H + j), hn = loadu(s + 3 * H + j);
    VecF d = loadu(dh + j);
    VecF dn = d * (one - z) * fnmadd(n, n, one);
    VecF dz = d * (loadu(h_prev + j) - n) * z * (one - z);
    VecF dr = dn * hn * r * (one - r);
    storeu(dgx + j, dr);
    storeu(dgx + H + j, dz);
    storeu(dgx + 2 * H + j, dn);
    storeu(dgh + j, dr);
    storeu(dgh + H + j, dz);
    storeu(dgh + 2 * H + j, dn * r);
    storeu(dh_prev + j, d * z);
  }
  rows::gru_backward<float>(dgx, dgh, dh_prev, s, h_prev, dh, H, end);
}

void k_rnn_forward(float* g, const float* b, float* h, int64_t H, bool relu) {
  const int64_t end = vector_end(H);
  for (int64_t j = 0; j < end; j += L) {
    VecF p = loadu(g + j) + loadu(b + j);
    VecF a = relu ? select(isnan(p), p, max_raw(p, zero())) : gate_tanh(p);
    storeu(g + j, a);
    storeu(h + j, a);
  }
  rows::rnn_forward<float>(g, b, h, H, relu, end);
}

void k_rnn_backward(float* dg, const float* g, const float* dh, int64_t H, bool relu) {
  const int64_t end = vector_end(H);
  for (int64_t j = 0; j < end; j += L) {
    VecF a = loadu(g + j), d = loadu(dh + j);
    storeu(dg + j, relu ? and_mask(a > zero(), d) : d * fnmadd(a, a, set1(1.0f)));
  }
  rows::rnn_backward<float>(dg, g, dh, H, relu, end);
}

}  // namespace

void fill_rnn_simd(RnnTable& t) {
  t.lstm_forward_row = k_lstm_forward;
  t.lstm_backward_row = k_lstm_backward;
  t.gru_forward_row = k_gru_forward;
  t.gru_backward_row = k_gru_backward;
  t.rnn_forward_row = k_rnn_forward;
  t.rnn_backward_row = k_rnn_backward;
}

}  // namespace dendrite::cpu

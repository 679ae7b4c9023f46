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

void k_lstm_forward(float* g, const float* b, const float* c_prev, float* c, float* h, int64_t H) {
  const int64_t end = vector_end(H);
  for (int64_t j = 0; j < end; j += L) {
    VecF i = vsigmoid(loadu(g + j) + loadu(b + j));
    VecF f = vsigmoid(loadu(g + H + j) + loadu(b + H + j));
    VecF gg = vtanh(loadu(g + 2 * H + j) + loadu(b + 2 * H + j));
    VecF o = vsigmoid(loadu(g + 3 * H + j) + loadu(b + 3 * H + j));
    VecF cj = fmadd(f, loadu(c_prev + j), i * gg);
    storeu(g + j, i);
    storeu(g + H + j, f);
    storeu(g + 2 * H + j, gg);
    storeu(g + 3 * H + j, o);
    storeu(c + j, cj);
    storeu(h + j, o * vtanh(cj));
  }
  rows::lstm_forward<float>(g, b, c_prev, c, h, H, end);
}

void k_lstm_backward(float* dg, const float* g, const float* c_prev, const float* c, const float* dh, float* dc,
                     int64_t H) {
  const int64_t end = vector_end(H);
  const VecF one = set1(1.0f);
  for (int64_t j = 0; j < end; j += L) {
    VecF i = loadu(g + j), f = loadu(g + H + j), gg = loadu(g + 2 * H + j), o = loadu(g + 3 * H + j);
    VecF tc = vtanh(loadu(c + j));
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
    VecF r = vsigmoid(loadu(s + j) + loadu(bi + j) + loadu(gh + j) + loadu(bh + j));
    VecF z = vsigmoid(loadu(s + H + j) + loadu(bi + H + j) + loadu(gh + H + j) + loadu(bh + H + j));
    VecF hn = loadu(gh + 2 * H + j) + loadu(bh + 2 * H + j);
    VecF n = vtanh(fmadd(r, hn, loadu(s + 2 * H + j) + loadu(bi + 2 * H + j)));
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
    VecF a = relu ? select(isnan(p), p, max_raw(p, zero())) : vtanh(p);
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

// Recurrent layers over a whole sequence, forward and backward through time, for one (layer,
// direction): LSTM, GRU (PyTorch's gate equations) and the plain tanh/relu RNN.
//
// Structure (the cuDNN / oneDNN recipe): one GEMM projects every time step's input at once
// (X·W_ihᵀ, (T·N) x (G·H)); the time loop runs one GEMM per step for h_{t-1}·W_hhᵀ and one fused
// pointwise kernel for the gates, which saves what backward needs. Backward runs the time loop in
// reverse with a fused pointwise backward and one GEMM per step for dh_{t-1} = dG_t·W_hh; the
// weight gradients are three large GEMMs after the loop (dW_ih = dGᵀ·X, dW_hh = dGᵀ·H_prev,
// dX = dG·W_ih) and the bias gradients column sums of dG.
//
// Variable lengths: for batch row n only steps t < lengths[n] run. At a padded step the state is
// carried unchanged, the output row is zero, and backward passes dh/dc straight through with a
// zero gate gradient, so padding touches neither outputs nor gradients. A reverse direction
// starts each row at its own last valid step (PyTorch's packed-sequence semantics).
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

// Values cross the N-API boundary (lib/ops/rnn.ts, RNN_MODES).
enum class RnnMode : int32_t { Lstm = 0, Gru = 1, RnnTanh = 2, RnnRelu = 3 };

// Gates per step in the weights (rows of W_ih are gates·H): i,f,g,o / r,z,n / one.
int rnn_gate_count(RnnMode mode);
// Floats saved per (step, batch row) as multiples of H: LSTM i,f,g,o (activated); GRU r,z,n and
// hn = h·W_hnᵀ + b_hn (the term inside r⊙(...)); RNN the activated output.
int rnn_saved_count(RnnMode mode);

// Shapes (every tensor float32 or float64, one dtype; pointers may be null where marked):
//   x (T, N, I) with unit inner stride and time-major rows (stride[0] == N·stride[1]),
//   w_ih (G·H, I), w_hh (G·H, H) contiguous; b_ih, b_hh (G·H) or null (no bias);
//   h0, c0 (N, H) contiguous or null (zeros; c0 only for LSTM); lengths (N) int32/int64 or null;
//   y (T, N, H) any strides with a unit inner one; h_n, c_n (N, H) contiguous (c_n LSTM only);
//   saved_gates (T·N·S·H), saved_h ((T+1)·N·H), saved_c ((T+1)·N·H, LSTM only) contiguous, or
//   all null when no backward follows (the forward then works in cached scratch).
// saved_h holds every state: for a forward direction row t is the state before step t; for a
// reverse one row t+1 is, so rows [reverse, reverse + T) are the previous states in time order.
struct RnnWeights {
  const TensorDesc* w_ih = nullptr;
  const TensorDesc* w_hh = nullptr;
  const TensorDesc* b_ih = nullptr;
  const TensorDesc* b_hh = nullptr;
};

struct RnnForwardArgs {
  RnnMode mode = RnnMode::Lstm;
  bool reverse = false;
  const TensorDesc* x = nullptr;
  RnnWeights w;
  const TensorDesc* h0 = nullptr;
  const TensorDesc* c0 = nullptr;
  const TensorDesc* lengths = nullptr;
  const TensorDesc* y = nullptr;
  const TensorDesc* h_n = nullptr;
  const TensorDesc* c_n = nullptr;
  const TensorDesc* saved_gates = nullptr;
  const TensorDesc* saved_h = nullptr;
  const TensorDesc* saved_c = nullptr;
};

// Gradients are written (overwritten) only where the output pointer is set. dy may be any
// (T, N, H) view with a unit inner stride; dy, dh_n, dc_n null mean zero.
struct RnnBackwardArgs {
  RnnMode mode = RnnMode::Lstm;
  bool reverse = false;
  const TensorDesc* x = nullptr;
  RnnWeights w;  // biases unused
  const TensorDesc* lengths = nullptr;
  const TensorDesc* saved_gates = nullptr;
  const TensorDesc* saved_h = nullptr;
  const TensorDesc* saved_c = nullptr;
  const TensorDesc* dy = nullptr;
  const TensorDesc* dh_n = nullptr;
  const TensorDesc* dc_n = nullptr;
  const TensorDesc* dx = nullptr;     // (T, N, I) contiguous
  const TensorDesc* dh0 = nullptr;    // (N, H)
  const TensorDesc* dc0 = nullptr;    // (N, H)
  const TensorDesc* dw_ih = nullptr;  // (G·H, I)
  const TensorDesc* dw_hh = nullptr;  // (G·H, H)
  const TensorDesc* db_ih = nullptr;  // (G·H)
  const TensorDesc* db_hh = nullptr;  // (G·H)
};

void rnn_forward(const RnnForwardArgs& a);
void rnn_backward(const RnnBackwardArgs& a);

// The fused float32 pointwise kernels for one batch row of H units, one table per ISA.
// LSTM: gates holds the pre-activations without bias (i, f, g, o blocks of H) and is
// overwritten with the activations; bias is b_ih + b_hh. Backward: dh is the total gradient
// reaching h_t, dc the one reaching c_t (overwritten with the one reaching c_{t-1}); dgates
// receives the pre-activation gradients.
// GRU: saved holds x·W_ihᵀ (r, z, n) on entry and r, z, n, hn on exit; gh is h·W_hhᵀ. Backward
// writes the gradients of both projections and dh_prev = dh ⊙ z (the direct path).
// RNN: gates holds the pre-activation, overwritten with the output.
struct RnnTable {
  void (*lstm_forward_row)(float* gates, const float* bias, const float* c_prev, float* c, float* h, int64_t H);
  void (*lstm_backward_row)(float* dgates, const float* gates, const float* c_prev, const float* c, const float* dh,
                            float* dc, int64_t H);
  void (*gru_forward_row)(float* saved, const float* gh, const float* b_ih, const float* b_hh, const float* h_prev,
                          float* h, int64_t H);
  void (*gru_backward_row)(float* dgx, float* dgh, float* dh_prev, const float* saved, const float* h_prev,
                           const float* dh, int64_t H);
  void (*rnn_forward_row)(float* gates, const float* bias, float* h, int64_t H, bool relu);
  void (*rnn_backward_row)(float* dgates, const float* gates, const float* dh, int64_t H, bool relu);
};
void fill_rnn_avx2(RnnTable& t);
void fill_rnn_avx512(RnnTable& t);
void fill_rnn_neon(RnnTable& t);

}  // namespace dendrite::cpu

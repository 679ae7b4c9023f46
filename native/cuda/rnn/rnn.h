// The recurrent family on CUDA as the binding sees it (plain C++, no CUDA headers): LSTM, GRU
// and the tanh/relu RNN over a whole sequence for one (layer, direction), forward and backward
// through time. Same arguments, contract and saved-buffer layout as cpu::rnn_forward /
// cpu::rnn_backward (native/cpu/rnn/rnn.h); every operand, lengths included, lives on the
// device. float32 only: float64 operands throw ERR_DTYPE.
#pragma once
#include "../../cpu/rnn/rnn.h"

namespace dendrite::cuda {

void rnn_forward(const cpu::RnnForwardArgs& a);
void rnn_backward(const cpu::RnnBackwardArgs& a);

}  // namespace dendrite::cuda

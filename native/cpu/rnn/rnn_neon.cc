// Recurrent pointwise float32 kernels for neon: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_neon.h"
#include "../simd/vec_math.h"
#define fill_rnn_simd fill_rnn_simd_neon
#include "rnn_simd.inl"

namespace dendrite::cpu {
void fill_rnn_neon(RnnTable& t) { fill_rnn_simd_neon(t); }
}  // namespace dendrite::cpu

// Recurrent pointwise float32 kernels for avx2: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx2.h"
#include "../simd/vec_math.h"
#define fill_rnn_simd fill_rnn_simd_avx2
#include "rnn_simd.inl"

namespace dendrite::cpu {
void fill_rnn_avx2(RnnTable& t) { fill_rnn_simd_avx2(t); }
}  // namespace dendrite::cpu

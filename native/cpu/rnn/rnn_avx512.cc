// Recurrent pointwise float32 kernels for avx512: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx512.h"
#include "../simd/vec_math.h"
#define fill_rnn_simd fill_rnn_simd_avx512
#include "rnn_simd.inl"

namespace dendrite::cpu {
void fill_rnn_avx512(RnnTable& t) { fill_rnn_simd_avx512(t); }
}  // namespace dendrite::cpu

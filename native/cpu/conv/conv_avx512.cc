// conv float32 inner loops for avx512: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx512.h"
#define fill_conv_simd fill_conv_simd_avx512
#include "conv_simd.inl"

namespace dendrite::cpu {
void fill_conv_avx512(ConvTable& t) { fill_conv_simd_avx512(t); }
}  // namespace dendrite::cpu

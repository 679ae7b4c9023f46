// conv float32 inner loops for avx2: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx2.h"
#define fill_conv_simd fill_conv_simd_avx2
#include "conv_simd.inl"

namespace dendrite::cpu {
void fill_conv_avx2(ConvTable& t) { fill_conv_simd_avx2(t); }
}  // namespace dendrite::cpu

// conv float32 inner loops for neon: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_neon.h"
#define fill_conv_simd fill_conv_simd_neon
#include "conv_simd.inl"

namespace dendrite::cpu {
void fill_conv_neon(ConvTable& t) { fill_conv_simd_neon(t); }
}  // namespace dendrite::cpu

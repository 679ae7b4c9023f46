// Elementwise float32 kernels for neon: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_neon.h"
#include "../simd/vec_math.h"
#define fill_elementwise_simd fill_elementwise_simd_neon
#include "elementwise_simd.inl"

namespace dendrite::cpu {
void fill_elementwise_neon(ElementwiseTable& t) { fill_elementwise_simd_neon(t); }
}  // namespace dendrite::cpu

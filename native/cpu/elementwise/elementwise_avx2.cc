// Elementwise float32 kernels for avx2: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx2.h"
#include "../simd/vec_math.h"
#define fill_elementwise_simd fill_elementwise_simd_avx2
#include "elementwise_simd.inl"

namespace dendrite::cpu {
void fill_elementwise_avx2(ElementwiseTable& t) { fill_elementwise_simd_avx2(t); }
}  // namespace dendrite::cpu

// Elementwise float32 kernels for avx512: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx512.h"
#include "../simd/vec_math.h"
#define fill_elementwise_simd fill_elementwise_simd_avx512
#include "elementwise_simd.inl"

namespace dendrite::cpu {
void fill_elementwise_avx512(ElementwiseTable& t) { fill_elementwise_simd_avx512(t); }
}  // namespace dendrite::cpu

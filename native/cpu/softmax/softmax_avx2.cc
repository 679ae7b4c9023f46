// Softmax float32 row kernels for avx2: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx2.h"
#include "../simd/vec_math.h"
#define fill_softmax_simd fill_softmax_simd_avx2
#include "softmax_simd.inl"

namespace dendrite::cpu {
void fill_softmax_avx2(SoftmaxTable& t) { fill_softmax_simd_avx2(t); }
}  // namespace dendrite::cpu

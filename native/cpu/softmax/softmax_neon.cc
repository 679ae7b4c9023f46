// Softmax float32 row kernels for neon: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_neon.h"
#include "../simd/vec_math.h"
#define fill_softmax_simd fill_softmax_simd_neon
#include "softmax_simd.inl"

namespace dendrite::cpu {
void fill_softmax_neon(SoftmaxTable& t) { fill_softmax_simd_neon(t); }
}  // namespace dendrite::cpu

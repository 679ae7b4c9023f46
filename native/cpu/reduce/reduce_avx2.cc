// Reduction float32 kernels for avx2: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx2.h"
#define fill_reduce_simd fill_reduce_simd_avx2
#include "reduce_simd.inl"

namespace dendrite::cpu {
void fill_reduce_avx2(ReduceTable& t) { fill_reduce_simd_avx2(t); }
}  // namespace dendrite::cpu

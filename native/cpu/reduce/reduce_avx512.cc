// Reduction float32 kernels for avx512: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx512.h"
#define fill_reduce_simd fill_reduce_simd_avx512
#include "reduce_simd.inl"

namespace dendrite::cpu {
void fill_reduce_avx512(ReduceTable& t) { fill_reduce_simd_avx512(t); }
}  // namespace dendrite::cpu

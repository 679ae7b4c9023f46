// Reduction float32 kernels for neon: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_neon.h"
#define fill_reduce_simd fill_reduce_simd_neon
#include "reduce_simd.inl"

namespace dendrite::cpu {
void fill_reduce_neon(ReduceTable& t) { fill_reduce_simd_neon(t); }
}  // namespace dendrite::cpu

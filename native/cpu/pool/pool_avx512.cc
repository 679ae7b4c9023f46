// Pooling float32 row loops for avx512: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx512.h"
#define fill_pool_simd fill_pool_simd_avx512
#include "pool_simd.inl"

namespace dendrite::cpu {
void fill_pool_avx512(PoolTable& t) { fill_pool_simd_avx512(t); }
}  // namespace dendrite::cpu

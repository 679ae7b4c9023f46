// Pooling float32 row loops for avx2: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx2.h"
#define fill_pool_simd fill_pool_simd_avx2
#include "pool_simd.inl"

namespace dendrite::cpu {
void fill_pool_avx2(PoolTable& t) { fill_pool_simd_avx2(t); }
}  // namespace dendrite::cpu

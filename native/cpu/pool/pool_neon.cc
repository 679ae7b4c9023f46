// Pooling float32 row loops for neon: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_neon.h"
#define fill_pool_simd fill_pool_simd_neon
#include "pool_simd.inl"

namespace dendrite::cpu {
void fill_pool_neon(PoolTable& t) { fill_pool_simd_neon(t); }
}  // namespace dendrite::cpu

// Batch-norm float32 loops for avx2: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx2.h"
#define fill_batch_norm_simd fill_batch_norm_simd_avx2
#include "batch_norm_simd.inl"

namespace dendrite::cpu {
void fill_batch_norm_avx2(BatchNormTable& t) { fill_batch_norm_simd_avx2(t); }
}  // namespace dendrite::cpu

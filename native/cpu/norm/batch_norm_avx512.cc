// Batch-norm float32 loops for avx512: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx512.h"
#define fill_batch_norm_simd fill_batch_norm_simd_avx512
#include "batch_norm_simd.inl"

namespace dendrite::cpu {
void fill_batch_norm_avx512(BatchNormTable& t) { fill_batch_norm_simd_avx512(t); }
}  // namespace dendrite::cpu

// Batch-norm float32 loops for neon: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_neon.h"
#define fill_batch_norm_simd fill_batch_norm_simd_neon
#include "batch_norm_simd.inl"

namespace dendrite::cpu {
void fill_batch_norm_neon(BatchNormTable& t) { fill_batch_norm_simd_neon(t); }
}  // namespace dendrite::cpu

// Optimizer float32 kernels for neon: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_neon.h"
#define fill_optim_simd fill_optim_simd_neon
#include "optim_simd.inl"

namespace dendrite::cpu {
void fill_optim_neon(OptimTable& t) { fill_optim_simd_neon(t); }
}  // namespace dendrite::cpu

// Optimizer float32 kernels for avx2: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx2.h"
#define fill_optim_simd fill_optim_simd_avx2
#include "optim_simd.inl"

namespace dendrite::cpu {
void fill_optim_avx2(OptimTable& t) { fill_optim_simd_avx2(t); }
}  // namespace dendrite::cpu

// Optimizer float32 kernels for avx512: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx512.h"
#define fill_optim_simd fill_optim_simd_avx512
#include "optim_simd.inl"

namespace dendrite::cpu {
void fill_optim_avx512(OptimTable& t) { fill_optim_simd_avx512(t); }
}  // namespace dendrite::cpu

// SGEMM for neon: the shared SIMD source instantiated with this ISA's vectors and a
// 8 x 3-vector register tile (see the register budget in gemm_simd.inl).
#include "../simd/vec_neon.h"
#include "../simd/vec_math.h"
#define GEMM_MR 8
#define GEMM_NV 3
#define fill_gemm_simd fill_gemm_simd_neon
#include "gemm_simd.inl"

namespace dendrite::cpu {
void fill_gemm_neon(GemmTable& t) { fill_gemm_simd_neon(t); }
}  // namespace dendrite::cpu

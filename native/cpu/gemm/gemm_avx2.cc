// SGEMM for avx2: the shared SIMD source instantiated with this ISA's vectors and a
// 6 x 2-vector register tile (see the register budget in gemm_simd.inl).
#include "../simd/vec_avx2.h"
#include "../simd/vec_math.h"
#define GEMM_MR 6
#define GEMM_NV 2
#define fill_gemm_simd fill_gemm_simd_avx2
#include "gemm_simd.inl"

namespace dendrite::cpu {
void fill_gemm_avx2(GemmTable& t) { fill_gemm_simd_avx2(t); }
}  // namespace dendrite::cpu

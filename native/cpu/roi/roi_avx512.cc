// The roi family's inner loops for avx512: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx512.h"
#define fill_roi_simd fill_roi_simd_avx512
#include "roi_simd.inl"

namespace dendrite::cpu {
void fill_roi_avx512(RoiTable& t) { fill_roi_simd_avx512(t); }
}  // namespace dendrite::cpu

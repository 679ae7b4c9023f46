// The roi family's inner loops for avx2: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_avx2.h"
#define fill_roi_simd fill_roi_simd_avx2
#include "roi_simd.inl"

namespace dendrite::cpu {
void fill_roi_avx2(RoiTable& t) { fill_roi_simd_avx2(t); }
}  // namespace dendrite::cpu

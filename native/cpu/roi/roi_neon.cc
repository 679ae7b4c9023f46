// The roi family's inner loops for neon: the shared SIMD source instantiated with this ISA's vectors.
#include "../simd/vec_neon.h"
#define fill_roi_simd fill_roi_simd_neon
#include "roi_simd.inl"

namespace dendrite::cpu {
void fill_roi_neon(RoiTable& t) { fill_roi_simd_neon(t); }
}  // namespace dendrite::cpu

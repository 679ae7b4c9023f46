// The roi family's inner loops over the VecF vocabulary (included per ISA): channels-last
// bilinear gather/scatter for RoIAlign, the max over cells for RoIPool, and the IoU row kernels
// of NMS and box_iou.
#include <cfloat>
#include <cstring>
#include "roi_common.h"

namespace dendrite::cpu {
namespace {

using namespace dendrite::simd;
constexpr int L = VecF::kLanes;

// Channels in blocks of 4 vectors, the accumulators held in registers across every tap of
// the bin; then single vectors; then a scalar tail.
void k_align_gather(float* acc, const float* base, const int64_t* off, const float* w, int64_t samples, int64_t n) {
  const int64_t taps = 4 * samples;
  int64_t c = 0;
  for (; c + 4 * L <= n; c += 4 * L) {
    VecF a0 = zero(), a1 = zero(), a2 = zero(), a3 = zero();
    for (int64_t t = 0; t < taps; ++t) {
      const float* r = base + off[t] + c;
      VecF wt = set1(w[t]);
      a0 = fmadd(wt, loadu(r), a0);
      a1 = fmadd(wt, loadu(r + L), a1);
      a2 = fmadd(wt, loadu(r + 2 * L), a2);
      a3 = fmadd(wt, loadu(r + 3 * L), a3);
    }
    storeu(acc + c, a0);
    storeu(acc + c + L, a1);
    storeu(acc + c + 2 * L, a2);
    storeu(acc + c + 3 * L, a3);
  }
  for (; c + L <= n; c += L) {
    VecF a0 = zero();
    for (int64_t t = 0; t < taps; ++t) a0 = fmadd(set1(w[t]), loadu(base + off[t] + c), a0);
    storeu(acc + c, a0);
  }
  for (; c < n; ++c) {
    float a = 0;
    for (int64_t t = 0; t < taps; ++t) a += w[t] * base[off[t] + c];
    acc[c] = a;
  }
}

// Each tap is a load-add-store of its row before the next tap reads: two taps naming one row
// (a sample on the map's last row or column) accumulate correctly.
void k_align_scatter(float* base, const int64_t* off, const float* w, int64_t samples, const float* g, int64_t n) {
  const int64_t taps = 4 * samples;
  int64_t c = 0;
  for (; c + 4 * L <= n; c += 4 * L) {
    VecF g0 = loadu(g + c), g1 = loadu(g + c + L), g2 = loadu(g + c + 2 * L), g3 = loadu(g + c + 3 * L);
    for (int64_t t = 0; t < taps; ++t) {
      float* r = base + off[t] + c;
      VecF wt = set1(w[t]);
      storeu(r, fmadd(wt, g0, loadu(r)));
      storeu(r + L, fmadd(wt, g1, loadu(r + L)));
      storeu(r + 2 * L, fmadd(wt, g2, loadu(r + 2 * L)));
      storeu(r + 3 * L, fmadd(wt, g3, loadu(r + 3 * L)));
    }
  }
  for (; c + L <= n; c += L) {
    VecF g0 = loadu(g + c);
    for (int64_t t = 0; t < taps; ++t) {
      float* r = base + off[t] + c;
      storeu(r, fmadd(set1(w[t]), g0, loadu(r)));
    }
  }
  for (; c < n; ++c)
    for (int64_t t = 0; t < taps; ++t) base[off[t] + c] += w[t] * g[c];
}

// IoU of one box against columns j .. j+L; the clamp keeps NaN widths at 0, as std::max(0, w).
inline VecF iou_vec(const float* const cols[5], int64_t j, VecF bx1, VecF by1, VecF bx2, VecF by2, VecF barea) {
  VecF xx1 = max_raw(loadu(cols[0] + j), bx1), yy1 = max_raw(loadu(cols[1] + j), by1);
  VecF xx2 = min_raw(loadu(cols[2] + j), bx2), yy2 = min_raw(loadu(cols[3] + j), by2);
  VecF w = xx2 - xx1, h = yy2 - yy1;
  w = and_mask(zero() < w, w);
  h = and_mask(zero() < h, h);
  VecF inter = w * h;
  return inter / ((barea + loadu(cols[4] + j)) - inter);
}

inline float iou_one(const float* const cols[5], int64_t j, const float* box) {
  float xx1 = cols[0][j] < box[0] ? box[0] : cols[0][j], yy1 = cols[1][j] < box[1] ? box[1] : cols[1][j];
  float xx2 = box[2] < cols[2][j] ? box[2] : cols[2][j], yy2 = box[3] < cols[3][j] ? box[3] : cols[3][j];
  float w = xx2 - xx1, h = yy2 - yy1;
  w = 0 < w ? w : 0;
  h = 0 < h ? h : 0;
  float inter = w * h;
  return inter / ((box[4] + cols[4][j]) - inter);
}

void k_nms_suppress(float* suppressed, const float* const cols[5], const float* cls, const float box[6], float thr, int64_t n) {
  const VecF bx1 = set1(box[0]), by1 = set1(box[1]), bx2 = set1(box[2]), by2 = set1(box[3]), barea = set1(box[4]);
  const VecF bcls = set1(box[5]), vthr = set1(thr), one = set1(1.0f);
  int64_t j = 0;
  for (; j + L <= n; j += L) {
    Mask m = iou_vec(cols, j, bx1, by1, bx2, by2, barea) > vthr;
    if (cls) {
      VecF cj = loadu(cls + j);
      m = m & (cj <= bcls) & (cj >= bcls);
    }
    storeu(suppressed + j, select(m, one, loadu(suppressed + j)));
  }
  for (; j < n; ++j)
    if ((!cls || cls[j] == box[5]) && iou_one(cols, j, box) > thr) suppressed[j] = 1.0f;
}

void k_box_iou_row(float* out, const float* const cols[5], const float box[5], int64_t n) {
  const VecF bx1 = set1(box[0]), by1 = set1(box[1]), bx2 = set1(box[2]), by2 = set1(box[3]), barea = set1(box[4]);
  int64_t j = 0;
  for (; j + L <= n; j += L) storeu(out + j, iou_vec(cols, j, bx1, by1, bx2, by2, barea));
  for (; j < n; ++j) out[j] = iou_one(cols, j, box);
}

// Channels in blocks of 2 vectors (a best and an argmax register each) across every cell.
// The strict > keeps the first maximum and never takes NaN, as the scalar loop.
void k_pool_max(float* best, float* arg, const float* base, const int64_t* off, const float* pix, int64_t cells, int64_t n) {
  const VecF lowest = set1(-FLT_MAX), none = set1(-1.0f);
  int64_t c = 0;
  for (; c + 2 * L <= n; c += 2 * L) {
    VecF b0 = lowest, b1 = lowest, a0 = none, a1 = none;
    for (int64_t i = 0; i < cells; ++i) {
      const float* r = base + off[i] + c;
      VecF p = set1(pix[i]), v0 = loadu(r), v1 = loadu(r + L);
      Mask m0 = v0 > b0, m1 = v1 > b1;
      b0 = select(m0, v0, b0);
      a0 = select(m0, p, a0);
      b1 = select(m1, v1, b1);
      a1 = select(m1, p, a1);
    }
    storeu(best + c, b0);
    storeu(best + c + L, b1);
    storeu(arg + c, a0);
    storeu(arg + c + L, a1);
  }
  for (; c + L <= n; c += L) {
    VecF b0 = lowest, a0 = none;
    for (int64_t i = 0; i < cells; ++i) {
      VecF v0 = loadu(base + off[i] + c);
      Mask m0 = v0 > b0;
      b0 = select(m0, v0, b0);
      a0 = select(m0, set1(pix[i]), a0);
    }
    storeu(best + c, b0);
    storeu(arg + c, a0);
  }
  for (; c < n; ++c) {
    float b = -FLT_MAX, a = -1.0f;
    for (int64_t i = 0; i < cells; ++i)
      if (base[off[i] + c] > b) {
        b = base[off[i] + c];
        a = pix[i];
      }
    best[c] = b;
    arg[c] = a;
  }
}

}  // namespace

void fill_roi_simd(RoiTable& t) {
  t.align_gather_f32 = k_align_gather;
  t.align_scatter_f32 = k_align_scatter;
  t.nms_suppress_f32 = k_nms_suppress;
  t.box_iou_row_f32 = k_box_iou_row;
  t.pool_max_f32 = k_pool_max;
}

}  // namespace dendrite::cpu

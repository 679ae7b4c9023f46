// RoIAlign (He et al. 2017, "Mask R-CNN", §3) with torchvision's semantics: each output bin
// averages grid_h x grid_w bilinear samples; grid = sampling_ratio per side, or adaptive
// (ceil(roi size / pooled size)) when sampling_ratio <= 0; `aligned` shifts box corners by
// -0.5 pixel so a box [0, 0, 1, 1] at scale 1 samples pixel 0's centre. Samples more than one
// pixel outside the map contribute zero but still count in the average.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

struct RoiAlignParams {
  int64_t pooled_h = 1, pooled_w = 1;
  double spatial_scale = 1.0;
  int64_t sampling_ratio = 0;
  bool aligned = false;
};

// The most samples per bin side an adaptive grid may ask for (a box about 1000 x pooled size
// feature cells tall); larger boxes throw instead of running for minutes.
constexpr int64_t kMaxRoiAlignGrid = 1024;

// out (K, C, PH, PW) <- input (N, C, H, W) and rois (K, 5) [batch_index, x1, y1, x2, y2];
// one float dtype, contiguous.
void roi_align_forward(const TensorDesc& out, const TensorDesc& input, const TensorDesc& rois, const RoiAlignParams& p);
// grad_input (N, C, H, W) <- grad_out (K, C, PH, PW): the adjoint of the forward in the feature
// map (boxes get no gradient, as in torchvision). grad_input is overwritten.
void roi_align_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& rois, const RoiAlignParams& p);

}  // namespace dendrite::cpu

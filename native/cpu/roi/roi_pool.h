// RoI max pooling (Girshick 2015, "Fast R-CNN", §2.1) with torchvision's semantics: box corners
// are scaled and rounded to whole cells, the box (at least 1 x 1 cell) is split into
// pooled_h x pooled_w bins of floor/ceil'd extent, clipped to the map; a bin's output is the max
// of its cells (0 for an empty bin), and argmax keeps the winning cell (h * W + w, or -1) for
// the backward.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

// out (K, C, PH, PW) and argmax (int32, same shape) <- input (N, C, H, W), rois (K, 5).
void roi_pool_forward(const TensorDesc& out, const TensorDesc& argmax, const TensorDesc& input, const TensorDesc& rois,
                      int64_t pooled_h, int64_t pooled_w, double spatial_scale);
// grad_input (N, C, H, W), overwritten, <- grad_out routed through argmax; rois give the image.
void roi_pool_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& argmax, const TensorDesc& rois);

}  // namespace dendrite::cpu

// Box overlap: pairwise IoU and greedy non-maximum suppression, with torchvision's semantics.
// Boxes are (x1, y1, x2, y2); area = (x2 - x1) * (y2 - y1), and an inverted box's negative
// width is not clipped (as torchvision); an empty union gives IoU NaN, which never suppresses.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

// out (N, M) = IoU of every box in a (N, 4) with every box in b (M, 4); one float dtype.
void box_iou(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b);

// Greedy NMS: visits boxes by descending score (a stable sort, NaN scores first, as torch.sort)
// and drops every later box whose IoU with a kept one is > iou_threshold (compared in double,
// as torchvision). With `classes` (int32/int64, N) only boxes of one class suppress each other
// (torchvision's batched_nms). Writes the kept indices, in score order, to the front of keep
// (int64, N) and returns how many.
int64_t nms(const TensorDesc& keep, const TensorDesc& boxes, const TensorDesc& scores, double iou_threshold,
            const TensorDesc* classes);

}  // namespace dendrite::cpu

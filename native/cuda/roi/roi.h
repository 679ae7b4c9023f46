// The roi family on CUDA as the binding sees it: plain C++ (no CUDA headers). Each function has
// the contract of its cpu:: twin (native/cpu/roi/*.h), takes device descriptors, and queues its
// kernels on cuda::stream().
//
// Data-dependent checks (box batch indices and coordinates, adaptive grids, roiPool's argmax)
// run as a small kernel first whose verdict the host reads back (one synchronous copy of a few
// bytes, as native/cuda/index does), so bad input throws the CPU's DendriteError before anything
// is written. nms ends with one more such copy: the number of kept boxes sizes its output.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"
#include "../../cpu/roi/roi_align.h"

namespace dendrite::cuda {

void roi_align_forward(const TensorDesc& out, const TensorDesc& input, const TensorDesc& rois, const cpu::RoiAlignParams& p);
// Accumulates with atomicAdd, so the float sums are not bitwise deterministic run to run.
void roi_align_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& rois,
                        const cpu::RoiAlignParams& p);

void roi_pool_forward(const TensorDesc& out, const TensorDesc& argmax, const TensorDesc& input, const TensorDesc& rois,
                      int64_t pooled_h, int64_t pooled_w, double spatial_scale);
// atomicAdd as well (bins of overlapping boxes may route to one cell).
void roi_pool_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& argmax, const TensorDesc& rois);

void box_iou(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b);

// Up to kMaxCudaNmsBoxes boxes: a device sort of the scores, torchvision's 64-box IoU bitmask and
// a greedy scan of the mask in one thread block. More boxes than that (the mask grows as n^2)
// are suppressed by cpu::nms on a host copy.
constexpr int64_t kMaxCudaNmsBoxes = int64_t{1} << 16;
int64_t nms(const TensorDesc& keep, const TensorDesc& boxes, const TensorDesc& scores, double iou_threshold,
            const TensorDesc* classes);

}  // namespace dendrite::cuda

// N-API side of the roi family: RoIAlign, RoIPool, box IoU and NMS, on the CPU or on CUDA
// (native/cuda/roi) by the operands' device.
#include "../cpu/roi/nms.h"
#include "../cpu/roi/roi_align.h"
#include "../cpu/roi/roi_pool.h"
#include "common.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/roi/roi.h"
#endif

namespace dendrite::binding {
namespace {

cpu::RoiAlignParams align_params(const Napi::CallbackInfo& info, const char* op) {
  cpu::RoiAlignParams p;
  p.pooled_h = arg_int(info, 0, op);
  p.pooled_w = arg_int(info, 1, op);
  p.spatial_scale = arg_double(info, 2, op);
  p.sampling_ratio = arg_int(info, 3, op);
  p.aligned = arg_bool(info, 4, op);
  return p;
}

// roiAlign(pooledH, pooledW, spatialScale, samplingRatio, aligned, out, input, rois)
Napi::Value RoiAlign(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    cpu::RoiAlignParams p = align_params(info, "roiAlign");
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[5], "roiAlign");
    TensorDesc input = read_tensor(meta, info[6], "roiAlign");
    TensorDesc rois = read_tensor(meta, info[7], "roiAlign");
    if (common_device("roiAlign", {&out, &input, &rois}) == Device::Cuda) DENDRITE_ON_CUDA(cuda::roi_align_forward(out, input, rois, p));
    else cpu::roi_align_forward(out, input, rois, p);
    return info.Env().Undefined();
  });
}

// roiAlignBackward(pooledH, pooledW, spatialScale, samplingRatio, aligned, gradInput, gradOut, rois)
Napi::Value RoiAlignBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    cpu::RoiAlignParams p = align_params(info, "roiAlign backward");
    MetaReader meta(kRoutesCuda);
    TensorDesc grad_input = read_tensor(meta, info[5], "roiAlign backward");
    TensorDesc grad_out = read_tensor(meta, info[6], "roiAlign backward");
    TensorDesc rois = read_tensor(meta, info[7], "roiAlign backward");
    if (common_device("roiAlign backward", {&grad_input, &grad_out, &rois}) == Device::Cuda)
      DENDRITE_ON_CUDA(cuda::roi_align_backward(grad_input, grad_out, rois, p));
    else cpu::roi_align_backward(grad_input, grad_out, rois, p);
    return info.Env().Undefined();
  });
}

// roiPool(pooledH, pooledW, spatialScale, out, argmax, input, rois)
Napi::Value RoiPool(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t ph = arg_int(info, 0, "roiPool"), pw = arg_int(info, 1, "roiPool");
    double scale = arg_double(info, 2, "roiPool");
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[3], "roiPool");
    TensorDesc argmax = read_tensor(meta, info[4], "roiPool");
    TensorDesc input = read_tensor(meta, info[5], "roiPool");
    TensorDesc rois = read_tensor(meta, info[6], "roiPool");
    if (common_device("roiPool", {&out, &argmax, &input, &rois}) == Device::Cuda)
      DENDRITE_ON_CUDA(cuda::roi_pool_forward(out, argmax, input, rois, ph, pw, scale));
    else cpu::roi_pool_forward(out, argmax, input, rois, ph, pw, scale);
    return info.Env().Undefined();
  });
}

// roiPoolBackward(gradInput, gradOut, argmax, rois)
Napi::Value RoiPoolBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MetaReader meta(kRoutesCuda);
    TensorDesc grad_input = read_tensor(meta, info[0], "roiPool backward");
    TensorDesc grad_out = read_tensor(meta, info[1], "roiPool backward");
    TensorDesc argmax = read_tensor(meta, info[2], "roiPool backward");
    TensorDesc rois = read_tensor(meta, info[3], "roiPool backward");
    if (common_device("roiPool backward", {&grad_input, &grad_out, &argmax, &rois}) == Device::Cuda)
      DENDRITE_ON_CUDA(cuda::roi_pool_backward(grad_input, grad_out, argmax, rois));
    else cpu::roi_pool_backward(grad_input, grad_out, argmax, rois);
    return info.Env().Undefined();
  });
}

// boxIou(out, a, b)
Napi::Value BoxIou(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[0], "boxIou");
    TensorDesc a = read_tensor(meta, info[1], "boxIou");
    TensorDesc b = read_tensor(meta, info[2], "boxIou");
    if (common_device("boxIou", {&out, &a, &b}) == Device::Cuda) DENDRITE_ON_CUDA(cuda::box_iou(out, a, b));
    else cpu::box_iou(out, a, b);
    return info.Env().Undefined();
  });
}

// nms(iouThreshold, keep, boxes, scores[, classes]) -> number of kept boxes (at the front of keep)
Napi::Value Nms(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    double threshold = arg_double(info, 0, "nms");
    MetaReader meta(kRoutesCuda);
    TensorDesc keep = read_tensor(meta, info[1], "nms");
    TensorDesc boxes = read_tensor(meta, info[2], "nms");
    TensorDesc scores = read_tensor(meta, info[3], "nms");
    TensorDesc classes;
    const bool has_classes = info.Length() > 4 && !info[4].IsUndefined();
    if (has_classes) classes = read_tensor(meta, info[4], "batchedNms");
    const TensorDesc* cls = has_classes ? &classes : nullptr;
    const Device dev = has_classes ? common_device("batchedNms", {&keep, &boxes, &scores, &classes}) : common_device("nms", {&keep, &boxes, &scores});
    int64_t kept = 0;
    // On CUDA the kept count comes back to the host (it sizes the result): nms synchronises.
    if (dev == Device::Cuda) DENDRITE_ON_CUDA(kept = cuda::nms(keep, boxes, scores, threshold, cls));
    else kept = cpu::nms(keep, boxes, scores, threshold, cls);
    return Napi::Number::New(info.Env(), static_cast<double>(kept));
  });
}

}  // namespace

void init_roi(Napi::Env env, Napi::Object exports) {
  exports.Set("roiAlign", Napi::Function::New(env, RoiAlign, "roiAlign"));
  exports.Set("roiAlignBackward", Napi::Function::New(env, RoiAlignBackward, "roiAlignBackward"));
  exports.Set("roiPool", Napi::Function::New(env, RoiPool, "roiPool"));
  exports.Set("roiPoolBackward", Napi::Function::New(env, RoiPoolBackward, "roiPoolBackward"));
  exports.Set("boxIou", Napi::Function::New(env, BoxIou, "boxIou"));
  exports.Set("nms", Napi::Function::New(env, Nms, "nms"));
}

}  // namespace dendrite::binding

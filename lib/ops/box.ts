// Box utilities of a detector (torchvision.ops.boxes and models.detection._utils): pairwise IoU
// and NMS on native kernels; areas, clipping, Faster R-CNN's box coding and the smooth L1 loss
// composed from differentiable ops. Boxes are (x1, y1, x2, y2) in the last dim.
import { describe, fail, fmtShape } from '../errors';
import { floatOf, isFloat, promoteTypes, type DType } from '../dtype';
import { Tensor, contiguousCopy, transferRaw } from '../tensor';
import { needsGrad } from '../autograd/node';
import { beginLayouts, native } from '../native';
import { checkTensor } from './helpers';
import { clamp, maximum, minimum } from './elementwise';
import { select, slice } from './shape';
import { stack } from './join';

function checkBoxes(b: unknown, op: string, what = 'boxes'): Tensor {
  const t = checkTensor(b, op, what);
  if (t.ndim !== 2 || t.shape[1] !== 4) fail('ERR_SHAPE', op, `${what} of shape [N, 4]`, fmtShape(t.shape));
  return t;
}

/** b as a contiguous tensor of dtype (b itself when it already is one); temps collects copies. */
function asContiguous(b: Tensor, dtype: DType, temps: Tensor[]): Tensor {
  if (b.dtype === dtype && b.isContiguous()) return b;
  const c = contiguousCopy(b, dtype);
  temps.push(c);
  return c;
}

const column = (b: Tensor, i: number): Tensor => select(b, -1, i);

/** torchvision.ops.box_area: (x2 - x1) * (y2 - y1) per box, shape (N). */
export function boxArea(boxes: Tensor): Tensor {
  checkTensor(boxes, 'boxArea', 'boxes');
  if (boxes.ndim < 1 || boxes.shape[boxes.ndim - 1] !== 4) fail('ERR_SHAPE', 'boxArea', 'boxes of shape [..., 4]', fmtShape(boxes.shape));
  return column(boxes, 2).sub(column(boxes, 0)).mul(column(boxes, 3).sub(column(boxes, 1)));
}

/**
 * torchvision.ops.box_iou: (N, M) IoU of every box of `boxes1` with every box of `boxes2`.
 * A native kernel; when an input requires grad the same formula runs through autograd ops.
 */
export function boxIou(boxes1: Tensor, boxes2: Tensor): Tensor {
  const op = 'boxIou';
  checkBoxes(boxes1, op, 'boxes1');
  checkBoxes(boxes2, op, 'boxes2');
  const dtype = floatOf(promoteTypes(boxes1.dtype, boxes2.dtype));
  if (needsGrad(boxes1, boxes2)) {
    const lt = maximum(boxes1.narrow(1, 0, 2).unsqueeze(1), boxes2.narrow(1, 0, 2).unsqueeze(0));
    const rb = minimum(boxes1.narrow(1, 2, 2).unsqueeze(1), boxes2.narrow(1, 2, 2).unsqueeze(0));
    const wh = clamp(rb.sub(lt), 0);
    const inter = column(wh, 0).mul(column(wh, 1));
    const union = boxArea(boxes1).unsqueeze(1).add(boxArea(boxes2)).sub(inter);
    return inter.div(union);
  }
  const temps: Tensor[] = [];
  try {
    const a = asContiguous(boxes1, dtype, temps), b = asContiguous(boxes2, dtype, temps);
    const out = Tensor.empty([a.shape[0], b.shape[0]], dtype, a.device);
    beginLayouts();
    out.putLayout();
    a.putLayout();
    b.putLayout();
    try {
      native.boxIou(out.storage.buffer, a.storage.buffer, b.storage.buffer);
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  } finally {
    for (const t of temps) t.dispose();
  }
}

function nmsImpl(op: string, boxes: Tensor, scores: Tensor, iouThreshold: number, classes: Tensor | null): Tensor {
  checkBoxes(boxes, op);
  checkTensor(scores, op, 'scores');
  if (!isFloat(boxes.dtype)) fail('ERR_DTYPE', op, 'float32 or float64 boxes', boxes.dtype);
  const n = boxes.shape[0];
  if (scores.ndim !== 1 || scores.shape[0] !== n) fail('ERR_SHAPE', op, `scores of shape [${n}]`, fmtShape(scores.shape));
  if (typeof iouThreshold !== 'number' || Number.isNaN(iouThreshold)) fail('ERR_ARGUMENT', op, 'a number iouThreshold', describe(iouThreshold));
  if (classes) {
    checkTensor(classes, op, 'classes');
    if (classes.dtype !== 'int32' && classes.dtype !== 'int64') fail('ERR_DTYPE', op, 'int32 or int64 classes (idxs)', classes.dtype);
    if (classes.ndim !== 1 || classes.shape[0] !== n) fail('ERR_SHAPE', op, `classes of shape [${n}]`, fmtShape(classes.shape));
  }
  const temps: Tensor[] = [];
  try {
    const b = asContiguous(boxes, boxes.dtype, temps), s = asContiguous(scores, boxes.dtype, temps);
    const c = classes ? asContiguous(classes, classes.dtype, temps) : null;
    const keep = Tensor.empty([n], 'int64', b.device);
    temps.push(keep);
    beginLayouts();
    keep.putLayout();
    b.putLayout();
    s.putLayout();
    c?.putLayout();
    // On CUDA the native call reads the kept count back (it sizes the result), so nms waits for
    // the kernels queued before it.
    const kept = native.nms(iouThreshold, keep.storage.buffer, b.storage.buffer, s.storage.buffer, c?.storage.buffer);
    return Tensor.view(keep, [kept], [1], 0);
  } finally {
    for (const t of temps) t.dispose();
  }
}

/**
 * torchvision.ops.nms: greedy non-maximum suppression. Visits boxes by descending score (ties
 * in index order) and drops each later box whose IoU with a kept one exceeds iouThreshold.
 * Returns the kept indices (int64) in score order.
 */
export function nms(boxes: Tensor, scores: Tensor, iouThreshold: number): Tensor {
  return nmsImpl('nms', boxes, scores, iouThreshold, null);
}

/**
 * torchvision.ops.batched_nms: NMS within each class (`idxs`, int32/int64): boxes of different
 * classes never suppress each other. Kept indices (int64) in descending score order.
 */
export function batchedNms(boxes: Tensor, scores: Tensor, idxs: Tensor, iouThreshold: number): Tensor {
  return nmsImpl('batchedNms', boxes, scores, iouThreshold, checkTensor(idxs, 'batchedNms', 'idxs'));
}

function parseImageSize(size: unknown, op: string): [number, number] {
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => typeof v === 'number' && v >= 0 && Number.isFinite(v)))
    fail('ERR_ARGUMENT', op, 'an image size [height, width]', describe(size));
  return [size[0], size[1]];
}

/** torchvision.ops.clip_boxes_to_image: x clamped to [0, width], y to [0, height]; size is [height, width]. */
export function clipBoxes(boxes: Tensor, size: readonly [number, number]): Tensor {
  checkTensor(boxes, 'clipBoxes', 'boxes');
  if (boxes.ndim < 1 || boxes.shape[boxes.ndim - 1] !== 4) fail('ERR_SHAPE', 'clipBoxes', 'boxes of shape [..., 4]', fmtShape(boxes.shape));
  const [h, w] = parseImageSize(size, 'clipBoxes');
  const x1 = clamp(column(boxes, 0), 0, w), y1 = clamp(column(boxes, 1), 0, h);
  const x2 = clamp(column(boxes, 2), 0, w), y2 = clamp(column(boxes, 3), 0, h);
  return stack([x1, y1, x2, y2], boxes.ndim - 1);
}

/** torchvision.ops.remove_small_boxes: indices (int64) of boxes at least minSize wide and tall. */
export function removeSmallBoxes(boxes: Tensor, minSize: number): Tensor {
  checkBoxes(boxes, 'removeSmallBoxes');
  if (typeof minSize !== 'number' || Number.isNaN(minSize)) fail('ERR_ARGUMENT', 'removeSmallBoxes', 'a number minSize', describe(minSize));
  // The result's length depends on the values: on CUDA the boxes are read back (a sync, as
  // torch.where(mask) has) and the indices moved to the device.
  const v = boxes.dataSync();
  const kept: bigint[] = [];
  for (let i = 0; i < boxes.shape[0]; i++)
    if (Number(v[4 * i + 2]) - Number(v[4 * i]) >= minSize && Number(v[4 * i + 3]) - Number(v[4 * i + 1]) >= minSize) kept.push(BigInt(i));
  const out = Tensor.empty([kept.length], 'int64');
  new BigInt64Array(out.storage.hostBuffer, 0, kept.length).set(kept);
  if (boxes.device === 'cpu') return out;
  try {
    return transferRaw(out, boxes.device);
  } finally {
    out.dispose();
  }
}

export interface BoxCoderOptions {
  /** (wx, wy, ww, wh) that scale (dx, dy, dw, dh); Faster R-CNN's box head uses [10, 10, 5, 5]. Default [1, 1, 1, 1]. */
  weights?: readonly [number, number, number, number];
  /** Upper clamp of dw and dh before exp in decode. Default log(1000 / 16). */
  bboxXformClip?: number;
}

const DEFAULT_XFORM_CLIP = Math.log(1000 / 16);

function parseCoder(o: BoxCoderOptions, op: string): { weights: [number, number, number, number]; clip: number } {
  const weights = o.weights ?? [1, 1, 1, 1];
  if (!Array.isArray(weights) || weights.length !== 4 || !weights.every((v) => typeof v === 'number' && Number.isFinite(v) && v !== 0))
    fail('ERR_ARGUMENT', op, 'weights of four finite non-zero numbers', describe(weights));
  const clip = o.bboxXformClip ?? DEFAULT_XFORM_CLIP;
  if (typeof clip !== 'number' || Number.isNaN(clip)) fail('ERR_ARGUMENT', op, 'a number bboxXformClip', describe(clip));
  return { weights: [weights[0], weights[1], weights[2], weights[3]], clip };
}

/**
 * Faster R-CNN's regression targets (Girshick et al. 2014, R-CNN appendix C): for reference
 * (ground-truth) boxes g and proposals p, (wx (gx - px) / pw, wy (gy - py) / ph,
 * ww log(gw / pw), wh log(gh / ph)) with centres (x, y) and sizes (w, h). Shape (N, 4).
 */
export function encodeBoxes(referenceBoxes: Tensor, proposals: Tensor, options: BoxCoderOptions = {}): Tensor {
  checkBoxes(referenceBoxes, 'encodeBoxes', 'referenceBoxes');
  checkBoxes(proposals, 'encodeBoxes', 'proposals');
  if (referenceBoxes.shape[0] !== proposals.shape[0])
    fail('ERR_SHAPE', 'encodeBoxes', `as many reference boxes as proposals (${proposals.shape[0]})`, String(referenceBoxes.shape[0]));
  const { weights: [wx, wy, ww, wh] } = parseCoder(options, 'encodeBoxes');
  const exW = column(proposals, 2).sub(column(proposals, 0)), exH = column(proposals, 3).sub(column(proposals, 1));
  const exX = column(proposals, 0).add(exW.mul(0.5)), exY = column(proposals, 1).add(exH.mul(0.5));
  const gtW = column(referenceBoxes, 2).sub(column(referenceBoxes, 0)), gtH = column(referenceBoxes, 3).sub(column(referenceBoxes, 1));
  const gtX = column(referenceBoxes, 0).add(gtW.mul(0.5)), gtY = column(referenceBoxes, 1).add(gtH.mul(0.5));
  const dx = gtX.sub(exX).mul(wx).div(exW), dy = gtY.sub(exY).mul(wy).div(exH);
  const dw = gtW.div(exW).log().mul(ww), dh = gtH.div(exH).log().mul(wh);
  return stack([dx, dy, dw, dh], 1);
}

/**
 * The inverse of encodeBoxes: applies deltas (N, 4k) — k boxes per reference box, e.g. one per
 * class — to boxes (N, 4). dw and dh are clamped at bboxXformClip before exp so a wild
 * prediction cannot overflow. Shape (N, 4k).
 */
export function decodeBoxes(relCodes: Tensor, boxes: Tensor, options: BoxCoderOptions = {}): Tensor {
  checkTensor(relCodes, 'decodeBoxes', 'relCodes');
  checkBoxes(boxes, 'decodeBoxes');
  if (relCodes.ndim !== 2 || relCodes.shape[0] !== boxes.shape[0] || relCodes.shape[1] % 4 !== 0)
    fail('ERR_SHAPE', 'decodeBoxes', `relCodes of shape [${boxes.shape[0]}, 4k]`, fmtShape(relCodes.shape));
  const { weights: [wx, wy, ww, wh], clip } = parseCoder(options, 'decodeBoxes');
  const widths = column(boxes, 2).sub(column(boxes, 0)), heights = column(boxes, 3).sub(column(boxes, 1));
  const ctrX = column(boxes, 0).add(widths.mul(0.5)).unsqueeze(1), ctrY = column(boxes, 1).add(heights.mul(0.5)).unsqueeze(1);
  const w = widths.unsqueeze(1), h = heights.unsqueeze(1);
  const dx = slice(relCodes, 1, 0, null, 4).div(wx), dy = slice(relCodes, 1, 1, null, 4).div(wy);
  const dw = clamp(slice(relCodes, 1, 2, null, 4).div(ww), null, clip), dh = clamp(slice(relCodes, 1, 3, null, 4).div(wh), null, clip);
  const predX = dx.mul(w).add(ctrX), predY = dy.mul(h).add(ctrY);
  const halfW = dw.exp().mul(w).mul(0.5), halfH = dh.exp().mul(h).mul(0.5);
  return stack([predX.sub(halfW), predY.sub(halfH), predX.add(halfW), predY.add(halfH)], 2).flatten(1);
}

/** torchvision's BoxCoder: encodeBoxes / decodeBoxes with fixed weights and clamp. */
export class BoxCoder {
  readonly weights: [number, number, number, number];
  readonly bboxXformClip: number;
  constructor(weights: readonly [number, number, number, number] = [1, 1, 1, 1], bboxXformClip = DEFAULT_XFORM_CLIP) {
    const p = parseCoder({ weights, bboxXformClip }, 'BoxCoder');
    this.weights = p.weights;
    this.bboxXformClip = p.clip;
  }
  encode(referenceBoxes: Tensor, proposals: Tensor): Tensor {
    return encodeBoxes(referenceBoxes, proposals, { weights: this.weights });
  }
  decode(relCodes: Tensor, boxes: Tensor): Tensor {
    return decodeBoxes(relCodes, boxes, { weights: this.weights, bboxXformClip: this.bboxXformClip });
  }
}

/** Fast R-CNN's box-regression loss (Girshick 2015, eq. 3) is F.smoothL1Loss, defined with the other losses. */
export { smoothL1Loss } from './loss';

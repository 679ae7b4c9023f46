// RoI pooling and RoIAlign (torchvision.ops.roi_pool / roi_align) on native kernels; each
// forward records its backward (the feature map's gradient; boxes get none, as in torchvision).
import { describe, fail, fmtShape } from '../errors';
import { isFloat, type DType } from '../dtype';
import { Tensor, contiguousCopy } from '../tensor';
import { record } from '../autograd/node';
import { beginLayouts, native } from '../native';
import type { Device } from '../storage';
import { checkTensor, copyInto, fillRaw } from './helpers';

/** Boxes as a (K, 5) tensor of [batchIndex, x1, y1, x2, y2], or one (Ki, 4) tensor per image. */
export type RoiBoxes = Tensor | readonly Tensor[];

export interface RoiPoolOptions {
  /** Output bins, `n` or `[h, w]`. */
  outputSize?: number | readonly [number, number];
  /** Maps box coordinates to feature-map cells (1/16 for a stride-16 backbone). Default 1. */
  spatialScale?: number;
}

export interface RoiAlignOptions extends RoiPoolOptions {
  /** Samples per bin side; <= 0 (default -1) picks ceil(box size / output size) per box. */
  samplingRatio?: number;
  /** Shift box corners by -0.5 cell so samples sit on pixel centres (Detectron2). Default false. */
  aligned?: boolean;
}

const INT32_MAX = 2 ** 31 - 1;

function parseOutputSize(v: unknown, op: string): [number, number] {
  const pair = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((s) => Number.isInteger(s) && s >= 1 && s <= INT32_MAX))
    fail('ERR_ARGUMENT', op, 'an outputSize of a positive integer or [h, w]', describe(v));
  return [pair[0], pair[1]];
}

/** outputSize positional (torchvision's order) or inside the options object. */
function parseArgs<O extends RoiPoolOptions>(sizeOrOptions: unknown, options: O | undefined, op: string): { size: [number, number]; o: O } {
  let o: O;
  let size: unknown;
  if (typeof sizeOrOptions === 'number' || Array.isArray(sizeOrOptions)) {
    o = options ?? ({} as O);
    size = sizeOrOptions;
  } else if (sizeOrOptions !== null && typeof sizeOrOptions === 'object') {
    o = sizeOrOptions as O;
    size = o.outputSize;
  } else {
    return fail('ERR_ARGUMENT', op, 'an outputSize (number or [h, w]) or an options object with outputSize', describe(sizeOrOptions));
  }
  if (o === null || typeof o !== 'object') fail('ERR_ARGUMENT', op, 'an options object', describe(o));
  const scale = o.spatialScale ?? 1;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || !(scale > 0))
    fail('ERR_ARGUMENT', op, 'a finite spatialScale > 0', describe(scale));
  return { size: parseOutputSize(size, op), o };
}

function checkFeatureMap(x: unknown, op: string): Tensor {
  const t = checkTensor(x, op);
  if (t.ndim !== 4) fail('ERR_SHAPE', op, 'input of shape [N, C, H, W]', fmtShape(t.shape));
  if (!isFloat(t.dtype)) fail('ERR_DTYPE', op, 'a float32 or float64 input', t.dtype);
  return t;
}

/**
 * The boxes as one contiguous (K, 5) tensor of `dtype`; `temps` collects what was made here.
 * Built from a per-image list on `device` (the feature map's). Batch indices and coordinates are
 * validated natively (ERR_INDEX for an index outside [0, N)).
 */
export function roiBoxes(boxes: unknown, dtype: DType, op: string, temps: Tensor[], device: Device = 'cpu'): Tensor {
  if (boxes instanceof Tensor) {
    boxes.assertLive(op);
    if (boxes.ndim !== 2 || boxes.shape[1] !== 5)
      fail('ERR_SHAPE', op, 'boxes as a [K, 5] tensor ([batchIndex, x1, y1, x2, y2]) or an array of [Ki, 4] tensors', fmtShape(boxes.shape));
    if (boxes.dtype === dtype && boxes.isContiguous()) return boxes;
    const c = contiguousCopy(boxes, dtype);
    temps.push(c);
    return c;
  }
  if (!Array.isArray(boxes)) fail('ERR_ARGUMENT', op, 'boxes as a [K, 5] tensor or an array of [Ki, 4] tensors', describe(boxes));
  let k = 0;
  boxes.forEach((b: unknown, i: number) => {
    if (!(b instanceof Tensor)) fail('ERR_ARGUMENT', op, `a Tensor at boxes[${i}]`, describe(b));
    b.assertLive(op);
    if (b.ndim !== 2 || b.shape[1] !== 4) fail('ERR_SHAPE', op, `boxes[${i}] of shape [Ki, 4]`, fmtShape(b.shape));
    k += b.shape[0];
  });
  const rois = Tensor.empty([k, 5], dtype, device);
  temps.push(rois);
  if (device !== 'cpu') {
    // Written in place on the device: column 0 filled with the image index, the rest copied
    // (cast, and moved when a box tensor sits elsewhere) from each image's boxes.
    let first = 0;
    (boxes as Tensor[]).forEach((b, i) => {
      const n = b.shape[0];
      if (n === 0) return;
      const index = Tensor.view(rois, [n, 1], [5, 1], 5 * first);
      const corners = Tensor.view(rois, [n, 4], [5, 1], 5 * first + 1);
      try {
        fillRaw(index, i);
        copyInto(corners, b);
      } finally {
        index.dispose();
        corners.dispose();
      }
      first += n;
    });
    return rois;
  }
  const dst = new (dtype === 'float64' ? Float64Array : Float32Array)(rois.storage.hostBuffer, 0, 5 * k);
  let row = 0;
  (boxes as Tensor[]).forEach((b, i) => {
    const src = b.dataSync();
    for (let r = 0; r < b.shape[0]; r++, row++) {
      dst[5 * row] = i;
      for (let j = 0; j < 4; j++) dst[5 * row + 1 + j] = Number(src[4 * r + j]);
    }
  });
  return rois;
}

function prepare(x: Tensor, boxes: unknown, op: string, temps: Tensor[]): { xc: Tensor; rois: Tensor } {
  let xc = x;
  if (!x.isContiguous()) temps.push((xc = contiguousCopy(x)));
  return { xc, rois: roiBoxes(boxes, x.dtype, op, temps, x.device) };
}

/** Runs a kernel that fills `out`; disposes out and rethrows when the kernel refuses. */
function fill(out: Tensor[], kernel: () => void): void {
  try {
    kernel();
  } catch (e) {
    for (const t of out) t.dispose();
    throw e;
  }
}

/**
 * torchvision.ops.roi_pool: max over each of outputSize bins of every box, after rounding the
 * scaled box to whole cells. Output (K, C, h, w); the gradient flows to the argmax cells.
 * `roiPool(x, boxes, 7, { spatialScale: 1 / 16 })` or `roiPool(x, boxes, { outputSize: 7, spatialScale })`.
 */
export function roiPool(x: Tensor, boxes: RoiBoxes, outputSize: number | readonly [number, number] | RoiPoolOptions, options?: RoiPoolOptions): Tensor {
  const op = 'roiPool';
  checkFeatureMap(x, op);
  const { size, o } = parseArgs(outputSize, options, op);
  const scale = o.spatialScale ?? 1;
  const temps: Tensor[] = [];
  const { xc, rois } = prepare(x, boxes, op, temps);
  const shape = [rois.shape[0], x.shape[1], size[0], size[1]];
  const out = Tensor.empty(shape.slice(), x.dtype, x.device);
  const argmax = Tensor.empty(shape.slice(), 'int32', x.device);
  try {
    fill([out, argmax], () => {
      beginLayouts();
      out.putLayout();
      argmax.putLayout();
      xc.putLayout();
      rois.putLayout();
      native.roiPool(size[0], size[1], scale, out.storage.buffer, argmax.storage.buffer, xc.storage.buffer, rois.storage.buffer);
    });
  } catch (e) {
    for (const t of temps) t.dispose();
    throw e;
  }
  if (xc !== x) xc.dispose();
  const recorded = record(out, op, [x], (g) => {
    const gc = g.isContiguous() ? g : contiguousCopy(g);
    const gx = Tensor.empty(x.shape.slice(), x.dtype, x.device);
    fill([gx], () => {
      beginLayouts();
      gx.putLayout();
      gc.putLayout();
      argmax.putLayout();
      rois.putLayout();
      native.roiPoolBackward(gx.storage.buffer, gc.storage.buffer, argmax.storage.buffer, rois.storage.buffer);
    });
    if (gc !== g) gc.dispose();
    return [gx];
  });
  if (recorded.gradFn === null) {
    argmax.dispose();
    if (rois !== boxes) rois.dispose();
  }
  return recorded;
}

/**
 * torchvision.ops.roi_align: each of outputSize bins of every box averages bilinear samples of
 * the map (samplingRatio per side, or adaptive); `aligned` uses pixel-centre coordinates.
 * Output (K, C, h, w). `roiAlign(x, boxes, 7, { spatialScale: 1 / 16, samplingRatio: 2 })`
 * or `roiAlign(x, boxes, { outputSize: 7, spatialScale, samplingRatio, aligned })`.
 */
export function roiAlign(x: Tensor, boxes: RoiBoxes, outputSize: number | readonly [number, number] | RoiAlignOptions, options?: RoiAlignOptions): Tensor {
  const op = 'roiAlign';
  checkFeatureMap(x, op);
  const { size, o } = parseArgs(outputSize, options, op);
  const scale = o.spatialScale ?? 1;
  const sampling = o.samplingRatio ?? -1;
  if (!Number.isInteger(sampling) || Math.abs(sampling) > INT32_MAX) fail('ERR_ARGUMENT', op, 'an integer samplingRatio', describe(sampling));
  const aligned = o.aligned ?? false;
  if (typeof aligned !== 'boolean') fail('ERR_ARGUMENT', op, 'a boolean aligned', describe(aligned));
  const temps: Tensor[] = [];
  const { xc, rois } = prepare(x, boxes, op, temps);
  const out = Tensor.empty([rois.shape[0], x.shape[1], size[0], size[1]], x.dtype, x.device);
  try {
    fill([out], () => {
      beginLayouts();
      out.putLayout();
      xc.putLayout();
      rois.putLayout();
      native.roiAlign(size[0], size[1], scale, sampling, aligned, out.storage.buffer, xc.storage.buffer, rois.storage.buffer);
    });
  } catch (e) {
    for (const t of temps) t.dispose();
    throw e;
  }
  if (xc !== x) xc.dispose();
  const recorded = record(out, op, [x], (g) => {
    const gc = g.isContiguous() ? g : contiguousCopy(g);
    const gx = Tensor.empty(x.shape.slice(), x.dtype, x.device);
    fill([gx], () => {
      beginLayouts();
      gx.putLayout();
      gc.putLayout();
      rois.putLayout();
      native.roiAlignBackward(size[0], size[1], scale, sampling, aligned, gx.storage.buffer, gc.storage.buffer, rois.storage.buffer);
    });
    if (gc !== g) gc.dispose();
    return [gx];
  });
  // The backward keeps the boxes; without one they can go now.
  if (recorded.gradFn === null && rois !== boxes) rois.dispose();
  return recorded;
}

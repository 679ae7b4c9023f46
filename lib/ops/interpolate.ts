// interpolate: nearest and bilinear resizing of NCHW images, one spatial dim at a time. On the
// CPU it is composed from indexSelect (whose backward is indexAdd) and per-row weights; on CUDA
// each dim is one resampling kernel (native/cuda/pool/pool_math.cuh) that computes the same
// roundings in the same order, with a gather for the backward, so both devices agree bitwise and
// the CUDA backward is deterministic (indexAdd there uses atomics). The source indices and weights
// follow PyTorch's kernels (UpSample.h), in the input's precision, so results match.
import type { StorageHandle } from '../storage';
import { describe, fail, fmtShape } from '../errors';
import { isFloat } from '../dtype';
import { Tensor, contiguousCopy } from '../tensor';
import { record } from '../autograd/node';
import { beginLayouts, native } from '../native';
import { checkTensor } from './helpers';
import { tensor } from './creation';
import { indexSelect } from './indexing';
import { add, mul } from './elementwise';

declare module '../native' {
  interface NativeAddon {
    resample(dim: number, out: StorageHandle, x: StorageHandle, plan: StorageHandle, weights?: StorageHandle): void;
    resampleBackward(dim: number, gx: StorageHandle, gy: StorageHandle, plan: StorageHandle, weights?: StorageHandle): void;
  }
}

/**
 * The resampling plan of native/cuda/pool/pool_math.cuh for output rows reading input rows
 * taps[k][o] (k < K = taps.length): the taps, then for each tap the outputs of every input row in
 * increasing order (offsets [nIn + 1] and entries [nOut], a CSR list), which the backward gathers.
 */
export function resamplePlan(nIn: number, taps: readonly (readonly number[])[], op: string): Int32Array {
  const K = taps.length, nOut = taps[0].length;
  const plan = new Int32Array(K * (2 * nOut + nIn + 1));
  const offsetsAt = K * nOut, entriesAt = offsetsAt + K * (nIn + 1);
  for (let k = 0; k < K; k++) {
    const t = taps[k];
    const off = offsetsAt + k * (nIn + 1);
    for (let o = 0; o < nOut; o++) {
      const i = t[o];
      if (!(Number.isInteger(i) && i >= 0 && i < nIn)) fail('ERR_INDEX', op, `source rows in [0, ${nIn})`, String(i));
      plan[k * nOut + o] = i;
      plan[off + i + 1]++;
    }
    for (let i = 0; i < nIn; i++) plan[off + i + 1] += plan[off + i];
    const cursor = plan.slice(off, off + nIn);
    for (let o = 0; o < nOut; o++) plan[entriesAt + k * nOut + cursor[t[o]]++] = o;
  }
  return plan;
}

/**
 * x resampled along `dim` on its (CUDA) device: output row o is input row taps[0][o], or with
 * `weights`, taps[0][o] * weights[0][o] + taps[1][o] * weights[1][o]. Recorded for autograd.
 */
export function resampleOnDevice(x: Tensor, dim: number, taps: readonly (readonly number[])[], weights: readonly (readonly number[])[] | null,
  op: string): Tensor {
  const nIn = x.shape[dim], nOut = taps[0].length;
  const plan = tensor(resamplePlan(nIn, taps, op), { device: x.device });
  let w: Tensor | null = null;
  if (weights) {
    const flat = [...weights[0], ...weights[1]];
    w = tensor(x.dtype === 'float64' ? Float64Array.from(flat) : Float32Array.from(flat), { device: x.device });
  }
  const xc = x.isContiguous() ? x : contiguousCopy(x);
  const shape = x.shape.slice();
  shape[dim] = nOut;
  const out = Tensor.empty(shape, x.dtype, x.device);
  try {
    beginLayouts();
    out.putLayout();
    xc.putLayout();
    plan.putLayout();
    w?.putLayout();
    native.resample(dim, out.storage.buffer, xc.storage.buffer, plan.storage.buffer, w?.storage.buffer);
  } finally {
    if (xc !== x) xc.dispose();
  }
  const y = record(out, op, [x], (g) => {
    const gc = g.isContiguous() ? g : contiguousCopy(g);
    const gx = Tensor.empty(x.shape.slice(), x.dtype, x.device);
    try {
      beginLayouts();
      gx.putLayout();
      gc.putLayout();
      plan.putLayout();
      w?.putLayout();
      native.resampleBackward(dim, gx.storage.buffer, gc.storage.buffer, plan.storage.buffer, w?.storage.buffer);
    } finally {
      if (gc !== g) gc.dispose();
    }
    return [gx];
  });
  if (!y.requiresGrad) {
    plan.dispose();
    w?.dispose();
  }
  return y;
}

export interface InterpolateOptions {
  /** Output [h, w] (or one number for both). Give this or scaleFactor. */
  size?: number | readonly [number, number];
  /** Output = floor(input * scaleFactor) per dim. */
  scaleFactor?: number | readonly [number, number];
  mode?: 'nearest' | 'bilinear';
  /** bilinear only: corner pixels' centres line up (true) or their outer edges do (false, default). */
  alignCorners?: boolean | null;
  /** Derive the sampling scale from the output size rather than from scaleFactor. */
  recomputeScaleFactor?: boolean;
}

function pairOf(v: unknown, op: string, what: string, isValid: (k: number) => boolean): [number, number] {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : null;
  if (p === null || !p.every((k) => typeof k === 'number' && isValid(k))) fail('ERR_ARGUMENT', op, what, describe(v));
  return [p[0], p[1]];
}

/** Rounds like the kernel's arithmetic type: float32 for float32 inputs, else double. */
type Round = (v: number) => number;

export function nearestIndices(inSize: number, outSize: number, scale: number | null, round: Round): number[] | null {
  if (outSize === inSize) return null;
  const idx = new Array<number>(outSize);
  if (outSize === 2 * inSize) {
    for (let i = 0; i < outSize; i++) idx[i] = i >> 1;
    return idx;
  }
  const s = Math.fround(scale !== null && scale > 0 ? 1 / scale : inSize / outSize);
  for (let i = 0; i < outSize; i++) idx[i] = Math.min(Math.floor(Math.fround(i * s)), inSize - 1);
  return idx;
}

export interface LinearTaps {
  i0: number[];
  i1: number[];
  w0: number[];
  w1: number[];
}

export function linearTaps(inSize: number, outSize: number, scale: number | null, alignCorners: boolean, round: Round): LinearTaps | null {
  if (outSize === inSize) return null;
  const ratio = alignCorners
    ? outSize > 1 ? round(round(inSize - 1) / round(outSize - 1)) : 0
    : round(scale !== null && scale > 0 ? 1 / scale : round(inSize) / round(outSize));
  const taps: LinearTaps = { i0: [], i1: [], w0: [], w1: [] };
  for (let i = 0; i < outSize; i++) {
    let src = alignCorners ? round(ratio * i) : round(round(ratio * round(i + 0.5)) - 0.5);
    if (!alignCorners && src < 0) src = 0;
    const i0 = Math.trunc(src);
    const w1 = Math.min(Math.max(round(src - i0), 0), 1);
    taps.i0.push(i0);
    taps.i1.push(i0 + (i0 < inSize - 1 ? 1 : 0));
    taps.w1.push(w1);
    taps.w0.push(round(1 - w1));
  }
  return taps;
}

/** Resizes x [N, C, H, W] to `size` or by `scaleFactor`, with 'nearest' (default) or 'bilinear'. */
export function interpolate(x: Tensor, options: InterpolateOptions = {}): Tensor {
  const op = 'interpolate';
  checkTensor(x, op);
  if (x.ndim !== 4) fail('ERR_SHAPE', op, 'input of shape [N, C, H, W]', fmtShape(x.shape));
  if (!isFloat(x.dtype)) fail('ERR_DTYPE', op, 'a float32 or float64 input', x.dtype);
  const mode = options.mode ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'bilinear') fail('ERR_ARGUMENT', op, "mode 'nearest' or 'bilinear'", describe(mode));
  if (mode === 'nearest' && options.alignCorners !== undefined && options.alignCorners !== null)
    fail('ERR_ARGUMENT', op, "alignCorners only with mode 'bilinear'", `alignCorners with mode '${mode}'`);
  const hasSize = options.size !== undefined && options.size !== null;
  const hasScale = options.scaleFactor !== undefined && options.scaleFactor !== null;
  if (hasSize === hasScale) fail('ERR_ARGUMENT', op, 'exactly one of size and scaleFactor', hasSize ? 'both' : 'neither');
  const inSize = [x.shape[2], x.shape[3]];
  let outSize: [number, number];
  let scales: [number | null, number | null] = [null, null];
  if (hasSize) {
    outSize = pairOf(options.size, op, 'size as an integer >= 1 or [h, w]', (k) => Number.isInteger(k) && k >= 1);
  } else {
    const s = pairOf(options.scaleFactor, op, 'scaleFactor as a positive number or [h, w]', (k) => k > 0 && isFinite(k));
    outSize = [Math.floor(inSize[0] * s[0]), Math.floor(inSize[1] * s[1])];
    if (outSize[0] < 1 || outSize[1] < 1) fail('ERR_SHAPE', op, 'an output of at least 1x1', `[${outSize}] from ${fmtShape(x.shape)}`);
    if (!options.recomputeScaleFactor) scales = s;
  }
  const round: Round = x.dtype === 'float32' ? Math.fround : (v) => v;
  const alignCorners = options.alignCorners ?? false;
  let y = x;
  // Width first, then height: PyTorch's bilinear sums (x00*ww0 + x01*ww1)*wh0 + (...)*wh1.
  for (const dim of [3, 2]) {
    const k = dim - 2;
    if (mode === 'nearest') {
      const idx = nearestIndices(inSize[k], outSize[k], scales[k], round);
      if (!idx) continue;
      y = y.device === 'cuda' ? resampleOnDevice(y, dim, [idx], null, op) : indexSelect(y, dim, tensor(idx, { dtype: 'int64' }));
    } else {
      const taps = linearTaps(inSize[k], outSize[k], scales[k], alignCorners, round);
      if (!taps) continue;
      if (y.device === 'cuda') {
        y = resampleOnDevice(y, dim, [taps.i0, taps.i1], [taps.w0, taps.w1], op);
        continue;
      }
      const wshape = dim === 3 ? [outSize[k]] : [outSize[k], 1];
      const w0 = tensor(taps.w0, { dtype: x.dtype, shape: wshape }), w1 = tensor(taps.w1, { dtype: x.dtype, shape: wshape });
      const a = mul(indexSelect(y, dim, tensor(taps.i0, { dtype: 'int64' })), w0);
      const b = mul(indexSelect(y, dim, tensor(taps.i1, { dtype: 'int64' })), w1);
      y = add(a, b);
    }
  }
  return y === x ? x.clone() : y;
}

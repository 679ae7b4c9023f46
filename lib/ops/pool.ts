// Pooling over NCHW: maxPool2d (argmax indices kept for the backward, returned on request),
// avgPool2d, adaptiveAvgPool2d and adaptiveMaxPool2d, with PyTorch's output-size rules
// (ceilMode included).
import type { StorageHandle } from '../storage';
import { describe, fail, fmtShape } from '../errors';
import { isFloat } from '../dtype';
import { Tensor, contiguousCopy } from '../tensor';
import { record } from '../autograd/node';
import { beginLayouts, native } from '../native';
import { checkTensor } from './helpers';
import { intPair, type IntPair } from './conv';

declare module '../native' {
  interface NativeAddon {
    maxPool2d(kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number,
      y: StorageHandle, indices: StorageHandle, x: StorageHandle, ignoreNan?: boolean): void;
    /** CUDA gathers and needs the window: 8 numbers as in maxPool2d, or -1 for the adaptive windows (the CPU ignores it). */
    maxPool2dBackward(gx: StorageHandle, gy: StorageHandle, indices: StorageHandle, ...window: number[]): void;
    avgPool2d(kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number,
      countIncludePad: boolean, divisorOverride: number, y: StorageHandle, x: StorageHandle): void;
    avgPool2dBackward(kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number,
      countIncludePad: boolean, divisorOverride: number, gx: StorageHandle, gy: StorageHandle): void;
    adaptiveAvgPool2d(y: StorageHandle, x: StorageHandle): void;
    adaptiveAvgPool2dBackward(gx: StorageHandle, gy: StorageHandle): void;
    adaptiveMaxPool2d(y: StorageHandle, indices: StorageHandle, x: StorageHandle): void;
  }
}

export interface MaxPool2dOptions {
  /** Default: the kernel size. */
  stride?: IntPair | null;
  padding?: IntPair;
  dilation?: IntPair;
  ceilMode?: boolean;
  returnIndices?: boolean;
}

export interface AvgPool2dOptions {
  stride?: IntPair | null;
  padding?: IntPair;
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead. */
  divisorOverride?: number | null;
}

/** PyTorch's pooling_output_shape. */
export function poolOutputSize(size: number, k: number, pad: number, stride: number, dil: number, ceilMode: boolean): number {
  let out = Math.floor((size + 2 * pad - dil * (k - 1) - 1 + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  // The last window must start inside the input or its left padding.
  if (ceilMode && (out - 1) * stride >= size + pad) out--;
  return out;
}

function checkInput(op: string, x: Tensor): void {
  checkTensor(x, op);
  if (x.ndim !== 4) fail('ERR_SHAPE', op, 'input of shape [N, C, H, W] (or [C, H, W])', fmtShape(x.shape));
  if (!isFloat(x.dtype)) fail('ERR_DTYPE', op, 'a float32 or float64 input', x.dtype);
}

interface Window {
  k: [number, number];
  s: [number, number];
  p: [number, number];
  d: [number, number];
  out: [number, number];
}

function window(op: string, x: Tensor, kernelSize: IntPair, stride: IntPair | null | undefined, padding: IntPair | undefined,
  dilation: IntPair | undefined, ceilMode: boolean): Window {
  const k = intPair(kernelSize, op, 'kernelSize', 1);
  const s = stride === null || stride === undefined ? k : intPair(stride, op, 'stride', 1);
  const p = intPair(padding ?? 0, op, 'padding', 0);
  const d = intPair(dilation ?? 1, op, 'dilation', 1);
  if (p[0] > Math.floor(k[0] / 2) || p[1] > Math.floor(k[1] / 2))
    fail('ERR_ARGUMENT', op, `padding at most half the kernel size [${k}]`, `[${p}]`);
  const H = x.shape[2], W = x.shape[3];
  const out: [number, number] = [poolOutputSize(H, k[0], p[0], s[0], d[0], ceilMode), poolOutputSize(W, k[1], p[1], s[1], d[1], ceilMode)];
  if (out[0] < 1 || out[1] < 1)
    fail('ERR_SHAPE', op, `an input of at least the dilated kernel size [${d[0] * (k[0] - 1) + 1}, ${d[1] * (k[1] - 1) + 1}] after padding [${p}]`, fmtShape(x.shape));
  return { k, s, p, d, out };
}

const geometryArgs = (w: Window): number[] => [w.k[0], w.k[1], w.s[0], w.s[1], w.p[0], w.p[1], w.d[0], w.d[1]];

function contiguousOf(t: Tensor, temps: Tensor[]): Tensor {
  if (t.isContiguous()) return t;
  const c = contiguousCopy(t);
  temps.push(c);
  return c;
}

/** The backward of max and adaptive max pooling (window null) through the argmax indices. */
function maxBackward(x: Tensor, indices: Tensor, w: Window | null) {
  const windowArgs = w ? geometryArgs(w) : [-1];
  return (g: Tensor): Tensor[] => {
    const temps: Tensor[] = [];
    try {
      const gc = contiguousOf(g, temps);
      const gx = Tensor.empty(x.shape.slice(), gc.dtype, x.device);
      beginLayouts();
      gx.putLayout();
      gc.putLayout();
      indices.putLayout();
      native.maxPool2dBackward(gx.storage.buffer, gc.storage.buffer, indices.storage.buffer, ...windowArgs);
      return [gx];
    } finally {
      for (const t of temps) t.dispose();
    }
  };
}

function unbatched<T>(x: Tensor, run: (x4: Tensor) => T): T {
  const r = run(x.unsqueeze(0)) as unknown;
  if (Array.isArray(r)) return r.map((t: Tensor) => t.squeeze(0)) as unknown as T;
  return (r as Tensor).squeeze(0) as unknown as T;
}

/** Max over each window; with `returnIndices`, [values, indices] (int64 positions ih * W + iw in each plane). */
export function maxPool2d(x: Tensor, kernelSize: IntPair, options?: MaxPool2dOptions & { returnIndices?: false }): Tensor;
export function maxPool2d(x: Tensor, kernelSize: IntPair, options: MaxPool2dOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool2d(x: Tensor, kernelSize: IntPair, options: MaxPool2dOptions = {}): Tensor | [Tensor, Tensor] {
  const op = 'maxPool2d';
  if (x instanceof Tensor && x.ndim === 3) return unbatched(x, (x4) => maxPool2d(x4, kernelSize, options as any));
  checkInput(op, x);
  const w = window(op, x, kernelSize, options.stride, options.padding, options.dilation, options.ceilMode ?? false);
  const temps: Tensor[] = [];
  let out: Tensor, indices: Tensor;
  try {
    const xc = contiguousOf(x, temps);
    const shape = [x.shape[0], x.shape[1], w.out[0], w.out[1]];
    out = Tensor.empty(shape, x.dtype, x.device);
    indices = Tensor.empty(shape.slice(), 'int64', x.device);
    beginLayouts();
    out.putLayout();
    indices.putLayout();
    xc.putLayout();
    (native.maxPool2d as Function)(...geometryArgs(w), out.storage.buffer, indices.storage.buffer, xc.storage.buffer);
  } finally {
    for (const t of temps) t.dispose();
  }
  record(out, op, [x], maxBackward(x, indices, w));
  return options.returnIndices ? [out, indices] : out;
}

/** Mean over each window (divisor per countIncludePad / divisorOverride, as PyTorch). */
export function avgPool2d(x: Tensor, kernelSize: IntPair, options: AvgPool2dOptions = {}): Tensor {
  const op = 'avgPool2d';
  if (x instanceof Tensor && x.ndim === 3) return unbatched(x, (x4) => avgPool2d(x4, kernelSize, options));
  checkInput(op, x);
  const w = window(op, x, kernelSize, options.stride, options.padding, 1, options.ceilMode ?? false);
  const countIncludePad = options.countIncludePad ?? true;
  const divisor = options.divisorOverride ?? 0;
  if (options.divisorOverride !== undefined && options.divisorOverride !== null && !(Number.isInteger(divisor) && divisor > 0))
    fail('ERR_ARGUMENT', op, 'divisorOverride as a positive integer', describe(options.divisorOverride));
  const args = [...geometryArgs(w), countIncludePad, divisor];
  const temps: Tensor[] = [];
  let out: Tensor;
  try {
    const xc = contiguousOf(x, temps);
    out = Tensor.empty([x.shape[0], x.shape[1], w.out[0], w.out[1]], x.dtype, x.device);
    beginLayouts();
    out.putLayout();
    xc.putLayout();
    (native.avgPool2d as Function)(...args, out.storage.buffer, xc.storage.buffer);
  } finally {
    for (const t of temps) t.dispose();
  }
  return record(out, op, [x], (g) => {
    const gtemps: Tensor[] = [];
    try {
      const gc = contiguousOf(g, gtemps);
      const gx = Tensor.empty(x.shape.slice(), gc.dtype, x.device);
      beginLayouts();
      gx.putLayout();
      gc.putLayout();
      (native.avgPool2dBackward as Function)(...args, gx.storage.buffer, gc.storage.buffer);
      return [gx];
    } finally {
      for (const t of gtemps) t.dispose();
    }
  });
}

/** Output size [h, w] of an adaptive pool; null keeps the input's size in that dim. */
export type AdaptiveSize = number | readonly [number | null, number | null];

function adaptiveSize(op: string, x: Tensor, outputSize: AdaptiveSize): [number, number] {
  const p = typeof outputSize === 'number' ? [outputSize, outputSize] : Array.isArray(outputSize) && outputSize.length === 2 ? outputSize : null;
  if (p === null) fail('ERR_ARGUMENT', op, 'outputSize as an integer or [h, w]', describe(outputSize));
  const out = p.map((v, i) => (v === null ? x.shape[2 + i] : v));
  if (!out.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 1))
    fail('ERR_ARGUMENT', op, 'outputSize of integers >= 1 (or null)', describe(outputSize));
  if (x.shape[2] === 0 || x.shape[3] === 0) fail('ERR_SHAPE', op, 'a non-empty spatial size', fmtShape(x.shape));
  return [out[0], out[1]];
}

/** Average over adaptive windows: cell o of O over I covers [floor(o*I/O), ceil((o+1)*I/O)). Size 1 is global average pooling. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveSize): Tensor {
  const op = 'adaptiveAvgPool2d';
  if (x instanceof Tensor && x.ndim === 3) return unbatched(x, (x4) => adaptiveAvgPool2d(x4, outputSize));
  checkInput(op, x);
  const [OH, OW] = adaptiveSize(op, x, outputSize);
  const temps: Tensor[] = [];
  let out: Tensor;
  try {
    const xc = contiguousOf(x, temps);
    out = Tensor.empty([x.shape[0], x.shape[1], OH, OW], x.dtype, x.device);
    beginLayouts();
    out.putLayout();
    xc.putLayout();
    native.adaptiveAvgPool2d(out.storage.buffer, xc.storage.buffer);
  } finally {
    for (const t of temps) t.dispose();
  }
  return record(out, op, [x], (g) => {
    const gtemps: Tensor[] = [];
    try {
      const gc = contiguousOf(g, gtemps);
      const gx = Tensor.empty(x.shape.slice(), gc.dtype, x.device);
      beginLayouts();
      gx.putLayout();
      gc.putLayout();
      native.adaptiveAvgPool2dBackward(gx.storage.buffer, gc.storage.buffer);
      return [gx];
    } finally {
      for (const t of gtemps) t.dispose();
    }
  });
}

/** Max over adaptive windows; with `returnIndices`, [values, indices]. */
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize, options?: { returnIndices?: false }): Tensor;
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize, options: { returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize, options: { returnIndices?: boolean } = {}): Tensor | [Tensor, Tensor] {
  const op = 'adaptiveMaxPool2d';
  if (x instanceof Tensor && x.ndim === 3) return unbatched(x, (x4) => adaptiveMaxPool2d(x4, outputSize, options as any));
  checkInput(op, x);
  const [OH, OW] = adaptiveSize(op, x, outputSize);
  const temps: Tensor[] = [];
  let out: Tensor, indices: Tensor;
  try {
    const xc = contiguousOf(x, temps);
    const shape = [x.shape[0], x.shape[1], OH, OW];
    out = Tensor.empty(shape, x.dtype, x.device);
    indices = Tensor.empty(shape.slice(), 'int64', x.device);
    beginLayouts();
    out.putLayout();
    indices.putLayout();
    xc.putLayout();
    native.adaptiveMaxPool2d(out.storage.buffer, indices.storage.buffer, xc.storage.buffer);
  } finally {
    for (const t of temps) t.dispose();
  }
  record(out, op, [x], maxBackward(x, indices, null));
  return options.returnIndices ? [out, indices] : out;
}

// Loads the addon (a prebuild from prebuilds/ when one matches, else the one compiled at
// install) and owns the metadata channel described in native/binding/common.h.
import * as path from 'path';
import { DendriteError } from './errors';
import { DTYPE_CODES, type DType } from './dtype';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const load = require('node-gyp-build') as (dir: string) => NativeAddon;

export interface NativeAddon {
  alloc(bytes: number): ArrayBuffer;
  free(buffer: ArrayBuffer): void;
  setMeta(meta: Float64Array): void;
  setErrorClass(ctor: Function): void;
  memoryStats(): { liveBytes: number; liveAllocations: number; peakBytes: number; totalAllocations: number };
  cpuInfo(): {
    path: string;
    supportedPaths: string[];
    features: Record<string, boolean>;
    numThreads: number;
    physicalCores: number;
  };
  setCpuPath(path: string): void;
  setNumThreads(n: number): void;
  fill(value: number, out: ArrayBuffer): void;
  fillAffine(start: number, step: number, out: ArrayBuffer): void;
  manualSeed(hi: number, lo: number): void;
  random(kind: number, a: number, b: number, out: ArrayBuffer): void;
  getRngState(): [number, number, number, number];
  setRngState(seedHi: number, seedLo: number, counterHi: number, counterLo: number): void;
  unary(op: number, p0: number, p1: number, out: ArrayBuffer, input: ArrayBuffer): void;
  binary(op: number, p0: number, p1: number, out: ArrayBuffer, a: ArrayBuffer, b: ArrayBuffer): void;
  binaryScalar(op: number, p0: number, p1: number, s: number, scalarFirst: boolean, out: ArrayBuffer, t: ArrayBuffer): void;
  where(out: ArrayBuffer, cond: ArrayBuffer, a: ArrayBuffer, b: ArrayBuffer): void;
  reduce(op: number, mask: number, correction: number, out: ArrayBuffer, input: ArrayBuffer, indices?: ArrayBuffer): void;
  softmax(dim: number, log: boolean, out: ArrayBuffer, input: ArrayBuffer): void;
  softmaxBackward(dim: number, log: boolean, gradIn: ArrayBuffer, gradOut: ArrayBuffer, out: ArrayBuffer): void;
  matmul(out: ArrayBuffer, a: ArrayBuffer, b: ArrayBuffer): void;
  linear(act: number, out: ArrayBuffer, x: ArrayBuffer, weight: ArrayBuffer, bias?: ArrayBuffer): void;
  sgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, beta: number,
    lda: number, ldb: number, ldc: number, A: Float32Array, B: Float32Array, C: Float32Array,
    biasKind?: number, act?: number, bias?: Float32Array, prepack?: number,
  ): void;
  fmaPeak(threads: number, seconds: number): number;
  gather(dim: number, out: ArrayBuffer, input: ArrayBuffer, index: ArrayBuffer): void;
  indexSelect(dim: number, out: ArrayBuffer, input: ArrayBuffer, index: ArrayBuffer): void;
  scatterAdd(dim: number, out: ArrayBuffer, index: ArrayBuffer, src: ArrayBuffer): void;
  indexAdd(dim: number, out: ArrayBuffer, index: ArrayBuffer, src: ArrayBuffer): void;
  optimStep(kind: number, hyper: Float64Array, param: ArrayBuffer, grad: ArrayBuffer, ...state: (ArrayBuffer | undefined)[]): void;
  optimKinds: string[];
  nllLoss(reduction: number, ignoreIndex: number, out: ArrayBuffer, totalWeight: ArrayBuffer, input: ArrayBuffer, target: ArrayBuffer, weight?: ArrayBuffer): void;
  nllLossBackward(reduction: number, ignoreIndex: number, gradInput: ArrayBuffer, gradOut: ArrayBuffer, target: ArrayBuffer, totalWeight: ArrayBuffer, weight?: ArrayBuffer): void;
  roiAlign(pooledH: number, pooledW: number, spatialScale: number, samplingRatio: number, aligned: boolean, out: ArrayBuffer, input: ArrayBuffer, rois: ArrayBuffer): void;
  roiAlignBackward(pooledH: number, pooledW: number, spatialScale: number, samplingRatio: number, aligned: boolean, gradInput: ArrayBuffer, gradOut: ArrayBuffer, rois: ArrayBuffer): void;
  roiPool(pooledH: number, pooledW: number, spatialScale: number, out: ArrayBuffer, argmax: ArrayBuffer, input: ArrayBuffer, rois: ArrayBuffer): void;
  roiPoolBackward(gradInput: ArrayBuffer, gradOut: ArrayBuffer, argmax: ArrayBuffer, rois: ArrayBuffer): void;
  boxIou(out: ArrayBuffer, a: ArrayBuffer, b: ArrayBuffer): void;
  /** Writes the kept indices to the front of keep and returns their count. */
  nms(iouThreshold: number, keep: ArrayBuffer, boxes: ArrayBuffer, scores: ArrayBuffer, classes?: ArrayBuffer): number;
  unaryOps: string[];
  binaryOps: string[];
  reduceOps: string[];
}

export const native: NativeAddon = load(path.join(__dirname, '..'));
native.setErrorClass(DendriteError);

// Room for 16 operands of 16 dims each; the native reader checks it never reads past the end.
const meta = new Float64Array(16 * (3 + 2 * 16));
native.setMeta(meta);
let cursor = 0;

/** Starts a call's layouts; then one putLayout per tensor operand, in argument order. */
export function beginLayouts(): void {
  cursor = 0;
}

export function putLayout(dtype: DType, offset: number, shape: readonly number[], strides: readonly number[]): void {
  const n = shape.length;
  let c = cursor;
  meta[c++] = DTYPE_CODES[dtype];
  meta[c++] = offset;
  meta[c++] = n;
  for (let i = 0; i < n; i++) meta[c++] = shape[i];
  for (let i = 0; i < n; i++) meta[c++] = strides[i];
  cursor = c;
}

function codes(names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  names.forEach((n, i) => (out[n] = i));
  return out;
}
export const UNARY = codes(native.unaryOps);
export const BINARY = codes(native.binaryOps);
export const REDUCE = codes(native.reduceOps);

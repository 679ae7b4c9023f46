// Loads the addon (a prebuild from prebuilds/ when one matches, else the one compiled at
// install) and owns the metadata channel described in native/binding/common.h.
import * as path from 'path';
import { DendriteError } from './errors';
import { DTYPE_CODES, type DType } from './dtype';
import type { StorageHandle } from './storage';

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
  fill(value: number, out: StorageHandle): void;
  fillAffine(start: number, step: number, out: StorageHandle): void;
  manualSeed(hi: number, lo: number): void;
  random(kind: number, a: number, b: number, out: StorageHandle): void;
  getRngState(): [number, number, number, number];
  setRngState(seedHi: number, seedLo: number, counterHi: number, counterLo: number): void;
  unary(op: number, p0: number, p1: number, out: StorageHandle, input: StorageHandle): void;
  binary(op: number, p0: number, p1: number, out: StorageHandle, a: StorageHandle, b: StorageHandle): void;
  binaryScalar(op: number, p0: number, p1: number, s: number, scalarFirst: boolean, out: StorageHandle, t: StorageHandle): void;
  where(out: StorageHandle, cond: StorageHandle, a: StorageHandle, b: StorageHandle): void;
  reduce(op: number, mask: number, correction: number, out: StorageHandle, input: StorageHandle, indices?: StorageHandle): void;
  softmax(dim: number, log: boolean, out: StorageHandle, input: StorageHandle): void;
  softmaxBackward(dim: number, log: boolean, gradIn: StorageHandle, gradOut: StorageHandle, out: StorageHandle): void;
  matmul(out: StorageHandle, a: StorageHandle, b: StorageHandle): void;
  linear(act: number, out: StorageHandle, x: StorageHandle, weight: StorageHandle, bias?: StorageHandle): void;
  sgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, beta: number,
    lda: number, ldb: number, ldc: number, A: Float32Array, B: Float32Array, C: Float32Array,
    biasKind?: number, act?: number, bias?: Float32Array, prepack?: number,
  ): void;
  fmaPeak(threads: number, seconds: number): number;
  gather(dim: number, out: StorageHandle, input: StorageHandle, index: StorageHandle): void;
  indexSelect(dim: number, out: StorageHandle, input: StorageHandle, index: StorageHandle): void;
  scatterAdd(dim: number, out: StorageHandle, index: StorageHandle, src: StorageHandle): void;
  indexAdd(dim: number, out: StorageHandle, index: StorageHandle, src: StorageHandle): void;
  optimStep(kind: number, hyper: Float64Array, param: StorageHandle, grad: StorageHandle, ...state: (StorageHandle | undefined)[]): void;
  optimKinds: string[];
  /** Every tensor of a group on CUDA in one launch; see native/binding/optim.cc for the layout. */
  optimStepMulti(kind: number, dtype: number, hyper: Float64Array, layout: Float64Array, storages: (StorageHandle | undefined)[]): void;
  /** Multi-tensor optimizer kernels launched so far (0 without CUDA). */
  optimLaunchCount(): number;
  nllLoss(reduction: number, ignoreIndex: number, out: StorageHandle, totalWeight: StorageHandle, input: StorageHandle, target: StorageHandle, weight?: StorageHandle): void;
  nllLossBackward(reduction: number, ignoreIndex: number, gradInput: StorageHandle, gradOut: StorageHandle, target: StorageHandle, totalWeight: StorageHandle, weight?: StorageHandle): void;
  roiAlign(pooledH: number, pooledW: number, spatialScale: number, samplingRatio: number, aligned: boolean, out: StorageHandle, input: StorageHandle, rois: StorageHandle): void;
  roiAlignBackward(pooledH: number, pooledW: number, spatialScale: number, samplingRatio: number, aligned: boolean, gradInput: StorageHandle, gradOut: StorageHandle, rois: StorageHandle): void;
  roiPool(pooledH: number, pooledW: number, spatialScale: number, out: StorageHandle, argmax: StorageHandle, input: StorageHandle, rois: StorageHandle): void;
  roiPoolBackward(gradInput: StorageHandle, gradOut: StorageHandle, argmax: StorageHandle, rois: StorageHandle): void;
  boxIou(out: StorageHandle, a: StorageHandle, b: StorageHandle): void;
  /** Writes the kept indices to the front of keep and returns their count. */
  nms(iouThreshold: number, keep: StorageHandle, boxes: StorageHandle, scores: StorageHandle, classes?: StorageHandle): number;
  cudaInfo(): { compiled: boolean; deviceCount: number; reason: string; deviceName?: string };
  /** Copies a contiguous tensor to another device (or the same one). */
  transfer(out: StorageHandle | ArrayBuffer, input: StorageHandle): void;
  cudaAlloc(bytes: number): StorageHandle;
  cudaFree(handle: StorageHandle): void;
  cudaMemory(): { allocated: number; reserved: number; peak: number; liveBlocks: number; cudaMallocs: number };
  cudaEmptyCache(): void;
  cudaSynchronize(): void;
  copyToHostAsync(out: ArrayBuffer, input: StorageHandle): Promise<void>;
  cudaSgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, beta: number,
    lda: number, ldb: number, ldc: number, A: StorageHandle, B: StorageHandle, C: StorageHandle,
    biasKind?: number, act?: number, bias?: StorageHandle,
  ): void;
  /** The SGEMM driver's SMs and its split-K calls so far (native/cuda/gemm/gemm.cu). */
  cudaSgemmStats(): { splitK: number; smCount: number };
  unaryOps: string[];
  binaryOps: string[];
  reduceOps: string[];
}

export const native: NativeAddon = load(path.join(__dirname, '..'));
native.setErrorClass(DendriteError);

// Room for 16 operands of 16 dims each; the native reader checks it never reads past the end.
const meta = new Float64Array(16 * (4 + 2 * 16));
native.setMeta(meta);
let cursor = 0;

/** Starts a call's layouts; then one putLayout per tensor operand, in argument order. */
export function beginLayouts(): void {
  cursor = 0;
}

/** Device codes of the layout's second field; they match native/core/tensor.h (Device). */
export const DEVICE_CODES = { cpu: 0, cuda: 1 } as const;

export function putLayout(dtype: DType, device: number, offset: number, shape: readonly number[], strides: readonly number[]): void {
  const n = shape.length;
  let c = cursor;
  meta[c++] = DTYPE_CODES[dtype];
  meta[c++] = device;
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

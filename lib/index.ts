// dendrite: the public API (see DESIGN.md, "The public API").
import './ops/methods';
import { native } from './native';
import { emptyCache as emptyStorageCache, setCacheLimit as setStorageCacheLimit } from './storage';
import { fail } from './errors';

export { DendriteError, type ErrorCode } from './errors';
export { Tensor, tidy, keep, memory, type Shape } from './tensor';
export { cuda, type CudaMemory } from './cuda';
export { float32, float64, int32, int64, uint8, bool, type DType } from './dtype';
export { noGrad, enableGrad, isGradEnabled } from './autograd/node';
export * from './ops/creation';
export * from './ops/elementwise';
export * from './ops/activation';
export {
  sum, mean, prod, max, min, argmax, argmin, variance as var, std, logsumexp, all, any,
  type Dims, type ReduceOptions, type VarOptions, type ValuesIndices,
} from './ops/reduce';
export * from './ops/shape';
export * from './ops/join';
export * from './ops/indexing';
export * from './ops/linalg';
export { conv2d, convTranspose2d, type Conv2dOptions, type ConvTranspose2dOptions, type IntPair } from './ops/conv';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d, type MaxPool2dOptions, type AvgPool2dOptions } from './ops/pool';
export { batchNorm, dropout, type BatchNormOptions, type DropoutOptions } from './ops/norm';
export { interpolate, type InterpolateOptions } from './ops/interpolate';
export { pad, type PadMode } from './ops/pad';

import { backward } from './autograd/engine';
import { gradcheck } from './autograd/gradcheck';
import * as A from './ops/activation';
import * as Lin from './ops/linear';
import * as Roi from './ops/roi';
import * as Box from './ops/box';
import { AnchorGenerator } from './ops/anchors';
import * as Conv from './ops/conv';
import * as Pool from './ops/pool';
import * as Norm from './ops/norm';
import { interpolate as interpolateFn } from './ops/interpolate';
import { pad as padFn } from './ops/pad';
import * as Rnn from './ops/rnn';
import * as Emb from './ops/embedding';
import * as Attn from './ops/attention';
export const autograd = { backward, gradcheck };

import * as nnModules from './nn/index';
import * as LOSS from './ops/loss';

/** dt.nn.functional / dt.F: the functional forms. Op families add their entries here. */
export const F = {
  relu: A.relu, leakyRelu: A.leakyRelu, sigmoid: A.sigmoid, tanh: A.tanh, softmax: A.softmax,
  logSoftmax: A.logSoftmax, softplus: A.softplus, hardtanh: A.hardtanh, gelu: A.gelu, silu: A.silu,
  elu: A.elu, relu6: A.relu6,
  linear: Lin.linear,
  mseLoss: LOSS.mseLoss, l1Loss: LOSS.l1Loss, smoothL1Loss: LOSS.smoothL1Loss, binaryCrossEntropy: LOSS.binaryCrossEntropy,
  binaryCrossEntropyWithLogits: LOSS.binaryCrossEntropyWithLogits, crossEntropy: LOSS.crossEntropy, nllLoss: LOSS.nllLoss,
  klDiv: LOSS.klDiv,
  roiPool: Roi.roiPool, roiAlign: Roi.roiAlign, nms: Box.nms, boxIou: Box.boxIou,
  conv2d: Conv.conv2d, convTranspose2d: Conv.convTranspose2d,
  maxPool2d: Pool.maxPool2d, avgPool2d: Pool.avgPool2d, adaptiveAvgPool2d: Pool.adaptiveAvgPool2d, adaptiveMaxPool2d: Pool.adaptiveMaxPool2d,
  batchNorm: Norm.batchNorm, dropout: Norm.dropout, interpolate: interpolateFn, pad: padFn,
  lstm: Rnn.lstm, gru: Rnn.gru, rnn: Rnn.rnn, lstmCell: Rnn.lstmCell, gruCell: Rnn.gruCell, rnnCell: Rnn.rnnCell,
  embedding: Emb.embedding,
  scaledDotProductAttention: Attn.scaledDotProductAttention,
};
export const nn = { ...nnModules, functional: F };
export * as optim from './optim/index';
export { save, load, saveSync, loadSync } from './io/index';
export * as io from './io/index';
export { summary, registerSummaryRule, ModelSummary, type LayerSummary, type LayerRule, type SummaryOptions } from './train/summary';

/** dt.ops: detection building blocks, as torchvision.ops (plus the box coder and anchors of its detection models). */
export const ops = {
  roiPool: Roi.roiPool, roiAlign: Roi.roiAlign, RoIPool: nnModules.RoIPool, RoIAlign: nnModules.RoIAlign,
  boxIou: Box.boxIou, boxArea: Box.boxArea, nms: Box.nms, batchedNms: Box.batchedNms, clipBoxes: Box.clipBoxes,
  removeSmallBoxes: Box.removeSmallBoxes, encodeBoxes: Box.encodeBoxes, decodeBoxes: Box.decodeBoxes, BoxCoder: Box.BoxCoder,
  AnchorGenerator, smoothL1Loss: Box.smoothL1Loss,
};
export type { RoiBoxes, RoiPoolOptions, RoiAlignOptions } from './ops/roi';
export type { BoxCoderOptions } from './ops/box';
export type { AnchorGeneratorOptions } from './ops/anchors';

/** The CPU kernels in use: `path` is the SIMD path chosen at load time (DENDRITE_CPU forces one). */
export function cpuInfo() {
  return native.cpuInfo();
}
export const cpu = {
  info: cpuInfo,
  /** Switches the SIMD path for the whole process (tests compare every path with 'scalar'). */
  setPath(path: 'scalar' | 'avx2' | 'avx512' | 'neon'): void {
    native.setCpuPath(path);
  },
};

/** Threads of the native pool (default: physical cores, or DENDRITE_NUM_THREADS). */
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}
export function getNumThreads(): number {
  return native.cpuInfo().numThreads;
}

/** Frees cached (disposed, reusable) CPU buffers. */
export function emptyCache(): void {
  emptyStorageCache();
}

/**
 * Caps the bytes of disposed CPU buffers kept for reuse (default 256 MiB; items up to a
 * quarter of it). 0 turns the cache off: every dispose then returns memory at once.
 */
export function setCacheLimit(bytes: number): void {
  if (typeof bytes !== 'number' || !(bytes >= 0)) fail('ERR_ARGUMENT', 'setCacheLimit', 'a byte count >= 0', String(bytes));
  setStorageCacheLimit(bytes);
}

import * as Blas from './ops/blas';
/** dt.linalg: BLAS-style sgemm on Float32Arrays (transposes, alpha/beta, leading dims, epilogue) and the FMA peak probe. */
export const linalg = { sgemm: Blas.sgemm, fmaPeak: Blas.fmaPeak };
// Data loading, training loop, metrics, callbacks, image utilities (lib/data, lib/train, lib/utils).
import * as dataModule from './data/index';
export const data = dataModule;
export { Generator, getRngState, setRngState } from './data/generator';
export { fit, evaluate, predict, History, metrics, callbacks } from './train/index';
import * as utilsModule from './utils/index';
export const utils = utilsModule;

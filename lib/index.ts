// dendrite: the public API (see DESIGN.md, "The public API").
import './ops/methods';
import { native } from './native';
import { emptyCache as emptyStorageCache } from './storage';

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

import { backward } from './autograd/engine';
import { gradcheck } from './autograd/gradcheck';
import * as A from './ops/activation';
import * as Lin from './ops/linear';
export const autograd = { backward, gradcheck };

import * as nnModules from './nn/index';

/** dt.nn.functional / dt.F: the functional forms. Op families add their entries here. */
export const F = {
  relu: A.relu, leakyRelu: A.leakyRelu, sigmoid: A.sigmoid, tanh: A.tanh, softmax: A.softmax,
  logSoftmax: A.logSoftmax, softplus: A.softplus, hardtanh: A.hardtanh, gelu: A.gelu, silu: A.silu,
  elu: A.elu, relu6: A.relu6,
  linear: Lin.linear,
};
export const nn = { ...nnModules, functional: F };

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

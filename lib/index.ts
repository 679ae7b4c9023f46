// dendrite: the public API (see DESIGN.md, "The public API").
import './ops/methods';
import { native } from './native';
import { emptyCache as emptyStorageCache } from './storage';
import { fail } from './errors';

export { DendriteError, type ErrorCode } from './errors';
export { Tensor, tidy, keep, memory, type Shape } from './tensor';
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
import * as Rnn from './ops/rnn';
import * as Emb from './ops/embedding';
import * as Attn from './ops/attention';
export const autograd = { backward, gradcheck };

import * as nnModules from './nn/index';

/** dt.nn.functional / dt.F: the functional forms. Op families add their entries here. */
export const F = {
  relu: A.relu, leakyRelu: A.leakyRelu, sigmoid: A.sigmoid, tanh: A.tanh, softmax: A.softmax,
  logSoftmax: A.logSoftmax, softplus: A.softplus, hardtanh: A.hardtanh, gelu: A.gelu, silu: A.silu,
  elu: A.elu, relu6: A.relu6,
  lstm: Rnn.lstm, gru: Rnn.gru, rnn: Rnn.rnn, lstmCell: Rnn.lstmCell, gruCell: Rnn.gruCell, rnnCell: Rnn.rnnCell,
  embedding: Emb.embedding,
  scaledDotProductAttention: Attn.scaledDotProductAttention,
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

export const cuda = {
  isAvailable: (): boolean => false,
  deviceCount: (): number => 0,
  memory(): never {
    return fail('ERR_DEVICE', 'cuda.memory', 'a build with the CUDA backend', 'a CPU-only build');
  },
};

// Registration in one place: every kernel family's configs, then the cpu fallbacks for the
// kernels dendrite does not run natively yet. A family that lands natively (conv, pooling,
// batch norm, recurrent) adds its file to NATIVE and drops its names from FALLBACK.
import { getKernelsForBackend, registerKernel, unregisterKernel, getKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { binaryKernels } from './kernels/binary';
import { unaryKernels } from './kernels/unary';
import { reduceKernels } from './kernels/reduce';
import { matmulKernels } from './kernels/matmul';
import { shapeKernels } from './kernels/shape';
import { miscKernels } from './kernels/misc';
import { convKernels } from './kernels/conv';
import { poolKernels } from './kernels/pool';
import { normKernels } from './kernels/norm';
import { padKernels } from './kernels/pad';
import { resizeKernels } from './kernels/resize';
import { fallbackKernel } from './fallback';

export const BACKEND_NAME = 'dendrite';

const NATIVE: KernelConfig[] = [
  ...binaryKernels, ...unaryKernels, ...reduceKernels, ...matmulKernels, ...shapeKernels, ...miscKernels,
  ...convKernels, ...poolKernels, ...normKernels, ...padKernels, ...resizeKernels,
];

/**
 * Kernels that run on the cpu backend's implementation (inputs lent zero-copy, outputs copied
 * back). Keep this short: each entry is a kernel dendrite should grow.
 */
export const FALLBACK: readonly string[] = [
  // Reversal needs negative strides, which dendrite views do not have.
  'Reverse',
  // Block rearrangements (dilated pooling goes through them).
  'SpaceToBatchND', 'BatchToSpaceND',
  // Data-dependent output shapes and sort-based kernels.
  'Where', 'TopK', 'Unique',
  // Elementwise functions dendrite has no native kernel for.
  'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh',
  // Scans, index scatter/gather by coordinates, sampling, complex.
  'Cumsum', 'Cumprod', 'GatherNd', 'ScatterNd', 'Multinomial', 'ComplexAbs', 'FFT', 'IFFT',
];

const NATIVE_NAMES = new Set(NATIVE.map((k) => k.kernelName));

/** Registers the native kernels and the listed fallbacks for the `dendrite` backend. */
export function registerKernels(): void {
  for (const config of NATIVE) register(config);
  for (const name of FALLBACK) if (!NATIVE_NAMES.has(name) && getKernel(name, 'cpu') != null) register(fallbackKernel(name));
}

/**
 * Registers a cpu fallback for every kernel the cpu backend has and dendrite does not: every
 * tfjs op then runs on `dendrite`, the exotic ones at cpu speed. Returns the names added.
 */
export function registerAllCpuFallbacks(): string[] {
  const added: string[] = [];
  for (const { kernelName } of getKernelsForBackend('cpu')) {
    if (getKernel(kernelName, BACKEND_NAME) != null) continue;
    register(fallbackKernel(kernelName));
    added.push(kernelName);
  }
  return added;
}

function register(config: KernelConfig): void {
  if (getKernel(config.kernelName, BACKEND_NAME) != null) unregisterKernel(config.kernelName, BACKEND_NAME);
  registerKernel(config);
}

/** Names of the kernels registered natively. */
export function nativeKernels(): string[] {
  return [...NATIVE_NAMES].sort();
}

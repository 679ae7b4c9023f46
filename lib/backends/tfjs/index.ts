// dendrite/tfjs: importing this module registers a TensorFlow.js backend named `dendrite` whose
// kernels are dendrite's native ones (see registry.ts for which kernels, and which fall back to
// the cpu backend's implementation).
//
//   import * as tf from '@tensorflow/tfjs';
//   import 'dendrite/tfjs';
//   await tf.setBackend('dendrite');
import '../../ops/methods';
import { registerBackend, getKernel } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DendriteBackend } from './backend';
import { BACKEND_NAME, FALLBACK, registerKernels, registerAllCpuFallbacks, nativeKernels } from './registry';
import { fallbackCalls } from './fallback';

export { DendriteBackend } from './backend';
export { BACKEND_NAME, registerAllCpuFallbacks, nativeKernels };

// Priority 3, as tfjs-node: with this module imported, dendrite is the default backend.
registerBackend(BACKEND_NAME, () => new DendriteBackend(), 3);
registerKernels();

/** The kernels that run on the cpu backend's implementation (registered as fallbacks). */
export function fallbacks(): string[] {
  return FALLBACK.filter((name) => getKernel(name, BACKEND_NAME) != null && !nativeKernels().includes(name));
}

/** How often each kernel ran on the cpu fallback in this process (including dtypes dendrite does not store, e.g. strings). */
export function fallbackStats(): Record<string, number> {
  return Object.fromEntries([...fallbackCalls.entries()].sort((a, b) => b[1] - a[1]));
}

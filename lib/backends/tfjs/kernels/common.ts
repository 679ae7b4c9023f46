// What every kernel family file shares: the config builder (each native kernel body runs in a
// dendrite tidy scope, so the views and temporaries it makes are freed when it returns, while
// the outputs registered through backend.makeOutput are kept), and dtype helpers.
import type { DataType, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { tidy } from '../../../tensor';
import type { DendriteBackend } from '../backend';
import { runOnCpu } from '../fallback';

export interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: DendriteBackend;
  attrs: NamedAttrMap;
}
export type KernelBody = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** A kernel config for the dendrite backend; the body runs inside a dendrite tidy scope. */
export function kernel(kernelName: string, body: KernelBody): KernelConfig {
  return {
    kernelName,
    backendName: 'dendrite',
    kernelFunc: (args) => tidy(() => body(args as unknown as KernelArgs)),
  };
}

const NUMERIC = new Set<DataType>(['float32', 'int32', 'bool']);

/**
 * A native kernel that hands strings and complex64 (which dendrite does not store natively) to
 * the cpu implementation: those dtypes keep working, numeric data never leaves native memory.
 */
export function numericKernel(kernelName: string, body: KernelBody): KernelConfig {
  return kernel(kernelName, (args) => {
    for (const key in args.inputs) {
      const info = args.inputs[key];
      if (info != null && !NUMERIC.has(info.dtype)) return runOnCpu(kernelName, args);
    }
    return body(args);
  });
}

export function attr<T>(attrs: NamedAttrMap, name: string): T {
  return attrs[name] as unknown as T;
}

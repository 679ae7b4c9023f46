// Kernels dendrite does not run natively borrow the `cpu` backend's implementation: the inputs
// are lent to a private cpu backend instance (float32/int32/bool values as zero-copy views of
// the native storage, strings and complex parts as they are), the cpu kernel runs, and its
// outputs are copied into dendrite storage. Every kernel routed here is listed by fallbacks().
import { engine, getKernel } from '@tensorflow/tfjs-core';
import type { DataId, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { DendriteBackend } from './backend';

let cpu: MathBackendCPU | null = null;
function cpuBackend(): MathBackendCPU {
  if (cpu === null) cpu = new MathBackendCPU();
  return cpu;
}

/** Kernel name -> how many times it ran on the cpu fallback in this process. */
export const fallbackCalls = new Map<string, number>();

type EngineState = { state: { tensorInfo: { get(id: DataId): { backend: unknown } | undefined } } };
type CpuEntry = { values?: unknown; dtype: string; refCount: number; complexTensorInfos?: { real: TensorInfo; imag: TensorInfo } };

/** Puts `info`'s data into the cpu backend under the same data id (no copy for numeric data). */
function lend(backend: DendriteBackend, c: MathBackendCPU, info: TensorInfo, lent: DataId[]): void {
  const store = c.data as unknown as { has(id: DataId): boolean; set(id: DataId, v: CpuEntry): void };
  if (store.has(info.dataId)) return;
  const entry = backend.data.get(info.dataId);
  if (entry.complex !== null) {
    lend(backend, c, entry.complex.real, lent);
    lend(backend, c, entry.complex.imag, lent);
    store.set(info.dataId, { dtype: 'complex64', refCount: 1, complexTensorInfos: entry.complex });
  } else if (entry.strings !== null) {
    store.set(info.dataId, { values: entry.strings, dtype: 'string', refCount: 1 });
  } else {
    store.set(info.dataId, { values: backend.valuesOf(info), dtype: entry.dtype, refCount: 1 });
  }
  lent.push(info.dataId);
}

/** Moves a cpu-made output into dendrite under the same data id object. */
function bring(backend: DendriteBackend, c: MathBackendCPU, info: TensorInfo): void {
  const store = c.data as unknown as { get(id: DataId): CpuEntry; delete(id: DataId): boolean };
  const entry = store.get(info.dataId);
  if (entry.dtype === 'complex64') {
    const { real, imag } = entry.complexTensorInfos!;
    bring(backend, c, real);
    bring(backend, c, imag);
    backend.data.set(info.dataId, { dtype: 'complex64', refCount: 1, tensor: null, strings: null, complex: { real, imag } });
  } else {
    backend.move(info.dataId, entry.values as Float32Array, info.shape, info.dtype, 1);
  }
  store.delete(info.dataId);
}

/** Runs the cpu backend's kernel `name` on dendrite-held inputs. */
export function runOnCpu(name: string, args: { inputs: Record<string, TensorInfo | undefined>; attrs?: NamedAttrMap; backend: unknown }): TensorInfo | TensorInfo[] {
  const config = getKernel(name, 'cpu');
  if (config == null) throw new Error(`dendrite: kernel ${name} has no native version and no cpu fallback (import @tensorflow/tfjs-backend-cpu)`);
  fallbackCalls.set(name, (fallbackCalls.get(name) ?? 0) + 1);
  const backend = args.backend as DendriteBackend;
  const c = cpuBackend();
  const lent: DataId[] = [];
  // Concat, Pack and AddN take an array of inputs, the others a record.
  const inputs: Record<string, TensorInfo> | TensorInfo[] = Array.isArray(args.inputs) ? [] : {};
  for (const [key, info] of Object.entries(args.inputs)) {
    if (info == null) continue;
    lend(backend, c, info, lent);
    (inputs as Record<string, TensorInfo>)[key] = info;
  }
  const store = c.data as unknown as { has(id: DataId): boolean; delete(id: DataId): boolean; get(id: DataId): CpuEntry };
  try {
    const out = config.kernelFunc({ inputs: inputs as Record<string, TensorInfo>, attrs: args.attrs ?? {}, backend: c });
    const outs = Array.isArray(out) ? out : [out];
    for (const info of outs) {
      // A cpu kernel may forward an input's data id (Reshape, Identity): it stays ours.
      if (lent.includes(info.dataId)) backend.incRef(info.dataId);
      else {
        bring(backend, c, info);
        // Kernels that return through cpu.makeOutput registered a Tensor with the engine as
        // living on the cpu instance: its data now lives here.
        const record = (engine() as unknown as EngineState).state.tensorInfo.get(info.dataId);
        if (record != null) record.backend = backend;
      }
    }
    return out as TensorInfo | TensorInfo[];
  } finally {
    for (const id of lent) {
      const e = store.has(id) ? store.get(id) : null;
      store.delete(id);
      if (e?.complexTensorInfos) {
        store.delete(e.complexTensorInfos.real.dataId);
        store.delete(e.complexTensorInfos.imag.dataId);
      }
    }
  }
}

/** A kernel config that runs the cpu implementation for the dendrite backend. */
export function fallbackKernel(name: string): KernelConfig {
  const kernelFunc: KernelFunc = (args) => runOnCpu(name, args as Parameters<typeof runOnCpu>[1]);
  return { kernelName: name, backendName: 'dendrite', kernelFunc };
}

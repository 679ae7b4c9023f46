// The `dendrite` KernelBackend for TensorFlow.js: tfjs data ids map to dendrite tensors.
//
// Layout of a numeric entry: `tensor` is a contiguous dendrite tensor (possibly a view at an
// offset into a larger storage, e.g. a row slice) holding the values in row-major order; its own
// shape does not matter, the TensorInfo that tfjs passes to a kernel carries the shape, and
// `viewOf` lays that shape over the same storage without copying. Strings keep tfjs's encoded
// bytes on the JS side (only fallback kernels touch them); complex64 keeps two float32 entries,
// as the cpu backend does.
import { DataStorage, KernelBackend, engine, util, backend_util } from '@tensorflow/tfjs-core';
import type { BackendTimingInfo, BackendValues, DataId, DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { Tensor, contiguousStrides, keep } from '../../tensor';
import { ARRAY_TYPES, ITEMSIZE, type DType } from '../../dtype';
import { native } from '../../native';
import { cast, contiguous } from '../../ops/shape';

export interface TensorData {
  dtype: DataType;
  refCount: number;
  tensor: Tensor | null;
  strings: Uint8Array[] | null;
  complex: { real: TensorInfo; imag: TensorInfo } | null;
  /**
   * Other layouts of the same values that conv-family kernels made from it or alongside it
   * (e.g. the NCHW copy of an NHWC activation), keyed by layout and shape; freed with the entry.
   * tfjs data is immutable, so a twin never goes stale.
   */
  twins?: Map<string, Tensor>;
}

/** tfjs dtype -> dendrite dtype (numeric ones only). */
export function dtypeOf(dtype: DataType, op = 'dendrite'): DType {
  switch (dtype) {
    case 'float32': return 'float32';
    case 'int32': return 'int32';
    case 'bool': return 'bool';
    default: throw new Error(`${op}: expected a float32, int32 or bool tensor, got ${dtype}`);
  }
}

let nextDataId = 0;

export class DendriteBackend extends KernelBackend {
  readonly data: DataStorage<TensorData>;

  constructor() {
    super();
    this.data = new DataStorage<TensorData>(this, engine());
  }

  // ---- storage ---------------------------------------------------------------------------

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = { id: nextDataId++ };
    this.move(dataId, values, shape, dtype, 1);
    return dataId;
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    const entry: TensorData = { dtype, refCount, tensor: null, strings: null, complex: null };
    if (dtype === 'string') {
      entry.strings = (values ?? []) as Uint8Array[];
    } else if (dtype === 'complex64') {
      const size = util.sizeFromShape(shape);
      const flat = values as Float32Array | null;
      const real = new Float32Array(size), imag = new Float32Array(size);
      if (flat) for (let i = 0; i < size; i++) {
        real[i] = flat[2 * i];
        imag[i] = flat[2 * i + 1];
      }
      entry.complex = {
        real: { dataId: this.write(real, shape, 'float32'), shape, dtype: 'float32' },
        imag: { dataId: this.write(imag, shape, 'float32'), shape, dtype: 'float32' },
      };
    } else {
      const size = util.sizeFromShape(shape);
      const t = keep(Tensor.empty([size], dtypeOf(dtype, 'write')));
      if (values != null && size > 0) {
        const view = new ARRAY_TYPES[t.dtype](t.storage.hostBuffer, 0, size) as Float32Array | Int32Array | Uint8Array;
        if (dtype === 'bool' && !(values instanceof Uint8Array)) for (let i = 0; i < size; i++) view[i] = (values as ArrayLike<number>)[i] ? 1 : 0;
        else view.set(values as ArrayLike<number>);
      } else if (size > 0) {
        fillZero(t);
      }
      entry.tensor = t;
    }
    this.data.set(dataId, entry);
  }

  /** Registers a dendrite tensor as the data of a new tfjs tensor (no copy when it is contiguous and of the dtype). */
  makeOutput(t: Tensor, shape: number[], dtype: DataType): TensorInfo {
    if (dtype === 'string' || dtype === 'complex64') throw new Error(`dendrite: cannot hold a ${dtype} result in a dendrite tensor`);
    const want = dtypeOf(dtype);
    let stored = t;
    if (stored.dtype !== want) stored = cast(stored, want);
    if (!stored.isContiguous()) stored = contiguous(stored);
    if (stored.numel() !== util.sizeFromShape(shape))
      throw new Error(`dendrite: kernel produced ${stored.numel()} elements for shape [${shape}]`);
    keep(stored);
    const dataId = { id: nextDataId++ };
    this.data.set(dataId, { dtype, refCount: 1, tensor: stored, strings: null, complex: null });
    return { dataId, shape: shape.slice(), dtype };
  }

  /** The same data under another shape (reshape, identity, expandDims): shares the data id. */
  forward(x: TensorInfo, shape: number[] = x.shape, dtype: DataType = x.dtype): TensorInfo {
    this.incRef(x.dataId);
    return { dataId: x.dataId, shape: shape.slice(), dtype };
  }

  /** A dendrite view of a tfjs tensor's values with its shape (zero-copy). */
  viewOf(info: TensorInfo): Tensor {
    const entry = this.data.get(info.dataId);
    const t = entry.tensor;
    if (t === null) throw new Error(`dendrite: expected a float32, int32 or bool tensor, got ${entry.dtype}`);
    return Tensor.view(t, info.shape.slice(), contiguousStrides(info.shape), t.offset);
  }

  /** The entry's values as a typed array over the native storage (no copy; do not hand to users). */
  valuesOf(info: TensorInfo): Float32Array | Int32Array | Uint8Array {
    const t = this.data.get(info.dataId).tensor;
    if (t === null) throw new Error('dendrite: no numeric data');
    return new ARRAY_TYPES[t.dtype](t.storage.hostBuffer, t.offset * ITEMSIZE[t.dtype], t.numel()) as Float32Array | Int32Array | Uint8Array;
  }

  override readSync(dataId: DataId): BackendValues {
    const entry = this.data.get(dataId);
    if (entry.dtype === 'string') return entry.strings!;
    if (entry.complex !== null) {
      const re = this.readSync(entry.complex.real.dataId) as Float32Array;
      const im = this.readSync(entry.complex.imag.dataId) as Float32Array;
      return backend_util.mergeRealAndImagArrays(re, im);
    }
    const t = entry.tensor!;
    // A copy: tfjs lets callers keep what data() returned after the tensor is disposed.
    const Ctor = ARRAY_TYPES[t.dtype];
    return (new Ctor(t.storage.hostBuffer, t.offset * ITEMSIZE[t.dtype], t.numel()) as Float32Array).slice();
  }

  override async read(dataId: DataId): Promise<BackendValues> {
    return this.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const entry = this.data.get(dataId);
    entry.refCount--;
    if (!force && entry.refCount > 0) return false;
    if (entry.complex !== null) {
      this.disposeData(entry.complex.real.dataId, true);
      this.disposeData(entry.complex.imag.dataId, true);
    }
    entry.tensor?.dispose();
    if (entry.twins) for (const t of entry.twins.values()) t.dispose();
    this.data.delete(dataId);
    return true;
  }

  /** Frees an intermediate TensorInfo a kernel made and does not return. */
  disposeIntermediateTensorInfo(info: TensorInfo): void {
    this.disposeData(info.dataId);
  }

  override refCount(dataId: DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }

  override incRef(dataId: DataId): void {
    this.data.get(dataId).refCount++;
  }

  decRef(dataId: DataId): void {
    if (this.data.has(dataId)) this.data.get(dataId).refCount--;
  }

  override numDataIds(): number {
    return this.data.numDataIds();
  }

  override memory(): { unreliable: boolean; numBytesInNative: number } {
    return { unreliable: false, numBytesInNative: native.memoryStats().liveBytes };
  }

  override async time(f: () => void): Promise<BackendTimingInfo> {
    const start = util.now();
    f();
    return { kernelMs: util.now() - start };
  }

  override timerAvailable(): boolean {
    return true;
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override dispose(): void {}
}

function fillZero(t: Tensor): void {
  new Uint8Array(t.storage.hostBuffer, t.offset * ITEMSIZE[t.dtype], t.numel() * ITEMSIZE[t.dtype]).fill(0);
}

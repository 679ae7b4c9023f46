// Tensor: shape, strides, offset into a Storage, dtype, device, and the autograd fields.
// Ops live in lib/ops/* and attach themselves as methods (see lib/ops/methods.ts); this file
// holds what every op needs: construction, layout helpers, reading out, disposal and tidy scopes.
import { DendriteError, fail, fmtShape } from './errors';
import { ARRAY_TYPES, ITEMSIZE, type DType, type TypedArray } from './dtype';
import { Storage, cacheBytes, liveCudaTensorCount, liveTensorCount, type Device } from './storage';
import { beginLayouts, DEVICE_CODES, native, putLayout, UNARY } from './native';
import { cudaAvailable } from './device';
import type { Node } from './autograd/node';

export type Shape = number[];

const MAX_NUMEL = 2 ** 48;

// tidy() scopes: each collects the tensors created while it is the innermost one.
const scopes: Tensor[][] = [];

export function contiguousStrides(shape: readonly number[]): number[] {
  const n = shape.length;
  const s = new Array<number>(n);
  let acc = 1;
  for (let i = n - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function shapeNumel(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

export class Tensor {
  readonly shape: Shape;
  readonly strides: number[];
  readonly offset: number;
  readonly dtype: DType;
  readonly storage: Storage;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor (null for leaves). */
  gradFn: Node | null = null;
  /** Set by dt.keep(): survives every enclosing tidy(). */
  kept = false;
  private disposedFlag = false;

  /** Internal: ops build tensors through `Tensor.empty`/`Tensor.view`. */
  constructor(storage: Storage, shape: Shape, strides: number[], offset: number, dtype: DType) {
    this.storage = storage;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.dtype = dtype;
    storage.addRef();
    if (scopes.length > 0) scopes[scopes.length - 1].push(this);
  }

  /** A new contiguous, uninitialised tensor (on the CPU unless `device` says otherwise). */
  static empty(shape: Shape, dtype: DType = 'float32', device: Device = 'cpu'): Tensor {
    const n = shapeNumel(shape);
    if (!(n <= MAX_NUMEL)) fail('ERR_SHAPE', 'empty', `fewer than 2^48 elements`, `shape ${fmtShape(shape)}`);
    return new Tensor(Storage.allocate(n * ITEMSIZE[dtype], device), shape, contiguousStrides(shape), 0, dtype);
  }

  /** A view of `base`'s storage with another layout (no copy). */
  static view(base: Tensor, shape: Shape, strides: number[], offset: number): Tensor {
    base.assertLive('view');
    return new Tensor(base.storage, shape, strides, offset, base.dtype);
  }

  get ndim(): number {
    return this.shape.length;
  }
  get device(): Device {
    return this.storage.device;
  }
  get isDisposed(): boolean {
    return this.disposedFlag;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  numel(): number {
    return shapeNumel(this.shape);
  }
  size(dim?: number): number | Shape {
    if (dim === undefined) return this.shape.slice();
    return this.shape[normDim(dim, this.ndim, 'size')];
  }
  isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i];
    }
    return true;
  }

  assertLive(op: string): void {
    if (this.disposedFlag) throw new DendriteError(`${op}: expected a live tensor, got a disposed tensor`, 'ERR_DISPOSED');
  }

  /**
   * Writes this tensor's layout into the metadata channel (see lib/native.ts). Every native call
   * goes through here, so a disposed tensor (whose storage may already serve another tensor)
   * can never be read or written, e.g. by a backward that saved it.
   */
  putLayout(): void {
    if (this.disposedFlag) this.assertLive('op');
    putLayout(this.dtype, this.storage.deviceCode, this.offset, this.shape, this.strides);
  }

  /**
   * Frees the tensor's memory now (once no other live view shares it). Idempotent. Using a
   * disposed tensor afterwards throws ERR_DISPOSED.
   */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.storage.dropRef();
    if (this.grad !== null) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /**
   * The elements in row-major order as a TypedArray: a zero-copy view of the storage when the
   * tensor is contiguous (it sees later in-place updates; copy it with .slice() to keep values),
   * else a fresh copy. int64 gives a BigInt64Array, bool a Uint8Array of 0/1.
   */
  dataSync(): TypedArray {
    this.assertLive('dataSync');
    const Ctor = ARRAY_TYPES[this.dtype];
    if (this.device !== 'cpu') {
      // Waits for the kernels queued so far, then copies into a fresh JS-owned array.
      const out = new Ctor(this.numel()) as TypedArray;
      const src = this.isContiguous() ? this : contiguousCopy(this);
      try {
        beginLayouts();
        putLayout(this.dtype, DEVICE_CODES.cpu, 0, this.shape, contiguousStrides(this.shape));
        src.putLayout();
        native.transfer(out.buffer as ArrayBuffer, src.storage.buffer);
      } finally {
        if (src !== this) src.dispose();
      }
      return out;
    }
    const src = this.isContiguous() ? this : contiguousCopy(this);
    src.storage.exposed = true;
    return new Ctor(src.storage.hostBuffer, src.offset * ITEMSIZE[this.dtype], this.numel()) as TypedArray;
  }

  /**
   * The elements as dataSync() gives them. On CUDA the copy back is queued behind the kernels
   * already issued and awaited off the event loop, so other work runs meanwhile.
   */
  async data(): Promise<TypedArray> {
    if (this.device === 'cpu') return this.dataSync();
    this.assertLive('data');
    const out = new ARRAY_TYPES[this.dtype](this.numel()) as TypedArray;
    const src = this.isContiguous() ? this : contiguousCopy(this);
    let done: Promise<void>;
    try {
      beginLayouts();
      putLayout(this.dtype, DEVICE_CODES.cpu, 0, this.shape, contiguousStrides(this.shape));
      src.putLayout();
      done = native.copyToHostAsync(out.buffer as ArrayBuffer, src.storage.buffer);
    } finally {
      // The copy is queued on the stream already; device memory given back now is reused only
      // by work queued after it.
      if (src !== this) src.dispose();
    }
    await done;
    return out;
  }

  /** The value of a one-element tensor as a JS number (boolean for bool). */
  item(): number | boolean {
    this.assertLive('item');
    if (this.numel() !== 1) fail('ERR_SHAPE', 'item', 'a tensor with one element', `shape ${fmtShape(this.shape)}`);
    const v = this.dataSync()[0];
    return this.dtype === 'bool' ? v === 1 : Number(v);
  }

  /** Nested JS arrays (a number for a 0-d tensor); int64 values become numbers, bools booleans. */
  toArray(): any {
    this.assertLive('toArray');
    const flat = this.dataSync();
    const shape = this.shape;
    const isBool = this.dtype === 'bool';
    const conv = (i: number): number | boolean => (isBool ? flat[i] === 1 : Number(flat[i]));
    if (shape.length === 0) return conv(0);
    let pos = 0;
    const build = (d: number): any[] => {
      const n = shape[d];
      const out = new Array(n);
      if (d === shape.length - 1) for (let i = 0; i < n; i++) out[i] = conv(pos++);
      else for (let i = 0; i < n; i++) out[i] = build(d + 1);
      return out;
    };
    return build(0);
  }

  toString(): string {
    if (this.disposedFlag) return 'tensor(<disposed>)';
    const body = JSON.stringify(this.toArray());
    return `tensor(${body}, shape=${fmtShape(this.shape)}, dtype=${this.dtype}${this.requiresGrad ? ', requiresGrad=true' : ''})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** A contiguous copy with the same dtype (no autograd; ops/shape.ts wraps it for grads). */
export function contiguousCopy(t: Tensor, dtype: DType = t.dtype): Tensor {
  t.assertLive('contiguous');
  const out = Tensor.empty(t.shape.slice(), dtype, t.device);
  beginLayouts();
  out.putLayout();
  t.putLayout();
  native.unary(UNARY.cast, 0, 0, out.storage.buffer, t.storage.buffer);
  return out;
}

/** A copy of t on `device` (no autograd; ops/shape.ts toDevice records it). */
export function transferRaw(t: Tensor, device: Device): Tensor {
  t.assertLive('to');
  const src = t.isContiguous() ? t : contiguousCopy(t);
  const out = Tensor.empty(t.shape.slice(), t.dtype, device);
  try {
    beginLayouts();
    out.putLayout();
    src.putLayout();
    native.transfer(out.storage.buffer, src.storage.buffer);
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    if (src !== t) src.dispose();
  }
  return out;
}

export function normDim(dim: number, ndim: number, op: string): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) fail('ERR_INDEX', op, `dim in [${-n}, ${n - 1}]`, String(dim));
  return dim < 0 ? dim + n : dim;
}

// ---- tidy / keep / memory --------------------------------------------------------------

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (value instanceof Tensor) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collectTensors(v, into, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collectTensors(v, into, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
}

/**
 * Runs fn and disposes every tensor created inside it except the ones it returns (in arrays,
 * Maps or plain objects, nested) and the ones passed to dt.keep(). Returned tensors move to the
 * enclosing scope, if any. fn must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') fail('ERR_ARGUMENT', 'tidy', 'a function', typeof fn);
  scopes.push([]);
  let result: T;
  let created: Tensor[];
  try {
    result = fn();
  } finally {
    created = scopes.pop()!;
  }
  if (result instanceof Promise) {
    for (const t of created) if (!t.kept) t.dispose();
    fail('ERR_ARGUMENT', 'tidy', 'a synchronous function', 'a function returning a Promise');
  }
  const returned = new Set<Tensor>();
  collectTensors(result, returned);
  const outer = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  for (const t of created) {
    if (returned.has(t)) outer?.push(t);
    else if (!t.kept) t.dispose();
  }
  return result;
}

/** Exempts a tensor from disposal by every enclosing and future tidy(). */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}

/**
 * Live tensors and bytes: `{ numTensors, numBytes, numBytesInCache, devices: { cpu, cuda } }`.
 * numBytes counts the CPU; devices.cuda reports the CUDA caching allocator (rounded block sizes).
 */
export function memory() {
  const stats = native.memoryStats();
  const cached = cacheBytes();
  const liveTensors = liveTensorCount();
  const cudaTensors = liveCudaTensorCount();
  const cpu = {
    numTensors: liveTensors - cudaTensors,
    numBytes: stats.liveBytes - cached,
    numBytesInCache: cached,
    peakBytes: stats.peakBytes,
    numAllocations: stats.liveAllocations,
  };
  return {
    numTensors: liveTensors,
    numBytes: cpu.numBytes,
    numBytesInCache: cached,
    devices: { cpu, cuda: cudaMemoryEntry(cudaTensors) },
  };
}

function cudaMemoryEntry(numTensors: number) {
  if (!cudaAvailable()) return { numTensors: 0, numBytes: 0, numBytesInCache: 0, peakBytes: 0, numAllocations: 0 };
  const m = native.cudaMemory();
  return {
    numTensors,
    numBytes: m.allocated,
    numBytesInCache: m.reserved - m.allocated,
    peakBytes: m.peak,
    numAllocations: m.liveBlocks,
  };
}

// Creation ops: tensor (numbers, nested arrays, typed arrays), zeros ones full arange linspace
// eye rand randn randint randperm and the *Like forms; the seeded generator (native Philox).
import { describe, fail, fmtShape } from '../errors';
import { ARRAY_TYPES, checkDType, isFloat, ITEMSIZE, type DType, type TypedArray } from '../dtype';
import { Tensor, contiguousCopy, shapeNumel, transferRaw, type Shape } from '../tensor';
import { parseDevice } from '../device';
import { beginLayouts, native } from '../native';
import { checkShapeArg, fillRaw } from './helpers';
import type { Device } from '../storage';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  device?: Device;
}
export interface TensorOptions extends CreateOptions {
  /** The shape of a flat TypedArray or array (default: its length). */
  shape?: number[];
}

const checkDevice = parseDevice;

/** t moved to `device` (t itself when it is there; the CPU original is disposed). */
function onDevice(t: Tensor, device: Device): Tensor {
  if (t.device === device) return t;
  const moved = transferRaw(t, device);
  t.dispose();
  return moved;
}

function finish(t: Tensor, opts: CreateOptions | undefined, op: string): Tensor {
  if (opts?.requiresGrad) {
    if (!isFloat(t.dtype)) fail('ERR_DTYPE', op, 'a floating-point dtype for requiresGrad', t.dtype);
    t.requiresGrad = true;
  }
  return t;
}

function fromTyped(data: TypedArray, dtype: DType, shape: Shape): Tensor {
  const t = Tensor.empty(shape, dtype);
  const Ctor = ARRAY_TYPES[dtype];
  const view = new Ctor(t.storage.hostBuffer, 0, data.length) as TypedArray;
  if (dtype === 'bool') {
    const src = data as Uint8Array;
    const dst = view as Uint8Array;
    for (let i = 0; i < src.length; i++) dst[i] = src[i] ? 1 : 0;
  } else (view as any).set(data as any);
  return t;
}

function typedDType(data: TypedArray): DType | null {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return 'uint8';
  return null;
}

/** Shape and kind of nested arrays; ragged arrays and mixed kinds are rejected. */
function inspectNested(data: unknown[]): { shape: number[]; kind: 'number' | 'boolean' | 'bigint' } {
  const shape: number[] = [];
  let cur: unknown = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (shape.length > 16) fail('ERR_SHAPE', 'tensor', 'at most 16 levels of nesting', 'more');
    cur = cur[0];
  }
  const kind = cur === undefined ? 'number' : typeof cur;
  if (kind !== 'number' && kind !== 'boolean' && kind !== 'bigint')
    fail('ERR_ARGUMENT', 'tensor', 'numbers, booleans or bigints', describe(cur));
  const walk = (v: unknown, d: number, path: string) => {
    if (d === shape.length) {
      if (typeof v !== kind) fail('ERR_ARGUMENT', 'tensor', `a ${kind} at ${path || '[]'} like the first element`, describe(v));
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[d])
      fail('ERR_SHAPE', 'tensor', `a rectangular array: ${shape[d]} elements at ${path || 'the top level'}`, Array.isArray(v) ? `${v.length}` : describe(v));
    for (let i = 0; i < v.length; i++) walk(v[i], d + 1, `${path}[${i}]`);
  };
  walk(data, 0, '');
  return { shape, kind: kind as 'number' | 'boolean' | 'bigint' };
}

/**
 * dt.tensor(data, { dtype, requiresGrad, device, shape }): from a number, boolean, bigint,
 * nested arrays (ragged ones rejected), a TypedArray (keeps its type) or a Tensor (copied).
 * JS numbers default to float32.
 */
export function tensor(data: unknown, options: TensorOptions = {}): Tensor {
  const device = options.device === undefined && data instanceof Tensor ? data.device : checkDevice(options.device, 'tensor');
  const want = options.dtype === undefined ? undefined : checkDType(options.dtype, 'tensor');
  let t: Tensor;
  if (data instanceof Tensor) {
    data.assertLive('tensor');
    t = contiguousCopy(data, want ?? data.dtype);
  } else if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    const td = typedDType(data as TypedArray);
    if (td === null) fail('ERR_DTYPE', 'tensor', 'a Float32/Float64/Int32/BigInt64/Uint8 array', describe(data));
    const n = (data as TypedArray).length;
    const shape = options.shape ? checkShapeArg(options.shape, 'tensor') : [n];
    if (shapeNumel(shape) !== n) fail('ERR_SHAPE', 'tensor', `a shape of ${n} elements`, fmtShape(shape));
    t = fromTyped(data as TypedArray, td, shape);
    if (want && want !== td) {
      const c = contiguousCopy(t, want);
      t.dispose();
      t = c;
    }
  } else if (typeof data === 'number' || typeof data === 'boolean' || typeof data === 'bigint') {
    const dtype = want ?? (typeof data === 'boolean' ? 'bool' : typeof data === 'bigint' ? 'int64' : 'float32');
    t = Tensor.empty(options.shape ? checkShapeArg(options.shape, 'tensor') : [], dtype);
    if (t.numel() !== 1) fail('ERR_SHAPE', 'tensor', 'a shape of 1 element for a scalar', fmtShape(t.shape));
    fillRaw(t, Number(data));
  } else if (Array.isArray(data)) {
    const { shape, kind } = inspectNested(data);
    const flat = (data as unknown[]).flat(Infinity);
    const dtype = want ?? (kind === 'boolean' ? 'bool' : kind === 'bigint' ? 'int64' : 'float32');
    const finalShape = options.shape ? checkShapeArg(options.shape, 'tensor') : shape;
    if (shapeNumel(finalShape) !== flat.length) fail('ERR_SHAPE', 'tensor', `a shape of ${flat.length} elements`, fmtShape(finalShape));
    t = Tensor.empty(finalShape, dtype);
    const view = new ARRAY_TYPES[dtype](t.storage.hostBuffer, 0, flat.length);
    if (dtype === 'int64') for (let i = 0; i < flat.length; i++) (view as BigInt64Array)[i] = BigInt(Math.trunc(Number(flat[i])));
    else if (dtype === 'bool') for (let i = 0; i < flat.length; i++) (view as Uint8Array)[i] = flat[i] ? 1 : 0;
    else for (let i = 0; i < flat.length; i++) (view as any)[i] = Number(flat[i]);
  } else {
    fail('ERR_ARGUMENT', 'tensor', 'a number, boolean, nested array, TypedArray or Tensor', describe(data));
  }
  return finish(onDevice(t, device), options, 'tensor');
}

function shapeFrom(args: unknown, op: string): Shape {
  return checkShapeArg(args, op);
}

function filled(op: string, shape: number[] | number, value: number | boolean, options: CreateOptions): Tensor {
  const device = checkDevice(options.device, op);
  const dtype = options.dtype ? checkDType(options.dtype, op) : typeof value === 'boolean' ? 'bool' : 'float32';
  const t = Tensor.empty(shapeFrom(shape, op), dtype, device);
  if (t.numel() > 0) fillRaw(t, Number(value));
  return finish(t, options, op);
}
export const full = (shape: number[] | number, value: number | boolean, options: CreateOptions = {}): Tensor =>
  filled('full', shape, value, options);
export const zeros = (shape: number[] | number, options: CreateOptions = {}): Tensor => filled('zeros', shape, 0, options);
export const ones = (shape: number[] | number, options: CreateOptions = {}): Tensor => filled('ones', shape, 1, options);
/** Like zeros (dendrite never hands out uninitialised memory). */
export const empty = (shape: number[] | number, options: CreateOptions = {}): Tensor => filled('empty', shape, 0, options);
export const zerosLike = (t: Tensor, options: CreateOptions = {}): Tensor => full(t.shape.slice(), 0, { dtype: t.dtype, device: t.device, ...options });
export const onesLike = (t: Tensor, options: CreateOptions = {}): Tensor => full(t.shape.slice(), 1, { dtype: t.dtype, device: t.device, ...options });
export const fullLike = (t: Tensor, value: number, options: CreateOptions = {}): Tensor => full(t.shape.slice(), value, { dtype: t.dtype, device: t.device, ...options });

/** arange(end) or arange(start, end, step): [start, end) by step; float32 unless all integers... as PyTorch, int64 then. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const device = checkDevice(options.device, 'arange');
  if (end === undefined) [start, end] = [0, start];
  for (const v of [start, end, step])
    if (typeof v !== 'number' || !isFinite(v)) fail('ERR_ARGUMENT', 'arange', 'finite numbers', describe(v));
  if (step === 0) fail('ERR_ARGUMENT', 'arange', 'a nonzero step', '0');
  if ((end - start) / step < 0) fail('ERR_ARGUMENT', 'arange', 'a step that moves start toward end', `start ${start}, end ${end}, step ${step}`);
  const n = Math.ceil((end - start) / step);
  const allInt = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = options.dtype ? checkDType(options.dtype, 'arange') : allInt ? 'int64' : 'float32';
  const t = Tensor.empty([n], dtype, device);
  if (n > 0) {
    beginLayouts();
    t.putLayout();
    native.fillAffine(start, step, t.storage.buffer);
  }
  return finish(t, options, 'arange');
}

export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  const device = checkDevice(options.device, 'linspace');
  if (!Number.isInteger(steps) || steps < 0) fail('ERR_ARGUMENT', 'linspace', 'a non-negative integer number of steps', describe(steps));
  const dtype = options.dtype ? checkDType(options.dtype, 'linspace') : 'float32';
  const t = Tensor.empty([steps], dtype, device);
  if (steps === 1) fillRaw(t, start);
  else if (steps > 1) {
    beginLayouts();
    t.putLayout();
    native.fillAffine(start, (end - start) / (steps - 1), t.storage.buffer);
    // The last point is `end` exactly, as in PyTorch.
    const last = Tensor.view(t, [1], [1], steps - 1);
    fillRaw(last, end);
    last.dispose();
  }
  return finish(t, options, 'linspace');
}

export function eye(n: number, m: number = n, options: CreateOptions = {}): Tensor {
  const device = checkDevice(options.device, 'eye');
  const t = zeros([n, m], { dtype: options.dtype, device });
  const k = Math.min(n, m);
  if (k > 0) {
    const diag = Tensor.view(t, [k], [m + 1], 0);
    fillRaw(diag, 1);
    diag.dispose();
  }
  return finish(t, options, 'eye');
}

const RANDOM = { uniform: 0, normal: 1, int: 2, bernoulli: 3, permutation: 4 } as const;

/** Fills a contiguous tensor in place from the generator: U[a, b) or N(a, b^2). */
export function fillRandom(t: Tensor, kind: 'uniform' | 'normal', a: number, b: number): Tensor {
  if (!t.isContiguous()) fail('ERR_ARGUMENT', kind === 'uniform' ? 'uniform_' : 'normal_', 'a contiguous tensor', 'a strided view');
  return randomRaw(RANDOM[kind], a, b, t);
}

function randomRaw(kind: number, a: number, b: number, t: Tensor): Tensor {
  if (t.numel() === 0) return t;
  beginLayouts();
  t.putLayout();
  native.random(kind, a, b, t.storage.buffer);
  return t;
}

/** Seeds the one generator (Philox4x32-10, see native/cpu/random/random.h). */
export function manualSeed(seed: number | bigint): void {
  let s: bigint;
  if (typeof seed === 'bigint') s = seed;
  else if (typeof seed === 'number' && Number.isInteger(seed)) s = BigInt(seed);
  else fail('ERR_ARGUMENT', 'manualSeed', 'an integer seed', describe(seed));
  s = BigInt.asUintN(64, s);
  native.manualSeed(Number(s >> 32n), Number(s & 0xffffffffn));
}

function floatDType(options: CreateOptions, op: string): DType {
  const d = options.dtype ? checkDType(options.dtype, op) : 'float32';
  if (!isFloat(d)) fail('ERR_DTYPE', op, 'float32 or float64', d);
  return d;
}

export function rand(shape: number[] | number, options: CreateOptions = {}): Tensor {
  const device = checkDevice(options.device, 'rand');
  return finish(randomRaw(RANDOM.uniform, 0, 1, Tensor.empty(shapeFrom(shape, 'rand'), floatDType(options, 'rand'), device)), options, 'rand');
}

export function randn(shape: number[] | number, options: CreateOptions = {}): Tensor {
  const device = checkDevice(options.device, 'randn');
  return finish(randomRaw(RANDOM.normal, 0, 1, Tensor.empty(shapeFrom(shape, 'randn'), floatDType(options, 'randn'), device)), options, 'randn');
}

/** Integers in [low, high) (int64 by default). */
export function randint(low: number, high: number, shape: number[] | number, options: CreateOptions = {}): Tensor {
  const device = checkDevice(options.device, 'randint');
  if (!Number.isInteger(low) || !Number.isInteger(high)) fail('ERR_ARGUMENT', 'randint', 'integer bounds', `${describe(low)}, ${describe(high)}`);
  if (high <= low) fail('ERR_ARGUMENT', 'randint', 'low < high', `${low} >= ${high}`);
  const dtype = options.dtype ? checkDType(options.dtype, 'randint') : 'int64';
  return finish(randomRaw(RANDOM.int, low, high, Tensor.empty(shapeFrom(shape, 'randint'), dtype, device)), options, 'randint');
}

export function randperm(n: number, options: CreateOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) fail('ERR_ARGUMENT', 'randperm', 'a non-negative integer', describe(n));
  const device = checkDevice(options.device, 'randperm');
  const t = randomRaw(RANDOM.permutation, 0, 0, Tensor.empty([n], 'int64', device));
  if (options.dtype && options.dtype !== 'int64') {
    const c = contiguousCopy(t, checkDType(options.dtype, 'randperm'));
    t.dispose();
    return c;
  }
  return t;
}

export const randLike = (t: Tensor, options: CreateOptions = {}): Tensor => rand(t.shape.slice(), { dtype: t.dtype, device: t.device, ...options });
export const randnLike = (t: Tensor, options: CreateOptions = {}): Tensor => randn(t.shape.slice(), { dtype: t.dtype, device: t.device, ...options });

/** A tensor of 0/1 drawn with probability p (same shape and dtype as `like`). */
export function bernoulliLike(like: Tensor, p: number): Tensor {
  if (!(p >= 0 && p <= 1)) fail('ERR_ARGUMENT', 'bernoulli', 'a probability in [0, 1]', String(p));
  return randomRaw(RANDOM.bernoulli, p, 0, Tensor.empty(like.shape.slice(), like.dtype, like.device));
}

export const itemsize = (d: DType): number => ITEMSIZE[d];

// What every op file shares: argument coercion, broadcasting, dtype casts for compute, and
// the native call wrappers for the elementwise family.
import { describe, fail, fmtShape } from '../errors';
import { type DType, ITEMSIZE } from '../dtype';
import { Tensor, contiguousCopy, transferRaw, type Shape } from '../tensor';
import type { Device } from '../storage';
import { beginLayouts, native, putLayout, UNARY } from '../native';

export type Scalar = number | boolean;
export type TensorLike = Tensor | Scalar;

export function checkTensor(t: unknown, op: string, what = 'input'): Tensor {
  if (!(t instanceof Tensor)) fail('ERR_ARGUMENT', op, `a Tensor ${what}`, describe(t));
  t.assertLive(op);
  return t;
}

export function isScalar(v: unknown): v is Scalar {
  return typeof v === 'number' || typeof v === 'boolean';
}

export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): Shape {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1)
      fail('ERR_SHAPE', op, 'shapes that broadcast (equal, or 1, per trailing dim)', `${fmtShape(a)} and ${fmtShape(b)}`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** t's strides as seen from the broadcast shape `shape` (stride 0 on broadcast dims). */
export function broadcastStrides(t: Tensor, shape: readonly number[]): number[] {
  const n = shape.length, k = t.shape.length;
  const s = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const j = i - (n - k);
    s[i] = j < 0 || t.shape[j] !== shape[i] ? 0 : t.strides[j];
  }
  return s;
}

export function putBroadcast(t: Tensor, shape: readonly number[]): void {
  if (t.isDisposed) t.assertLive('op');
  putLayout(t.dtype, t.storage.deviceCode, t.offset, shape, broadcastStrides(t, shape));
}

/** t converted to dtype (a new tensor) or t itself; `temps` collects what the caller disposes. */
export function asDType(t: Tensor, dtype: DType, temps: Tensor[]): Tensor {
  if (t.dtype === dtype) return t;
  const c = contiguousCopy(t, dtype);
  temps.push(c);
  return c;
}

export function disposeAll(temps: Tensor[]): void {
  for (const t of temps) t.dispose();
}

/** out = unary op(x) elementwise, out a new contiguous tensor of dtype `outDType`. */
export function unaryRaw(code: number, x: Tensor, p0 = 0, p1 = 0, outDType: DType = x.dtype): Tensor {
  const out = Tensor.empty(x.shape.slice(), outDType, x.device);
  beginLayouts();
  out.putLayout();
  x.putLayout();
  native.unary(code, p0, p1, out.storage.buffer, x.storage.buffer);
  return out;
}

/** A float unary kernel: integer and bool inputs compute in float32 (torch.exp(int) is float). */
export function floatUnaryRaw(code: number, x: Tensor, p0 = 0, p1 = 0): Tensor {
  const temps: Tensor[] = [];
  try {
    return unaryRaw(code, asDType(x, x.dtype === 'float64' ? 'float64' : 'float32', temps), p0, p1);
  } finally {
    disposeAll(temps);
  }
}

/** out = binary op(a, b) with broadcasting; a and b of one dtype. */
export function binaryRaw(code: number, a: Tensor, b: Tensor, op: string, outDType: DType, p0 = 1, p1 = 0): Tensor {
  const shape = a.shape.length === b.shape.length && a.shape.every((s, i) => s === b.shape[i]) ? a.shape.slice() : broadcastShapes(a.shape, b.shape, op);
  const out = Tensor.empty(shape, outDType, a.device);
  beginLayouts();
  out.putLayout();
  putBroadcast(a, shape);
  putBroadcast(b, shape);
  native.binary(code, p0, p1, out.storage.buffer, a.storage.buffer, b.storage.buffer);
  return out;
}

/** out = binary op(t, s) (or op(s, t) when scalarFirst) with s converted to t's dtype. */
export function binaryScalarRaw(code: number, t: Tensor, s: number, scalarFirst: boolean, outDType: DType, p0 = 1, p1 = 0): Tensor {
  const out = Tensor.empty(t.shape.slice(), outDType, t.device);
  beginLayouts();
  out.putLayout();
  t.putLayout();
  native.binaryScalar(code, p0, p1, s, scalarFirst, out.storage.buffer, t.storage.buffer);
  return out;
}

/**
 * Copies src (broadcast to dst's shape, converted to dst's dtype) into the view dst; a source on
 * another device is brought over first, as torch's copy_.
 */
export function copyInto(dst: Tensor, src: Tensor): void {
  const moved = src.device === dst.device ? src : transferRaw(src, dst.device);
  try {
    beginLayouts();
    dst.putLayout();
    putBroadcast(moved, dst.shape);
    native.unary(UNARY.cast, 0, 0, dst.storage.buffer, moved.storage.buffer);
  } finally {
    if (moved !== src) moved.dispose();
  }
}

export function fillRaw(t: Tensor, value: number): void {
  beginLayouts();
  t.putLayout();
  native.fill(value, t.storage.buffer);
}

export function zerosRaw(shape: Shape, dtype: DType, device: Device = 'cpu'): Tensor {
  const t = Tensor.empty(shape, dtype, device);
  if (t.numel() > 0) fillRaw(t, 0);
  return t;
}

export function itemBytes(t: Tensor): number {
  return ITEMSIZE[t.dtype];
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function checkInt(v: unknown, op: string, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail('ERR_ARGUMENT', op, `an integer ${what}`, describe(v));
  return v;
}

export function checkShapeArg(shape: unknown, op: string): Shape {
  const s = typeof shape === 'number' ? [shape] : shape;
  if (!Array.isArray(s)) fail('ERR_ARGUMENT', op, 'a shape (array of non-negative integers)', describe(shape));
  if (s.length > 16) fail('ERR_SHAPE', op, 'at most 16 dims', `${s.length}`);
  for (const d of s)
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 2 ** 48)
      fail('ERR_SHAPE', op, 'a shape of non-negative integers', fmtShape(s as number[]));
  let n = 1;
  for (const d of s as number[]) n *= d;
  if (n > 2 ** 48) fail('ERR_SHAPE', op, 'fewer than 2^48 elements', fmtShape(s as number[]));
  return (s as number[]).slice();
}

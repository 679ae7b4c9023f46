// Views without copies (reshape view permute transpose squeeze unsqueeze expand narrow slice
// select flatten unflatten), contiguous, clone, detach and dtype casts.
import { describe, fail, fmtShape } from '../errors';
import { checkDType, isFloat, type DType } from '../dtype';
import { Tensor, contiguousCopy, contiguousStrides, normDim, shapeNumel, transferRaw, type Shape } from '../tensor';
import type { Device } from '../storage';
import { requireCuda } from '../device';
import { record } from '../autograd/node';
import { checkInt, checkTensor, copyInto, zerosRaw } from './helpers';
import { sumToShape } from './reduce';

function inferShape(x: Tensor, shape: readonly number[] | number, op: string): Shape {
  const s = typeof shape === 'number' ? [shape] : Array.isArray(shape) ? shape.slice() : fail('ERR_ARGUMENT', op, 'a shape array', describe(shape));
  let infer = -1, known = 1;
  for (let i = 0; i < s.length; i++) {
    const d = s[i];
    if (d === -1) {
      if (infer >= 0) fail('ERR_SHAPE', op, 'at most one -1 in the shape', fmtShape(s));
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) fail('ERR_SHAPE', op, 'a shape of non-negative integers (or one -1)', fmtShape(s));
    else known *= d;
  }
  const n = x.numel();
  if (infer >= 0) {
    if (known === 0 || n % known !== 0) fail('ERR_SHAPE', op, `a shape compatible with ${n} elements`, fmtShape(s));
    s[infer] = n / known;
  } else if (known !== n) fail('ERR_SHAPE', op, `a shape of ${n} elements (input ${fmtShape(x.shape)})`, `${fmtShape(s)} with ${known}`);
  if (s.length > 16) fail('ERR_SHAPE', op, 'at most 16 dims', String(s.length));
  return s;
}

/** Strides that let x's storage be seen with `shape`, or null when a copy is needed (PyTorch's computeStride). */
function viewStrides(x: Tensor, shape: Shape): number[] | null {
  if (x.isContiguous() || x.numel() === 0) return contiguousStrides(shape);
  const os = x.shape, ost = x.strides;
  const ns = new Array<number>(shape.length);
  let viewD = shape.length - 1;
  let chunkBase = ost[ost.length - 1];
  let tensorNumel = 1, viewNumel = 1;
  for (let td = os.length - 1; td >= 0; td--) {
    tensorNumel *= os[td];
    if (td === 0 || (os[td - 1] !== 1 && ost[td - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        ns[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (td > 0) {
        chunkBase = ost[td - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? ns : null;
}

export function view(x: Tensor, shape: readonly number[] | number): Tensor {
  checkTensor(x, 'view');
  const s = inferShape(x, shape, 'view');
  const st = viewStrides(x, s);
  if (st === null) fail('ERR_SHAPE', 'view', 'a view-compatible layout (use reshape, which copies)', `strides [${x.strides}] for ${fmtShape(x.shape)} -> ${fmtShape(s)}`);
  const out = Tensor.view(x, s, st, x.offset);
  return record(out, 'view', [x], (g) => [g.reshape(x.shape)]);
}

export function reshape(x: Tensor, shape: readonly number[] | number): Tensor {
  checkTensor(x, 'reshape');
  const s = inferShape(x, shape, 'reshape');
  const st = viewStrides(x, s);
  let out: Tensor;
  if (st !== null) out = Tensor.view(x, s, st, x.offset);
  else {
    const c = contiguousCopy(x);
    out = Tensor.view(c, s, contiguousStrides(s), 0);
    c.dispose();
  }
  return record(out, 'reshape', [x], (g) => [g.reshape(x.shape)]);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor(x, 'permute');
  if (!Array.isArray(dims) || dims.length !== x.ndim) fail('ERR_ARGUMENT', 'permute', `${x.ndim} dims`, describe(dims));
  const seen = new Array<boolean>(x.ndim).fill(false);
  const p = dims.map((d) => normDim(d, x.ndim, 'permute'));
  for (const d of p) {
    if (seen[d]) fail('ERR_ARGUMENT', 'permute', 'a permutation of the dims', `[${dims}]`);
    seen[d] = true;
  }
  const out = Tensor.view(x, p.map((d) => x.shape[d]), p.map((d) => x.strides[d]), x.offset);
  const inverse = new Array<number>(p.length);
  p.forEach((d, i) => (inverse[d] = i));
  return record(out, 'permute', [x], (g) => [g.permute(inverse)]);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  checkTensor(x, 'transpose');
  if (x.ndim < 2 && dim0 === 0 && dim1 === 0) return permute(x, x.ndim === 1 ? [0] : []);
  const a = normDim(dim0, x.ndim, 'transpose'), b = normDim(dim1, x.ndim, 'transpose');
  const p = x.shape.map((_, i) => i);
  p[a] = b;
  p[b] = a;
  return permute(x, p);
}

/** 2-D transpose (PyTorch's t(): 0-d and 1-d tensors come back as they are). */
export function t(x: Tensor): Tensor {
  checkTensor(x, 't');
  if (x.ndim > 2) fail('ERR_SHAPE', 't', 'a tensor of at most 2 dims', fmtShape(x.shape));
  return x.ndim < 2 ? permute(x, x.ndim === 1 ? [0] : []) : permute(x, [1, 0]);
}

export function squeeze(x: Tensor, dim?: number | number[]): Tensor {
  checkTensor(x, 'squeeze');
  const drop = new Set<number>();
  if (dim === undefined) x.shape.forEach((s, i) => s === 1 && drop.add(i));
  else for (const d of Array.isArray(dim) ? dim : [dim]) {
    const k = normDim(d, x.ndim, 'squeeze');
    if (x.ndim > 0 && x.shape[k] === 1) drop.add(k);
  }
  const shape = x.shape.filter((_, i) => !drop.has(i));
  const strides = x.strides.filter((_, i) => !drop.has(i));
  const out = Tensor.view(x, shape, strides, x.offset);
  return record(out, 'squeeze', [x], (g) => [g.reshape(x.shape)]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor(x, 'unsqueeze');
  const d = normDim(dim, x.ndim + 1, 'unsqueeze');
  const shape = x.shape.slice(), strides = x.strides.slice();
  const st = d < x.ndim ? x.strides[d] * x.shape[d] : 1;
  shape.splice(d, 0, 1);
  strides.splice(d, 0, st);
  const out = Tensor.view(x, shape, strides, x.offset);
  return record(out, 'unsqueeze', [x], (g) => [g.reshape(x.shape)]);
}

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, 'expand');
  if (!Array.isArray(shape) || shape.length < x.ndim) fail('ERR_SHAPE', 'expand', `a shape of at least ${x.ndim} dims`, describe(shape));
  const lead = shape.length - x.ndim;
  const outShape: number[] = [], strides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const j = i - lead;
    const want = shape[i];
    if (j < 0) {
      if (!Number.isInteger(want) || want < 0) fail('ERR_SHAPE', 'expand', 'non-negative sizes for new leading dims', fmtShape(shape));
      outShape.push(want);
      strides.push(0);
    } else {
      const have = x.shape[j];
      if (want === -1 || want === have) {
        outShape.push(have);
        strides.push(x.strides[j]);
      } else if (have === 1 && Number.isInteger(want) && want >= 0) {
        outShape.push(want);
        strides.push(0);
      } else fail('ERR_SHAPE', 'expand', `a shape ${fmtShape(x.shape)} can expand to`, fmtShape(shape));
    }
  }
  const out = Tensor.view(x, outShape, strides, x.offset);
  return record(out, 'expand', [x], (g) => [sumToShape(g, x.shape)]);
}

export const expandAs = (x: Tensor, other: Tensor): Tensor => expand(x, other.shape);

/** A sub-view; `scatter` turns a gradient of the view back into one of x (zeros elsewhere). */
function subview(x: Tensor, name: string, shape: Shape, strides: number[], offset: number, makeView: (base: Tensor) => Tensor): Tensor {
  const out = Tensor.view(x, shape, strides, offset);
  return record(out, name, [x], (g) => {
    const full = zerosRaw(x.shape.slice(), g.dtype, x.device);
    const region = makeView(full);
    copyInto(region, g);
    region.dispose();
    return [full];
  });
}

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  checkTensor(x, 'narrow');
  const d = normDim(dim, x.ndim, 'narrow');
  if (x.ndim === 0) fail('ERR_SHAPE', 'narrow', 'a tensor with at least 1 dim', '0-d');
  checkInt(start, 'narrow', 'start');
  checkInt(length, 'narrow', 'length');
  const size = x.shape[d];
  const s = start < 0 ? start + size : start;
  if (s < 0 || length < 0 || s + length > size)
    fail('ERR_INDEX', 'narrow', `start and length inside dim ${d} of size ${size}`, `start ${start}, length ${length}`);
  const shape = x.shape.slice();
  shape[d] = length;
  const off = x.offset + s * x.strides[d];
  return subview(x, 'narrow', shape, x.strides.slice(), off, (base) => {
    const bs = base.shape.slice();
    bs[d] = length;
    return Tensor.view(base, bs, base.strides.slice(), base.offset + s * base.strides[d]);
  });
}

/** x[start:end:step] along dim, Python slice semantics (clamped, negative indices count from the end). */
export function slice(x: Tensor, dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
  checkTensor(x, 'slice');
  if (x.ndim === 0) fail('ERR_SHAPE', 'slice', 'a tensor with at least 1 dim', '0-d');
  const d = normDim(dim, x.ndim, 'slice');
  if (!Number.isInteger(step) || step <= 0) fail('ERR_ARGUMENT', 'slice', 'a positive integer step', String(step));
  const size = x.shape[d];
  const clampIdx = (v: number | null | undefined, dflt: number) => {
    if (v === null || v === undefined) return dflt;
    checkInt(v, 'slice', 'index');
    const k = v < 0 ? v + size : v;
    return Math.min(Math.max(k, 0), size);
  };
  const s = clampIdx(start, 0), e = Math.max(clampIdx(end, size), s);
  const len = Math.ceil((e - s) / step);
  const shape = x.shape.slice();
  shape[d] = len;
  const strides = x.strides.slice();
  strides[d] = x.strides[d] * step;
  return subview(x, 'slice', shape, strides, x.offset + s * x.strides[d], (base) => {
    const bst = base.strides.slice();
    bst[d] = base.strides[d] * step;
    return Tensor.view(base, shape.slice(), bst, base.offset + s * base.strides[d]);
  });
}

/** x.select(dim, i): the slice at index i with dim removed (x[:, i] in Python). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  checkTensor(x, 'select');
  const d = normDim(dim, x.ndim, 'select');
  checkInt(index, 'select', 'index');
  const size = x.shape[d];
  if (index < -size || index >= size) fail('ERR_INDEX', 'select', `an index in [${-size}, ${size - 1}]`, String(index));
  const i = index < 0 ? index + size : index;
  const shape = x.shape.filter((_, k) => k !== d), strides = x.strides.filter((_, k) => k !== d);
  return subview(x, 'select', shape, strides, x.offset + i * x.strides[d], (base) =>
    Tensor.view(base, shape.slice(), base.strides.filter((_, k) => k !== d), base.offset + i * base.strides[d]),
  );
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor(x, 'flatten');
  if (x.ndim === 0) return reshape(x, [1]);
  const a = normDim(startDim, x.ndim, 'flatten'), b = normDim(endDim, x.ndim, 'flatten');
  if (a > b) fail('ERR_ARGUMENT', 'flatten', 'startDim <= endDim', `${startDim} > ${endDim}`);
  const shape = [...x.shape.slice(0, a), shapeNumel(x.shape.slice(a, b + 1)), ...x.shape.slice(b + 1)];
  return reshape(x, shape);
}

export function unflatten(x: Tensor, dim: number, sizes: readonly number[]): Tensor {
  checkTensor(x, 'unflatten');
  const d = normDim(dim, x.ndim, 'unflatten');
  // inferShape only reads the numel of this one-dim view; it is released right after.
  const dimView = Tensor.view(x, [x.shape[d]], [1], x.offset);
  let part: Shape;
  try {
    part = inferShape(dimView, sizes.slice(), 'unflatten');
  } finally {
    dimView.dispose();
  }
  return reshape(x, [...x.shape.slice(0, d), ...part, ...x.shape.slice(d + 1)]);
}

export function contiguous(x: Tensor): Tensor {
  checkTensor(x, 'contiguous');
  if (x.isContiguous()) return x;
  return clone(x);
}

export function clone(x: Tensor): Tensor {
  checkTensor(x, 'clone');
  const out = contiguousCopy(x);
  return record(out, 'clone', [x], (g) => [g]);
}

/** A tensor sharing x's storage, cut from the graph (requiresGrad false). */
export function detach(x: Tensor): Tensor {
  checkTensor(x, 'detach');
  return Tensor.view(x, x.shape.slice(), x.strides.slice(), x.offset);
}

/** x copied to `device` (x itself when it is there already); the gradient flows back to x's device. */
export function toDevice(x: Tensor, device: Device): Tensor {
  checkTensor(x, 'to');
  if (x.device === device) return x;
  if (device === 'cuda') requireCuda('to');
  const out = transferRaw(x, device);
  if (!isFloat(x.dtype)) return out;
  return record(out, 'to', [x], (g) => [toDevice(g, x.device)]);
}

/** x converted to dtype (x itself when it already has it); gradients flow between float types. */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor(x, 'to');
  checkDType(dtype, 'to');
  if (x.dtype === dtype) return x;
  const out = contiguousCopy(x, dtype);
  if (!isFloat(x.dtype) || !isFloat(dtype)) return out;
  return record(out, 'to', [x], (g) => [cast(g, x.dtype)]);
}

// Reductions over any dims with keepdim: sum mean prod max min argmax argmin var std logsumexp
// all any; and sumToShape, the broadcasting adjoint every backward uses.
import { fail, fmtShape } from '../errors';
import { isFloat, type DType } from '../dtype';
import { Tensor, normDim } from '../tensor';
import { noGrad, record } from '../autograd/node';
import { beginLayouts, native, REDUCE } from '../native';
import { asDType, checkTensor, disposeAll, zerosRaw } from './helpers';

export type Dims = number | number[] | null | undefined;

export interface ReduceOptions {
  keepdim?: boolean;
}
export interface VarOptions extends ReduceOptions {
  /** Bessel's correction: 1 (default) is unbiased, 0 the population variance. */
  correction?: number;
  unbiased?: boolean;
}

function reducedDims(x: Tensor, dims: Dims, op: string): boolean[] {
  const nd = x.ndim;
  const mask = new Array<boolean>(nd).fill(false);
  if (dims === undefined || dims === null || (Array.isArray(dims) && dims.length === 0)) return mask.fill(true);
  const list = Array.isArray(dims) ? dims : [dims];
  for (const d of list) {
    const k = normDim(d, nd, op);
    if (nd > 0) {
      if (mask[k]) fail('ERR_ARGUMENT', op, 'each dim at most once', `dim ${d} repeated`);
      mask[k] = true;
    }
  }
  return mask;
}

function outShape(x: Tensor, mask: boolean[], keepdim: boolean): number[] {
  const s: number[] = [];
  for (let d = 0; d < x.ndim; d++) {
    if (!mask[d]) s.push(x.shape[d]);
    else if (keepdim) s.push(1);
  }
  return s;
}

function maskBits(mask: boolean[]): number {
  let bits = 0;
  for (let d = 0; d < mask.length; d++) if (mask[d]) bits |= 1 << d;
  return bits;
}

function reduceRaw(op: string, x: Tensor, mask: boolean[], keepdim: boolean, outDType: DType, correction = 1, indices?: Tensor): Tensor {
  const out = Tensor.empty(outShape(x, mask, keepdim), outDType, x.device);
  beginLayouts();
  out.putLayout();
  x.putLayout();
  if (indices) indices.putLayout();
  native.reduce(REDUCE[op], maskBits(mask), correction, out.storage.buffer, x.storage.buffer, indices?.storage.buffer);
  return out;
}

function countReduced(x: Tensor, mask: boolean[]): number {
  let n = 1;
  for (let d = 0; d < x.ndim; d++) if (mask[d]) n *= x.shape[d];
  return n;
}

/** g (the reduced shape, keepdim or not) broadcast back over x's shape, as a view. */
function expandBack(g: Tensor, x: Tensor, mask: boolean[]): Tensor {
  const keep = x.shape.map((s, d) => (mask[d] ? 1 : s));
  return g.reshape(keep).expand(x.shape);
}

function parseKeep(keepdim: boolean | ReduceOptions | undefined): boolean {
  return typeof keepdim === 'boolean' ? keepdim : keepdim?.keepdim ?? false;
}

export function sum(x: Tensor, dim?: Dims, keepdim?: boolean | ReduceOptions): Tensor {
  checkTensor(x, 'sum');
  const mask = reducedDims(x, dim, 'sum');
  const out = reduceRaw('sum', x, mask, parseKeep(keepdim), isFloat(x.dtype) ? x.dtype : 'int64');
  return record(out, 'sum', [x], (g) => [expandBack(g, x, mask)]);
}

export function mean(x: Tensor, dim?: Dims, keepdim?: boolean | ReduceOptions): Tensor {
  checkTensor(x, 'mean');
  if (!isFloat(x.dtype)) fail('ERR_DTYPE', 'mean', 'a floating-point input (cast with .float())', x.dtype);
  const mask = reducedDims(x, dim, 'mean');
  const out = reduceRaw('mean', x, mask, parseKeep(keepdim), x.dtype);
  const n = countReduced(x, mask);
  return record(out, 'mean', [x], (g) => [expandBack(g.div(n), x, mask)]);
}

export function prod(x: Tensor, dim?: number | null, keepdim?: boolean | ReduceOptions): Tensor {
  checkTensor(x, 'prod');
  const mask = reducedDims(x, dim, 'prod');
  const out = reduceRaw('prod', x, mask, parseKeep(keepdim), isFloat(x.dtype) ? x.dtype : 'int64');
  return record(out, 'prod', [x], (g) => {
    // d prod / d x_i is the product of the other elements of x_i's line: prod / x_i where the
    // line has no zero; where it has exactly one, the product of the non-zero elements at that
    // zero and 0 elsewhere; with two or more zeros, 0 everywhere (as torch.prod's backward).
    const gFull = expandBack(g, x, mask);
    const isZero = x.eq(0);
    if (!isZero.any().item()) return [gFull.mul(expandBack(out, x, mask)).div(x)];
    const zerosInLine = expandBack(reduceRaw('sum', isZero, mask, true, 'int64'), x, mask);
    const othersAtZero = expandBack(reduceRaw('prod', x.where(isZero.logicalNot(), 1), mask, true, x.dtype), x, mask);
    const quotient = expandBack(out, x, mask).div(x.where(isZero.logicalNot(), 1));
    const local = quotient.where(zerosInLine.eq(0), othersAtZero.where(zerosInLine.eq(1).logicalAnd(isZero), 0));
    return [gFull.mul(local)];
  });
}

/** PyTorch's (values, indices) named tuple: destructure it or read .values / .indices. */
export type ValuesIndices = Omit<[Tensor, Tensor], 'values'> & { 0: Tensor; 1: Tensor; values: Tensor; indices: Tensor };

function extreme(op: 'max' | 'min', x: Tensor, dim?: number | null, keepdim?: boolean | ReduceOptions): Tensor | ValuesIndices {
  checkTensor(x, op);
  if (x.numel() === 0) fail('ERR_SHAPE', op, 'a non-empty tensor', `shape ${fmtShape(x.shape)}`);
  if (dim === undefined || dim === null) {
    const mask = reducedDims(x, null, op);
    const out = reduceRaw(op, x, mask, false, x.dtype);
    return record(out, op, [x], (g) => {
      // Ties share the gradient evenly, as torch.max() without dim; a NaN result came from
      // the NaNs, which share it then (NaN == NaN is false, so eq would find none).
      const hit = Number.isNaN(out.item()) ? x.ne(x) : x.eq(out);
      const count = hit.sum();
      return [hit.float().mul(g.div(count)).to(x.dtype)];
    });
  }
  const mask = reducedDims(x, dim, op);
  const keep = parseKeep(keepdim);
  const shape = outShape(x, mask, keep);
  const indices = Tensor.empty(shape.slice(), 'int64', x.device);
  const values = reduceRaw(op, x, mask, keep, x.dtype, 0, indices);
  const d = normDim(dim, x.ndim, op);
  record(values, op, [x], (g) => {
    const gk = keep ? g : g.unsqueeze(d);
    const ik = keep ? indices : indices.unsqueeze(d);
    return [scatterAddInto(zerosRaw(x.shape.slice(), g.dtype, x.device), d, ik, gk)];
  });
  const pair = [values, indices] as unknown as ValuesIndices;
  pair.values = values;
  pair.indices = indices;
  return pair;
}

function scatterAddInto(out: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  beginLayouts();
  out.putLayout();
  index.putLayout();
  src.putLayout();
  native.scatterAdd(dim, out.storage.buffer, index.storage.buffer, src.storage.buffer);
  return out;
}

export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean | ReduceOptions): ValuesIndices;
export function max(x: Tensor, dim?: number | null, keepdim?: boolean | ReduceOptions): Tensor | ValuesIndices {
  return extreme('max', x, dim, keepdim);
}
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean | ReduceOptions): ValuesIndices;
export function min(x: Tensor, dim?: number | null, keepdim?: boolean | ReduceOptions): Tensor | ValuesIndices {
  return extreme('min', x, dim, keepdim);
}

function argExtreme(op: 'argmax' | 'argmin', x: Tensor, dim?: number | null, keepdim?: boolean | ReduceOptions): Tensor {
  checkTensor(x, op);
  if (x.numel() === 0) fail('ERR_SHAPE', op, 'a non-empty tensor', `shape ${fmtShape(x.shape)}`);
  if (dim === undefined || dim === null) {
    const flat = x.reshape([-1]);
    const out = reduceRaw(op, flat, [true], false, 'int64');
    flat.dispose();
    return parseKeep(keepdim) ? out.reshape(x.shape.map(() => 1)) : out;
  }
  return reduceRaw(op, x, reducedDims(x, dim, op), parseKeep(keepdim), 'int64');
}
export const argmax = (x: Tensor, dim?: number | null, keepdim?: boolean | ReduceOptions): Tensor => argExtreme('argmax', x, dim, keepdim);
export const argmin = (x: Tensor, dim?: number | null, keepdim?: boolean | ReduceOptions): Tensor => argExtreme('argmin', x, dim, keepdim);

function parseVar(keepdim: boolean | VarOptions | undefined, options?: VarOptions): { keep: boolean; correction: number } {
  const o: VarOptions = typeof keepdim === 'object' ? keepdim : { ...(options ?? {}), keepdim: keepdim ?? options?.keepdim };
  const correction = o.correction ?? (o.unbiased === false ? 0 : 1);
  if (typeof correction !== 'number' || !(correction >= 0)) fail('ERR_ARGUMENT', 'var', 'a correction >= 0', String(correction));
  return { keep: o.keepdim ?? false, correction };
}

export function variance(x: Tensor, dim?: Dims, keepdim?: boolean | VarOptions, options?: VarOptions): Tensor {
  checkTensor(x, 'var');
  if (!isFloat(x.dtype)) fail('ERR_DTYPE', 'var', 'a floating-point input', x.dtype);
  const { keep, correction } = parseVar(keepdim, options);
  const mask = reducedDims(x, dim, 'var');
  const out = reduceRaw('var', x, mask, keep, x.dtype, correction);
  const n = countReduced(x, mask);
  return record(out, 'var', [x], (g) => {
    const centered = x.sub(x.mean(dim ?? null, true));
    return [expandBack(g, x, mask).mul(centered).mul(2 / Math.max(n - correction, 0))];
  });
}

export function std(x: Tensor, dim?: Dims, keepdim?: boolean | VarOptions, options?: VarOptions): Tensor {
  const v = variance(x, dim, keepdim, options);
  const out = noGrad(() => v.sqrt());
  // d std / d var = 1 / (2 std), taken as 0 where std is 0 (PyTorch's std_backward): sqrt's
  // own backward gives inf there, and inf times var's zero gradient is NaN.
  return record(out, 'std', [v], (g) => [g.div(out.mul(2)).where(out.ne(0), 0)]);
}

export function logsumexp(x: Tensor, dim: Dims, keepdim?: boolean | ReduceOptions): Tensor {
  checkTensor(x, 'logsumexp');
  const temps: Tensor[] = [];
  try {
    const xf = asDType(x, isFloat(x.dtype) ? x.dtype : 'float32', temps);
    const mask = reducedDims(xf, dim, 'logsumexp');
    const out = reduceRaw('logsumexp', xf, mask, parseKeep(keepdim), xf.dtype);
    return record(out, 'logsumexp', [x], (g) => [expandBack(g, x, mask).mul(x.sub(expandBack(out, x, mask)).exp())]);
  } finally {
    disposeAll(temps);
  }
}

export function all(x: Tensor, dim?: Dims, keepdim?: boolean | ReduceOptions): Tensor {
  checkTensor(x, 'all');
  return reduceRaw('all', x, reducedDims(x, dim, 'all'), parseKeep(keepdim), 'bool');
}
export function any(x: Tensor, dim?: Dims, keepdim?: boolean | ReduceOptions): Tensor {
  checkTensor(x, 'any');
  return reduceRaw('any', x, reducedDims(x, dim, 'any'), parseKeep(keepdim), 'bool');
}

/**
 * Sums g over the dims along which `shape` was broadcast to g's shape (leading extra dims and
 * dims of size 1), so a gradient gets its input's shape back. Returns g itself when no
 * reduction is needed.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  const gs = g.shape;
  if (gs.length === shape.length && gs.every((s, i) => s === shape[i])) return g;
  const lead = gs.length - shape.length;
  if (lead < 0) fail('ERR_SHAPE', 'sumToShape', `a gradient with at least ${shape.length} dims`, fmtShape(gs));
  const mask = gs.map((s, i) => i < lead || (shape[i - lead] === 1 && s !== 1));
  const summed = reduceRaw('sum', g, mask, true, g.dtype);
  if (lead === 0) return summed;
  const r = summed.reshape(shape.slice());
  summed.dispose();
  return r;
}

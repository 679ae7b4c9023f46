// Reading the PyTorch fixtures (scripts/gen_fixtures.py writes them) and turning their tensor
// specs into dendrite tensors; comparing tensors with a spec.
import * as fs from 'fs';
import * as dt from '../../dist/index.js';

type Tensor = dt.Tensor;
export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'bool';
export type Args = Record<string, any>;

/** One step of a view applied to a leaf before the op (same steps in the generator). */
export type ViewStep =
  | ['transpose', number, number]
  | ['permute', number[]]
  | ['slice', number, number | null, number | null, number]
  | ['expand', number[]]
  | ['select', number, number];

export interface TensorSpec {
  dtype: DType;
  shape: number[];
  /** Row-major values; non-finite floats as 'NaN', 'Infinity', '-Infinity'. */
  values: ArrayLike<number | string>;
  requiresGrad?: boolean;
  view?: ViewStep[];
}

export interface Case {
  name: string;
  op: string;
  args: Args;
  /** false: kinks, ties or non-finite values; no finite-difference check. */
  smooth: boolean;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  gradOutputs?: (TensorSpec | null)[];
  grads?: (TensorSpec | null)[];
}

export interface Tol {
  rtol: number;
  atol: number;
}

const cache = new Map<string, Case[]>();

export function loadCases(family: string): Case[] {
  let cases = cache.get(family);
  if (!cases) {
    const url = new URL(`../fixtures/${family}.json`, import.meta.url);
    cases = (JSON.parse(fs.readFileSync(url, 'utf8')) as { cases: Case[] }).cases;
    cache.set(family, cases);
  }
  return cases;
}

export function decode(v: number | string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`fixture: unexpected value ${JSON.stringify(v)}`);
}

export const isFloat = (d: string): boolean => d === 'float32' || d === 'float64';

/** A fresh contiguous leaf holding the spec's values (optionally in another float dtype). */
export function makeLeaf(spec: TensorSpec, dtype: DType = spec.dtype): Tensor {
  const n = spec.values.length;
  const vals = new Array<number>(n);
  for (let i = 0; i < n; i++) vals[i] = decode(spec.values[i]);
  let t: Tensor;
  switch (dtype) {
    case 'float32': t = dt.tensor(Float32Array.from(vals), { shape: spec.shape }); break;
    case 'float64': t = dt.tensor(Float64Array.from(vals), { shape: spec.shape }); break;
    case 'int32': t = dt.tensor(Int32Array.from(vals), { shape: spec.shape }); break;
    case 'int64': t = dt.tensor(BigInt64Array.from(vals.map((v) => BigInt(v))), { shape: spec.shape }); break;
    case 'uint8': t = dt.tensor(Uint8Array.from(vals), { shape: spec.shape }); break;
    case 'bool': t = dt.tensor(Uint8Array.from(vals), { shape: spec.shape, dtype: 'bool' }); break;
  }
  if (spec.requiresGrad && isFloat(dtype)) t.requiresGrad_(true);
  return t;
}

export function applyView(t: Tensor, view: ViewStep[] | undefined): Tensor {
  for (const step of view ?? []) {
    switch (step[0]) {
      case 'transpose': t = t.transpose(step[1], step[2]); break;
      case 'permute': t = t.permute(step[1]); break;
      case 'slice': t = t.slice(step[1], step[2], step[3], step[4]); break;
      case 'expand': t = t.expand(step[1]); break;
      case 'select': t = t.select(step[1], step[2]); break;
    }
  }
  return t;
}

/** The tensor's values as numbers (a copy; bools as 0/1, int64 through Number). */
export function valuesOf(t: Tensor): Float64Array {
  const d = t.dataSync();
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
}

export function close(a: number, e: number, tol: Tol): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  if (!Number.isFinite(e)) return a === e;
  if (!Number.isFinite(a)) return false;
  return Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
}

/** Indices (up to `limit`) where `actual` and `expected` differ beyond tol (exact for ints). */
export function mismatches(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol, exact: boolean, limit = 5): string[] {
  const out: string[] = [];
  if (actual.length !== expected.length) return [`length ${actual.length} vs ${expected.length}`];
  for (let i = 0; i < expected.length && out.length < limit; i++) {
    const ok = exact ? actual[i] === expected[i] || (Number.isNaN(actual[i]) && Number.isNaN(expected[i])) : close(actual[i], expected[i], tol);
    if (!ok) out.push(`[${i}] got ${actual[i]}, expected ${expected[i]}`);
  }
  return out;
}

/** Throws a readable error unless t matches spec in shape, dtype and values. */
export function assertMatches(t: Tensor, spec: TensorSpec, tol: Tol, what: string): void {
  if (t.shape.length !== spec.shape.length || t.shape.some((s, i) => s !== spec.shape[i]))
    throw new Error(`${what}: shape [${t.shape}], expected [${spec.shape}]`);
  if (t.dtype !== spec.dtype) throw new Error(`${what}: dtype ${t.dtype}, expected ${spec.dtype}`);
  const expected = Float64Array.from(Array.from(spec.values, decode));
  const bad = mismatches(valuesOf(t), expected, tol, !isFloat(spec.dtype));
  if (bad.length > 0) throw new Error(`${what}: values differ (rtol ${tol.rtol}, atol ${tol.atol}): ${bad.join('; ')}`);
}

/** Throws unless two tensors are identical in shape, dtype and values (NaN equals NaN). */
export function assertSame(a: Tensor, b: Tensor, what: string): void {
  if (a.shape.join() !== b.shape.join() || a.dtype !== b.dtype)
    throw new Error(`${what}: ${a.dtype}[${a.shape}] vs ${b.dtype}[${b.shape}]`);
  const bad = mismatches(valuesOf(a), valuesOf(b), { rtol: 0, atol: 0 }, true);
  if (bad.length > 0) throw new Error(`${what}: values differ: ${bad.join('; ')}`);
}

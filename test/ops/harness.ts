// Drives every row of the op table for one family:
//   (a) forward vs the PyTorch fixture (function form, and the method form giving the same);
//   (b) backward vs the fixture's gradients for its upstream gradient;
//   (c) dt.autograd.gradcheck (central differences, float64) on the smooth, small cases;
//   (d) every SIMD path in dt.cpuInfo().supportedPaths vs 'scalar' on generated inputs.
import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import {
  applyView, assertMatches, assertSame, isFloat, loadCases, makeLeaf, mismatches, valuesOf,
  type Case, type TensorSpec,
} from './fixtures';
import { OP_TABLE, Rng, rowsOf, SIMD_SIZES, type Family, type OpRow, type Out, type Sample } from './optable';

type Tensor = dt.Tensor;

const asList = (o: Out): Tensor[] => (Array.isArray(o) ? o : [o]);

/** Largest float input (elements) gradcheck is run on: it costs two evaluations per element. */
const GRADCHECK_MAX_NUMEL = 160;

function buildInputs(c: { inputs: TensorSpec[] }, dtypeOf?: (s: TensorSpec) => TensorSpec['dtype']) {
  const leaves = c.inputs.map((s) => makeLeaf(s, dtypeOf ? dtypeOf(s) : s.dtype));
  const xs = leaves.map((l, i) => applyView(l, c.inputs[i].view));
  return { leaves, xs };
}

/** Runs backward from the outputs with the given upstream gradients (one scalar root when several). */
function backwardFrom(outs: Tensor[], grads: (Tensor | null)[]): void {
  const pairs = outs.map((o, i) => [o, grads[i]] as const).filter((p) => p[1] !== null) as [Tensor, Tensor][];
  if (pairs.length === 1) pairs[0][0].backward(pairs[0][1]);
  else if (pairs.length > 1) pairs.map(([o, g]) => o.mul(g).sum()).reduce((s, t) => s.add(t)).backward();
}

function checkForwardBackward(row: OpRow, c: Case): void {
  dt.tidy(() => {
    const { leaves, xs } = buildInputs(c);
    const outs = asList(row.fn(xs, c.args));
    expect(outs.length, `${c.name}: number of outputs`).toBe(c.outputs.length);
    outs.forEach((o, i) => assertMatches(o, c.outputs[i], row.tol, `${c.name} output ${i}`));

    if (row.method) {
      const viaMethod = dt.noGrad(() => row.method!(xs, c.args));
      if (viaMethod !== undefined) {
        const m = asList(viaMethod);
        expect(m.length).toBe(outs.length);
        m.forEach((t, i) => assertSame(t, outs[i], `${c.name} method form, output ${i}`));
      }
    }

    if (!c.grads) return;
    const upstream = (c.gradOutputs ?? []).map((g) => (g ? makeLeaf({ ...g, requiresGrad: false }) : null));
    backwardFrom(outs, upstream);
    c.grads.forEach((g, i) => {
      if (g === null) return;
      const leaf = leaves[i];
      // An input with no elements may be left without a gradient (nothing to hold).
      if (leaf.grad === null && leaf.numel() === 0) return;
      if (leaf.grad === null) throw new Error(`${c.name}: input ${i} got no gradient`);
      assertMatches(leaf.grad, g, row.gradTol, `${c.name} grad of input ${i}`);
    });
  });
}

function gradcheckable(row: OpRow, c: Case): boolean {
  if (!row.gradcheck || !c.smooth || !c.grads) return false;
  let n = 0;
  for (const s of c.inputs) if (s.requiresGrad) n += s.values.length;
  return n > 0 && n <= GRADCHECK_MAX_NUMEL;
}

function checkGradcheck(row: OpRow, c: Case): void {
  dt.tidy(() => {
    const leaves = c.inputs.map((s) => makeLeaf(s, isFloat(s.dtype) ? 'float64' : s.dtype));
    const fn = (...ls: Tensor[]): Tensor => {
      const xs = ls.map((l, i) => applyView(l, c.inputs[i].view));
      // The differentiable outputs are the ones the fixture has an upstream gradient for.
      const outs = asList(row.fn(xs, c.args)).filter((_, i) => c.gradOutputs?.[i]);
      return outs.length === 1 ? outs[0] : dt.cat(outs.map((o) => o.reshape([-1])));
    };
    expect(dt.autograd.gradcheck(fn, leaves)).toBe(true);
  });
}

// ---- SIMD vs scalar -------------------------------------------------------------------------

interface RunResult {
  outputs: { dtype: string; shape: number[]; values: Float64Array }[];
  grads: (Float64Array | null)[];
}

function runSample(row: OpRow, s: Sample): RunResult {
  return dt.tidy(() => {
    const { leaves, xs } = buildInputs(s);
    const outs = asList(row.fn(xs, s.args));
    const result: RunResult = {
      outputs: outs.map((o) => ({ dtype: o.dtype, shape: o.shape.slice(), values: valuesOf(o) })),
      grads: leaves.map(() => null),
    };
    if (leaves.some((l) => l.requiresGrad)) {
      // The same upstream gradient on every path (a fresh generator per run).
      const r = new Rng(99);
      const ups = outs.map((o) => (o.requiresGrad ? dt.tensor(Float32Array.from({ length: o.numel() }, () => r.normal()), { shape: o.shape.slice() }).to(o.dtype) : null));
      backwardFrom(outs, ups);
      result.grads = leaves.map((l) => (l.grad ? valuesOf(l.grad) : null));
    }
    return result;
  });
}

function compareRuns(row: OpRow, s: Sample, path: string, ref: RunResult, got: RunResult): void {
  const tol = row.simdTol ?? { rtol: 1e-5, atol: 1e-6 };
  const what = `${row.op} ${s.label} on '${path}' vs 'scalar'`;
  expect(got.outputs.length, what).toBe(ref.outputs.length);
  ref.outputs.forEach((o, i) => {
    const g = got.outputs[i];
    expect(g.dtype, `${what}: output ${i} dtype`).toBe(o.dtype);
    expect(g.shape, `${what}: output ${i} shape`).toEqual(o.shape);
    const bad = mismatches(g.values, o.values, tol, !isFloat(o.dtype));
    if (bad.length) throw new Error(`${what}: output ${i}: ${bad.join('; ')}`);
  });
  ref.grads.forEach((r, i) => {
    const g = got.grads[i];
    if (r === null || g === null) {
      expect(g === null, `${what}: grad ${i} presence`).toBe(r === null);
      return;
    }
    const bad = mismatches(g, r, tol, false);
    if (bad.length) throw new Error(`${what}: grad of input ${i}: ${bad.join('; ')}`);
  });
}

function checkSimd(row: OpRow): void {
  const info = dt.cpuInfo();
  const original = info.path as 'scalar' | 'avx2' | 'avx512' | 'neon';
  const paths = info.supportedPaths.filter((p) => p !== 'scalar') as ('avx2' | 'avx512' | 'neon')[];
  const rng = new Rng(1234);
  let compared = 0;
  try {
    for (const n of row.simdSizes ?? SIMD_SIZES) {
      for (const s of row.samples!(n, rng)) {
        dt.cpu.setPath('scalar');
        const ref = runSample(row, s);
        for (const p of paths) {
          dt.cpu.setPath(p);
          expect(dt.cpuInfo().path).toBe(p);
          compareRuns(row, s, p, ref, runSample(row, s));
          compared++;
        }
      }
    }
  } finally {
    dt.cpu.setPath(original);
  }
  expect(dt.cpuInfo().path).toBe(original);
  // On a CPU with only the scalar path there is nothing to compare; elsewhere every sample ran.
  if (paths.length > 0) expect(compared).toBeGreaterThan(0);
}

// ---- the suite ------------------------------------------------------------------------------

export function runFamily(family: Family): void {
  const cases = loadCases(family);
  const rows = rowsOf(family);

  describe(`${family}: op table`, () => {
    it('has a row for every fixture op and fixtures for every row', () => {
      const fixtureOps = new Set(cases.map((c) => c.op));
      const rowOps = new Set(rows.map((r) => r.op));
      expect([...fixtureOps].filter((op) => !rowOps.has(op))).toEqual([]);
      expect([...rowOps].filter((op) => !fixtureOps.has(op))).toEqual([]);
      expect(new Set(OP_TABLE.map((r) => r.op)).size).toBe(OP_TABLE.length);
    });
  });

  for (const row of rows) {
    const mine = cases.filter((c) => c.op === row.op);
    describe(`${family}: ${row.op}`, () => {
      for (const c of mine) {
        it(`matches PyTorch: ${c.name}`, () => checkForwardBackward(row, c));
        if (gradcheckable(row, c)) it(`gradcheck: ${c.name}`, () => checkGradcheck(row, c));
      }
      if (row.simd) it(`SIMD paths match scalar (${(row.simdSizes ?? SIMD_SIZES).join(', ')})`, () => checkSimd(row));
    });
  }
}

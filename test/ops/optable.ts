// The op table: one row per op, saying how to call it in dendrite for a fixture case (function
// form and method form), the tolerances, whether finite differences apply (gradcheck), and
// whether its kernels have SIMD paths to compare with the scalar reference (simd), with the
// input generator those comparisons use. test/ops/harness.ts drives every row.
import * as dt from '../../dist/index.js';
import type { Args, DType, TensorSpec, Tol } from './fixtures';

type Tensor = dt.Tensor;
export type Out = Tensor | Tensor[];
export type Family = 'elementwise' | 'activation' | 'reduce' | 'shape' | 'join' | 'indexing' | 'linalg' | 'creation';

/** Inputs for a SIMD-vs-scalar comparison at one size. */
export interface Sample {
  label: string;
  inputs: TensorSpec[];
  args: Args;
}

export interface OpRow {
  op: string;
  family: Family;
  /** The function form: dt.op(...). */
  fn: (x: Tensor[], a: Args) => Out;
  /** The method form t.op(...), or undefined where the case has none (e.g. scalar first). */
  method?: (x: Tensor[], a: Args) => Out | undefined;
  /** Forward vs fixture (float outputs). */
  tol: Tol;
  /** Backward vs fixture. */
  gradTol: Tol;
  /** Central-difference check of the backward on the fixture's smooth cases. */
  gradcheck: boolean;
  /** Compare every SIMD path with 'scalar'. */
  simd: boolean;
  /** SIMD-vs-scalar inputs for size n (rows with simd: true). */
  samples?: (n: number, rng: Rng) => Sample[];
  /** Sizes for the SIMD comparison (default SIMD_SIZES). */
  simdSizes?: number[];
  simdTol?: Tol;
}

/** Body/tail sizes for 8- and 16-lane vectors, and one large enough to run on several threads. */
export const SIMD_SIZES = [1, 7, 8, 15, 16, 17, 33, 1000, 4099, 70001];

export const TOL: Tol = { rtol: 1e-5, atol: 1e-6 };
const GRAD_TOL: Tol = { rtol: 1e-4, atol: 1e-5 };
const SIMD_TOL: Tol = { rtol: 1e-5, atol: 1e-6 };

/** mulberry32: a small seeded generator, so every run sees the same inputs. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  normal(): number {
    const u = 1 - this.next(), v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

// ---- input generators for the SIMD comparisons -----------------------------------------

type Domain = [number, number] | 'normal' | 'away0';

function values(n: number, dom: Domain, r: Rng): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (dom === 'normal') out[i] = 3 * r.normal();
    else if (dom === 'away0') out[i] = r.uniform(0.25, 3) * (r.next() < 0.5 ? -1 : 1);
    else out[i] = r.uniform(dom[0], dom[1]);
  }
  return out;
}

/** NaN inside the vector body, ±Inf and a signed zero in the tail: every path must agree. */
function sprinkle(v: number[]): number[] {
  const n = v.length;
  if (n >= 8) {
    v[1] = NaN;
    v[n - 1] = Infinity;
    v[n - 2] = -Infinity;
    v[n - 3] = -0;
    v[n >> 1] = 0;
  }
  return v;
}

const spec = (shape: number[], vals: number[], dtype: DType = 'float32', requiresGrad = true): TensorSpec => ({
  dtype, shape, values: vals, requiresGrad,
});

function unarySamples(dom: Domain, argSets: Args[] = [{}]) {
  return (n: number, r: Rng): Sample[] => {
    const out: Sample[] = [];
    for (const args of argSets) {
      out.push({ label: `[${n}] ${JSON.stringify(args)}`, inputs: [spec([n], values(n, dom, r))], args });
      if (n >= 8) out.push({ label: `[${n}] specials ${JSON.stringify(args)}`, inputs: [spec([n], sprinkle(values(n, dom, r)))], args });
    }
    if (n >= 16 && n <= 4099) {
      const rows = 3, cols = Math.max(1, Math.floor(n / 4));
      out.push({
        label: `[${cols}, ${rows}]^T`,
        inputs: [{ ...spec([cols, rows], values(rows * cols, dom, r)), view: [['transpose', 0, 1]] }],
        args: argSets[0],
      });
    }
    return out;
  };
}

function binarySamples(domA: Domain, domB: Domain, opts: { grad?: boolean; scalar?: number | null; alpha?: number } = {}) {
  const g = opts.grad ?? true;
  const s = opts.scalar === undefined ? 1.75 : opts.scalar;
  return (n: number, r: Rng): Sample[] => {
    const a = () => spec([n], values(n, domA, r), 'float32', g);
    const b = () => spec([n], values(n, domB, r), 'float32', g);
    const out: Sample[] = [
      { label: `[${n}] op [${n}]`, inputs: [a(), b()], args: {} },
      { label: `[${n}] op [1]`, inputs: [a(), spec([1], values(1, domB, r), 'float32', g)], args: {} },
      { label: `[1] op [${n}]`, inputs: [spec([1], values(1, domA, r), 'float32', g), b()], args: {} },
    ];
    if (s !== null)
      out.push(
        { label: `[${n}] op scalar`, inputs: [a()], args: { scalar: s } },
        { label: `scalar op [${n}]`, inputs: [b()], args: { scalar: s, scalarFirst: true } },
      );
    if (opts.alpha !== undefined) out.push({ label: `[${n}] op [${n}] alpha`, inputs: [a(), b()], args: { alpha: opts.alpha } });
    if (n >= 8) out.push({ label: `[${n}] specials`, inputs: [spec([n], sprinkle(values(n, domA, r)), 'float32', g), b()], args: {} });
    if (n <= 4099) {
      const rows = 3;
      out.push({ label: `[${rows}, ${n}] op [${n}]`, inputs: [spec([rows, n], values(rows * n, domA, r), 'float32', g), b()], args: {} });
    }
    return out;
  };
}

// ---- row builders -------------------------------------------------------------------------

const DT = dt as unknown as Record<string, (...args: any[]) => any>;
const M = (t: Tensor, name: string, ...args: any[]): any => (t as any)[name](...args);

function row(op: string, family: Family, r: Partial<OpRow> & Pick<OpRow, 'fn'>): OpRow {
  return {
    op, family, tol: TOL, gradTol: GRAD_TOL, gradcheck: false, simd: false, ...r,
  };
}

function binaryRow(op: string, r: Partial<OpRow>): OpRow {
  const opts = (a: Args) => (a.alpha !== undefined ? { alpha: a.alpha } : undefined);
  return row(op, 'elementwise', {
    fn: (x, a) => ('scalar' in a ? (a.scalarFirst ? DT[op](a.scalar, x[0], opts(a)) : DT[op](x[0], a.scalar, opts(a))) : DT[op](x[0], x[1], opts(a))),
    method: (x, a) => ('scalar' in a ? (a.scalarFirst ? undefined : M(x[0], op, a.scalar, opts(a))) : M(x[0], op, x[1], opts(a))),
    simd: true,
    ...r,
  });
}

function unaryRow(op: string, family: Family, r: Partial<OpRow>): OpRow {
  return row(op, family, { fn: (x) => DT[op](x[0]), method: (x) => M(x[0], op), simd: true, ...r });
}

/** reductions called as (x, dim?, keepdim?) */
function reduceRow(op: string, r: Partial<OpRow>): OpRow {
  return row(op, 'reduce', {
    fn: (x, a) => DT[op](x[0], a.dim, a.keepdim),
    method: (x, a) => M(x[0], op, a.dim, a.keepdim),
    ...r,
  });
}

function reduceSamples(opts: { grad?: boolean; dom?: Domain; specials?: boolean; dims?: boolean } = {}) {
  const g = opts.grad ?? true, dom = opts.dom ?? 'normal';
  return (n: number, r: Rng): Sample[] => {
    const out: Sample[] = [{ label: `[${n}] full`, inputs: [spec([n], values(n, dom, r), 'float32', g)], args: {} }];
    if (opts.specials && n >= 8) out.push({ label: `[${n}] full specials`, inputs: [spec([n], sprinkle(values(n, dom, r)), 'float32', g)], args: {} });
    if (opts.dims !== false) {
      const m = Math.min(n, 4099);
      out.push({ label: `[3, ${m}] dim 1`, inputs: [spec([3, m], values(3 * m, dom, r), 'float32', g)], args: { dim: 1 } });
      out.push({ label: `[${m}, 5] dim 0`, inputs: [spec([m, 5], values(5 * m, dom, r), 'float32', g)], args: { dim: 0 } });
      if (n <= 1000) out.push({ label: `[${n}, 37] dim 0`, inputs: [spec([n, 37], values(37 * n, dom, r), 'float32', g)], args: { dim: 0 } });
      // Strided: the driver copies it to (kept, reduced) order first.
      out.push({ label: `[${m}, 3]^T dim 1`, inputs: [{ ...spec([m, 3], values(3 * m, dom, r), 'float32', g), view: [['transpose', 0, 1]] }], args: { dim: 1 } });
    }
    if (n === SIMD_SIZES[SIMD_SIZES.length - 1]) {
      // Long enough to be split over threads (chunks of 2^16) in the full reduction.
      const big = 2 * n + 7;
      out.push({ label: `[${big}] full`, inputs: [spec([big], values(big, dom, r), 'float32', g)], args: {} });
    }
    return out;
  };
}

function softmaxSamples(n: number, r: Rng): Sample[] {
  const rows = 4;
  const v = values(rows * n, 'normal', r);
  // One row of huge logits: must not overflow on any path.
  for (let i = 0; i < n; i++) v[n + i] = 1000 + 9 * r.next();
  const out: Sample[] = [{ label: `[${rows}, ${n}] dim -1`, inputs: [spec([rows, n], v)], args: { dim: -1 } }];
  if (n <= 4099) out.push({ label: `[${n}, 3] dim 0`, inputs: [spec([n, 3], values(3 * n, 'normal', r))], args: { dim: 0 } });
  if (n >= 8) {
    const w = values(2 * n, 'normal', r);
    w[3] = -Infinity;
    w[n + 2] = NaN;
    out.push({ label: `[2, ${n}] -inf and NaN`, inputs: [spec([2, n], w)], args: { dim: 1 } });
  }
  return out;
}

const MATMUL_SIZES = [1, 7, 17, 65];
function matmulSamples(n: number, r: Rng): Sample[] {
  const k = 2 * n + 1;
  return [
    { label: `[${n}, ${n}] @ [${n}, ${n}]`, inputs: [spec([n, n], values(n * n, 'normal', r)), spec([n, n], values(n * n, 'normal', r))], args: {} },
    { label: `[${n}, ${k}] @ [${k}, ${n}]`, inputs: [spec([n, k], values(n * k, 'normal', r)), spec([k, n], values(n * k, 'normal', r))], args: {} },
    {
      label: `[${k}, ${n}]^T @ [${n}, ${k}]^T`,
      inputs: [
        { ...spec([k, n], values(n * k, 'normal', r)), view: [['transpose', 0, 1]] },
        { ...spec([n, k], values(n * k, 'normal', r)), view: [['transpose', 0, 1]] },
      ],
      args: {},
    },
    { label: `[2, ${n}, ${n}] @ [${n}, 3]`, inputs: [spec([2, n, n], values(2 * n * n, 'normal', r)), spec([n, 3], values(3 * n, 'normal', r))], args: {} },
    { label: `[${n}] @ [${n}, ${n}]`, inputs: [spec([n], values(n, 'normal', r)), spec([n, n], values(n * n, 'normal', r))], args: {} },
  ];
}

/** Drops undefined keys so defaults apply. */
function defined(o: Args): Args {
  const out: Args = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/** max/min with a dim return [values, indices] that also carry .values and .indices. */
function valuesIndices(r: any): Tensor[] {
  if (!Array.isArray(r) || r.length !== 2 || r.values !== r[0] || r.indices !== r[1])
    throw new Error('expected [values, indices] with .values and .indices');
  return [r[0], r[1]];
}

// ---- the table ----------------------------------------------------------------------------

const rows: OpRow[] = [];

// elementwise: arithmetic (broadcasting, scalars both ways, alpha), extremum, comparisons.
rows.push(
  binaryRow('add', { gradcheck: true, samples: binarySamples('normal', 'normal', { alpha: 2.5 }) }),
  binaryRow('sub', { gradcheck: true, samples: binarySamples('normal', 'normal', { alpha: -0.5 }) }),
  binaryRow('mul', { gradcheck: true, samples: binarySamples('normal', 'normal') }),
  binaryRow('div', { gradcheck: true, samples: binarySamples('normal', 'away0') }),
  binaryRow('pow', { gradcheck: true, samples: binarySamples([0.2, 3], [-2, 2], { scalar: 2.5 }) }),
  binaryRow('maximum', { gradcheck: true, method: (x) => x[0].maximum(x[1]), samples: binarySamples('normal', 'normal', { scalar: null }) }),
  binaryRow('minimum', { gradcheck: true, method: (x) => x[0].minimum(x[1]), samples: binarySamples('normal', 'normal', { scalar: null }) }),
);
for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'])
  rows.push(binaryRow(op, { samples: binarySamples([-2, 2], [-2, 2], { grad: false, scalar: 0.5 }) }));

// elementwise: unary math. Domains keep the SIMD inputs where the functions are defined.
const UNARY: [string, Domain, boolean][] = [
  ['neg', 'normal', true], ['exp', [-10, 10], true], ['log', [0.01, 50], true], ['sqrt', [0, 50], true],
  ['abs', 'normal', true], ['sign', 'normal', true], ['square', 'normal', true], ['rsqrt', [0.05, 50], true],
  ['reciprocal', 'away0', true], ['sin', [-10, 10], true], ['cos', [-10, 10], true], ['log1p', [-0.99, 50], true],
  ['expm1', [-10, 10], true], ['erf', [-4, 4], true], ['floor', 'normal', true], ['ceil', 'normal', true],
  ['round', 'normal', true],
];
for (const [op, dom, gc] of UNARY) rows.push(unaryRow(op, 'elementwise', { gradcheck: gc, samples: unarySamples(dom) }));

rows.push(
  row('clamp', 'elementwise', {
    fn: (x, a) => dt.clamp(x[0], a.min, a.max),
    method: (x, a) => x[0].clamp(a.min, a.max),
    gradcheck: true,
    simd: true,
    samples: unarySamples('normal', [{ min: -1, max: 2 }, { min: 0.5 }, { max: -0.5 }, { min: 1, max: -1 }]),
  }),
  row('where', 'elementwise', {
    fn: (x, a) => dt.where(x[0], 'x' in a ? a.x : x[1], 'y' in a ? a.y : x[x.length - 1]),
    method: (x, a) => ('x' in a ? undefined : x[1].where(x[0], 'y' in a ? a.y : x[2])),
    gradcheck: true,
  }),
);

// activations (and dt.F) and softmax.
const ACT: [string, Args[]][] = [
  ['relu', [{}]], ['sigmoid', [{}]], ['tanh', [{}]], ['silu', [{}]],
  ['leakyRelu', [{}, { negativeSlope: 0.2 }]], ['softplus', [{}, { beta: 2, threshold: 5 }]],
  ['hardtanh', [{}, { minVal: -0.5, maxVal: 2 }]], ['gelu', [{}, { approximate: 'tanh' }]], ['elu', [{}, { alpha: 0.5 }]],
];
const actCall = (op: string, x: Tensor, a: Args, viaMethod: boolean): Tensor => {
  const call = (...args: any[]) => (viaMethod ? M(x, op, ...args) : DT[op](x, ...args));
  switch (op) {
    case 'leakyRelu': return call(a.negativeSlope);
    case 'softplus': return call(defined({ beta: a.beta, threshold: a.threshold }));
    case 'hardtanh': return call(a.minVal, a.maxVal);
    case 'gelu': return call(defined({ approximate: a.approximate }));
    case 'elu': return call(a.alpha);
    default: return call();
  }
};
for (const [op, argSets] of ACT) {
  rows.push(row(op, 'activation', {
    fn: (x, a) => actCall(op, x[0], a, false),
    method: (x, a) => actCall(op, x[0], a, true),
    gradcheck: true,
    simd: true,
    samples: unarySamples('normal', argSets),
  }));
}
for (const op of ['softmax', 'logSoftmax'])
  rows.push(row(op, 'activation', {
    fn: (x, a) => DT[op](x[0], a.dim),
    method: (x, a) => M(x[0], op, a.dim),
    gradcheck: true,
    simd: true,
    samples: softmaxSamples,
  }));

// reductions
const REDUCE_SIMD_TOL: Tol = { rtol: 1e-5, atol: 1e-4 };
rows.push(
  reduceRow('sum', { gradcheck: true, simd: true, samples: reduceSamples({ specials: true }), simdTol: REDUCE_SIMD_TOL }),
  reduceRow('mean', { gradcheck: true, simd: true, samples: reduceSamples({ specials: true }), simdTol: REDUCE_SIMD_TOL }),
  reduceRow('prod', { gradcheck: true, simd: true, samples: reduceSamples({ dom: [0.9, 1.1], dims: true }), simdSizes: [1, 7, 8, 15, 16, 17, 33, 1000] }),
  reduceRow('logsumexp', { gradcheck: true, simd: true, samples: (n, r) => reduceSamples({ specials: true })(n, r).filter((s) => 'dim' in s.args), tol: { rtol: 1e-5, atol: 1e-5 } }),
);
for (const op of ['max', 'min'])
  rows.push(row(op, 'reduce', {
    fn: (x, a) => ('dim' in a ? valuesIndices(DT[op](x[0], a.dim, a.keepdim)) : DT[op](x[0])),
    method: (x, a) => ('dim' in a ? valuesIndices(M(x[0], op, a.dim, a.keepdim)) : M(x[0], op)),
    gradcheck: true,
    simd: true,
    samples: reduceSamples({ specials: true }),
  }));
for (const op of ['argmax', 'argmin'])
  rows.push(reduceRow(op, { simd: true, samples: reduceSamples({ grad: false, specials: true }) }));
for (const op of ['var', 'std'])
  rows.push(row(op, 'reduce', {
    // Both calling conventions: (dim, { correction, keepdim }) and (dim, keepdim, { correction }).
    fn: (x, a) => DT[op](x[0], a.dim, defined({ correction: a.correction, keepdim: a.keepdim })),
    method: (x, a) => M(x[0], op, a.dim, a.keepdim ?? false, defined({ correction: a.correction })),
    gradcheck: true,
    simd: true,
    samples: reduceSamples(),
    simdTol: REDUCE_SIMD_TOL,
  }));
for (const op of ['all', 'any'])
  rows.push(reduceRow(op, { simd: true, samples: reduceSamples({ grad: false, dom: [-1, 1] }) }));

// views and copies
const shapeRow = (op: string, call: (t: Tensor, a: Args, viaMethod: boolean) => Out): OpRow =>
  row(op, 'shape', { fn: (x, a) => call(x[0], a, false), method: (x, a) => call(x[0], a, true), gradcheck: true });
const C = (t: Tensor, op: string, viaMethod: boolean, ...args: any[]) => (viaMethod ? M(t, op, ...args) : DT[op](t, ...args));
rows.push(
  shapeRow('reshape', (t, a, m) => C(t, 'reshape', m, a.shape)),
  shapeRow('view', (t, a, m) => C(t, 'view', m, a.shape)),
  shapeRow('permute', (t, a, m) => C(t, 'permute', m, a.dims)),
  shapeRow('transpose', (t, a, m) => C(t, 'transpose', m, a.dim0, a.dim1)),
  shapeRow('squeeze', (t, a, m) => C(t, 'squeeze', m, a.dim)),
  shapeRow('unsqueeze', (t, a, m) => C(t, 'unsqueeze', m, a.dim)),
  shapeRow('expand', (t, a, m) => C(t, 'expand', m, a.shape)),
  shapeRow('narrow', (t, a, m) => C(t, 'narrow', m, a.dim, a.start, a.length)),
  shapeRow('slice', (t, a, m) => C(t, 'slice', m, a.dim, a.start, a.end, a.step)),
  shapeRow('select', (t, a, m) => C(t, 'select', m, a.dim, a.index)),
  shapeRow('flatten', (t, a, m) => C(t, 'flatten', m, a.startDim, a.endDim)),
  shapeRow('contiguous', (t, _a, m) => C(t, 'contiguous', m)),
  row('to', 'shape', { fn: (x, a) => x[0].to(a.dtype), method: (x, a) => dt.cast(x[0], a.dtype), gradcheck: true }),
);

// joins
rows.push(
  row('cat', 'join', { fn: (x, a) => dt.cat(x, a.dim), gradcheck: true }),
  row('stack', 'join', { fn: (x, a) => dt.stack(x, a.dim), gradcheck: true }),
  row('split', 'join', { fn: (x, a) => dt.split(x[0], a.split, a.dim), method: (x, a) => x[0].split(a.split, a.dim), gradcheck: true }),
  row('chunk', 'join', { fn: (x, a) => dt.chunk(x[0], a.chunks, a.dim), method: (x, a) => x[0].chunk(a.chunks, a.dim), gradcheck: true }),
);

// indexing
rows.push(
  row('indexSelect', 'indexing', { fn: (x, a) => dt.indexSelect(x[0], a.dim, x[1]), method: (x, a) => x[0].indexSelect(a.dim, x[1]), gradcheck: true }),
  row('gather', 'indexing', { fn: (x, a) => dt.gather(x[0], a.dim, x[1]), method: (x, a) => x[0].gather(a.dim, x[1]), gradcheck: true }),
  row('scatterAdd', 'indexing', { fn: (x, a) => dt.scatterAdd(x[0], a.dim, x[1], x[2]), method: (x, a) => x[0].scatterAdd(a.dim, x[1], x[2]), gradcheck: true }),
);

// linear algebra
rows.push(row('matmul', 'linalg', {
  fn: (x) => dt.matmul(x[0], x[1]),
  method: (x) => x[0].matmul(x[1]),
  tol: { rtol: 1e-5, atol: 1e-5 },
  gradTol: { rtol: 1e-4, atol: 1e-4 },
  gradcheck: true,
  simd: true,
  samples: matmulSamples,
  simdSizes: MATMUL_SIZES,
  // Each path sums K products in its own order (register tiles, K blocks): float32 dot products
  // of K ~ 131 N(0,1) terms differ from float64 by ~1.5e-5 on every path, so paths may differ
  // from each other by twice that.
  simdTol: { rtol: 1e-4, atol: 1e-4 },
}));

// creation
rows.push(
  row('arange', 'creation', { fn: (_x, a) => dt.arange(a.args[0], a.args[1], a.args[2]) }),
  row('linspace', 'creation', { fn: (_x, a) => dt.linspace(a.start, a.end, a.steps) }),
  row('eye', 'creation', { fn: (_x, a) => dt.eye(a.args[0], a.args[1]) }),
);

export const OP_TABLE: readonly OpRow[] = rows;

export function rowsOf(family: Family): OpRow[] {
  return rows.filter((r) => r.family === family);
}

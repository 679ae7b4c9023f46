// SGEMM on every kernel path against a double-precision reference: every transpose, alpha/beta
// and leading-dimension combination over edge sizes, NaN/Inf propagation, the fused epilogue,
// and matmul / F.linear through the public API.
import { afterAll, describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

type Act = 'none' | 'relu' | 'sigmoid' | 'tanh' | 'gelu' | 'geluTanh';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(42);
const randArray = (n: number): Float32Array => Float32Array.from({ length: n }, () => rand() * 2 - 1);

function erf(x: number): number {
  // Series below 3 (terms stay under e^9, so no cancellation to speak of); above, erfc's
  // continued fraction evaluated from the tail.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t, term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = t;
  for (let n = 80; n >= 1; n--) f = t + n / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / f);
}
const activations: Record<Act, (x: number) => number> = {
  none: (x) => x,
  relu: (x) => (Number.isNaN(x) ? x : Math.max(x, 0)),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))),
};

interface Case {
  M: number; N: number; K: number; transA: boolean; transB: boolean; alpha: number; beta: number;
  padA: number; padB: number; padC: number; bias?: 'row' | 'col'; act?: Act; prepack?: 'a' | 'b';
}

/** Runs one case through dt.linalg.sgemm and checks every element against a float64 reference. */
function check(c: Case): void {
  const { M, N, K, transA, transB, alpha, beta } = c;
  const lda = Math.max(1, (transA ? M : K) + c.padA), ldb = Math.max(1, (transB ? K : N) + c.padB), ldc = Math.max(1, N + c.padC);
  const A = randArray(Math.max(1, (transA ? K : M) * lda)), B = randArray(Math.max(1, (transB ? N : K) * ldb));
  const C0 = randArray(Math.max(1, M * ldc));
  if (beta === 0) C0.fill(NaN); // beta == 0 must overwrite, ignoring NaN in C
  const bias = c.bias ? randArray(c.bias === 'row' ? M : N) : undefined;
  const C = C0.slice();
  dt.linalg.sgemm(M, N, K, A, B, C, { transA, transB, alpha, beta, lda, ldb, ldc, bias, biasPer: c.bias, activation: c.act, prepack: c.prepack });
  const f = activations[c.act ?? 'none'];
  let worst = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0, mag = 0;
      for (let k = 0; k < K; k++) {
        const p = (transA ? A[k * lda + i] : A[i * lda + k]) * (transB ? B[j * ldb + k] : B[k * ldb + j]);
        s += p;
        mag += Math.abs(p);
      }
      let ref = alpha * s, tol = 1e-5 * (Math.abs(alpha) * mag + 1) * Math.max(1, Math.sqrt(K) / 8);
      if (beta !== 0) {
        ref += beta * C0[i * ldc + j];
        tol += 1e-6 * Math.abs(beta * C0[i * ldc + j]);
      }
      if (bias) ref += bias[c.bias === 'row' ? i : j];
      const want = f(ref), got = C[i * ldc + j];
      const err = Math.abs(got - want) / (1.2 * tol + 2e-6 * Math.abs(want));
      if (!(err <= 1)) {
        throw new Error(`sgemm ${JSON.stringify(c)} on ${dt.cpuInfo().path}: C[${i},${j}] = ${got}, want ${want} (tol ${tol})`);
      }
      worst = Math.max(worst, err);
    }
    // Padding between rows of C is never written.
    for (let j = N; j < ldc && i < M - 1; j++) {
      if (!Object.is(C[i * ldc + j], C0[i * ldc + j])) throw new Error(`sgemm ${JSON.stringify(c)}: wrote C padding at [${i},${j}]`);
    }
  }
  expect(worst).toBeLessThanOrEqual(1);
}

const paths = dt.cpuInfo().supportedPaths as ('scalar' | 'avx2' | 'avx512' | 'neon')[];
const initialPath = dt.cpuInfo().path as 'scalar' | 'avx2' | 'avx512' | 'neon';
const initialThreads = dt.getNumThreads();
afterAll(() => {
  dt.cpu.setPath(initialPath);
  dt.setNumThreads(initialThreads);
});

// Sizes that hit every edge of the micro-tiles (1, 7, 15, 17, 63, 65, primes) and every branch
// of the driver: GEMV (M or N = 1), tiny, skinny K, several K blocks (K > kc), several M blocks.
const edgeSizes: [number, number, number][] = [
  [1, 1, 1], [1, 7, 5], [7, 1, 13], [2, 3, 4], [7, 15, 17], [17, 7, 15], [15, 17, 63], [63, 65, 7],
  [65, 63, 3], [13, 29, 1], [31, 37, 41], [64, 64, 64], [97, 33, 300], [1, 1000, 67], [1000, 1, 61],
  [300, 257, 600], [40, 50, 1100], [3, 8300, 20], [1000, 15, 17], [33, 1000, 9], [5, 3, 0], [0, 4, 5],
];

describe.each(paths)('sgemm on the %s path', (path) => {
  it('matches the reference for every transpose / alpha / beta / ld combination', () => {
    dt.cpu.setPath(path);
    for (const threads of [1, 2]) {
      dt.setNumThreads(threads);
      let n = 0;
      for (const [M, N, K] of edgeSizes) {
        const big = M * N * K > 100000;
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            // Big shapes: one alpha/beta per transpose pair; small ones: all of them.
            const ab: [number, number][] = big ? [[n % 2 ? 1.5 : 1, n % 3 ? 0 : -0.5]] : [[1, 0], [-0.75, 1], [2, 0.5], [0, 0.25]];
            for (const [alpha, beta] of ab) {
              check({ M, N, K, transA, transB, alpha, beta, padA: n % 3, padB: (n + 1) % 4, padC: n % 2 ? 3 : 0 });
              n++;
            }
          }
        }
      }
    }
  });

  it('fuses bias (per row or column) and activations in the epilogue', () => {
    dt.cpu.setPath(path);
    dt.setNumThreads(2);
    const acts: Act[] = ['none', 'relu', 'sigmoid', 'tanh', 'gelu', 'geluTanh'];
    const shapes: [number, number, number][] = [[1, 70, 33], [70, 1, 33], [9, 11, 5], [31, 47, 3], [45, 67, 700], [130, 40, 70]];
    let n = 0;
    for (const act of acts) {
      for (const [M, N, K] of shapes) {
        for (const bias of [undefined, 'row', 'col'] as const) {
          check({ M, N, K, transA: n % 2 === 1, transB: n % 3 === 1, alpha: n % 2 ? 1 : 0.5, beta: n % 4 === 0 ? 0.5 : 0, padA: 1, padB: 0, padC: 2, bias, act });
          n++;
        }
      }
    }
  });

  it.each(['a', 'b'] as const)('matches the reference with op(%s) prepacked, for every transpose and edge size', (prepack) => {
    dt.cpu.setPath(path);
    // Above K = kc the packed operand holds several K blocks; M or N = 1 and tiny or skinny-K
    // shapes, which plain sgemm sends down unpacked paths, run exact-height edge tiles here.
    const sizes: [number, number, number][] = [...edgeSizes, [2, 40, 2100], [30, 200, 700], [8, 300, 256], [20, 70, 1100], [3, 5, 1500]];
    for (const threads of [1, 2]) {
      dt.setNumThreads(threads);
      let n = 0;
      for (const [M, N, K] of sizes) {
        const big = M * N * K > 100000;
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const ab: [number, number][] = big ? [[n % 2 ? 1.5 : 1, n % 3 ? 0 : -0.5]] : [[1, 0], [-0.75, 1], [0, 0.25]];
            for (const [alpha, beta] of ab) {
              check({ M, N, K, transA, transB, alpha, beta, padA: n % 3, padB: (n + 1) % 4, padC: n % 2 ? 3 : 0, prepack });
              n++;
            }
          }
        }
      }
    }
  });

  it('fuses the epilogue and propagates NaN with a prepacked operand', () => {
    dt.cpu.setPath(path);
    dt.setNumThreads(2);
    const acts: Act[] = ['none', 'relu', 'sigmoid', 'tanh', 'gelu', 'geluTanh'];
    let n = 0;
    for (const act of acts) {
      for (const [M, N, K] of [[1, 70, 33], [70, 1, 33], [9, 11, 5], [45, 67, 700]] as [number, number, number][]) {
        for (const bias of [undefined, 'row', 'col'] as const) {
          check({ M, N, K, transA: n % 2 === 1, transB: n % 3 === 1, alpha: n % 2 ? 1 : 0.5, beta: n % 4 === 0 ? 0.5 : 0, padA: 1, padB: 0, padC: 2, bias, act, prepack: n % 2 ? 'a' : 'b' });
          n++;
        }
      }
    }
    for (const prepack of ['a', 'b'] as const) {
      for (const [M, N, K] of [[1, 40, 9], [40, 1, 9], [5, 6, 7], [37, 70, 600]] as [number, number, number][]) {
        const A = new Float32Array(M * K), B = new Float32Array(K * N), C = new Float32Array(M * N);
        A[(M - 1) * K + (K - 1)] = NaN;
        B[0] = Infinity;
        dt.linalg.sgemm(M, N, K, A, B, C, { prepack });
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            const nan = i === M - 1 || j === 0;
            if (nan !== Number.isNaN(C[i * N + j])) throw new Error(`${path} prepack ${prepack} ${M}x${N}x${K}: C[${i},${j}] = ${C[i * N + j]}`);
          }
        }
      }
    }
  });

  it('propagates NaN and Inf (no skipping of zeros)', () => {
    dt.cpu.setPath(path);
    dt.setNumThreads(1);
    for (const [M, N, K] of [[1, 40, 9], [40, 1, 9], [5, 6, 7], [37, 70, 300], [20, 33, 3]] as [number, number, number][]) {
      const A = new Float32Array(M * K), B = new Float32Array(K * N), C = new Float32Array(M * N);
      A[(M - 1) * K + (K - 1)] = NaN; // row M-1 of A: NaN * 0 must give NaN in all of row M-1
      B[0] = Infinity; // Inf * 0 gives NaN in column 0 for every row
      dt.linalg.sgemm(M, N, K, A, B, C);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          const nan = i === M - 1 || j === 0;
          if (nan !== Number.isNaN(C[i * N + j])) throw new Error(`${path} ${M}x${N}x${K}: C[${i},${j}] = ${C[i * N + j]}`);
        }
      }
      // beta = 0 ignores NaN in C; alpha = 0 does not read A or B.
      const C2 = new Float32Array(M * N).fill(NaN);
      dt.linalg.sgemm(M, N, K, A, B, C2, { alpha: 0, beta: 0 });
      expect(C2.every((v) => v === 0)).toBe(true);
    }
  });
});

function tensorFrom(data: Float32Array, shape: number[]): dt.Tensor {
  return dt.tensor(data, { shape });
}

/** Reference batched matmul on row-major copies (shapes already broadcast). */
function refMatmul(a: dt.Tensor, b: dt.Tensor): { data: Float64Array; shape: number[] } {
  const av = a.contiguous().dataSync(), bv = b.contiguous().dataSync();
  const M = a.shape[a.ndim - 2], K = a.shape[a.ndim - 1], N = b.shape[b.ndim - 1];
  const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
  const nd = Math.max(batchA.length, batchB.length);
  const pad = (s: number[]) => [...Array(nd - s.length).fill(1), ...s];
  const ba = pad(batchA), bb = pad(batchB), batch = ba.map((x, i) => Math.max(x, bb[i]));
  const total = batch.reduce((x, y) => x * y, 1);
  const out = new Float64Array(total * M * N);
  for (let t = 0; t < total; t++) {
    let rem = t, ia = 0, ib = 0, sa = 1, sb = 1;
    for (let d = nd - 1; d >= 0; d--) {
      const idx = rem % batch[d];
      rem = Math.floor(rem / batch[d]);
      ia += (ba[d] === 1 ? 0 : idx) * sa;
      ib += (bb[d] === 1 ? 0 : idx) * sb;
      sa *= ba[d];
      sb *= bb[d];
    }
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += av[ia * M * K + i * K + k] * bv[ib * K * N + k * N + j];
        out[t * M * N + i * N + j] = s;
      }
  }
  return { data: out, shape: [...batch, M, N] };
}

function expectClose(got: dt.Tensor, want: { data: Float64Array; shape: number[] }, tol = 1e-4): void {
  expect(got.shape).toEqual(want.shape);
  const g = got.dataSync();
  for (let i = 0; i < want.data.length; i++) {
    if (!(Math.abs(g[i] - want.data[i]) <= tol * (1 + Math.abs(want.data[i])))) throw new Error(`element ${i}: ${g[i]} vs ${want.data[i]}`);
  }
}

describe.each(paths)('matmul on the %s path', (path) => {
  it('handles batches, broadcast batches and transposed views', () => {
    dt.cpu.setPath(path);
    dt.setNumThreads(2);
    const cases: [number[], number[]][] = [
      [[2, 3, 17, 33], [2, 3, 33, 15]], // strided batch
      [[3, 20, 65], [65, 7]], // broadcast of b
      [[1, 9, 8], [4, 8, 31]], // broadcast of a
      [[64, 8, 8], [64, 8, 8]], // many small matrices: batch-parallel path
      [[4, 1, 50], [4, 50, 70]], // batched GEMV
      [[2, 130, 300], [2, 300, 90]],
    ];
    for (const [sa, sb] of cases) {
      const a = tensorFrom(randArray(sa.reduce((x, y) => x * y, 1)), sa);
      const b = tensorFrom(randArray(sb.reduce((x, y) => x * y, 1)), sb);
      expectClose(dt.matmul(a, b), refMatmul(a, b));
      // The same product from transposed views (column-major operands, no copy).
      const at = a.transpose(-1, -2).contiguous().transpose(-1, -2), bt = b.transpose(-1, -2).contiguous().transpose(-1, -2);
      expectClose(dt.matmul(at, bt), refMatmul(a, b));
    }
  });
});

describe('F.linear', () => {
  it('matches x @ W^T + b, with and without bias, for 1-D to 3-D inputs', () => {
    for (const path of paths) {
      dt.cpu.setPath(path);
      for (const xs of [[7], [5, 7], [2, 3, 7], [1, 130]] as number[][]) {
        const K = xs[xs.length - 1], N = 19;
        const x = tensorFrom(randArray(xs.reduce((a, b) => a * b, 1)), xs);
        const w = tensorFrom(randArray(N * K), [N, K]);
        const b = tensorFrom(randArray(N), [N]);
        for (const withBias of [false, true]) {
          const y = dt.F.linear(x, w, withBias ? b : undefined);
          const ref = dt.matmul(x, w.transpose(0, 1));
          const want = withBias ? dt.add(ref, b) : ref;
          expect(y.shape).toEqual(want.shape);
          const yv = y.dataSync(), wv = want.dataSync();
          for (let i = 0; i < wv.length; i++) expect(Math.abs(yv[i] - wv[i])).toBeLessThan(1e-5 * (1 + Math.abs(wv[i])));
        }
        // A transposed (column-major) weight view is read without a copy.
        const wt = w.transpose(0, 1).contiguous().transpose(0, 1);
        const y2 = dt.F.linear(x, wt, b), y1 = dt.F.linear(x, w, b);
        const v1 = y1.dataSync(), v2 = y2.dataSync();
        for (let i = 0; i < v1.length; i++) expect(Math.abs(v2[i] - v1[i])).toBeLessThan(1e-5 * (1 + Math.abs(v1[i])));
      }
    }
    dt.cpu.setPath(initialPath);
  });

  it('has gradients that pass gradcheck (float64) and agree in float32', () => {
    const x = dt.randn([2, 3, 5], { dtype: 'float64', requiresGrad: true });
    const w = dt.randn([4, 5], { dtype: 'float64', requiresGrad: true });
    const b = dt.randn([4], { dtype: 'float64', requiresGrad: true });
    expect(dt.autograd.gradcheck((xx, ww, bb) => dt.F.linear(xx, ww, bb), [x, w, b])).toBe(true);
    expect(dt.autograd.gradcheck((xx, ww) => dt.F.linear(xx, ww), [x, w])).toBe(true);

    // float32: the fused forward's backward equals the composed one's.
    const x32 = dt.randn([3, 6, 9], { requiresGrad: true });
    const w32 = dt.randn([11, 9], { requiresGrad: true });
    const b32 = dt.randn([11], { requiresGrad: true });
    const g = dt.randn([3, 6, 11]);
    dt.F.linear(x32, w32, b32).backward(g);
    const [gx, gw, gb] = [x32.grad!, w32.grad!, b32.grad!].map((t) => t.clone());
    x32.grad = w32.grad = b32.grad = null;
    dt.add(dt.matmul(x32, w32.transpose(0, 1)), b32).backward(g);
    for (const [got, want] of [[gx, x32.grad!], [gw, w32.grad!], [gb, b32.grad!]] as [dt.Tensor, dt.Tensor][]) {
      expect(got.shape).toEqual(want.shape);
      const a = got.dataSync(), e = want.dataSync();
      for (let i = 0; i < e.length; i++) expect(Math.abs(a[i] - e[i])).toBeLessThan(1e-4 * (1 + Math.abs(e[i])));
    }
  });

  it('rejects mismatched shapes with ERR_SHAPE', () => {
    const x = dt.randn([2, 5]);
    expect(() => dt.F.linear(x, dt.randn([3, 4]))).toThrow(/linear/);
    expect(() => dt.F.linear(x, dt.randn([3, 5]), dt.randn([4]))).toThrow(/bias/);
    expect(() => dt.linalg.sgemm(4, 4, 4, new Float32Array(15), new Float32Array(16), new Float32Array(16))).toThrow(/sgemm/);
    expect(() => dt.linalg.sgemm(4, 4, 4, new Float32Array(16), new Float32Array(16), new Float32Array(16), { lda: 3 })).toThrow(/lda/);
    // @ts-expect-error: an invalid prepack choice is rejected with a clear message
    expect(() => dt.linalg.sgemm(4, 4, 4, new Float32Array(16), new Float32Array(16), new Float32Array(16), { prepack: 'c' })).toThrow(/prepack/);
  });
});

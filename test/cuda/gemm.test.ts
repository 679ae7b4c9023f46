// The CUDA SGEMM against the CPU one: every transpose combination, alpha / beta, leading
// dimensions, odd sizes across tile edges, the fused bias + activation epilogue, the GEMV
// shapes, batched and broadcast matmul, linear, and the other dtypes' generic kernel; split-K on
// the shapes whose tile grid cannot fill the GPU, and the shapes that must not split.
import { createRequire } from 'module';
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { compareDevices, describeCuda, hasGpu, randomTensor, seeded } from './helpers';

const { native } = createRequire(import.meta.url)('../../dist/native.js');

function floats(n: number, seed: number): Float32Array {
  const rng = seeded(seed);
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
}

function gemmCase(M: number, N: number, K: number, o: Record<string, any>, seed: number): void {
  const lda = o.lda ?? Math.max(1, o.transA ? M : K), ldb = o.ldb ?? Math.max(1, o.transB ? K : N), ldc = o.ldc ?? Math.max(1, N);
  const A = floats(Math.max(1, (o.transA ? K : M) * lda), seed);
  const B = floats(Math.max(1, (o.transB ? N : K) * ldb), seed + 1);
  // nanC: beta = 0 must ignore C's contents, NaN included.
  const C0 = o.nanC ? new Float32Array(Math.max(1, M * ldc)).fill(NaN) : floats(Math.max(1, M * ldc), seed + 2);
  const biasLen = o.biasPer === 'row' ? M : N;
  const bias = o.bias ? floats(Math.max(1, biasLen), seed + 3) : undefined;
  const want = C0.slice();
  dt.linalg.sgemm(M, N, K, A, B, want, { ...o, nanC: undefined, bias });
  const Ad = dt.tensor(A, { device: 'cuda' }), Bd = dt.tensor(B, { device: 'cuda' }), Cd = dt.tensor(C0, { device: 'cuda' });
  const biasd = bias ? dt.tensor(bias, { device: 'cuda' }) : undefined;
  dt.cuda.sgemm(M, N, K, Ad, Bd, Cd, { ...o, nanC: undefined, bias: undefined, biasTensor: biasd });
  const got = Cd.dataSync() as Float32Array;
  const tol = 1e-5 * Math.max(1, K);
  for (let i = 0; i < want.length; i++)
    if (!(Math.abs(got[i] - want[i]) <= tol + 1e-5 * Math.abs(want[i])))
      expect.fail(`sgemm M${M} N${N} K${K} ${JSON.stringify({ ...o, bias: !!o.bias })}: C[${i}] expected ${want[i]}, got ${got[i]}`);
  for (const t of [Ad, Bd, Cd, biasd]) t?.dispose();
}

describeCuda('cuda sgemm', () => {
  it('every transpose combination, alpha, beta and leading dimensions, across tile edges', () => {
    const sizes: Array<[number, number, number]> = [
      [1, 1, 1], [7, 7, 7], [33, 33, 33], [128, 128, 16], [129, 127, 17], [200, 1, 64], [1, 300, 65],
      [257, 130, 1000], [64, 1000, 7], [1000, 33, 3],
    ];
    let seed = 1;
    for (const [M, N, K] of sizes)
      for (const transA of [false, true])
        for (const transB of [false, true]) {
          gemmCase(M, N, K, { transA, transB }, seed++);
          gemmCase(M, N, K, { transA, transB, alpha: -0.75, beta: 0.5 }, seed++);
          gemmCase(M, N, K, { transA, transB, lda: (transA ? M : K) + 3, ldb: (transB ? K : N) + 5, ldc: N + 1, beta: 1 }, seed++);
        }
  });

  it('fuses bias (per row or column) and every activation into the epilogue', () => {
    let seed = 100;
    for (const activation of ['none', 'relu', 'sigmoid', 'tanh', 'gelu', 'geluTanh'] as const)
      for (const biasPer of ['row', 'col'] as const)
        for (const [M, N, K] of [[33, 65, 17], [1, 129, 40], [130, 1, 40]] as Array<[number, number, number]>)
          gemmCase(M, N, K, { activation, biasPer, bias: new Float32Array(1), beta: 0.25 }, seed++);
  });

  it('the GEMV shapes of the bench: (1, 1000, 4096) both ways', () => {
    gemmCase(1, 1000, 4096, {}, 7);
    gemmCase(1, 1000, 4096, { transB: true }, 8);
    gemmCase(1000, 1, 4096, { transA: true }, 9);
  });

  it('K = 0 and alpha = 0 read neither A nor B (beta * C only)', () => {
    gemmCase(17, 9, 0, { beta: 0.5 }, 11);
    gemmCase(17, 9, 5, { alpha: 0, beta: 2 }, 12);
  });
});

describeCuda('cuda matmul and linear', () => {
  it('matmul with batches, broadcast batches, 1-D operands and transposed views', () => {
    const cases: Array<[number[], number[]]> = [
      [[7], [7]], [[5, 7], [7]], [[7], [7, 3]], [[33, 65], [65, 17]], [[4, 33, 20], [4, 20, 9]],
      [[2, 3, 5, 7], [7, 11]], [[1, 5, 7], [6, 7, 2]], [[130, 129], [129, 131]],
    ];
    for (const [k, [sa, sb]] of cases.entries())
      compareDevices([randomTensor(sa, 'float32', -1, 1, k), randomTensor(sb, 'float32', -1, 1, k + 20)], (a, b) => a.matmul(b), 1e-4, 1e-4, `matmul [${sa}] @ [${sb}]`);
    compareDevices([randomTensor([65, 33]), randomTensor([17, 65])], (a, b) => a.t().matmul(b.t()), 1e-4, 1e-4, 'matmul of transposed views');
    for (const dtype of ['float64', 'int32', 'int64'] as const)
      compareDevices([randomTensor([3, 17, 33], dtype, -4, 4, 1), randomTensor([33, 9], dtype, -4, 4, 2)], (a, b) => a.matmul(b), 1e-12, 1e-12, `matmul ${dtype}`);
  });

  it('matrices taller than 65535 row tiles (grid.y) take several launches', () => {
    // The generic kernel's 16-row tiles: 1,048,577 rows is one past 65535 tiles.
    compareDevices([randomTensor([1048577, 2], 'float64', -2, 2, 1), randomTensor([2, 3], 'float64', -2, 2, 2)], (a, b) => a.matmul(b),
      1e-12, 1e-12, 'tall float64 matmul');
    // The SGEMM's 128-row tiles: 8,388,481 rows. alpha = 0 (C = beta C) runs the same grid
    // without the 17 G multiply-adds, which the CPU emulation of this suite could not afford.
    const M = 65535 * 128 + 1;
    const C = dt.full([M, 2], 1.5, { device: 'cuda' });
    dt.cuda.sgemm(M, 2, 1, dt.zeros([M], { device: 'cuda' }), dt.zeros([2], { device: 'cuda' }), C, { alpha: 0, beta: 2 });
    expect([C.min().item(), C.max().item()]).toEqual([3, 3]);
  });

  it('linear with and without bias, and its gradients', () => {
    for (const [batch, inF, outF] of [[1, 7, 3], [33, 65, 17], [128, 256, 64]]) {
      compareDevices([randomTensor([batch, inF]), randomTensor([outF, inF], 'float32', -1, 1, 2), randomTensor([outF], 'float32', -1, 1, 3)],
        (x, w, b) => dt.F.linear(x, w, b), 1e-4, 1e-4, `linear ${batch}x${inF}->${outF}`);
      compareDevices([randomTensor([batch, inF]), randomTensor([outF, inF], 'float32', -1, 1, 2)], (x, w) => dt.F.linear(x, w), 1e-4, 1e-4, 'linear no bias');
    }
  });
});

// Split-K (native/cuda/gemm/gemm.cu, choose_splits): a grid of fewer tiles than SMs over a K of at
// least 256 splits. Which shapes split depends on the SM count (132 on an H100, 4 on the emulator
// unless DENDRITE_CUDA_EMU_SMS=132), so each case says when it must split and the driver's
// counter proves which path ran.
function tiles(M: number, N: number, batch = 1): number {
  return Math.ceil(M / 128) * Math.ceil(N / 128) * batch;
}
function shouldSplit(M: number, N: number, K: number, batch = 1): boolean {
  return M > 1 && N > 1 && K >= 256 && tiles(M, N, batch) < native.cudaSgemmStats().smCount;
}
function expectPath(split: boolean, what: string, fn: () => void): void {
  const before = native.cudaSgemmStats().splitK;
  fn();
  expect(native.cudaSgemmStats().splitK - before, `${what}: ${split ? 'split-K' : 'one pass'} expected`).toBe(split ? 1 : 0);
}

describeCuda('cuda sgemm split-K', () => {
  it('reports the SMs it decides by', () => {
    const { smCount, splitK } = native.cudaSgemmStats();
    expect(smCount).toBeGreaterThan(0);
    expect(splitK).toBeGreaterThanOrEqual(0);
    if (hasGpu) console.warn(`sgemm split-K: deciding for ${smCount} SMs`);
  });

  it('small grids over long K: every transpose, alpha, beta, leading dimensions', () => {
    // 64 x 1024 x 256 is the LSTM step (8 tiles: splits for 132 SMs, not for the emulator's 4).
    const sizes: Array<[number, number, number]> = [[64, 1024, 256], [7, 33, 5000], [129, 130, 700], [2, 2, 300]];
    let seed = 300;
    for (const [M, N, K] of sizes)
      for (const transA of [false, true])
        for (const transB of [false, true]) {
          const split = shouldSplit(M, N, K);
          const tag = `${M}x${N}x${K} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;
          expectPath(split, tag, () => gemmCase(M, N, K, { transA, transB }, seed++));
          expectPath(split, tag, () => gemmCase(M, N, K, { transA, transB, alpha: -0.75, beta: 0.5 }, seed++));
          expectPath(split, tag, () => gemmCase(M, N, K, { transA, transB, beta: 0, nanC: true }, seed++));
          expectPath(split, tag, () =>
            gemmCase(M, N, K, { transA, transB, lda: (transA ? M : K) + 3, ldb: (transB ? K : N) + 5, ldc: N + 1, alpha: 1.5, beta: 1 }, seed++));
        }
    // One tile, the most slices (32): the deepest single-tile GEMM of the list.
    expectPath(shouldSplit(128, 128, 4096), '128x128x4096', () => gemmCase(128, 128, 4096, { beta: 0.5 }, seed++));
    expectPath(shouldSplit(128, 128, 4096), '128x128x4096 TN', () => gemmCase(128, 128, 4096, { transA: true, beta: 0, nanC: true }, seed++));
  });

  it('bias per row or column and every activation in the reduction epilogue', () => {
    let seed = 400;
    for (const activation of ['none', 'relu', 'sigmoid', 'tanh', 'gelu', 'geluTanh'] as const)
      for (const biasPer of ['row', 'col'] as const) {
        expectPath(true, `33x65x600 ${activation} ${biasPer}`, () =>
          gemmCase(33, 65, 600, { activation, biasPer, bias: new Float32Array(1), beta: 0.25 }, seed++));
        expectPath(true, `33x65x600 ${activation} ${biasPer} beta 0 over NaN`, () =>
          gemmCase(33, 65, 600, { activation, biasPer, bias: new Float32Array(1), beta: 0, nanC: true, transA: true }, seed++));
      }
  });

  it('shapes that do not split: short K, alpha = 0, GEMV, and grids that fill the SMs', () => {
    expectPath(false, '7x33x200 (K < 256)', () => gemmCase(7, 33, 200, { beta: 0.5 }, 500));
    expectPath(false, '7x33x5000 alpha 0', () => gemmCase(7, 33, 5000, { alpha: 0, beta: 2 }, 501));
    expectPath(false, '1x300x5000 (GEMV)', () => gemmCase(1, 300, 5000, {}, 502));
    const { smCount } = native.cudaSgemmStats();
    // A grid of exactly smCount tiles (on the emulator's 4 SMs: 256 x 256; on an H100 too big to
    // be worth the CPU time here, so only there the LSTM shape above ran unsplit).
    if (smCount <= 8) {
      const side = Math.ceil(Math.sqrt(smCount)) * 128;
      expectPath(false, `${side}x${side}x300 (${smCount} tiles)`, () => gemmCase(side, side, 300, { beta: 0.5 }, 503));
    }
  });

  it('batched and broadcast matmul with long K splits with the batch in the reduction', () => {
    const cases: Array<[number[], number[]]> = [
      [[3, 20, 1500], [3, 1500, 9]],
      [[2, 1, 40, 700], [1, 3, 700, 10]],
      [[2, 64, 256], [2, 256, 130]],
    ];
    for (const [k, [sa, sb]] of cases.entries()) {
      const batch = sa.slice(0, -2).map((d, i) => Math.max(d, sb[i])).reduce((x, y) => x * y, 1);
      const [M, K, N] = [sa[sa.length - 2], sa[sa.length - 1], sb[sb.length - 1]];
      expectPath(shouldSplit(M, N, K, batch), `matmul [${sa}] @ [${sb}]`, () =>
        compareDevices([randomTensor(sa, 'float32', -1, 1, k + 40), randomTensor(sb, 'float32', -1, 1, k + 60)], (a, b) => a.matmul(b),
          1e-4, 1e-4 * Math.sqrt(K), `matmul [${sa}] @ [${sb}]`));
    }
    // Transposed batched views (column-major operands): [4, 600, 30]^T @ [4, 17, 600]^T.
    expectPath(shouldSplit(30, 17, 600, 4), 'batched transposed views', () =>
      compareDevices([randomTensor([4, 600, 30], 'float32', -1, 1, 7), randomTensor([4, 17, 600], 'float32', -1, 1, 8)],
        (a, b) => a.transpose(1, 2).matmul(b.transpose(1, 2)), 1e-4, 3e-3, 'batched transposed views'));
  });

  it('weight gradients: x^T @ grad over a long batch, and linear', () => {
    // dW = gy^T x for a linear layer of 64 -> 32 over 1024 rows: M 32, N 64, K 1024, one tile.
    expectPath(true, 'linear weight gradient', () =>
      compareDevices([randomTensor([1024, 32], 'float32', -1, 1, 1), randomTensor([1024, 64], 'float32', -1, 1, 2)],
        (gy, x) => gy.t().matmul(x), 1e-4, 4e-3, 'gy^T x'));
    expectPath(true, 'linear 16x600->48', () =>
      compareDevices([randomTensor([16, 600], 'float32', -1, 1, 3), randomTensor([48, 600], 'float32', -1, 1, 4), randomTensor([48], 'float32', -1, 1, 5)],
        (x, w, b) => dt.F.linear(x, w, b), 1e-4, 3e-3, 'linear 16x600->48'));
  });
});

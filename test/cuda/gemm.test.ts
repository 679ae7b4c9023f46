// The CUDA SGEMM against the CPU one: every transpose combination, alpha / beta, leading
// dimensions, odd sizes across tile edges, the fused bias + activation epilogue, the GEMV
// shapes, batched and broadcast matmul, linear, and the other dtypes' generic kernel.
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { compareDevices, describeCuda, randomTensor, seeded } from './helpers';

function floats(n: number, seed: number): Float32Array {
  const rng = seeded(seed);
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
}

function gemmCase(M: number, N: number, K: number, o: Record<string, any>, seed: number): void {
  const lda = o.lda ?? Math.max(1, o.transA ? M : K), ldb = o.ldb ?? Math.max(1, o.transB ? K : N), ldc = o.ldc ?? Math.max(1, N);
  const A = floats(Math.max(1, (o.transA ? K : M) * lda), seed);
  const B = floats(Math.max(1, (o.transB ? N : K) * ldb), seed + 1);
  const C0 = floats(Math.max(1, M * ldc), seed + 2);
  const biasLen = o.biasPer === 'row' ? M : N;
  const bias = o.bias ? floats(Math.max(1, biasLen), seed + 3) : undefined;
  const want = C0.slice();
  dt.linalg.sgemm(M, N, K, A, B, want, { ...o, bias });
  const Ad = dt.tensor(A, { device: 'cuda' }), Bd = dt.tensor(B, { device: 'cuda' }), Cd = dt.tensor(C0, { device: 'cuda' });
  const biasd = bias ? dt.tensor(bias, { device: 'cuda' }) : undefined;
  dt.cuda.sgemm(M, N, K, Ad, Bd, Cd, { ...o, bias: undefined, biasTensor: biasd });
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

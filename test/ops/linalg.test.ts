import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { runFamily } from './harness';
import { mismatches } from './fixtures';
import { Rng } from './optable';

runFamily('linalg');

// Shapes past one GEMM block in every direction (the reference kernel blocks M by 64, N and K
// by 256), too large for a fixture: checked against a plain float64 triple loop instead.
describe('linalg: matmul across GEMM blocks', () => {
  const M = 70, K = 300, N = 260;
  const r = new Rng(7);
  const a = Float32Array.from({ length: M * K }, () => r.normal());
  const b = Float32Array.from({ length: K * N }, () => r.normal());
  const expected = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let k = 0; k < K; k++) {
      const av = a[i * K + k];
      for (let j = 0; j < N; j++) expected[i * N + j] += av * b[k * N + j];
    }
  // |sum| of 300 products of N(0,1) values is ~17; float32 accumulation errs by ~1e-5 of it.
  const tol = { rtol: 1e-4, atol: 1e-4 };
  const transposedCopy = (x: Float32Array, rows: number, cols: number) => {
    const t = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
    return t;
  };
  const layouts: [string, () => dt.Tensor, () => dt.Tensor][] = [
    ['row-major', () => dt.tensor(a, { shape: [M, K] }), () => dt.tensor(b, { shape: [K, N] })],
    ['A transposed view', () => dt.tensor(transposedCopy(a, M, K), { shape: [K, M] }).t(), () => dt.tensor(b, { shape: [K, N] })],
    ['B transposed view', () => dt.tensor(a, { shape: [M, K] }), () => dt.tensor(transposedCopy(b, K, N), { shape: [N, K] }).t()],
  ];
  for (const [label, makeA, makeB] of layouts) {
    it(`[${M}, ${K}] @ [${K}, ${N}], ${label}, on every CPU path`, () => {
      const original = dt.cpuInfo().path as 'scalar' | 'avx2' | 'avx512';
      try {
        for (const p of dt.cpuInfo().supportedPaths as ('scalar' | 'avx2' | 'avx512')[]) {
          dt.cpu.setPath(p);
          const out = dt.tidy(() => Float64Array.from(dt.matmul(makeA(), makeB()).dataSync() as Float32Array));
          expect(mismatches(out, expected, tol, false), `${label} on ${p}`).toEqual([]);
        }
      } finally {
        dt.cpu.setPath(original);
      }
    });
  }
});

// Shared by test/cuda: the GPU gate (every suite skips, naming the reason, without a usable
// device) and the CPU-vs-CUDA comparison every kernel test goes through.
import { describe, expect } from 'vitest';
import * as dt from '../../dist/index.js';

export const hasGpu = dt.cuda.isAvailable();
export const skipReason = hasGpu ? '' : `no usable CUDA device: ${dt.cuda.unavailableReason() || 'unknown reason'}`;
if (!hasGpu) console.warn(`test/cuda: skipping every CUDA test (${skipReason})`);
/** The CPU emulation of the CUDA backend (`npm run build:cuda-emu`), not a GPU. */
export const emulated = hasGpu && /emulator/i.test(dt.cuda.deviceName());
if (hasGpu) console.warn(`test/cuda: running on "${dt.cuda.deviceName()}"${emulated ? ' (CPU emulation: kernel logic only, no GPU)' : ''}`);

/** describe() on a GPU; describe.skip with the reason in its title without one. */
export function describeCuda(name: string, fn: () => void): void {
  if (hasGpu) describe(name, fn);
  else describe.skip(`${name} [skipped: ${skipReason}]`, fn);
}

/** Odd sizes the issue asks for: 1, 7, 33, 1000 and primes. */
export const ODD_SIZES = [1, 7, 33, 1000, 97, 1009];

/** Shapes: scalars, odd 1-D sizes, odd 2-D/3-D shapes and a size-0 one. */
export const SHAPES: number[][] = [[], [1], [7], [33], [1000], [1009], [3, 5], [7, 33], [2, 3, 5], [4, 1, 13], [0, 3]];

export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A CPU tensor of `shape` with values drawn from [lo, hi) (integers for integer dtypes). */
export function randomTensor(shape: number[], dtype: dt.DType = 'float32', lo = -3, hi = 3, seed = 1): dt.Tensor {
  const rng = seeded(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, () => lo + (hi - lo) * rng());
  if (dtype === 'bool') return dt.tensor(vals.map((v) => v > (lo + hi) / 2), { shape });
  if (dtype === 'int32' || dtype === 'int64' || dtype === 'uint8')
    return dt.tensor(vals.map((v) => Math.floor(v)), { shape, dtype });
  return dt.tensor(vals, { shape, dtype });
}

/** Flat JS numbers of a tensor (bools as 0/1, int64 as numbers). */
export function values(t: dt.Tensor): number[] {
  return Array.from(t.dataSync() as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Expects two tensors to hold the same shape, dtype and values (NaN equal to NaN). */
export function expectClose(got: dt.Tensor, want: dt.Tensor, rtol = 1e-5, atol = 1e-6, what = ''): void {
  expect(got.device, `${what}: result device`).toBe('cuda');
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  expect(got.dtype, `${what}: dtype`).toBe(want.dtype);
  const g = values(got), w = values(want);
  for (let i = 0; i < w.length; i++) {
    const a = g[i], b = w[i];
    if (Number.isNaN(b)) {
      if (!Number.isNaN(a)) expect.fail(`${what}: element ${i}: expected NaN, got ${a}`);
      continue;
    }
    if (a === b) continue;
    if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) expect.fail(`${what}: element ${i}: expected ${b}, got ${a} (rtol ${rtol}, atol ${atol})`);
  }
}

/**
 * Runs `fn` on CPU inputs and on their CUDA copies and compares the results (tensors or arrays
 * of tensors). Inputs are disposed afterwards.
 */
export function compareDevices(inputs: dt.Tensor[], fn: (...xs: dt.Tensor[]) => dt.Tensor | dt.Tensor[], rtol = 1e-5, atol = 1e-6, what = ''): void {
  const onGpu = inputs.map((t) => t.cuda());
  const want = fn(...inputs);
  const got = fn(...onGpu);
  const ws = Array.isArray(want) ? want : [want];
  const gs = Array.isArray(got) ? got : [got];
  expect(gs.length).toBe(ws.length);
  ws.forEach((w, i) => expectClose(gs[i], w, rtol, atol, `${what}[${i}]`));
  for (const t of [...ws, ...gs, ...onGpu, ...inputs]) t.dispose();
}

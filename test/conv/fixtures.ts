// Shared by the conv-family tests: the PyTorch fixture (scripts/gen_fixtures_conv.py) and the
// integer hash both sides use to generate inputs, so the fixture stores no inputs.
import { readFileSync } from 'fs';
import { join } from 'path';
import { expect } from 'vitest';
import * as dt from '../../dist/index.js';

export const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'conv.json'), 'utf8'));

/** Mirrors `values` in scripts/gen_fixtures_conv.py. */
export function values(n: number, seed: number): number[] {
  const out = new Array<number>(n);
  const s = Math.imul(seed + 7, 0x85ebca6b) >>> 0;
  for (let i = 0; i < n; i++) {
    let h = (Math.imul(i + 1, 0x9e3779b1) ^ s) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    h = Math.imul(h, 0x7feb352d) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    h = Math.imul(h, 0x846ca68b) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    out[i] = ((h % 2001) - 1000) / 1000;
  }
  return out;
}

export interface GenOptions {
  dtype?: dt.DType;
  scale?: number;
  shift?: number;
  requiresGrad?: boolean;
}

export function gen(shape: number[], seed: number, o: GenOptions = {}): dt.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const scale = o.scale ?? 1, shift = o.shift ?? 0;
  const data = values(n, seed).map((v) => v * scale + shift);
  const dtype = o.dtype ?? 'float32';
  const typed = dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
  return dt.tensor(typed, { shape, requiresGrad: o.requiresGrad ?? false });
}

/** Elementwise |a - b| <= atol + rtol * |b|, reporting the first offender. */
export function expectClose(actual: ArrayLike<number | bigint>, expected: ArrayLike<number>, atol: number, rtol: number, what = ''): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]), b = expected[i];
    if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) expect.fail(`${what}[${i}]: expected ${b}, got ${a} (atol ${atol}, rtol ${rtol})`);
  }
}

export const flat = (t: dt.Tensor): number[] => Array.from(t.dataSync() as Float32Array, Number);

/** Tolerances per dtype against the float64 PyTorch reference (rounded to 7 digits). */
export const TOL: Record<'float32' | 'float64', [number, number]> = { float32: [2e-5, 2e-5], float64: [1e-9, 2e-6] };

/** Runs fn once per SIMD path this CPU supports (scalar first), restoring the path after. */
export function forEachPath(fn: (path: string) => void): void {
  const before = dt.cpuInfo().path as 'scalar';
  try {
    for (const p of dt.cpuInfo().supportedPaths) {
      dt.cpu.setPath(p as 'scalar');
      fn(p);
    }
  } finally {
    dt.cpu.setPath(before);
  }
}

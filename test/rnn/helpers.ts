// Shared by the test/rnn files: the PyTorch fixture (scripts/gen_fixtures_rnn.py) and comparisons.
import { readFileSync } from 'fs';
import { join } from 'path';
import { expect } from 'vitest';
import * as dt from '../../dist/index.js';

export interface Enc {
  shape: number[];
  dtype?: 'int64' | 'bool';
  data: number[];
}

export const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'rnn.json'), 'utf8'));

/** A tensor from a fixture entry: floats as float32 (or the given dtype), int64, bool. */
export function T(e: Enc, options: { dtype?: 'float32' | 'float64'; requiresGrad?: boolean } = {}): dt.Tensor {
  if (e.dtype === 'int64') return dt.tensor(BigInt64Array.from(e.data.map((v) => BigInt(v))), { shape: e.shape });
  if (e.dtype === 'bool') return dt.tensor(Uint8Array.from(e.data), { shape: e.shape, dtype: 'bool' });
  const dtype = options.dtype ?? 'float32';
  const arr = dtype === 'float64' ? Float64Array.from(e.data) : Float32Array.from(e.data);
  return dt.tensor(arr, { shape: e.shape, requiresGrad: options.requiresGrad });
}

/** Every element within atol + rtol·|expected|; the message names the first one that is not. */
export function expectClose(actual: dt.Tensor | null, expected: Enc, what: string, atol = 2e-5, rtol = 2e-4): void {
  expect(actual, `${what}: missing`).not.toBeNull();
  expect(actual!.shape, `${what}: shape`).toEqual(expected.shape);
  const a = actual!.dataSync();
  let worst = -1, worstErr = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const e = expected.data[i], v = Number(a[i]);
    const err = Math.abs(v - e) - (atol + rtol * Math.abs(e));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) expect.fail(`${what}: element ${worst} is ${Number(a[worst])}, expected ${expected.data[worst]} (of ${expected.data.length})`);
}

/** sum(out_i * w_i) over the outputs: the loss the fixture's gradients belong to. */
export function weightedLoss(outs: dt.Tensor[], weights: Enc[], dtype: 'float32' | 'float64' = 'float32'): dt.Tensor {
  let loss: dt.Tensor | null = null;
  outs.forEach((o, i) => {
    const term = o.mul(T(weights[i], { dtype })).sum();
    loss = loss ? loss.add(term) : term;
  });
  return loss!;
}

export function maxAbsDiff(a: dt.Tensor, b: dt.Tensor): number {
  const x = a.dataSync(), y = b.dataSync();
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(Number(x[i]) - Number(y[i])));
  return m;
}

// Shared by the nn / optim / io tests: reading the committed PyTorch fixtures
// (scripts/gen_fixtures_nn.py) and comparing values with a tolerance.
import * as fs from 'fs';
import * as path from 'path';
import { expect } from 'vitest';
import * as dt from '../dist/index.js';

/** A committed fixture; non-finite numbers are stored as the strings 'Infinity', '-Infinity', 'NaN'. */
export function loadFixture<T = any>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8'), (_k, v) =>
    v === 'Infinity' || v === '-Infinity' || v === 'NaN' ? Number(v) : v,
  );
}

export const fixturePath = (...parts: string[]): string => path.join(__dirname, 'fixtures', ...parts);

export interface Encoded {
  shape: number[];
  dtype: string;
  data: number[];
}

/** A tensor from the fixtures' { shape, dtype, data } encoding. */
export function decode(e: Encoded, options: { requiresGrad?: boolean } = {}): dt.Tensor {
  const dtype = e.dtype as dt.DType;
  let data: any;
  if (dtype === 'float64') data = Float64Array.from(e.data);
  else if (dtype === 'float32') data = Float32Array.from(e.data);
  else if (dtype === 'int32') data = Int32Array.from(e.data);
  else if (dtype === 'int64') data = BigInt64Array.from(e.data.map((v) => BigInt(v)));
  else data = Uint8Array.from(e.data);
  const t = dt.tensor(data, { shape: e.shape });
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** Max |a - e| / (atol + rtol |e|) must stay <= 1; the message names the worst element. */
export function expectClose(actual: ArrayLike<number> | dt.Tensor, expected: ArrayLike<number>, atol: number, rtol = 0, what = ''): void {
  const a = actual instanceof dt.Tensor ? Array.from(actual.dataSync() as Float64Array, Number) : Array.from(actual);
  expect(a.length, `${what}: length`).toBe(expected.length);
  let worst = 0, at = -1;
  for (let i = 0; i < a.length; i++) {
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a[i])) continue;
    if (e === a[i]) continue;
    const r = Math.abs(a[i] - e) / (atol + rtol * Math.abs(e));
    if (!(r <= worst)) {
      worst = Number.isNaN(r) ? Infinity : r;
      at = i;
    }
  }
  if (worst > 1) expect.fail(`${what}: element ${at} is ${a[at]}, expected ${expected[at]} (atol ${atol}, rtol ${rtol})`);
}

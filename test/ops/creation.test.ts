import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { runFamily } from './harness';

runFamily('creation');

// Long enough for fill_affine to split over threads: every element still start + i * step.
describe('creation: long ranges', () => {
  it('arange(100003) holds 0..100002 as int64', () => {
    const t = dt.arange(100003);
    expect(t.dtype).toBe('int64');
    const v = t.dataSync() as BigInt64Array;
    let bad = 0;
    for (let i = 0; i < v.length; i++) if (v[i] !== BigInt(i)) bad++;
    expect([v.length, bad]).toEqual([100003, 0]);
  });
  it('arange(-5, 5, 0.0001) and linspace(0, 1, 70001) follow start + i * step', () => {
    const a = dt.arange(-5, 5, 0.0001).dataSync() as Float32Array;
    expect(a.length).toBe(100000);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - (-5 + i * 0.0001)));
    const l = dt.linspace(0, 1, 70001).dataSync() as Float32Array;
    for (let i = 0; i < l.length; i++) worst = Math.max(worst, Math.abs(l[i] - i / 70000));
    expect(l[70000]).toBe(1);
    expect(worst).toBeLessThan(1e-6);
  });
});

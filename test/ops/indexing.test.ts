import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { runFamily } from './harness';
import { Rng } from './optable';

runFamily('indexing');

// indexSelect splits its output over threads past 16384 elements; a plain JS gather is the
// reference at a size that runs on several.
describe('indexing: large indexSelect', () => {
  it('selects rows and columns of a [300, 257] tensor like a plain loop', () => {
    const R = 300, C = 257;
    const r = new Rng(3);
    const x = Float32Array.from({ length: R * C }, () => r.normal());
    const rows = Array.from({ length: 211 }, () => Math.floor(r.next() * R));
    const cols = Array.from({ length: 199 }, () => Math.floor(r.next() * C));
    dt.tidy(() => {
      const t = dt.tensor(x, { shape: [R, C] });
      const byRow = t.indexSelect(0, dt.tensor(BigInt64Array.from(rows.map(BigInt)))).dataSync();
      const byCol = t.indexSelect(1, dt.tensor(Int32Array.from(cols))).dataSync();
      let bad = 0;
      rows.forEach((src, i) => { for (let j = 0; j < C; j++) if (byRow[i * C + j] !== x[src * C + j]) bad++; });
      for (let i = 0; i < R; i++) cols.forEach((src, j) => { if (byCol[i * cols.length + j] !== x[i * C + src]) bad++; });
      expect(bad).toBe(0);
    });
  });
});

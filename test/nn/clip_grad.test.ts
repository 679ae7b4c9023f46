import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { expectClose, loadFixture } from '../fixture_util';

const { nn } = dt;

interface ClipCase {
  normType: number | 'inf';
  maxNorm: number;
  grads: number[][];
  total: number;
  clipped: number[][];
}

describe('nn.utils.clipGradNorm_', () => {
  for (const c of loadFixture<ClipCase[]>('clip_grad.json')) {
    it(`matches PyTorch for normType ${c.normType}, maxNorm ${c.maxNorm}`, () => {
      const a = nn.Parameter(dt.zeros([3, 4], { dtype: 'float64' }));
      const b = nn.Parameter(dt.zeros([5], { dtype: 'float64' }));
      a.grad = dt.tensor(Float64Array.from(c.grads[0]), { shape: [3, 4] });
      b.grad = dt.tensor(Float64Array.from(c.grads[1]));
      const total = nn.utils.clipGradNorm_([a, b], c.maxNorm, c.normType === 'inf' ? Infinity : c.normType);
      expect(total.shape).toEqual([]);
      expect(total.item()).toBeCloseTo(c.total, 12);
      expectClose(a.grad!, c.clipped[0], 1e-14, 1e-12, 'a.grad');
      expectClose(b.grad!, c.clipped[1], 1e-14, 1e-12, 'b.grad');
    });
  }

  it('skips parameters without a gradient and returns 0 when there are none', () => {
    const p = nn.Parameter(dt.ones([2]));
    expect(nn.utils.clipGradNorm_([p], 1).item()).toBe(0);
    const q = nn.Parameter(dt.ones([2]));
    q.grad = dt.tensor([3, 4]);
    expect(nn.utils.clipGradNorm_([p, q], 1).item()).toBe(5);
    expectClose(q.grad!, [0.6, 0.8], 1e-6, 0, 'q.grad');
  });

  it('reports a non-finite norm when asked to', () => {
    const p = nn.Parameter(dt.ones([2]));
    p.grad = dt.tensor([1, Infinity]);
    expect(() => nn.utils.clipGradNorm_(p, 1, 2, { errorIfNonfinite: true })).toThrow(/a finite total norm/);
  });
});

describe('nn.utils.clipGradValue_', () => {
  it('clamps every gradient in place', () => {
    const p = nn.Parameter(dt.ones([4]));
    p.grad = dt.tensor([-3, -0.5, 0.2, 7]);
    const g = p.grad;
    nn.utils.clipGradValue_([p], 1);
    expect(p.grad).toBe(g);
    expect(p.grad!.toArray()).toEqual([-1, -0.5, 0.2 as number, 1].map(Math.fround));
  });
});

// Pooling: PyTorch fixtures (values, argmax indices, gradients; float32 on every SIMD path),
// plain-loop references on rows of every length, the course's hand example, gradcheck, and
// argument errors.
import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { expectClose, fixture, flat, forEachPath, gen, TOL } from './fixtures';

const { F } = dt;

function runPool(c: any, dtype: 'float32' | 'float64') {
  const x = gen(c.shape, c.seed, { dtype, requiresGrad: true });
  let y: dt.Tensor, indices: dt.Tensor | null = null;
  if (c.op === 'max')
    [y, indices] = F.maxPool2d(x, c.k, { stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: c.ceilMode, returnIndices: true });
  else if (c.op === 'avg')
    y = F.avgPool2d(x, c.k, { stride: c.stride, padding: c.padding, ceilMode: c.ceilMode, countIncludePad: c.countIncludePad, divisorOverride: c.divisorOverride });
  else if (c.op === 'adaptiveAvg') y = F.adaptiveAvgPool2d(x, c.out);
  else [y, indices] = F.adaptiveMaxPool2d(x, c.out, { returnIndices: true });
  expect(y.shape).toEqual(c.yShape);
  y.backward(gen(c.yShape, c.seed + 1, { dtype }));
  const [atol, rtol] = TOL[dtype];
  expectClose(flat(y), c.y, atol, rtol, `${c.name} y`);
  expectClose(flat(x.grad!), c.gx, atol, rtol, `${c.name} gx`);
  if (indices) {
    expect(indices.dtype).toBe('int64');
    expect(Array.from(indices.dataSync() as BigInt64Array, Number)).toEqual(c.indices);
  }
}

describe('pooling against PyTorch', () => {
  for (const c of fixture.pool) {
    it(`${c.op} ${c.name}`, () => {
      forEachPath(() => runPool(c, 'float32'));
      runPool(c, 'float64');
    });
  }
});

/** Plain loops with the kernel's rules: clipped windows, NaN wins (the last one), ties keep the first tap. */
function naiveMaxPool(xs: Float32Array, [N, C, H, W]: number[], k: number, s: number, p: number, d: number) {
  const OH = Math.floor((H + 2 * p - d * (k - 1) - 1) / s) + 1, OW = Math.floor((W + 2 * p - d * (k - 1) - 1) / s) + 1;
  const y: number[] = [], idx: number[] = [];
  for (let pl = 0; pl < N * C; pl++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity, bi = -1;
        for (let r = 0; r < k; r++)
          for (let q = 0; q < k; q++) {
            const ih = oh * s - p + r * d, iw = ow * s - p + q * d;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const v = xs[pl * H * W + ih * W + iw];
            if (bi < 0) bi = ih * W + iw;
            if (v > best || Number.isNaN(v)) [best, bi] = [v, ih * W + iw];
          }
        y.push(best);
        idx.push(bi);
      }
  return { y, idx, shape: [N, C, OH, OW] };
}

function naiveAvgPool(xs: Float32Array, [N, C, H, W]: number[], k: number, s: number, p: number, includePad: boolean) {
  const OH = Math.floor((H + 2 * p - k) / s) + 1, OW = Math.floor((W + 2 * p - k) / s) + 1;
  const y: number[] = [];
  for (let pl = 0; pl < N * C; pl++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let sum = 0, count = 0;
        for (let r = 0; r < k; r++)
          for (let q = 0; q < k; q++) {
            const ih = oh * s - p + r, iw = ow * s - p + q;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            sum += xs[pl * H * W + ih * W + iw];
            count++;
          }
        y.push(sum / (includePad ? k * k : count));
      }
  return y;
}

describe('rows of every length on every SIMD path, against plain loops', () => {
  // Rows from 2 outputs (one partial vector) to 41 (full vectors and a partial one); strides 1
  // (plain loads), 2 (the two-load permute) and 3 (gathers); padding puts edges on every row.
  const cases: [string, number[], number, number, number, number][] = [
    ['k2 s2, 13 outputs a row', [2, 3, 26, 26], 2, 2, 0, 1],
    ['k2 s2, 41 outputs a row', [1, 2, 6, 83], 2, 2, 0, 1],
    ['k3 s2 p1', [2, 2, 9, 37], 3, 2, 1, 1],
    ['k3 s1 p1', [1, 3, 7, 40], 3, 1, 1, 1],
    ['k3 s3', [1, 2, 10, 53], 3, 3, 0, 1],
    ['k2 s2 p1 dilation 2', [2, 2, 11, 35], 2, 2, 1, 2],
    ['k2 s1, 2 outputs a row', [1, 1, 4, 3], 2, 1, 0, 1],
  ];
  for (const [name, shape, k, s, p, d] of cases) {
    it(name, () => {
      // Small integers make ties; one NaN per plane sits somewhere inside.
      const x = gen(shape, 71, { scale: 3 }).round();
      const xs = x.dataSync() as Float32Array;
      const HW = shape[2] * shape[3];
      for (let pl = 0; pl < shape[0] * shape[1]; pl++) xs[pl * HW + ((pl * 37 + 11) % HW)] = NaN;
      const xn = dt.tensor(Array.from(xs)).reshape(shape);
      const ref = naiveMaxPool(xs, shape, k, s, p, d);
      const refAvg = d === 1 ? naiveAvgPool(xs.map((v) => (Number.isNaN(v) ? 0 : v)), shape, k, s, p, p > 0 && s === 2) : null;
      const xa = dt.tensor(Array.from(xs, (v) => (Number.isNaN(v) ? 0 : v))).reshape(shape);
      forEachPath((path) => {
        const [y, idx] = F.maxPool2d(xn, k, { stride: s, padding: p, dilation: d, returnIndices: true });
        expect(y.shape).toEqual(ref.shape);
        expect(Array.from(idx.dataSync() as BigInt64Array, Number), `${name} indices (${path})`).toEqual(ref.idx);
        expect(Array.from(y.dataSync() as Float32Array), `${name} max (${path})`).toEqual(ref.y);
        if (refAvg) {
          const ya = F.avgPool2d(xa, k, { stride: s, padding: p, countIncludePad: p > 0 && s === 2 });
          expectClose(flat(ya), refAvg, 1e-6, 1e-6, `${name} avg (${path})`);
        }
      });
    });
  }
});

describe('the course hand example', () => {
  const x = dt.tensor([[2, 2, 7, 3], [9, 4, 6, 1], [8, 5, 2, 4], [3, 1, 2, 6]]).reshape([1, 1, 4, 4]);
  it('2x2 max pooling gives [[9,7],[8,6]] and routes the gradient to the maxima', () => {
    const xg = x.clone().requiresGrad_();
    const y = F.maxPool2d(xg, 2);
    expect(y.reshape([2, 2]).toArray()).toEqual([[9, 7], [8, 6]]);
    y.sum().backward();
    expect(xg.grad!.reshape([4, 4]).toArray()).toEqual([[0, 0, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]);
    const [, idx] = F.maxPool2d(x, 2, { returnIndices: true });
    expect(idx.reshape([4]).toArray()).toEqual([4, 2, 8, 15]);
  });
  it('2x2 average pooling gives [[4.25,4.25],[4.25,3.5]]', () => {
    expect(F.avgPool2d(x, 2).reshape([2, 2]).toArray()).toEqual([[4.25, 4.25], [4.25, 3.5]]);
  });
  it('global average pooling is adaptiveAvgPool2d(1)', () => {
    expect(F.adaptiveAvgPool2d(x, 1).item()).toBeCloseTo(65 / 16, 6);
    expect(new dt.nn.AdaptiveAvgPool2d([1, null]).forward(x).shape).toEqual([1, 1, 1, 4]);
  });
});

describe('gradcheck (float64)', () => {
  const x = () => dt.randn([2, 2, 6, 7], { dtype: 'float64', requiresGrad: true });
  it('maxPool2d with padding, dilation, ceilMode', () => {
    dt.manualSeed(3);
    expect(dt.autograd.gradcheck((a) => F.maxPool2d(a, 3, { stride: 2, padding: 1, dilation: [1, 2], ceilMode: true }), [x()])).toBe(true);
  });
  it('avgPool2d with ceilMode, excluding padding', () => {
    expect(dt.autograd.gradcheck((a) => F.avgPool2d(a, [3, 2], { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [x()])).toBe(true);
  });
  it('adaptive average and max pooling', () => {
    dt.manualSeed(4);
    expect(dt.autograd.gradcheck((a) => F.adaptiveAvgPool2d(a, [4, 3]), [x()])).toBe(true);
    expect(dt.autograd.gradcheck((a) => F.adaptiveMaxPool2d(a, [4, 3]), [x()])).toBe(true);
  });
});

describe('behaviour', () => {
  it('propagates NaN through max pooling, as PyTorch', () => {
    const y = F.maxPool2d(dt.tensor([1, NaN, 3, 2]).reshape([1, 1, 2, 2]), 2);
    expect(Number.isNaN(y.item())).toBe(true);
  });
  it('pools unbatched [C, H, W] input and strided views', () => {
    const x = gen([3, 6, 6], 5);
    expect(F.maxPool2d(x, 2).shape).toEqual([3, 3, 3]);
    const [v, i] = F.maxPool2d(x, 2, { returnIndices: true });
    expect(i.shape).toEqual([3, 3, 3]);
    const xt = gen([1, 3, 6, 6], 5).transpose(2, 3);
    expectClose(flat(F.avgPool2d(xt, 2)), flat(F.avgPool2d(xt.contiguous(), 2)), 0, 0);
    expect(v.shape).toEqual([3, 3, 3]);
  });
  it('modules pass their options through', () => {
    const x = gen([1, 1, 5, 5], 9);
    const [y, idx] = new dt.nn.MaxPool2d(2, { ceilMode: true, returnIndices: true }).forward(x);
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(idx.shape).toEqual([1, 1, 3, 3]);
    expect(new dt.nn.AvgPool2d(3, { stride: 1, padding: 1 }).forward(x).shape).toEqual([1, 1, 5, 5]);
  });
});

describe('errors', () => {
  const x = dt.zeros([1, 2, 5, 5]);
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(dt.DendriteError);
      return (e as dt.DendriteError).code;
    }
    return 'none';
  };
  it('rejects bad windows, shapes and dtypes', () => {
    expect(err(() => F.maxPool2d(x, 2, { padding: 2 }))).toBe('ERR_ARGUMENT');
    expect(err(() => F.maxPool2d(x, 0))).toBe('ERR_ARGUMENT');
    expect(err(() => F.maxPool2d(x, 7))).toBe('ERR_SHAPE');
    expect(err(() => F.avgPool2d(dt.zeros([5, 5]), 2))).toBe('ERR_SHAPE');
    expect(err(() => F.avgPool2d(x.int(), 2))).toBe('ERR_DTYPE');
    expect(err(() => F.avgPool2d(x, 2, { divisorOverride: 0 }))).toBe('ERR_ARGUMENT');
    expect(err(() => F.adaptiveAvgPool2d(x, 0))).toBe('ERR_ARGUMENT');
    expect(() => F.maxPool2d(x, 6)).toThrow(/maxPool2d: expected an input of at least the dilated kernel size \[6, 6\].*got \[1, 2, 5, 5\]/);
  });
});

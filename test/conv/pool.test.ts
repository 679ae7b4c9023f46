// Pooling: PyTorch fixtures (values, argmax indices, gradients), the course's hand example,
// gradcheck, and argument errors.
import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { expectClose, fixture, flat, gen, TOL } from './fixtures';

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
      runPool(c, 'float32');
      runPool(c, 'float64');
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

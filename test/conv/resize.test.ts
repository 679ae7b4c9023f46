// interpolate and pad against PyTorch, gradcheck, Upsample.
import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { expectClose, fixture, flat, gen, TOL } from './fixtures';

const { F, nn } = dt;

function runCase(c: any, dtype: 'float32' | 'float64', op: (x: dt.Tensor) => dt.Tensor) {
  const x = gen(c.shape, c.seed, { dtype, requiresGrad: true });
  const y = op(x);
  expect(y.shape).toEqual(c.yShape);
  y.backward(gen(c.yShape, c.seed + 1, { dtype }));
  const [atol, rtol] = TOL[dtype];
  expectClose(flat(y), c.y, atol, rtol, `${c.name} y`);
  expectClose(flat(x.grad!), c.gx, atol, rtol, `${c.name} gx`);
}

describe('interpolate against PyTorch', () => {
  for (const c of fixture.interpolate) {
    it(c.name, () => {
      const o = { size: c.size, scaleFactor: c.scaleFactor, mode: c.mode, alignCorners: c.alignCorners };
      for (const dtype of ['float32', 'float64'] as const) runCase(c, dtype, (x) => F.interpolate(x, o));
    });
  }
});

describe('pad against PyTorch', () => {
  for (const c of fixture.pad) {
    it(c.name, () => {
      for (const dtype of ['float32', 'float64'] as const)
        runCase(c, dtype, (x) => (c.mode === 'constant' ? F.pad(x, c.pad, 'constant', c.value) : F.pad(x, c.pad, c.mode)));
    });
  }
});

describe('interpolate and pad', () => {
  it('nearest x2 is Keras UpSampling2D: each pixel repeated in a 2x2 block', () => {
    const x = dt.tensor([[1, 2], [3, 4]]).reshape([1, 1, 2, 2]);
    const up = new nn.Upsample({ scaleFactor: 2 }).forward(x);
    expect(up.reshape([4, 4]).toArray()).toEqual([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]);
  });
  it('passes gradcheck (bilinear both corner modes, reflect and constant pad)', () => {
    const x = () => gen([1, 2, 3, 4], 5, { dtype: 'float64', requiresGrad: true });
    expect(dt.autograd.gradcheck((a) => F.interpolate(a, { size: [5, 6], mode: 'bilinear' }), [x()])).toBe(true);
    expect(dt.autograd.gradcheck((a) => F.interpolate(a, { scaleFactor: 1.5, mode: 'bilinear', alignCorners: true }), [x()])).toBe(true);
    expect(dt.autograd.gradcheck((a) => F.pad(a, [2, 1, 1, 2], 'reflect'), [x()])).toBe(true);
    expect(dt.autograd.gradcheck((a) => F.pad(a, [1, -1, 0, 2], { value: 3 }), [x()])).toBe(true);
  });
  it('rejects bad arguments', () => {
    const x = dt.zeros([1, 1, 3, 3]);
    expect(() => F.interpolate(x, {})).toThrow(/exactly one of size and scaleFactor/);
    expect(() => F.interpolate(x, { size: 4, alignCorners: true })).toThrow(/alignCorners only with mode 'bilinear'/);
    expect(() => F.interpolate(dt.zeros([3, 3]), { size: 4 })).toThrow(/ERR_SHAPE|\[N, C, H, W\]/);
    expect(() => F.pad(x, [3, 0], 'reflect')).toThrow(/reflect padding smaller than the dim/);
    expect(() => F.pad(x, [1], 'constant')).toThrow(/even-length/);
    expect(() => F.pad(x, [1, 1], 'mirror' as any)).toThrow(/mode/);
  });
});

// batchNorm (fixtures, running statistics, modules, gradcheck) and dropout.
import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { expectClose, fixture, flat, forEachPath, gen, TOL } from './fixtures';

const { F, nn } = dt;

function runBatchNorm(c: any, dtype: 'float32' | 'float64') {
  const C = c.shape[1];
  const affine = c.affine ?? true;
  const x = gen(c.shape, c.seed, { dtype, scale: 2, shift: 0.3, requiresGrad: true });
  const w = affine ? gen([C], c.seed + 2, { dtype, scale: 0.5, shift: 1, requiresGrad: true }) : null;
  const b = affine ? gen([C], c.seed + 3, { dtype, requiresGrad: true }) : null;
  const rm = gen([C], c.seed + 4, { dtype, scale: 0.2 }), rv = gen([C], c.seed + 5, { dtype, scale: 0.5, shift: 1 });
  const y = F.batchNorm(x, rm, rv, w, b, { training: c.training, momentum: c.momentum ?? 0.1, eps: 1e-5 });
  y.backward(gen(c.shape, c.seed + 1, { dtype }));
  const [atol, rtol] = dtype === 'float32' ? [1e-4, 1e-4] : TOL.float64;
  expectClose(flat(y), c.y, atol, rtol, `${c.name} y`);
  expectClose(flat(x.grad!), c.gx, atol, rtol, `${c.name} gx`);
  if (affine) {
    expectClose(flat(w!.grad!), c.gw, atol, rtol, `${c.name} gw`);
    expectClose(flat(b!.grad!), c.gb, atol, rtol, `${c.name} gb`);
  }
  expectClose(flat(rm), c.runningMean, atol, rtol, `${c.name} running mean`);
  expectClose(flat(rv), c.runningVar, atol, rtol, `${c.name} running var`);
}

describe('batchNorm against PyTorch', () => {
  for (const c of fixture.batchNorm) {
    it(c.name, () => {
      forEachPath(() => runBatchNorm(c, 'float32'));
      runBatchNorm(c, 'float64');
    });
  }
});

describe('batchNorm on long channels, every SIMD path against float64', () => {
  // L = 37 * 29 = 1073 values per (image, channel): past one float block of the sums, odd tail.
  it('training forward and all gradients', () => {
    const x64 = gen([3, 2, 37, 29], 81, { dtype: 'float64', scale: 2, shift: 5 });
    const gy64 = gen([3, 2, 37, 29], 83, { dtype: 'float64' });
    const w64 = gen([2], 85, { dtype: 'float64', shift: 1 }), b64 = gen([2], 87, { dtype: 'float64' });
    const run = (dtype: 'float32' | 'float64') => {
      const leaf = (t: dt.Tensor) => t.to(dtype).clone().requiresGrad_();
      const x = leaf(x64), w = leaf(w64), b = leaf(b64);
      const y = F.batchNorm(x, null, null, w, b, { training: true });
      y.backward(gy64.to(dtype));
      return [y, x.grad!, w.grad!, b.grad!].map(flat);
    };
    const ref = run('float64');
    forEachPath((path) => {
      run('float32').forEach((v, i) => expectClose(v, ref[i], 2e-4, 1e-4, `output ${i} (${path})`));
    });
  });
});

describe('batchNorm', () => {
  it('passes gradcheck in training and eval mode', () => {
    const x = gen([3, 2, 2, 3], 21, { dtype: 'float64', scale: 2, requiresGrad: true });
    const w = gen([2], 22, { dtype: 'float64', shift: 1, requiresGrad: true });
    const b = gen([2], 23, { dtype: 'float64', requiresGrad: true });
    expect(dt.autograd.gradcheck((a, ww, bb) => F.batchNorm(a, null, null, ww, bb, { training: true }), [x, w, b])).toBe(true);
    const rm = gen([2], 24, { dtype: 'float64' }), rv = gen([2], 25, { dtype: 'float64', scale: 0.5, shift: 1 });
    expect(dt.autograd.gradcheck((a, ww, bb) => F.batchNorm(a, rm, rv, ww, bb), [x, w, b])).toBe(true);
  });

  it('BatchNorm2d has PyTorch parameters, buffers (int64 counter) and state-dict order', () => {
    const bn = new nn.BatchNorm2d(3);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(bn.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    expect(bn.weight!.toArray()).toEqual([1, 1, 1]);
    expect(bn.bias!.toArray()).toEqual([0, 0, 0]);
    expect(bn.running_var!.toArray()).toEqual([1, 1, 1]);
    expect(bn.num_batches_tracked!.dtype).toBe('int64');
    bn.to('float64');
    expect(bn.num_batches_tracked!.dtype).toBe('int64');
    expect(bn.running_mean!.dtype).toBe('float64');
    const plain = new nn.BatchNorm1d(4, { affine: false, trackRunningStats: false });
    expect(Object.keys(plain.stateDict())).toEqual([]);
    expect(plain.forward(gen([5, 4], 3)).shape).toEqual([5, 4]);
  });

  it('tracks running stats with momentum, or a cumulative average with momentum null, and uses them in eval', () => {
    const x1 = gen([4, 2, 3, 3], 31, { scale: 2, shift: 1 }), x2 = gen([4, 2, 3, 3], 32, { scale: 3 });
    const stats = (x: dt.Tensor) => [x.mean([0, 2, 3]), x.var([0, 2, 3])];
    const [m1, v1] = stats(x1), [m2, v2] = stats(x2);
    const bn = new nn.BatchNorm2d(2);
    bn.forward(x1);
    bn.forward(x2);
    const expectedMean = m1.mul(0.1).mul(0.9).add(m2.mul(0.1));
    expectClose(flat(bn.running_mean!), flat(expectedMean), 1e-6, 1e-5, 'running_mean');
    const expectedVar = v1.mul(0.1).add(0.9).mul(0.9).add(v2.mul(0.1));
    expectClose(flat(bn.running_var!), flat(expectedVar), 1e-6, 1e-5, 'running_var');
    expect(bn.num_batches_tracked!.item()).toBe(2);
    const cma = new nn.BatchNorm2d(2, { momentum: null });
    cma.forward(x1);
    cma.forward(x2);
    expectClose(flat(cma.running_mean!), flat(m1.add(m2).div(2)), 1e-6, 1e-5, 'cumulative mean');
    // eval: normalise with the running stats; nothing changes
    bn.eval();
    const before = flat(bn.running_mean!);
    const y = bn.forward(x1);
    expect(flat(bn.running_mean!)).toEqual(before);
    const manual = x1.sub(bn.running_mean!.reshape([1, 2, 1, 1])).div(bn.running_var!.add(1e-5).sqrt().reshape([1, 2, 1, 1]));
    expectClose(flat(y), flat(manual), 1e-5, 1e-5, 'eval output');
  });

  it('rejects wrong channel counts, ranks and a single value per channel in training', () => {
    expect(() => new nn.BatchNorm2d(3).forward(dt.zeros([2, 4, 2, 2]))).toThrow(/BatchNorm2d: expected input with 3 channels in dim 1, got \[2, 4, 2, 2\]/);
    expect(() => new nn.BatchNorm2d(3).forward(dt.zeros([2, 3, 2]))).toThrow(/ERR_SHAPE|expected input of shape \[N, C, H, W\]/);
    expect(() => new nn.BatchNorm1d(3).forward(dt.zeros([1, 3]))).toThrow(/more than 1 value per channel/);
    expect(() => F.batchNorm(dt.zeros([2, 3]), dt.zeros([2]), dt.ones([3]))).toThrow(/runningMean of shape \[3\]/);
  });
});

describe('dropout', () => {
  it('zeroes with probability p, scales survivors by 1/(1-p), and is reproducible under manualSeed', () => {
    const x = dt.ones([20000]);
    dt.manualSeed(7);
    const a = flat(F.dropout(x, 0.25));
    dt.manualSeed(7);
    const b = flat(F.dropout(x, { p: 0.25 }));
    expect(a).toEqual(b);
    const zeros = a.filter((v) => v === 0).length;
    expect(Math.abs(zeros / a.length - 0.25)).toBeLessThan(0.015);
    expect(a.filter((v) => v !== 0).every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
  });

  it('is the identity when not training or p = 0, zeros at p = 1, and masks the gradient', () => {
    const x = gen([4, 5], 3, { requiresGrad: true });
    expect(F.dropout(x, { p: 0.5, training: false })).toBe(x);
    expect(F.dropout(x, 0)).toBe(x);
    expect(flat(F.dropout(x, 1)).every((v) => v === 0)).toBe(true);
    const y = F.dropout(x, 0.5);
    y.backward(dt.ones([4, 5]));
    const yv = flat(y), xv = flat(x), gv = flat(x.grad!);
    for (let i = 0; i < yv.length; i++) expect(gv[i]).toBeCloseTo(yv[i] === 0 && xv[i] !== 0 ? 0 : 2, 6);
  });

  it('Dropout follows train() and eval()', () => {
    const d = new nn.Dropout(0.5);
    const x = dt.ones([1000]);
    expect(flat(d.forward(x)).some((v) => v === 0)).toBe(true);
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(() => new nn.Dropout(1.5)).toThrow(/p in \[0, 1\]/);
  });
});

// Pooling, batch norm and dropout on CUDA against the CPU: the same autograd graph on both
// devices over the shapes of test/conv (the PyTorch fixture cases, rows of every length with ties
// and NaNs, the gradcheck shapes) and larger ones, forward and backward; BatchNorm modules trained
// on both devices; dropout masks from one seed on both devices.
//
// The pooling kernels repeat the CPU's scalar arithmetic in its order (window clipping, tap
// order, summation order), so max pooling must match exactly and the averages to the last bit
// (the tolerances only allow for a CPU SIMD path summing differently). Batch norm accumulates its
// statistics differently (Welford on the GPU, two passes on the CPU), so it matches to rounding.
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { fixture, gen } from '../conv/fixtures';
import { describeCuda, expectClose, values } from './helpers';
import { compareGraph, cudaLeaf, expectIdentical } from './graph_helpers';

const { F, nn } = dt;
type Float = 'float32' | 'float64';
const FLOATS: Float[] = ['float32', 'float64'];

/** The pooling call of a conv.json pool case (values and, for max, indices). */
function poolOp(c: any): (x: dt.Tensor) => dt.Tensor | dt.Tensor[] {
  if (c.op === 'max')
    return (x) => F.maxPool2d(x, c.k, { stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: c.ceilMode, returnIndices: true });
  if (c.op === 'avg')
    return (x) => F.avgPool2d(x, c.k, { stride: c.stride, padding: c.padding, ceilMode: c.ceilMode, countIncludePad: c.countIncludePad, divisorOverride: c.divisorOverride });
  if (c.op === 'adaptiveAvg') return (x) => F.adaptiveAvgPool2d(x, c.out);
  return (x) => F.adaptiveMaxPool2d(x, c.out, { returnIndices: true });
}

const exactFor = (op: string) => (op === 'max' || op === 'adaptiveMax' ? { rtol: 0, atol: 0 } : { rtol: 1e-6, atol: 1e-7 });

describeCuda('cuda pooling', () => {
  it('every PyTorch fixture case, values, indices and gradients, both float dtypes', () => {
    for (const c of fixture.pool)
      for (const dtype of FLOATS)
        compareGraph(`${c.op} ${c.name} ${dtype}`, [gen(c.shape, c.seed, { dtype, requiresGrad: true })], poolOp(c), exactFor(c.op));
  });

  it('rows of every length with ties and NaNs (NaN wins, the first of equal maxima)', () => {
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
      const xs = Array.from(gen(shape, 71, { scale: 3 }).round().dataSync() as Float32Array);
      const HW = shape[2] * shape[3];
      for (let pl = 0; pl < shape[0] * shape[1]; pl++) xs[pl * HW + ((pl * 37 + 11) % HW)] = NaN;
      const x = dt.tensor(xs, { shape, requiresGrad: true });
      compareGraph(`max ${name}`, [x], (a) => F.maxPool2d(a, k, { stride: s, padding: p, dilation: d, returnIndices: true }), { rtol: 0, atol: 0 });
      // Integer-valued inputs: the average of ties and the gradients are exact on both devices.
      const xa = dt.tensor(xs.map((v) => (Number.isNaN(v) ? 0 : v)), { shape, requiresGrad: true });
      if (d === 1)
        for (const countIncludePad of [true, false])
          compareGraph(`avg ${name} includePad ${countIncludePad}`, [xa.detach().requiresGrad_()],
            (a) => F.avgPool2d(a, k, { stride: s, padding: p, countIncludePad }), { rtol: 1e-6, atol: 1e-7 });
    }
  });

  it('the gradcheck configurations and windows that miss the input (dilated taps around a 1-pixel row)', () => {
    for (const dtype of FLOATS) {
      const x = () => gen([2, 2, 6, 7], 3, { dtype, requiresGrad: true });
      compareGraph(`max ceil dilation ${dtype}`, [x()], (a) => F.maxPool2d(a, 3, { stride: 2, padding: 1, dilation: [1, 2], ceilMode: true, returnIndices: true }), { rtol: 0, atol: 0 });
      compareGraph(`avg ceil exclude pad ${dtype}`, [x()], (a) => F.avgPool2d(a, [3, 2], { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }));
      compareGraph(`adaptive avg ${dtype}`, [x()], (a) => F.adaptiveAvgPool2d(a, [4, 3]));
      compareGraph(`adaptive max ${dtype}`, [x()], (a) => F.adaptiveMaxPool2d(a, [4, 3], { returnIndices: true }), { rtol: 0, atol: 0 });
      compareGraph(`adaptive avg upsampling ${dtype}`, [gen([1, 3, 3, 3], 5, { dtype, requiresGrad: true })], (a) => F.adaptiveAvgPool2d(a, [5, 7]));
      compareGraph(`adaptive max upsampling ${dtype}`, [gen([1, 3, 3, 3], 5, { dtype, requiresGrad: true })], (a) => F.adaptiveMaxPool2d(a, [5, 7], { returnIndices: true }), { rtol: 0, atol: 0 });
    }
    // The first output's window (rows -1 and 2) misses a 1-row input: -inf, index 0, and its
    // gradient lands on element 0 on both devices.
    compareGraph('windows outside the input', [gen([1, 2, 1, 29], 9, { requiresGrad: true })],
      (a) => F.maxPool2d(a, [2, 3], { stride: 2, padding: 1, dilation: [3, 1], ceilMode: true, returnIndices: true }), { rtol: 0, atol: 0 });
  });

  it('large planes, unbatched input, strided views and modules', () => {
    const big = gen([8, 16, 56, 56], 13, { requiresGrad: true });
    compareGraph('resnet stem max k3 s2 p1', [big], (a) => F.maxPool2d(a, 3, { stride: 2, padding: 1, returnIndices: true }), { rtol: 0, atol: 0 });
    compareGraph('global average', [gen([8, 64, 7, 7], 14, { requiresGrad: true })], (a) => F.adaptiveAvgPool2d(a, 1));
    compareGraph('avg k2 s2', [gen([4, 32, 28, 28], 15, { requiresGrad: true })], (a) => F.avgPool2d(a, 2));
    compareGraph('unbatched [C, H, W]', [gen([3, 6, 6], 5, { requiresGrad: true })], (a) => F.maxPool2d(a, 2, { returnIndices: true }), { rtol: 0, atol: 0 });
    compareGraph('transposed view', [gen([1, 3, 6, 8], 5, { requiresGrad: true })], (a) => F.avgPool2d(a.transpose(2, 3), 2));
    compareGraph('MaxPool2d module, ceilMode', [gen([1, 1, 5, 5], 9, { requiresGrad: true })], (a) => new nn.MaxPool2d(2, { ceilMode: true }).forward(a), { rtol: 0, atol: 0 });
    compareGraph('AvgPool2d module', [gen([2, 3, 5, 5], 9, { requiresGrad: true })], (a) => new nn.AvgPool2d(3, { stride: 1, padding: 1 }).forward(a));
  });

  it('results stay on the device and are deterministic; bad input is an error, not a crash', () => {
    const x = gen([2, 3, 9, 9], 21).cuda().requiresGrad_();
    const run = () => {
      x.grad = null;
      F.maxPool2d(x, 3, { stride: 2 }).add(F.avgPool2d(x, 3, { stride: 2 })).square().sum().backward();
      return x.grad!;
    };
    const a = run(), b = run();
    expect(a.device).toBe('cuda');
    expectIdentical(a, b, 'pooling backward');
    expect(() => F.maxPool2d(x, 10)).toThrow(dt.DendriteError);
    expect(() => F.avgPool2d(x.int(), 2)).toThrow(dt.DendriteError);
    expect(() => F.maxPool2d(dt.zeros([1, 1, 4, 4], { device: 'cuda' }), 2, { padding: 2 })).toThrow(/padding at most half/);
  });
});

/** F.batchNorm over a conv.json batchNorm case's inputs (the generator of test/conv/norm.test.ts). */
function batchNormCase(c: any, dtype: Float, training = c.training) {
  const C = c.shape[1];
  const affine = c.affine ?? true;
  const x = gen(c.shape, c.seed, { dtype, scale: 2, shift: 0.3, requiresGrad: true });
  const w = affine ? gen([C], c.seed + 2, { dtype, scale: 0.5, shift: 1, requiresGrad: true }) : null;
  const b = affine ? gen([C], c.seed + 3, { dtype, requiresGrad: true }) : null;
  const rm = gen([C], c.seed + 4, { dtype, scale: 0.2 }), rv = gen([C], c.seed + 5, { dtype, scale: 0.5, shift: 1 });
  return { x, w, b, rm, rv, momentum: c.momentum ?? 0.1, training };
}

/** The running statistics too: they are updated in place on each device. */
function compareBatchNorm(what: string, k: ReturnType<typeof batchNormCase>, dtype: Float): void {
  const tol = dtype === 'float32' ? { rtol: 2e-5, atol: 2e-6, gradRtol: 1e-4, gradAtol: 1e-5 } : { rtol: 1e-10, atol: 1e-12 };
  const leaves = [k.x, ...(k.w ? [k.w, k.b!] : [])];
  const rmG = k.rm.cuda(), rvG = k.rv.cuda();
  compareGraph(what, leaves, (x, w, b) => {
    const onGpu = x.device === 'cuda';
    return F.batchNorm(x, onGpu ? rmG : k.rm, onGpu ? rvG : k.rv, w ?? null, b ?? null, { training: k.training, momentum: k.momentum, eps: 1e-5 });
  }, tol);
  expectClose(rmG, k.rm, tol.rtol, tol.atol, `${what} running mean`);
  expectClose(rvG, k.rv, tol.rtol, tol.atol, `${what} running var`);
}

describeCuda('cuda batch norm', () => {
  it('every PyTorch fixture case, train and eval, both float dtypes', () => {
    for (const c of fixture.batchNorm)
      for (const dtype of FLOATS)
        for (const training of [c.training, !c.training]) compareBatchNorm(`${c.name} training ${training} ${dtype}`, batchNormCase(c, dtype, training), dtype);
  });

  it('long channels, wide [N, C] batches, many rows, and no running stats', () => {
    const shapes = [[3, 2, 37, 29], [256, 64], [1000, 3], [4, 3, 1000], [16, 8, 32, 32], [2, 1, 100000], [33, 5, 7]];
    for (const [i, shape] of shapes.entries())
      for (const dtype of FLOATS) {
        const C = shape[1];
        const k = {
          x: gen(shape, 80 + i, { dtype, scale: 2, shift: 5, requiresGrad: true }),
          w: gen([C], 90 + i, { dtype, shift: 1, requiresGrad: true }), b: gen([C], 95 + i, { dtype, requiresGrad: true }),
          rm: gen([C], 70 + i, { dtype, scale: 0.2 }), rv: gen([C], 75 + i, { dtype, scale: 0.5, shift: 1 }), momentum: 0.1, training: true,
        };
        compareBatchNorm(`[${shape}] ${dtype}`, k, dtype);
        compareBatchNorm(`[${shape}] eval ${dtype}`, { ...k, x: k.x.detach().requiresGrad_(), w: k.w.detach().requiresGrad_(), b: k.b.detach().requiresGrad_(), training: false }, dtype);
      }
    compareGraph('no running stats, no affine', [gen([4, 3, 5], 3, { requiresGrad: true })],
      (x) => F.batchNorm(x, null, null, { training: true }), { rtol: 2e-5, atol: 2e-6, gradRtol: 1e-4, gradAtol: 1e-5 });
    // eval with only some gradients wanted: x alone, then the weight alone
    const rm = gen([3], 4, { scale: 0.2 }), rv = gen([3], 5, { scale: 0.5, shift: 1 });
    compareGraph('eval, grad of x only', [gen([4, 3, 5], 3, { requiresGrad: true })],
      (x) => F.batchNorm(x, x.device === 'cuda' ? rm.cuda() : rm, x.device === 'cuda' ? rv.cuda() : rv));
  });

  it('BatchNorm2d / BatchNorm1d trained on both devices keep the same running stats, then agree in eval', () => {
    const cases: Array<{ make: () => InstanceType<typeof nn.BatchNorm1d> | InstanceType<typeof nn.BatchNorm2d>; shape: number[] }> = [
      { make: () => new nn.BatchNorm2d(4), shape: [6, 4, 5, 3] },
      { make: () => new nn.BatchNorm1d(7), shape: [9, 7] },
      { make: () => new nn.BatchNorm1d(3, { momentum: null }), shape: [5, 3, 8] },
    ];
    for (const { make, shape } of cases) {
      dt.manualSeed(5);
      const cpu = make(), gpu = make();
      // a first step on the CPU, then a copy of the module moved to the device
      cpu.forward(gen(shape, 1, { scale: 2, shift: 1 }));
      gpu.loadStateDict(cpu.stateDict());
      gpu.to('cuda');
      expect(gpu.running_mean!.device).toBe('cuda');
      for (let step = 0; step < 4; step++) {
        const x = gen(shape, 10 + step, { scale: 1 + step, shift: step - 1 });
        compareGraph(`${cpu.constructor.name} step ${step}`, [x.requiresGrad_()], (a) => (a.device === 'cuda' ? gpu : cpu).forward(a),
          { rtol: 2e-5, atol: 2e-6, gradRtol: 1e-4, gradAtol: 1e-5 });
      }
      for (const name of ['running_mean', 'running_var'] as const) expectClose(gpu[name]!, cpu[name]!, 2e-5, 2e-6, name);
      expect(gpu.num_batches_tracked!.item()).toBe(cpu.num_batches_tracked!.item());
      cpu.eval();
      gpu.eval();
      const x = gen(shape, 99, { scale: 2 });
      compareGraph(`${cpu.constructor.name} eval`, [x.requiresGrad_()], (a) => (a.device === 'cuda' ? gpu : cpu).forward(a), { rtol: 2e-5, atol: 2e-6 });
      for (const name of ['running_mean', 'running_var'] as const) expectClose(gpu[name]!, cpu[name]!, 2e-5, 2e-6, `${name} after eval`);
    }
  });

  it('is deterministic, and refuses operands on different devices', () => {
    const x = gen([8, 6, 13, 11], 7, { scale: 3, shift: 2 }).cuda().requiresGrad_();
    const w = dt.ones([6], { device: 'cuda', requiresGrad: true });
    const run = () => {
      x.grad = null;
      w.grad = null;
      const y = F.batchNorm(x, null, null, w, null, { training: true });
      y.mul(y).sum().backward();
      return [y.detach(), x.grad!, w.grad!];
    };
    const a = run(), b = run();
    a.forEach((t, i) => expectIdentical(t, b[i], `batch norm output ${i}`));
    expect(() => F.batchNorm(x, dt.zeros([6]), dt.ones([6]))).toThrow(/one device/);
  });
});

describeCuda('cuda dropout', () => {
  it('one seed gives one mask on both devices (the Philox stream is shared), and the same gradient', () => {
    for (const dtype of FLOATS)
      for (const p of [0.1, 0.5, 0.9]) {
        const x = gen([7, 33, 5], 3, { dtype, shift: 2, requiresGrad: true });
        const fn = (a: dt.Tensor) => {
          dt.manualSeed(1234);
          return F.dropout(a, p);
        };
        compareGraph(`dropout p ${p} ${dtype}`, [x], fn, { rtol: 0, atol: 0 });
      }
  });

  it('nn.Dropout follows train() and eval() on the device', () => {
    const d = new nn.Dropout(0.3);
    const x = dt.ones([5000], { device: 'cuda' });
    dt.manualSeed(9);
    const a = d.forward(x);
    dt.manualSeed(9);
    const b = d.forward(x.cpu());
    expect(a.device).toBe('cuda');
    expect(values(a)).toEqual(values(b));
    const zeros = values(a).filter((v) => v === 0).length;
    expect(Math.abs(zeros / 5000 - 0.3)).toBeLessThan(0.03);
    d.eval();
    expect(d.forward(x)).toBe(x);
    const leaf = cudaLeaf(gen([4, 5], 3, { requiresGrad: true }));
    expect(F.dropout(leaf, { p: 0.5, training: false })).toBe(leaf);
  });
});

// The CUDA conv kernels against the CPU ones: the same autograd graph (y = conv(x, w, b),
// y.backward(gy)) on cpu and on cuda, comparing y and the x / w / b gradients, over the shapes
// of test/conv (every PyTorch fixture, the larger shapes with column tiles) and the CUDA paths'
// own edges: pointwise straight on the input and chunked, images batched into one GEMM (the
// last chunk shorter), one image over several column tiles (col2im accumulating per tile),
// the weight GEMM split along K, the depthwise weight reduction split across blocks;
// convTranspose2d with outputPadding, dilation and groups; nn modules moved with .to('cuda');
// determinism; and the errors (float64, mixed devices).
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { describeCuda, expectClose, values } from './helpers';
import { fixture, gen } from '../conv/fixtures';

const { F } = dt;

type Opts = { stride?: any; padding?: any; dilation?: any; groups?: number; outputPadding?: any };

/** float32 sums of `depth` terms in another order: rtol 1e-4, atol growing with the depth. */
const tolFor = (depth: number): [number, number] => [1e-4, 1e-5 + 2e-6 * depth];

interface Run {
  y: dt.Tensor;
  gx: dt.Tensor;
  gw: dt.Tensor;
  gb: dt.Tensor | null;
}

function runGraph(device: 'cpu' | 'cuda', x: dt.Tensor, w: dt.Tensor, b: dt.Tensor | null, o: Opts, transposed: boolean, gySeed: number): Run {
  const leaf = (t: dt.Tensor) => (device === 'cuda' ? t.cuda() : t.clone()).requiresGrad_();
  const xd = leaf(x), wd = leaf(w), bd = b ? leaf(b) : null;
  const y = transposed ? F.convTranspose2d(xd, wd, bd, o) : F.conv2d(xd, wd, bd, o as dt.Conv2dOptions);
  const gy = gen(y.shape, gySeed);
  const gyd = device === 'cuda' ? gy.cuda() : gy;
  y.backward(gyd);
  // The gradients outlive their leaves (disposing a leaf disposes its .grad).
  const take = (t: dt.Tensor): dt.Tensor => {
    const g = t.grad!;
    t.grad = null;
    return g;
  };
  const run = { y, gx: take(xd), gw: take(wd), gb: bd ? take(bd) : null };
  for (const t of new Set([gy, gyd, xd, wd, bd])) t?.dispose();
  return run;
}

/**
 * conv2d (or convTranspose2d) of x [xs] with a weight [ws] (+ bias): forward and every gradient
 * on cuda against cpu.
 */
function compareConv(name: string, xs: number[], ws: number[], bias: boolean, o: Opts, transposed = false, seed = 11): void {
  const groups = o.groups ?? 1;
  const x = gen(xs, seed);
  const w = gen(ws, seed + 2, { scale: 0.5 });
  const outC = transposed ? ws[1] * groups : ws[0];
  const b = bias ? gen([outC], seed + 3) : null;
  const want = runGraph('cpu', x, w, b, o, transposed, seed + 1);
  const got = runGraph('cuda', x, w, b, o, transposed, seed + 1);
  const [N, C] = xs, [R, S] = [ws[2], ws[3]];
  const [, , OH, OW] = want.y.shape;
  const inP = xs[2] * xs[3], outP = OH * OW;
  // Reduction lengths: y sums over (in channel of the group, tap); x's gradient over (out
  // channel of the group, tap); w's and b's over (image, position).
  const yDepth = transposed ? (C / groups) * R * S : ws[1] * R * S;
  const gxDepth = transposed ? ws[1] * R * S : (ws[0] / groups) * R * S;
  const gwDepth = N * (transposed ? inP : outP);
  expectClose(got.y, want.y, ...tolFor(yDepth), `${name}: y`);
  expectClose(got.gx, want.gx, ...tolFor(gxDepth), `${name}: x grad`);
  expectClose(got.gw, want.gw, ...tolFor(gwDepth), `${name}: w grad`);
  if (want.gb) expectClose(got.gb!, want.gb, ...tolFor(N * outP), `${name}: b grad`);
  for (const r of [want, got]) for (const t of [r.y, r.gx, r.gw, r.gb]) t?.dispose();
  for (const t of [x, w, b]) t?.dispose();
}

describeCuda('cuda conv2d against the cpu: the PyTorch fixture shapes', () => {
  for (const c of fixture.conv2d) {
    it(`${c.name}: forward and gradients`, () => {
      const o: Opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
      compareConv(c.name, [c.N, c.C, c.H, c.W], [c.K, c.C / c.groups, ...c.k], c.bias, o, false, c.seed);
    });
  }
});

describeCuda('cuda convTranspose2d against the cpu: the PyTorch fixture shapes', () => {
  for (const c of fixture.convTranspose2d) {
    it(`${c.name}: forward and gradients`, () => {
      const o: Opts = { stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation, groups: c.groups };
      compareConv(c.name, [c.N, c.C, c.H, c.W], [c.C, c.K / c.groups, ...c.k], c.bias, o, true, c.seed);
    });
  }
});

describeCuda('cuda conv2d against the cpu: larger shapes and the CUDA paths', () => {
  // [name, x shape, w shape, stride, padding, dilation, groups] as in test/conv/conv.test.ts.
  const cases: [string, number[], number[], number, number | 'same', number, number][] = [
    ['general, 1 image (weight GEMM split along K with a remainder)', [1, 16, 33, 33], [4, 16, 3, 3], 1, 1, 1, 1],
    ['general, 3 images, stride 2 (one chunk of 3 images)', [3, 16, 34, 31], [5, 16, 3, 3], 2, 1, 1, 1],
    ['groups 4, dilation 2', [2, 8, 20, 21], [8, 2, 3, 3], 1, 2, 2, 4],
    ['depthwise', [3, 6, 17, 18], [6, 1, 3, 3], 1, 1, 1, 6],
    ['depthwise multiplier 2, weight reduction split across blocks', [4, 3, 40, 41], [6, 1, 3, 3], 1, 1, 1, 3],
    ['depthwise 5x5, stride 2, dilation 2', [2, 4, 19, 16], [4, 1, 5, 5], 2, 4, 2, 4],
    ['single input channel (groups == C == 1 runs depthwise), 8 outputs', [5, 1, 12, 13], [8, 1, 3, 3], 1, 0, 1, 1],
    ['pointwise, small images chunked', [3, 24, 13, 14], [10, 24, 1, 1], 1, 0, 1, 1],
    ['pointwise, batch 1 (straight on the input)', [1, 24, 13, 14], [10, 24, 1, 1], 1, 0, 1, 1],
    ['pointwise, wide images straight on the input', [3, 8, 48, 50], [6, 8, 1, 1], 1, 0, 1, 1],
    ['pointwise, groups 2, chunked', [2, 6, 9, 7], [4, 3, 1, 1], 1, 0, 1, 2],
    ['pointwise, groups 3, straight on the input', [2, 6, 45, 47], [9, 2, 1, 1], 1, 0, 1, 3],
    ['1x1 stride 2 (general path)', [3, 5, 9, 8], [4, 5, 1, 1], 2, 0, 1, 1],
    ['stride 1, 5 images, odd sizes', [5, 3, 7, 9], [6, 3, 3, 3], 1, 1, 1, 1],
    ['stride 1, 33 small images, 2x2 kernel', [33, 2, 5, 6], [3, 2, 2, 2], 1, 0, 1, 1],
    ['stride 1, batch 1, 3x5 kernel, wide image', [1, 4, 11, 61], [7, 4, 3, 5], 1, 1, 1, 1],
    ['stride 1, 7 images, groups 2, dilation 2', [7, 4, 9, 10], [6, 2, 3, 3], 1, 1, 2, 2],
    ['padding past the kernel reach', [3, 3, 6, 7], [5, 3, 3, 3], 1, 3, 1, 1],
    ['stride 2, 7 small images', [7, 6, 9, 11], [5, 6, 3, 3], 2, 1, 1, 1],
    ['stride 2, 5 images, groups 2, 2x2 kernel', [5, 4, 8, 7], [6, 2, 2, 2], 2, 0, 1, 2],
    ['stride 2, batch 1, small', [1, 8, 9, 9], [4, 8, 3, 3], 2, 0, 1, 1],
    ["'same', 5x5 kernel on a 2x3 image", [2, 3, 2, 3], [4, 3, 5, 5], 1, 'same', 1, 1],
    ["'same', even kernel, dilation 3", [2, 4, 9, 8], [3, 4, 4, 2], 1, 'same', 3, 1],
    ['kernel as large as the padded input: 1x1 output', [2, 3, 5, 4], [2, 3, 7, 6], 1, 1, 1, 1],
    ['many output channels (GEMM rows past one tile)', [2, 5, 10, 9], [150, 5, 3, 3], 1, 1, 1, 1],
    ['many input channels (GEMM depth past one tile), 7x7 outputs', [4, 64, 7, 7], [32, 64, 3, 3], 1, 1, 1, 1],
  ];
  for (const [name, xs, ws, s, p, d, groups] of cases)
    it(name, () => compareConv(name, xs, ws, true, { stride: s, padding: p, dilation: d, groups }));

  it('images batched 2 to a GEMM, the last chunk a single image', () => {
    // CRS = 576: 16M / 576 = 29127 columns per step, 2 images of 100 x 100 per chunk.
    compareConv('chunks of 2 images, 3 images', [3, 64, 100, 100], [8, 64, 3, 3], true, { padding: 1 });
  });

  it('each image over two column tiles (tiles cut through output rows)', () => {
    // 180 x 181 = 32580 output positions > 29127 columns per step.
    compareConv('two tiles per image', [2, 64, 180, 181], [8, 64, 3, 3], true, { padding: 1 });
  });

  it('four column tiles, 7x7 kernel, stride 2, dilation 2 (the input rows each tile reaches)', () => {
    // CRS = 32 * 49 = 1568: 10699 columns per step; 181 x 181 = 32761 output positions.
    compareConv('tiles, stride 2, dilation 2', [1, 32, 361, 361], [4, 32, 7, 7], true, { stride: 2, padding: 6, dilation: 2 });
  });
});

describeCuda('cuda convTranspose2d against the cpu: more shapes', () => {
  const cases: [string, number[], number[], Opts][] = [
    ['DCGAN k4 s2 p1, outputPadding 1', [2, 16, 9, 9], [16, 8, 4, 4], { stride: 2, padding: 1, outputPadding: 1 }],
    ['groups 2, dilation 2, outputPadding (1, 0)', [3, 6, 5, 7], [6, 2, 3, 3], { stride: [2, 1], padding: 1, dilation: 2, outputPadding: [1, 0], groups: 2 }],
    ['outputPadding from dilation (stride 1)', [2, 3, 6, 5], [3, 4, 3, 2], { stride: 1, dilation: 3, outputPadding: 2 }],
    ['depthwise (groups == out channels), stride 3, outputPadding 2', [2, 4, 5, 6], [4, 1, 3, 3], { stride: 3, padding: 1, outputPadding: 2, groups: 4 }],
    ['pointwise', [4, 10, 11, 12], [10, 7, 1, 1], {}],
    ['U-Net up k2 s2, 64 channels', [2, 64, 12, 13], [64, 32, 2, 2], { stride: 2 }],
    ['7x7 -> 14x14 with 128 channels (several images per GEMM)', [6, 128, 7, 7], [128, 64, 4, 4], { stride: 2, padding: 1 }],
  ];
  for (const [name, xs, ws, o] of cases) it(name, () => compareConv(name, xs, ws, true, o, true));
});

describeCuda('cuda conv: layouts, modules, determinism, errors', () => {
  it('non-contiguous and unbatched [C, H, W] inputs', () => {
    const x = gen([2, 3, 6, 5], 51), w = gen([4, 3, 3, 3], 53), b = gen([4], 54);
    const f = (xx: dt.Tensor, ww: dt.Tensor, bb: dt.Tensor) => [
      F.conv2d(xx.transpose(2, 3).contiguous().transpose(2, 3), ww, bb, { padding: 1 }),
      F.conv2d(xx.select(0, 1), ww, bb, { padding: 1 }),
      F.convTranspose2d(xx.select(0, 0), ww.transpose(0, 1), null, { stride: 2 }),
    ];
    const want = f(x, w, b);
    const got = f(x.cuda(), w.cuda(), b.cuda());
    want.forEach((t, i) => expectClose(got[i], t, 1e-4, 1e-4, `layout case ${i}`));
  });

  it('nn.Conv2d and nn.ConvTranspose2d moved with .to("cuda"): outputs and parameter gradients', () => {
    dt.manualSeed(5);
    const make = () => new dt.nn.Sequential(
      new dt.nn.Conv2d(3, 8, 3, { padding: 1 }), new dt.nn.ReLU(),
      new dt.nn.Conv2d(8, 8, 3, { stride: 2, padding: 1, groups: 8 }),
      new dt.nn.Conv2d(8, 16, 1, { bias: false }), new dt.nn.Tanh(),
      new dt.nn.ConvTranspose2d(16, 4, 4, { stride: 2, padding: 1, outputPadding: 1 }),
      new dt.nn.Conv2d(4, 6, 3, { padding: 'same', dilation: 2, groups: 2 }),
      new dt.nn.ConvTranspose2d(6, 2, 3, { groups: 2, dilation: 2 }),
    );
    const cpuNet = make(), gpuNet = make();
    gpuNet.loadStateDict(cpuNet.stateDict());
    gpuNet.to('cuda');
    for (const p of gpuNet.parameters()) expect(p.device).toBe('cuda');
    const x = gen([2, 3, 11, 10], 9);
    const yc = cpuNet.forward(x), yg = gpuNet.forward(x.cuda());
    expectClose(yg, yc, 1e-4, 1e-4, 'module output');
    yc.square().sum().backward();
    yg.square().sum().backward();
    const pc = cpuNet.namedParameters(), pg = gpuNet.namedParameters();
    expect(pg.map(([n]) => n)).toEqual(pc.map(([n]) => n));
    for (let i = 0; i < pc.length; i++) expectClose(pg[i][1].grad!, pc[i][1].grad!, 1e-3, 1e-3, `${pc[i][0]} grad`);
  });

  it('gradients are deterministic: two runs agree bit for bit', () => {
    const x = gen([3, 16, 34, 31], 61), w = gen([5, 16, 3, 3], 63, { scale: 0.5 }), b = gen([5], 64);
    const wt = gen([16, 4, 3, 3], 69, { scale: 0.5 }), dw = gen([6, 1, 3, 3], 65), xd = gen([2, 6, 40, 41], 66);
    const once = () => {
      const r = runGraph('cuda', x, w, b, { stride: 2, padding: 1 }, false, 62);
      const t = runGraph('cuda', x, wt, null, { stride: 2, padding: 1, outputPadding: 1 }, true, 67);
      const d = runGraph('cuda', xd, dw, null, { padding: 1, groups: 6 }, false, 68);
      return [r.y, r.gx, r.gw, r.gb!, t.y, t.gx, t.gw, d.y, d.gx, d.gw].map((v) => {
        const out = values(v);
        v.dispose();
        return out;
      });
    };
    const a = once(), c = once();
    a.forEach((v, i) => expect(c[i], `result ${i}`).toEqual(v));
  });

  it('leaves dt.cuda.memory() where it was (scratch given back)', () => {
    const x = gen([2, 8, 20, 21], 71).cuda(), w = gen([8, 2, 3, 3], 72).cuda().requiresGrad_();
    const step = () => dt.tidy(() => {
      const xg = x.clone().requiresGrad_();
      const y = F.conv2d(xg, w, null, { padding: 2, dilation: 2, groups: 4 });
      y.square().sum().backward();
      for (const t of [xg, w]) {
        t.grad!.dispose();
        t.grad = null;
      }
    });
    step();
    dt.cuda.synchronize();
    const before = dt.cuda.memory();
    for (let i = 0; i < 20; i++) step();
    dt.cuda.synchronize();
    const after = dt.cuda.memory();
    expect(after.allocated).toBe(before.allocated);
    expect(after.reserved).toBe(before.reserved);
    x.dispose();
    w.dispose();
  });

  it('float64 on cuda and operands on different devices throw DendriteError', () => {
    const code = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(dt.DendriteError);
        return (e as dt.DendriteError).code;
      }
      return expect.fail('no error thrown');
    };
    const x = dt.zeros([1, 2, 5, 5], { device: 'cuda' }), w = dt.zeros([3, 2, 3, 3], { device: 'cuda' });
    const x64 = dt.zeros([1, 2, 5, 5], { device: 'cuda', dtype: 'float64' }), w64 = dt.zeros([3, 2, 3, 3], { device: 'cuda', dtype: 'float64' });
    expect(code(() => F.conv2d(x64, w64))).toBe('ERR_DTYPE');
    expect(code(() => F.convTranspose2d(x64, dt.zeros([2, 3, 3, 3], { device: 'cuda', dtype: 'float64' })))).toBe('ERR_DTYPE');
    expect(code(() => F.conv2d(x, dt.zeros([3, 2, 3, 3])))).toBe('ERR_DEVICE');
    expect(code(() => F.conv2d(dt.zeros([1, 2, 5, 5]), w))).toBe('ERR_DEVICE');
    expect(code(() => F.conv2d(x, w, dt.zeros([3])))).toBe('ERR_DEVICE');
    expect(code(() => F.convTranspose2d(x, dt.zeros([2, 3, 3, 3])))).toBe('ERR_DEVICE');
    expect(code(() => new dt.nn.Conv2d(2, 3, 3).forward(x))).toBe('ERR_DEVICE');
    // and the usual shape errors still come first on cuda
    expect(code(() => F.conv2d(x, dt.zeros([3, 4, 3, 3], { device: 'cuda' })))).toBe('ERR_SHAPE');
  });
});

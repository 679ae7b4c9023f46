// interpolate, pad and embedding on CUDA against the CPU: the same autograd graph on both
// devices over the shapes of test/conv/resize and test/rnn/embedding (the PyTorch fixture
// cases) and larger ones, forward and backward, and the determinism of the backwards.
//
// interpolate and pad run on CUDA through the resampling kernel, which rounds the products and
// sums of the CPU's composition (indexSelect, mul, add) in the same order, and the embedding
// backward sums each row's gradients in position order as the CPU's indexAdd does: all of them
// are expected to match the CPU bitwise (the tolerances below are tiny, not zero, only for the
// bilinear products).
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { fixture, gen } from '../conv/fixtures';
import { fixture as rnnFixture, T } from '../rnn/helpers';
import { describeCuda, expectClose, values } from './helpers';
import { compareGraph, cudaLeaf, expectIdentical } from './graph_helpers';

const { F, nn } = dt;
type Float = 'float32' | 'float64';
const FLOATS: Float[] = ['float32', 'float64'];
const NEAR_EXACT = { rtol: 1e-6, atol: 1e-7 };

describeCuda('cuda interpolate', () => {
  it('every PyTorch fixture case (nearest, bilinear, alignCorners, scale factors), both float dtypes', () => {
    for (const c of fixture.interpolate)
      for (const dtype of FLOATS) {
        const o = { size: c.size, scaleFactor: c.scaleFactor, mode: c.mode, alignCorners: c.alignCorners };
        const { outputs } = compareGraph(`${c.name} ${dtype}`, [gen(c.shape, c.seed, { dtype, requiresGrad: true })], (x) => F.interpolate(x, o), NEAR_EXACT);
        expect(outputs[0].shape).toEqual(c.yShape);
      }
  });

  it('U-Net sizes, down- and upsampling, recomputeScaleFactor, odd sizes and strided input', () => {
    const cases: [number[], dt.InterpolateOptions][] = [
      [[2, 8, 17, 23], { scaleFactor: 2, mode: 'bilinear' }],
      [[2, 8, 17, 23], { scaleFactor: 2, mode: 'bilinear', alignCorners: true }],
      [[2, 8, 17, 23], { scaleFactor: 2 }],
      [[1, 3, 40, 33], { size: [13, 7], mode: 'bilinear' }],
      [[1, 3, 40, 33], { size: [13, 7] }],
      [[1, 2, 5, 9], { scaleFactor: [2.3, 0.7], mode: 'bilinear', recomputeScaleFactor: true }],
      [[1, 2, 5, 9], { scaleFactor: [3, 1.5] }],
      [[4, 16, 32, 32], { size: 64, mode: 'bilinear' }],
      [[1, 1, 1, 1], { size: [3, 5], mode: 'bilinear', alignCorners: true }],
    ];
    for (const [i, [shape, o]] of cases.entries())
      for (const dtype of FLOATS)
        compareGraph(`[${shape}] ${JSON.stringify(o)} ${dtype}`, [gen(shape, 40 + i, { dtype, requiresGrad: true })], (x) => F.interpolate(x, o), NEAR_EXACT);
    compareGraph('transposed input', [gen([1, 2, 6, 4], 3, { requiresGrad: true })], (x) => F.interpolate(x.transpose(2, 3), { size: [7, 9], mode: 'bilinear' }), NEAR_EXACT);
    compareGraph('Upsample module', [gen([2, 3, 4, 5], 3, { requiresGrad: true })], (x) => new nn.Upsample({ scaleFactor: 2, mode: 'nearest' }).forward(x), { rtol: 0, atol: 0 });
  });

  it('the backward is deterministic and stays on the device', () => {
    const x = gen([2, 4, 9, 11], 8).cuda().requiresGrad_();
    const run = () => {
      x.grad = null;
      F.interpolate(x, { size: [31, 20], mode: 'bilinear' }).square().sum().backward();
      return x.grad!;
    };
    const a = run(), b = run();
    expect(a.device).toBe('cuda');
    expectIdentical(a, b, 'bilinear backward');
  });
});

describeCuda('cuda pad', () => {
  it('every PyTorch fixture case (constant with negative crops, reflect, replicate, circular), both float dtypes', () => {
    for (const c of fixture.pad)
      for (const dtype of FLOATS) {
        const op = (x: dt.Tensor) => (c.mode === 'constant' ? F.pad(x, c.pad, 'constant', c.value) : F.pad(x, c.pad, c.mode));
        const { outputs } = compareGraph(`${c.name} ${dtype}`, [gen(c.shape, c.seed, { dtype, requiresGrad: true })], op, { rtol: 0, atol: 0 });
        expect(outputs[0].shape).toEqual(c.yShape);
      }
  });

  it('every mode over 1 to 3 padded dims, strided input, and the gradcheck configurations', () => {
    const x = () => gen([2, 3, 5, 6], 17, { requiresGrad: true });
    for (const mode of ['reflect', 'replicate', 'circular'] as const) {
      compareGraph(`${mode} last dim`, [x()], (a) => F.pad(a, [2, 3], mode), { rtol: 0, atol: 0 });
      compareGraph(`${mode} two dims`, [x()], (a) => F.pad(a, [1, 4, 3, 2], mode), { rtol: 0, atol: 0 });
      compareGraph(`${mode} three dims`, [x()], (a) => F.pad(a, [1, 1, 2, 2, 1, 0], mode), { rtol: 0, atol: 0 });
      compareGraph(`${mode} transposed`, [x()], (a) => F.pad(a.transpose(1, 3), [2, 1], mode), { rtol: 0, atol: 0 });
    }
    compareGraph('reflect gradcheck case', [gen([1, 2, 3, 4], 5, { dtype: 'float64', requiresGrad: true })], (a) => F.pad(a, [2, 1, 1, 2], 'reflect'), { rtol: 0, atol: 0 });
    compareGraph('constant with crop', [gen([1, 2, 3, 4], 5, { dtype: 'float64', requiresGrad: true })], (a) => F.pad(a, [1, -1, 0, 2], { value: 3 }), { rtol: 0, atol: 0 });
    compareGraph('zero padding', [x()], (a) => F.pad(a, [0, 0], 'reflect'), { rtol: 0, atol: 0 });
  });
});

/** An embedding graph: lookup (maxNorm optional) then a loss of every output row. */
function lookup(options: Parameters<typeof F.embedding>[2] = {}) {
  return (w: dt.Tensor, idx: dt.Tensor) => F.embedding(w.device === idx.device ? idx : idx.to(w.device), w, options);
}

describeCuda('cuda embedding', () => {
  it('the PyTorch fixture: padding row without gradient, repeated indices summed', () => {
    const c = rnnFixture.embedding.find((e: any) => e.name === 'padding');
    const w = T(c.weight, { requiresGrad: true }), idx = T(c.indices);
    compareGraph('padding fixture', [w], (wt) => lookup({ paddingIdx: c.paddingIdx })(wt, idx), { rtol: 0, atol: 0 });
  });

  it('maxNorm renormalises the looked-up rows in place, as on the CPU', () => {
    const c = rnnFixture.embedding.find((e: any) => e.name === 'maxNorm');
    for (const normType of [2, 1, 3]) {
      const wCpu = T(c.weight), wGpu = T(c.weight).cuda();
      const idx = T(c.indices);
      const want = F.embedding(idx, wCpu, { maxNorm: c.maxNorm, normType });
      const got = F.embedding(idx.cuda(), wGpu, { maxNorm: c.maxNorm, normType });
      expectClose(got, want, 1e-6, 1e-7, `maxNorm output, normType ${normType}`);
      expectClose(wGpu, wCpu, 1e-6, 1e-7, `maxNorm weight after, normType ${normType}`);
    }
  });

  it('large vocabularies, many repeats, int32 and int64 indices of any shape, both float dtypes: bitwise the CPU gradient', () => {
    for (const dtype of FLOATS)
      for (const indexType of ['int64', 'int32'] as const)
        for (const [V, E, shape, paddingIdx] of [[1000, 37, [64, 50], 0], [10, 4, [3, 4], null], [50000, 8, [2, 7, 33], 49999], [3, 300, [1000], 1]] as const) {
          // Zipf-like draws: a few rows are looked up very often, most rarely.
          const n = (shape as readonly number[]).reduce((a, b) => a * b, 1);
          const raw = Array.from({ length: n }, (_, i) => Math.floor(V * ((((i * 2654435761) >>> 0) % 1000) / 1000) ** 3));
          const idx = dt.tensor(raw, { dtype: indexType, shape: shape as unknown as number[] });
          const w = gen([V, E], V + E, { dtype, requiresGrad: true });
          compareGraph(`V ${V} E ${E} [${shape}] ${indexType} ${dtype} pad ${paddingIdx}`, [w], (wt) => lookup({ paddingIdx })(wt, idx), { rtol: 0, atol: 0 });
        }
  });

  it('the backward is bitwise the same on every run, and stays on the device', () => {
    const idx = dt.tensor(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 97 % 13), { dtype: 'int64' }).cuda();
    const w = cudaLeaf(gen([13, 129], 5, { requiresGrad: true }));
    const run = () => {
      w.grad = null;
      const out = F.embedding(idx, w);
      out.mul(out).sum().backward();
      return w.grad!;
    };
    const a = run(), b = run(), c = run();
    expect(a.device).toBe('cuda');
    expectIdentical(a, b, 'embedding backward');
    expectIdentical(a, c, 'embedding backward');
  });

  it('nn.Embedding moved to the device, and errors', () => {
    dt.manualSeed(3);
    const cpu = new nn.Embedding(20, 6, { paddingIdx: 2 });
    const gpu = new nn.Embedding(20, 6, { paddingIdx: 2 });
    gpu.loadStateDict(cpu.stateDict());
    gpu.to('cuda');
    const idx = dt.tensor([[1, 2, 3], [3, 19, 2]], { dtype: 'int64' });
    const a = cpu.forward(idx), b = gpu.forward(idx.cuda());
    expect(values(b)).toEqual(values(a));
    a.sum().backward();
    b.sum().backward();
    expect(values(gpu.weight.grad!)).toEqual(values(cpu.weight.grad!));
    expect(() => gpu.forward(dt.tensor([0, 20], { dtype: 'int64' }).cuda())).toThrow(dt.DendriteError);
    expect(() => gpu.forward(idx)).toThrow(/ERR_DEVICE|device/);
  });
});

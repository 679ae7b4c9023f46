import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { decode, expectClose, loadFixture, type Encoded } from '../fixture_util';

const { nn, F } = dt;

interface LossCase {
  name: string;
  fn: keyof typeof F;
  reduction: string;
  options: Record<string, any>;
  inputs: Record<string, Encoded>;
  output: Encoded;
  upstream: Encoded;
  grads: Record<string, Encoded>;
}

const cases = loadFixture<LossCase[]>('nn_losses.json');

/** What a reduction divides the summed loss by. */
const scale = (c: LossCase): number => {
  const n = c.inputs.input.data.length;
  return c.reduction === 'mean' ? n : c.reduction === 'batchmean' ? c.inputs.input.shape[0] : 1;
};

/** Fixture options name tensors by input key ({ weight: 'weight' }); the rest are plain values. */
function optionsOf(c: LossCase, tensors: Record<string, dt.Tensor>): Record<string, any> {
  const o: Record<string, any> = { reduction: c.reduction };
  for (const [k, v] of Object.entries(c.options)) o[k] = typeof v === 'string' && v in tensors ? tensors[v] : v;
  return o;
}

describe('losses match PyTorch 1.13 (value and gradients, every reduction)', () => {
  for (const c of cases) {
    it(`${c.name} reduction=${c.reduction}`, () => {
      const tensors: Record<string, dt.Tensor> = {};
      for (const [k, e] of Object.entries(c.inputs)) tensors[k] = decode(e, { requiresGrad: k in c.grads });
      const fn = F[c.fn] as (input: dt.Tensor, target: dt.Tensor, options: any) => dt.Tensor;
      const out = fn(tensors.input, tensors.target, optionsOf(c, tensors));
      const f32 = c.output.dtype === 'float32';
      const [atol, rtol] = f32 ? [1e-6, 1e-5] : [1e-13, 1e-11];
      expect(out.shape).toEqual(c.output.shape);
      expect(out.dtype).toBe(c.output.dtype);
      expectClose(out, c.output.data, atol, rtol, `${c.name} output`);
      out.backward(decode(c.upstream));
      for (const [k, g] of Object.entries(c.grads)) {
        expect(tensors[k].grad, `grad of ${k}`).not.toBeNull();
        let expected = g.data;
        if (c.fn === 'klDiv' && k === 'target' && !c.options.logTarget) {
          // Where the target is 0, PyTorch's xlogy gradient is 0/0 = NaN; dendrite keeps the
          // finite part, -input (times the upstream gradient), and matches everywhere else.
          const t = c.inputs.target.data, x = c.inputs.input.data, up = c.upstream.data;
          expected = expected.map((v, i) => (t[i] === 0 ? -x[i] * (c.reduction === 'none' ? up[i] : 1) / scale(c) : v));
        }
        expectClose(tensors[k].grad!, expected, atol, rtol, `${c.name} d/d${k}`);
      }
    });
  }
});

describe('loss gradients against finite differences (float64)', () => {
  const f64 = (v: number[][] | number[]) => dt.tensor(v, { dtype: 'float64', requiresGrad: true });
  const x = () => f64([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]]);
  const t = () => f64([[0.5, -1.0, 1.2], [-0.3, 0.8, 0.2]]);
  const probs = () => f64([[0.2, 0.7, 0.45], [0.9, 0.05, 0.6]]);
  const cls = dt.tensor([2, 0], { dtype: 'int64' });
  const w = dt.tensor([0.5, 2, 1], { dtype: 'float64' });
  const rows: [string, () => dt.Tensor[], (...a: dt.Tensor[]) => dt.Tensor][] = [
    ['mseLoss', () => [x(), t()], (a, b) => F.mseLoss(a, b)],
    ['l1Loss', () => [x(), t()], (a, b) => F.l1Loss(a, b, { reduction: 'sum' })],
    ['smoothL1Loss', () => [x(), t()], (a, b) => F.smoothL1Loss(a, b, { beta: 0.5 })],
    ['binaryCrossEntropy', () => [probs(), f64([[0.1, 0.9, 0.3], [0.95, 0.5, 0.05]])], (a, b) => F.binaryCrossEntropy(a, b, { weight: w })],
    ['binaryCrossEntropyWithLogits', () => [x(), probs()], (a, b) => F.binaryCrossEntropyWithLogits(a, b, { posWeight: w, reduction: 'sum' })],
    ['crossEntropy', () => [x()], (a) => F.crossEntropy(a, cls, { weight: w, labelSmoothing: 0.1 })],
    ['crossEntropy probabilities', () => [x(), probs()], (a, b) => F.crossEntropy(a, b, { labelSmoothing: 0.2 })],
    ['nllLoss', () => [x()], (a) => F.nllLoss(a, cls, { reduction: 'none' })],
    ['klDiv', () => [x(), probs()], (a, b) => F.klDiv(a, b, { reduction: 'batchmean' })],
    ['klDiv logTarget', () => [x(), t()], (a, b) => F.klDiv(a, b, { logTarget: true })],
  ];
  for (const [name, inputs, fn] of rows) {
    it(name, () => {
      expect(dt.autograd.gradcheck(fn, inputs())).toBe(true);
    });
  }

  it("expresses a VAE's Gaussian KL term, -0.5 sum(1 + logvar - mu^2 - exp(logvar))", () => {
    const mu = f64([0.5, -1, 0]);
    const logvar = f64([0, 0.4, -0.7]);
    const kl = (m: dt.Tensor, lv: dt.Tensor) => lv.add(1).sub(m.square()).sub(lv.exp()).sum().mul(-0.5);
    const expected = [0.5, -1, 0].reduce((s, m, i) => {
      const lv = [0, 0.4, -0.7][i];
      return s - 0.5 * (1 + lv - m * m - Math.exp(lv));
    }, 0);
    expect(kl(mu, logvar).item()).toBeCloseTo(expected, 12);
    expect(dt.autograd.gradcheck(kl, [mu, logvar])).toBe(true);
  });
});

describe('loss modules', () => {
  it('forward the functional losses with the options they were built with', () => {
    const logits = dt.tensor([[1, 2, 0.5], [0.1, -1, 3]]);
    const target = dt.tensor([1, 2], { dtype: 'int64' });
    const weight = dt.tensor([1, 2, 3]);
    const ce = new nn.CrossEntropyLoss({ weight, labelSmoothing: 0.1, reduction: 'sum' });
    expect(ce.forward(logits, target).item()).toBe(F.crossEntropy(logits, target, { weight, labelSmoothing: 0.1, reduction: 'sum' }).item());
    expect(new nn.NLLLoss({ ignoreIndex: 1 }).forward(logits, target).item()).toBe(F.nllLoss(logits, target, { ignoreIndex: 1 }).item());
    const a = dt.tensor([0.2, 0.9]), b = dt.tensor([0, 1]);
    expect(new nn.MSELoss({ reduction: 'sum' }).forward(a, b).item()).toBeCloseTo(0.05, 6);
    expect(new nn.L1Loss().forward(a, b).item()).toBeCloseTo(0.15, 6);
    expect(new nn.SmoothL1Loss({ beta: 0.5 }).forward(a, b).item()).toBeCloseTo(0.025, 6);
    expect(new nn.BCELoss().forward(a, b).item()).toBeCloseTo(-(Math.log(0.8) + Math.log(0.9)) / 2, 6);
    expect(new nn.KLDivLoss({ reduction: 'sum', logTarget: true }).forward(a, b).item()).toBeCloseTo(
      Math.exp(0) * (0 - 0.2) + Math.exp(1) * (1 - 0.9), 6);
    expect(String(ce)).toBe("CrossEntropyLoss(reduction='sum')");
  });

  it('keep weight and pos_weight as buffers, with PyTorch state-dict names', () => {
    const bce = new nn.BCEWithLogitsLoss({ weight: dt.ones([3]), posWeight: dt.full([3], 2) });
    expect(Object.keys(bce.stateDict())).toEqual(['weight', 'pos_weight']);
    expect(bce.posWeight!.toArray()).toEqual([2, 2, 2]);
    expect(Object.keys(new nn.CrossEntropyLoss().stateDict())).toEqual([]);
    expect(new nn.CrossEntropyLoss().parameters()).toEqual([]);
  });

  it('trains a classifier end to end: loss goes down under Adam', () => {
    dt.manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(2, 16), new nn.ReLU(), new nn.Linear(16, 2));
    const xs = dt.randn([64, 2]);
    const ys = xs.select(1, 0).mul(xs.select(1, 1)).gt(0).long();
    const opt = new dt.optim.Adam(model.parameters(), { lr: 0.05 });
    const lossFn = new nn.CrossEntropyLoss();
    let first = 0, last = 0;
    for (let i = 0; i < 100; i++) {
      opt.zeroGrad();
      const loss = lossFn.forward(model.forward(xs), ys);
      loss.backward();
      opt.step();
      if (i === 0) first = loss.item() as number;
      last = loss.item() as number;
    }
    expect(last).toBeLessThan(first * 0.5);
  });
});

describe('loss errors', () => {
  const logits = dt.tensor([[1, 2, 0.5], [0.1, -1, 3]]);
  it('reject class targets out of range, of the wrong shape or dtype', () => {
    expect(() => F.crossEntropy(logits, dt.tensor([1, 3], { dtype: 'int64' }))).toThrow(
      expect.objectContaining({ code: 'ERR_INDEX', message: expect.stringMatching(/target values in \[0, 3\) or ignoreIndex -100, got 3 at position 1/) }),
    );
    expect(() => F.nllLoss(logits, dt.tensor([-1, 0], { dtype: 'int32' }))).toThrow(expect.objectContaining({ code: 'ERR_INDEX' }));
    expect(() => F.crossEntropy(logits, dt.tensor([1, 2, 0], { dtype: 'int64' }))).toThrow(/a target of shape \[2\] for input \[2, 3\]/);
    expect(() => F.crossEntropy(logits, dt.tensor([1, 2], { dtype: 'uint8' }))).toThrow(expect.objectContaining({ code: 'ERR_DTYPE' }));
    expect(() => F.crossEntropy(logits, dt.tensor([[0.5, 0.5]]))).toThrow(/class probabilities of the input's shape/);
    expect(() => F.crossEntropy(logits, dt.tensor([1, 2], { dtype: 'int64' }), { weight: dt.ones([2]) })).toThrow(/a weight of shape \[3\]/);
  });
  it('reject probabilities outside [0, 1] in binaryCrossEntropy and unknown reductions', () => {
    expect(() => F.binaryCrossEntropy(dt.tensor([0.5, 1.5]), dt.tensor([0, 1]))).toThrow(/input values in \[0, 1\]/);
    expect(() => F.binaryCrossEntropy(dt.tensor([0.5, 0.5]), dt.tensor([0, 2]))).toThrow(/target values in \[0, 1\]/);
    expect(() => F.binaryCrossEntropy(dt.tensor([0.5, 0.5]), dt.tensor([0]))).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => F.mseLoss(dt.tensor([1]), dt.tensor([1]), { reduction: 'avg' as any })).toThrow(/reduction 'none', 'mean', 'sum'/);
  });
  it('give NaN for a mean over only ignored targets, as PyTorch', () => {
    const all = dt.tensor([-100, -100], { dtype: 'int64' });
    expect(Number.isNaN(F.crossEntropy(logits, all).item())).toBe(true);
    expect(F.crossEntropy(logits, all, { reduction: 'sum' }).item()).toBe(0);
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { expectClose, loadFixture } from '../fixture_util';

const { nn, optim } = dt;

interface OptimCase {
  optimizer: 'SGD' | 'Adam' | 'AdamW' | 'Adamax' | 'NAdam' | 'RMSprop' | 'Adagrad';
  options: Record<string, any>;
  groups: ({ params: string[] } & Record<string, any>)[] | null;
  dtype: 'float32' | 'float64';
  init: Record<string, number[]>;
  shapes: Record<string, number[]>;
  steps: { grads: Record<string, number[]>; params: Record<string, number[]> }[];
  finalState: Record<string, Record<string, number | number[] | boolean>>;
}

const cases = loadFixture<OptimCase[]>('optim.json');
const NAMES = ['w1', 'b1', 'w2', 'b2'];

const label = (c: OptimCase) => `${c.optimizer} ${JSON.stringify(c.options)}${c.groups ? ' with groups' : ''} ${c.dtype}`;

function typed(c: OptimCase, data: number[]): Float32Array | Float64Array {
  return c.dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data);
}

function setup(c: OptimCase) {
  const params: Record<string, dt.Tensor> = {};
  for (const k of NAMES) params[k] = nn.Parameter(dt.tensor(typed(c, c.init[k]), { shape: c.shapes[k] }));
  const input = c.groups
    ? c.groups.map(({ params: names, ...rest }) => ({ ...rest, params: names.map((n) => params[n]) }))
    : NAMES.map((k) => params[k]);
  const opt = new (optim as any)[c.optimizer](input, c.options) as dt.optim.Optimizer;
  return { params, opt };
}

// float32: the kernels round like PyTorch's op sequence, so a few ulps after five steps.
const tolerance = (c: OptimCase): [number, number] => (c.dtype === 'float32' ? [2e-7, 2e-6] : [1e-14, 1e-12]);

function runWithFixtureGrads(c: OptimCase, path?: 'scalar') {
  const prev = dt.cpuInfo().path as 'scalar' | 'avx2' | 'avx512' | 'neon';
  if (path) dt.cpu.setPath(path);
  try {
    const { params, opt } = setup(c);
    const [atol, rtol] = tolerance(c);
    c.steps.forEach((step, i) => {
      opt.zeroGrad();
      for (const k of NAMES) params[k].grad = dt.tensor(typed(c, step.grads[k]), { shape: c.shapes[k] });
      opt.step();
      for (const k of NAMES) expectClose(params[k], step.params[k], atol, rtol, `${label(c)} step ${i + 1} ${k}`);
    });
    return { params, opt };
  } finally {
    dt.cpu.setPath(prev);
  }
}

describe('optimizers match PyTorch 1.13 over five steps (gradients fed from the fixture)', () => {
  for (const c of cases) {
    it(label(c), () => {
      const { opt } = runWithFixtureGrads(c);
      // The state after five steps, under PyTorch's names.
      const sd = opt.stateDict();
      NAMES.forEach((k, i) => {
        const expected = c.finalState[k];
        const got = sd.state[i];
        expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
        for (const [name, v] of Object.entries(expected)) {
          if (Array.isArray(v)) expectClose(got[name], v, 1e-6, 1e-5, `${label(c)} state ${k}.${name}`);
          else expect(got[name]).toBeCloseTo(v as number, 6);
        }
      });
    });
  }
});

describe('optimizers on the scalar path', () => {
  const scalarSupported = dt.cpuInfo().supportedPaths.includes('scalar');
  for (const c of cases.filter((c) => c.dtype === 'float32' && !c.groups)) {
    it.runIf(scalarSupported)(`${label(c)} (DENDRITE_CPU=scalar kernels)`, () => {
      runWithFixtureGrads(c, 'scalar');
    });
  }
});

describe('optimizers in a training loop (gradients from dendrite autograd, float64)', () => {
  const x = (dtype: dt.DType) => det([8, 4], 25, dtype);
  const y = (dtype: dt.DType) => det([8, 2], 26, dtype);
  function det(shape: number[], seed: number, dtype: dt.DType): dt.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233 + ((i * i) % 7)));
    return dt.tensor(Float64Array.from(v), { shape }).to(dtype);
  }
  for (const c of cases.filter((c) => c.dtype === 'float64' && !c.groups)) {
    it(label(c), () => {
      const { params, opt } = setup(c);
      const X = x('float64'), Y = y('float64');
      c.steps.forEach((step, i) => {
        opt.zeroGrad();
        const h = X.matmul(params.w1.t()).add(params.b1).tanh();
        const loss = dt.F.mseLoss(h.matmul(params.w2.t()).add(params.b2), Y);
        loss.backward();
        opt.step();
        for (const k of NAMES) expectClose(params[k], step.params[k], 1e-12, 1e-10, `${label(c)} step ${i + 1} ${k}`);
      });
    });
  }
});

describe('Optimizer API', () => {
  const params = () => [nn.Parameter(dt.tensor([1, 2, 3])), nn.Parameter(dt.tensor([[0.5, -0.5]]))];

  it('round-trips a state dict: a resumed optimizer continues exactly like the original', () => {
    const c = cases.find((c) => c.optimizer === 'Adam' && c.options.amsgrad && c.dtype === 'float32')!;
    const a = setup(c), b = setup(c);
    const feed = (p: Record<string, dt.Tensor>, s: number) => {
      for (const k of NAMES) p[k].grad = dt.tensor(typed(c, c.steps[s].grads[k]), { shape: c.shapes[k] });
    };
    for (let s = 0; s < 3; s++) {
      a.opt.zeroGrad();
      feed(a.params, s);
      a.opt.step();
    }
    dt.noGrad(() => { for (const k of NAMES) b.params[k].copy_(a.params[k]); });
    const sd = a.opt.stateDict();
    expect(sd.paramGroups).toEqual([{ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, amsgrad: true, maximize: false, params: [0, 1, 2, 3] }]);
    expect(Object.keys(sd.state[0]).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']);
    expect(sd.state[0].step).toBe(3);
    b.opt.loadStateDict(sd);
    // Copies, not shared tensors.
    expect(b.opt.stateDict().state[0].exp_avg).not.toBe(sd.state[0].exp_avg);
    for (let s = 3; s < 5; s++) {
      for (const o of [a, b]) {
        o.opt.zeroGrad();
        feed(o.params, s);
        o.opt.step();
      }
    }
    for (const k of NAMES) expect(Array.from(b.params[k].dataSync())).toEqual(Array.from(a.params[k].dataSync()));
  });

  it('rejects a state dict that does not fit, leaving the optimizer as it was', () => {
    const ps = params();
    const opt = new optim.Adam(ps, { lr: 0.1 });
    ps[0].grad = dt.ones([3]);
    ps[1].grad = dt.ones([1, 2]);
    opt.step();
    const sd = opt.stateDict();
    const other = new optim.Adam([nn.Parameter(dt.zeros([3]))]);
    expect(() => other.loadStateDict(sd)).toThrow(/group 0 with 1 parameters/);
    const bad = { state: { 0: { ...sd.state[0], exp_avg: dt.zeros([4]) } }, paramGroups: sd.paramGroups };
    expect(() => opt.loadStateDict(bad)).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(opt.stateDict().state[0].exp_avg).toBe(sd.state[0].exp_avg);
  });

  it('applies per-group options and lets the lr be changed between steps', () => {
    const [a, b] = params();
    const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 1 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 1]);
    a.grad = dt.ones([3]);
    b.grad = dt.ones([1, 2]);
    opt.step();
    expectClose(a, [0.9, 1.9, 2.9], 1e-6, 0, 'a');
    expectClose(b, [-0.5, -1.5], 1e-6, 0, 'b');
    opt.paramGroups[0].lr = 0.5;
    opt.step();
    expectClose(a, [0.4, 1.4, 2.4], 1e-6, 0, 'a after lr change');
    opt.addParamGroup({ params: [nn.Parameter(dt.zeros([2]))], momentum: 0.9 });
    expect(opt.paramGroups[2]).toMatchObject({ lr: 0.1, momentum: 0.9, dampening: 0 });
    expect(() => opt.addParamGroup({ params: [a] })).toThrow(/each parameter in one group only/);
  });

  it('zeroGrad sets grads to null by default, or zeros them in place', () => {
    const [a, b] = params();
    const opt = new optim.SGD([a, b], { lr: 0.1 });
    a.grad = dt.ones([3]);
    const g = a.grad;
    opt.zeroGrad({ setToNone: false });
    expect(a.grad).toBe(g);
    expect(a.grad!.toArray()).toEqual([0, 0, 0]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    // Parameters without a gradient are skipped by step().
    expect(() => opt.step()).not.toThrow();
    expect(a.toArray()).toEqual([1, 2, 3]);
  });

  it('returns the closure loss from step(closure), evaluated with grad mode on', () => {
    const w = nn.Parameter(dt.tensor([2]));
    const opt = new optim.SGD([w], { lr: 0.25 });
    const loss = dt.noGrad(() =>
      opt.step(() => {
        opt.zeroGrad();
        const l = w.square().sum();
        l.backward();
        return l;
      }),
    );
    expect(loss!.item()).toBe(4);
    expect(w.toArray()).toEqual([1]);
  });

  it('updates a strided (non-contiguous) parameter and accepts a strided gradient', () => {
    const base = nn.Parameter(dt.tensor([[1, 2], [3, 4]]));
    const p = nn.Parameter(base.t());
    expect(p.isContiguous()).toBe(false);
    const opt = new optim.SGD([p], { lr: 1 });
    p.grad = dt.tensor([[1, 10], [100, 1000]]).t();
    opt.step();
    expect(p.toArray()).toEqual([[0, -97], [-8, -996]]);
  });

  it('validates options and parameters with clear errors', () => {
    const ps = params();
    expect(() => new optim.SGD(ps)).toThrow(/a learning rate \(lr\) for every parameter group/);
    expect(() => new optim.SGD(ps, { lr: -1 })).toThrow(/lr in \[0, Infinity\]/);
    expect(() => new optim.SGD(ps, { lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
    expect(() => new optim.Adam(ps, { betas: [1, 0.5] })).toThrow(/betas\[0\] in \[0, 1\)/);
    expect(() => new optim.Adam([])).toThrow(/non-empty list of parameters/);
    expect(() => new optim.Adam([dt.tensor([1, 2], { requiresGrad: true }).mul(2)])).toThrow(/leaf tensors/);
    expect(() => new optim.Adam([dt.tensor([1, 2], { dtype: 'int32' })])).toThrow(expect.objectContaining({ code: 'ERR_DTYPE' }));
    const p = nn.Parameter(dt.zeros([2]));
    const opt = new optim.Adam([p]);
    p.grad = dt.zeros([3]);
    expect(() => opt.step()).toThrow(/a gradient of shape \[2\]/);
  });

  it('frees its state with disposeState()', () => {
    const p = nn.Parameter(dt.zeros([1000]));
    const opt = new optim.Adam([p]);
    p.grad = dt.ones([1000]);
    opt.step();
    const m = opt.state.get(p)!.exp_avg as dt.Tensor;
    opt.disposeState();
    expect(m.isDisposed).toBe(true);
    expect(opt.state.size).toBe(0);
  });
});

afterAll(() => dt.emptyCache());

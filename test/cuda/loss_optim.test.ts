// Losses and optimizers on CUDA against the CPU: every loss of the PyTorch fixture table
// (test/fixtures/nn_losses.json, every reduction) forward and backward, in float64 and float32,
// plus larger cases for the NLL kernel's block reductions and its errors; every optimizer and
// variant fed the same gradients (the fused multi-tensor step against the CPU's scalar rules) and
// training the same model for 20 steps on both devices; one launch per group and step;
// clipGradNorm_, lr schedulers and state dicts with CUDA parameters.
import { createRequire } from 'module';
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { decode, loadFixture, type Encoded } from '../fixture_util';
import { describeCuda, expectClose, seeded, values } from './helpers';

const { native } = createRequire(import.meta.url)('../../dist/native.js');
const { F, nn, optim } = dt;

interface LossCase {
  name: string;
  fn: keyof typeof F;
  reduction: string;
  options: Record<string, any>;
  inputs: Record<string, Encoded>;
  upstream: Encoded;
  grads: Record<string, Encoded>;
}
const cases = loadFixture<LossCase[]>('nn_losses.json');

function randn(shape: number[], seed: number, dtype: dt.DType = 'float32', scale = 1): dt.Tensor {
  const rng = seeded(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return dt.tensor(Array.from({ length: n }, () => (rng() * 2 - 1) * scale), { shape, dtype });
}

function classes(shape: number[], c: number, seed: number, dtype: dt.DType = 'int64', ignore?: number): dt.Tensor {
  const rng = seeded(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return dt.tensor(Array.from({ length: n }, () => (ignore !== undefined && rng() < 0.2 ? ignore : Math.floor(rng() * c))), { shape, dtype });
}

/**
 * loss(inputs) on the CPU and on CUDA: the value, then the gradient of every input in `grads`
 * after the same upstream gradient. `inputs` are CPU tensors; copies go to the device.
 */
function compareLoss(inputs: Record<string, dt.Tensor>, grads: string[], fn: (t: Record<string, dt.Tensor>) => dt.Tensor,
                     upstream: dt.Tensor | null, tol: number, what: string): void {
  const onCpu: Record<string, dt.Tensor> = {}, onGpu: Record<string, dt.Tensor> = {};
  for (const [k, t] of Object.entries(inputs)) {
    onCpu[k] = grads.includes(k) ? t.clone().requiresGrad_(true) : t;
    onGpu[k] = grads.includes(k) ? t.cuda().requiresGrad_(true) : t.cuda();
  }
  const want = fn(onCpu), got = fn(onGpu);
  expectClose(got, want, tol, tol, `${what} value`);
  const up = upstream ?? dt.onesLike(want);
  want.backward(up);
  got.backward(up.cuda());
  for (const k of grads) {
    expect(onGpu[k].grad, `${what} d/d${k}`).not.toBeNull();
    expectClose(onGpu[k].grad!, onCpu[k].grad!, tol, tol, `${what} d/d${k}`);
  }
}

function optionsOf(c: LossCase, tensors: Record<string, dt.Tensor>): Record<string, any> {
  const o: Record<string, any> = { reduction: c.reduction };
  for (const [k, v] of Object.entries(c.options)) o[k] = typeof v === 'string' && v in tensors ? tensors[v] : v;
  return o;
}

describeCuda('cuda losses', () => {
  it('every fixture loss and reduction matches the CPU, float64 and float32, value and gradients', () => {
    for (const c of cases)
      for (const dtype of ['float64', 'float32'] as const) {
        const inputs: Record<string, dt.Tensor> = {};
        for (const [k, e] of Object.entries(c.inputs)) {
          const t = decode(e);
          inputs[k] = t.dtype === 'float64' || t.dtype === 'float32' ? t.to(dtype) : t;
        }
        const up = decode(c.upstream).to(dtype);
        const fn = F[c.fn] as (input: dt.Tensor, target: dt.Tensor, options: any) => dt.Tensor;
        compareLoss(inputs, Object.keys(c.grads), (t) => fn(t.input, t.target, optionsOf(c, t)), up,
          dtype === 'float64' ? 1e-12 : 2e-5, `${c.name} ${c.reduction} ${dtype}`);
      }
  });

  it('the NLL kernel over many blocks: batches, spatial maps, weights, ignoreIndex, int32 targets, every reduction', () => {
    const shapes: Array<[number[], number[]]> = [
      [[1000, 37], [1000]],
      [[4, 11, 33, 17], [4, 33, 17]],
      [[37], []],
      [[0, 5], [0]],
      [[3, 5, 0], [3, 0]],
    ];
    for (const [i, [xs, ts]] of shapes.entries())
      for (const reduction of ['none', 'mean', 'sum'] as const)
        for (const tdtype of ['int64', 'int32'] as const)
          for (const withWeight of [false, true]) {
            const c = xs.length === 1 ? xs[0] : xs[1];
            const inputs: Record<string, dt.Tensor> = {
              input: randn(xs, 10 + i, 'float32', 3),
              target: classes(ts, c, 20 + i, tdtype, -100),
            };
            if (withWeight) inputs.weight = randn([c], 30 + i).abs().add(0.1);
            const what = `nll [${xs}] ${reduction} ${tdtype} ${withWeight ? 'weighted' : ''}`;
            compareLoss(inputs, ['input'], (t) => F.nllLoss(t.input, t.target, { reduction, weight: t.weight ?? null }), null, 2e-5, what);
            if (inputs.input.numel() > 0)
              compareLoss(inputs, ['input'], (t) => F.crossEntropy(t.input, t.target, { reduction, weight: t.weight ?? null, labelSmoothing: 0.1 }),
                null, 2e-5, `crossEntropy ${what}`);
          }
  });

  it('reduction none takes a strided upstream gradient; every target ignored gives NaN for mean, 0 for sum', () => {
    const x = randn([6, 5], 1, 'float32', 2), t = classes([6], 5, 2);
    // Column 1 of a (6, 2) tensor: stride 2, on each device (a copy to the device would be dense).
    const pairs = randn([6, 2], 3);
    const xs = [x.clone().requiresGrad_(true), x.cuda().requiresGrad_(true)];
    const ups = [pairs.select(1, 1), pairs.cuda().select(1, 1)];
    expect(ups[1].isContiguous()).toBe(false);
    const losses = xs.map((xi, d) => F.nllLoss(xi, d === 0 ? t : t.cuda(), { reduction: 'none' }));
    losses.forEach((l, d) => l.backward(ups[d]));
    expectClose(losses[1], losses[0], 1e-6, 1e-6, 'strided upstream value');
    expectClose(xs[1].grad!, xs[0].grad!, 1e-6, 1e-6, 'strided upstream gradient');
    const all = dt.tensor([-100, -100], { dtype: 'int64', device: 'cuda' });
    const logits = randn([2, 3], 4).cuda();
    expect(Number.isNaN(F.crossEntropy(logits, all).item())).toBe(true);
    expect(F.crossEntropy(logits, all, { reduction: 'sum' }).item()).toBe(0);
  });

  it('rejects targets out of range with the CPU message, before writing anything', () => {
    const logits = dt.tensor([[1, 2, 0.5], [0.1, -1, 3]]);
    const bad = dt.tensor([1, 3], { dtype: 'int64' });
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (e: any) {
        expect(e).toBeInstanceOf(dt.DendriteError);
        expect(e.code).toBe('ERR_INDEX');
        return e.message as string;
      }
      return expect.fail('expected a throw');
    };
    const onCpu = message(() => F.crossEntropy(logits, bad));
    const onGpu = message(() => F.crossEntropy(logits.cuda(), bad.cuda()));
    expect(onGpu).toBe(onCpu);
    expect(onGpu).toMatch(/target values in \[0, 3\) or ignoreIndex -100, got 3 at position 1/);
    message(() => F.nllLoss(logits.cuda(), dt.tensor([-1, 0], { dtype: 'int32', device: 'cuda' })));
    expect(() => F.binaryCrossEntropy(dt.tensor([0.5, 1.5]).cuda(), dt.tensor([0, 1]).cuda())).toThrow(/input values in \[0, 1\]/);
    expect(() => F.nllLoss(logits.cuda(), bad)).toThrow(expect.objectContaining({ code: 'ERR_DEVICE' }));
  });

  it('loss modules run on CUDA inputs', () => {
    const logits = randn([8, 5], 5, 'float32', 2), target = classes([8], 5, 6);
    const weight = randn([5], 7).abs().add(0.5);
    const mods: Array<[string, (w: dt.Tensor) => { forward(...a: dt.Tensor[]): dt.Tensor }, (x: dt.Tensor) => dt.Tensor, boolean]> = [
      ['CrossEntropyLoss', (w) => new nn.CrossEntropyLoss({ weight: w, labelSmoothing: 0.1 }), (x) => x, true],
      ['NLLLoss', (w) => new nn.NLLLoss({ weight: w, ignoreIndex: 2 }), (x) => x.logSoftmax(1), true],
      ['MSELoss', () => new nn.MSELoss(), (x) => x, false],
      ['L1Loss', () => new nn.L1Loss({ reduction: 'sum' }), (x) => x, false],
      ['SmoothL1Loss', () => new nn.SmoothL1Loss({ beta: 0.5 }), (x) => x, false],
      ['BCEWithLogitsLoss', (w) => new nn.BCEWithLogitsLoss({ posWeight: w }), (x) => x, false],
    ];
    const dense = randn([8, 5], 8).abs();
    for (const [name, make, pre, classTarget] of mods) {
      const cpuMod = make(weight) as any, gpuMod = make(weight.cuda()) as any;
      const tgt = classTarget ? target : dense;
      compareLoss({ x: logits, t: tgt }, ['x'], (v) => (v.x.device === 'cuda' ? gpuMod : cpuMod).forward(pre(v.x), v.t), null, 2e-5, name);
    }
  });
});

// ---- optimizers ---------------------------------------------------------------------------

type MakeOpt = (params: dt.Tensor[]) => dt.optim.Optimizer;
const OPTIMIZERS: Array<[string, MakeOpt]> = [
  ['SGD', (p) => new optim.SGD(p, { lr: 0.05 })],
  ['SGD momentum dampening', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.1 })],
  ['SGD nesterov weightDecay', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['SGD maximize', (p) => new optim.SGD(p, { lr: 0.01, momentum: 0.5, maximize: true })],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.01 })],
  ['Adam amsgrad weightDecay', (p) => new optim.Adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.1 })],
  ['Adam maximize', (p) => new optim.Adam(p, { lr: 0.01, maximize: true })],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 0.01 })],
  ['AdamW amsgrad', (p) => new optim.AdamW(p, { lr: 0.01, amsgrad: true, weightDecay: 0.05 })],
  ['Adamax', (p) => new optim.Adamax(p, { lr: 0.02, weightDecay: 0.01 })],
  ['NAdam', (p) => new optim.NAdam(p, { lr: 0.02, weightDecay: 0.01 })],
  ['RMSprop', (p) => new optim.RMSprop(p, { lr: 0.01 })],
  ['RMSprop centered momentum weightDecay', (p) => new optim.RMSprop(p, { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.01 })],
  ['RMSprop maximize momentum', (p) => new optim.RMSprop(p, { lr: 0.01, momentum: 0.5, maximize: true })],
  ['Adagrad', (p) => new optim.Adagrad(p, { lr: 0.1 })],
  ['Adagrad lrDecay initialAccumulatorValue weightDecay', (p) => new optim.Adagrad(p, { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.01 })],
];

// Several tensors, one spanning many 4096-element chunks, one of odd size, one empty.
const SHAPES = [[7, 5], [5], [3, 7], [3], [9001], [0], [1]];

function stateTensors(opt: dt.optim.Optimizer, p: dt.Tensor): Array<[string, dt.Tensor]> {
  const s = opt.state.get(p) ?? {};
  return Object.entries(s).filter(([, v]) => v instanceof dt.Tensor) as Array<[string, dt.Tensor]>;
}

/**
 * Steps the same parameters with the same gradients on both devices; returns the worst
 * |difference| / (atol + rtol |cpu|) over parameters and state, and whether all were bit-equal.
 */
function feedSteps(make: MakeOpt, dtype: dt.DType, steps: number, transposed: boolean): { worst: number; exact: boolean; where: string } {
  const cpuParams = SHAPES.map((s, i) => nn.Parameter(randn(s, 100 + i, dtype)));
  const gpuParams = cpuParams.map((p) => nn.Parameter(p.detach().cuda()));
  if (transposed) {
    // A strided parameter: updated through a contiguous copy and copied back.
    const base = randn([4, 6], 99, dtype);
    cpuParams.push(nn.Parameter(base.t()));
    gpuParams.push(nn.Parameter(base.cuda().t()));
    expect(gpuParams[gpuParams.length - 1].isContiguous()).toBe(false);
  }
  const a = make(cpuParams), b = make(gpuParams);
  for (let s = 0; s < steps; s++) {
    cpuParams.forEach((p, i) => {
      const g = randn(p.shape, 1000 * s + i, dtype, 0.5);
      p.grad = g;
      gpuParams[i].grad = g.cuda();
    });
    a.step();
    b.step();
  }
  const [atol, rtol] = dtype === 'float32' ? [1e-6, 1e-5] : [1e-13, 1e-11];
  let worst = 0, exact = true, where = '';
  const check = (got: dt.Tensor, want: dt.Tensor, name: string) => {
    expect(got.device).toBe('cuda');
    const g = values(got), w = values(want);
    g.forEach((v, k) => {
      if (v !== w[k]) exact = false;
      const r = Math.abs(v - w[k]) / (atol + rtol * Math.abs(w[k]));
      if (!(r <= worst)) {
        worst = Number.isNaN(r) ? Infinity : r;
        where = `${name}[${k}]: cuda ${v}, cpu ${w[k]}`;
      }
    });
  };
  cpuParams.forEach((p, i) => {
    check(gpuParams[i], p, `param ${i}`);
    const sa = stateTensors(a, p), sb = new Map(stateTensors(b, gpuParams[i]));
    for (const [name, t] of sa) check(sb.get(name)!, t, `param ${i} ${name}`);
  });
  return { worst, exact, where };
}

function withScalarPath<R>(fn: () => R): R {
  const saved = dt.cpuInfo().path as any;
  if (dt.cpuInfo().supportedPaths.includes('scalar')) dt.cpu.setPath('scalar');
  try {
    return fn();
  } finally {
    dt.cpu.setPath(saved);
  }
}

describeCuda('cuda optimizers', () => {
  it('every optimizer and variant, fed the same gradients for 20 steps, matches the CPU (params and state, float32 and float64)', () => {
    // Against the CPU's scalar path: centered RMSprop subtracts two close numbers, so the SIMD
    // path's fused multiply-adds already part from the scalar rules by more than rtol after 20
    // steps (the CPU suite checks SIMD against scalar with its own tolerances).
    for (const [name, make] of OPTIMIZERS)
      for (const dtype of ['float32', 'float64'] as const) {
        const r = withScalarPath(() => feedSteps(make, dtype, 20, true));
        expect(r.worst, `${name} ${dtype}: ${r.where}`).toBeLessThanOrEqual(1);
      }
  });

  it("follows the CPU's scalar rules operation for operation: bit-equal results on x86-64", () => {
    // The kernels round every product, sum, quotient and root on its own, as the scalar C++ does
    // on x86-64 (no fma); elsewhere the host compiler may fuse, so only the tolerance applies.
    for (const [name, make] of OPTIMIZERS)
      for (const dtype of ['float32', 'float64'] as const) {
        const r = withScalarPath(() => feedSteps(make, dtype, 5, false));
        expect(r.worst, `${name} ${dtype}: ${r.where}`).toBeLessThanOrEqual(1);
        if (process.arch === 'x64') expect(r.exact, `${name} ${dtype} bit-equal: ${r.where}`).toBe(true);
      }
  });

  it('trains the same model 20 steps on cpu and on cuda to the same parameters (with clipGradNorm_ and StepLR)', () => {
    const X = randn([32, 6], 1), Y = randn([32, 3], 2);
    const makeModel = () => new nn.Sequential(new nn.Linear(6, 16), new nn.Tanh(), new nn.Linear(16, 3));
    for (const [name, make] of OPTIMIZERS) {
      dt.manualSeed(5);
      const cpuModel = makeModel();
      const gpuModel = makeModel();
      gpuModel.loadStateDict(cpuModel.stateDict());
      gpuModel.to('cuda');
      const runs: Array<[InstanceType<typeof nn.Sequential>, dt.Tensor, dt.Tensor]> = [[cpuModel, X, Y], [gpuModel, X.cuda(), Y.cuda()]];
      const norms: number[][] = [[], []];
      runs.forEach(([model, x, y], d) => {
        const opt = make(model.parameters());
        const sched = new optim.lrScheduler.StepLR(opt, 7, { gamma: 0.5 });
        for (let s = 0; s < 20; s++) {
          opt.zeroGrad();
          const loss = F.mseLoss(model.forward(x) as dt.Tensor, y);
          loss.backward();
          const total = nn.utils.clipGradNorm_(model.parameters(), 0.5);
          expect(total.device).toBe(d === 0 ? 'cpu' : 'cuda');
          norms[d].push(Number(total.item()));
          opt.step();
          sched.step();
        }
        expect(opt.paramGroups[0].lr).toBeCloseTo((opt.defaults as any).lr * 0.25, 12);
      });
      norms[0].forEach((n, s) => expect(Math.abs(norms[1][s] - n), `${name} grad norm step ${s}`).toBeLessThan(1e-4 + 1e-3 * n));
      const pc = cpuModel.parameters(), pg = gpuModel.parameters();
      pc.forEach((p, i) => {
        expect(pg[i].device).toBe('cuda');
        expectClose(pg[i], p, 1e-3, 2e-4, `${name} param ${i}`);
      });
    }
  });

  it('steps a whole group in one kernel launch (one per group)', () => {
    const params = SHAPES.map((s, i) => nn.Parameter(randn(s, i).cuda()));
    const opt = new optim.Adam([{ params: params.slice(0, 4) }, { params: params.slice(4), lr: 0.1 }], { lr: 0.01 });
    const feed = () => params.forEach((p, i) => (p.grad = randn(p.shape, 50 + i).cuda()));
    feed();
    opt.step();  // creates the state (fills) and steps
    feed();
    const before = native.optimLaunchCount();
    opt.step();
    expect(native.optimLaunchCount() - before).toBe(2);
    const single = new optim.SGD(params, { lr: 0.1, momentum: 0.9 });
    feed();
    const before2 = native.optimLaunchCount();
    single.step();
    expect(native.optimLaunchCount() - before2).toBe(1);
  });

  it('loads a CPU state dict onto CUDA parameters (state moves to the device) and continues as the CPU does', () => {
    const cpuParams = SHAPES.map((s, i) => nn.Parameter(randn(s, 200 + i)));
    const a = new optim.Adam(cpuParams, { lr: 0.01, amsgrad: true });
    const feed = (ps: dt.Tensor[], s: number, device: 'cpu' | 'cuda') =>
      ps.forEach((p, i) => (p.grad = device === 'cuda' ? randn(p.shape, 300 * s + i).cuda() : randn(p.shape, 300 * s + i)));
    for (let s = 0; s < 3; s++) {
      feed(cpuParams, s, 'cpu');
      a.step();
    }
    const gpuParams = cpuParams.map((p) => nn.Parameter(p.detach().cuda()));
    const b = new optim.Adam(gpuParams, { lr: 0.01, amsgrad: true });
    b.loadStateDict(a.stateDict());
    for (const [, t] of stateTensors(b, gpuParams[0])) expect(t.device).toBe('cuda');
    for (let s = 3; s < 6; s++) {
      feed(cpuParams, s, 'cpu');
      feed(gpuParams, s, 'cuda');
      a.step();
      b.step();
    }
    cpuParams.forEach((p, i) => expectClose(gpuParams[i], p, 1e-5, 1e-6, `param ${i}`));
  });

  it('refuses a gradient on another device, and a bad gradient shape, with clear errors', () => {
    const p = nn.Parameter(randn([3], 1).cuda());
    const opt = new optim.SGD([p], { lr: 0.1 });
    p.grad = dt.ones([3]);
    expect(() => opt.step()).toThrow(expect.objectContaining({ code: 'ERR_DEVICE' }));
    p.grad = dt.ones([4], { device: 'cuda' });
    expect(() => opt.step()).toThrow(/a gradient of shape \[3\]/);
  });
});

import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { loadFixture } from '../fixture_util';

const { nn, optim } = dt;
const S = optim.lrScheduler;

interface SchedCase {
  args: any[];
  options: Record<string, any>;
  optimizer?: string;
  metrics?: number[];
  lrs: number[];
  momentums?: number[];
}

const fixtures = loadFixture<Record<string, SchedCase>>('lr_scheduler.json');

function makeOptimizer(kind = 'SGD'): dt.optim.Optimizer {
  const p = nn.Parameter(dt.zeros([2]));
  return kind === 'Adam' ? new optim.Adam([p], { lr: 0.1 }) : new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
}

function makeScheduler(name: string, c: SchedCase, opt: dt.optim.Optimizer): any {
  const cls = name.split(' ')[0];
  switch (cls) {
    case 'LambdaLR': return new S.LambdaLR(opt, (e) => 1 / (1 + e));
    case 'ReduceLROnPlateau': return new S.ReduceLROnPlateau(opt, c.options);
    default: return new (S as any)[cls](opt, ...c.args, c.options);
  }
}

describe('lr schedulers match PyTorch 1.13', () => {
  for (const [name, c] of Object.entries(fixtures)) {
    it(name, () => {
      const opt = makeOptimizer(c.optimizer);
      const sched = makeScheduler(name, c, opt);
      const lrs: number[] = [], moms: number[] = [];
      c.lrs.forEach((_, e) => {
        lrs.push(opt.paramGroups[0].lr);
        if (c.momentums) moms.push(c.optimizer === 'Adam' ? opt.paramGroups[0].betas[0] : opt.paramGroups[0].momentum);
        opt.step();
        if (c.metrics) sched.step(c.metrics[e]);
        else sched.step();
      });
      lrs.forEach((lr, i) => expect(lr, `epoch ${i}`).toBeCloseTo(c.lrs[i], 14));
      if (c.momentums) moms.forEach((m, i) => expect(m, `momentum at epoch ${i}`).toBeCloseTo(c.momentums![i], 14));
      expect(sched.getLastLr()).toEqual([opt.paramGroups[0].lr]);
    });
  }
});

describe('lr scheduler behaviour', () => {
  it('sets initialLr on the groups and restores its state from a state dict', () => {
    const opt = makeOptimizer();
    const a = new S.StepLR(opt, 2, { gamma: 0.5 });
    expect(opt.paramGroups[0].initialLr).toBe(0.1);
    for (let i = 0; i < 3; i++) a.step();
    const sd = a.stateDict();
    expect(sd).toMatchObject({ stepSize: 2, gamma: 0.5, lastEpoch: 3, baseLrs: [0.1] });
    expect(JSON.parse(JSON.stringify(sd))).toEqual(sd);
    const opt2 = makeOptimizer();
    const b = new S.StepLR(opt2, 2, 0.5);
    b.loadStateDict(sd);
    opt2.paramGroups[0].lr = opt.paramGroups[0].lr;
    a.step();
    b.step();
    expect(opt2.paramGroups[0].lr).toBe(opt.paramGroups[0].lr);
  });

  it('jumps to an epoch with the closed form', () => {
    const opt = makeOptimizer();
    const s = new S.CosineAnnealingLR(opt, 10, { etaMin: 0 });
    s.step(5);
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.05, 15);
    const m = new S.MultiStepLR(makeOptimizer(), [2, 4, 4], { gamma: 0.1 });
    m.step(4);
    expect(m.getLastLr()[0]).toBeCloseTo(1e-4, 15);
  });

  it('rejects bad arguments', () => {
    const opt = makeOptimizer();
    expect(() => new S.StepLR(opt, 0)).toThrow(/an integer stepSize >= 1/);
    expect(() => new S.OneCycleLR(opt, 1)).toThrow(/totalSteps, or epochs and stepsPerEpoch/);
    expect(() => new S.OneCycleLR(new optim.Adagrad([nn.Parameter(dt.zeros([1]))]), 1, { totalSteps: 5 })).toThrow(/momentum or betas/);
    expect(() => new S.ReduceLROnPlateau(opt, { factor: 1 })).toThrow(/factor < 1/);
    expect(() => new S.LambdaLR(opt, [(e) => e, (e) => e])).toThrow(/1 lrLambdas/);
    expect(() => new S.ExponentialLR(opt, 0.9, { lastEpoch: 3 })).not.toThrow();
    expect(() => new S.ExponentialLR(makeOptimizer(), 0.9, { lastEpoch: 3 })).toThrow(/initialLr in paramGroups\[0\]/);
    const one = new S.OneCycleLR(makeOptimizer(), 1, { totalSteps: 2 });
    one.step();
    one.step();
    expect(() => one.step()).toThrow(/at most totalSteps = 2 steps/);
  });
});

// Learning-rate schedulers (torch.optim.lr_scheduler, 1.13): each step() sets every parameter
// group's lr. The formulas are PyTorch's "chainable" ones — most multiply the group's current lr
// rather than recompute it from the base — so a sequence of lrs matches PyTorch's to rounding,
// also when the lr is changed by hand in between. Extra per-group keys use camelCase
// (`initialLr`, `maxLr`, ...), and appear in the optimizer's state dict as in PyTorch.
import { describe, fail } from '../errors';
import { Optimizer } from './optimizer';

function checkOptimizer(op: string, o: unknown): Optimizer {
  if (!(o instanceof Optimizer)) fail('ERR_ARGUMENT', op, 'an Optimizer', describe(o));
  return o;
}

function checkInt(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail('ERR_ARGUMENT', op, `an integer ${name} >= ${min}`, describe(v));
  return v;
}

export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  readonly baseLrs: number[];
  lastEpoch: number;
  protected stepCount = 0;
  protected lastLr: number[] = [];

  constructor(optimizer: Optimizer, lastEpoch = -1) {
    const name = this.constructor.name;
    this.optimizer = checkOptimizer(name, optimizer);
    if (lastEpoch === -1) {
      for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) fail('ERR_ARGUMENT', name, `initialLr in paramGroups[${i}] when resuming (lastEpoch ${lastEpoch})`, 'none');
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr);
    this.lastEpoch = lastEpoch;
  }

  /** Subclasses call this once their fields are set: PyTorch's constructor takes the first step. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The lrs for lastEpoch, from the groups' current lrs (the chainable form). */
  protected abstract getLr(): number[];
  /** The lrs for lastEpoch from the base lrs alone, used by step(epoch) where defined. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /** Advances one epoch (or jumps to `epoch`, deprecated in PyTorch) and sets each group's lr. */
  step(epoch?: number): void {
    this.stepCount++;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      values = this.getLr();
    } else {
      checkInt(`${this.constructor.name}.step`, 'epoch', epoch, 0);
      this.lastEpoch = epoch;
      values = this.closedFormLr() ?? this.getLr();
    }
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = values[i]));
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** Every field but the optimizer (and functions), as plain data. */
  stateDict(): Record<string, any> {
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(this)) {
      if (k === 'optimizer' || typeof v === 'function') continue;
      out[k] = Array.isArray(v) ? v.slice() : v instanceof Map ? Object.fromEntries(v) : v;
    }
    return out;
  }

  loadStateDict(state: Record<string, any>): void {
    if (state === null || typeof state !== 'object') fail('ERR_ARGUMENT', `${this.constructor.name}.loadStateDict`, 'a state object', describe(state));
    for (const [k, v] of Object.entries(state)) {
      if (k === 'optimizer' || typeof (this as any)[k] === 'function') continue;
      const cur = (this as any)[k];
      (this as any)[k] = cur instanceof Map ? new Map(Object.entries(v).map(([a, b]) => [Number(a), b])) : Array.isArray(v) ? v.slice() : v;
    }
  }
}

type GammaOptions = { gamma?: number; lastEpoch?: number };
const gammaOf = (o: number | GammaOptions | undefined, dflt?: number): { gamma: number; lastEpoch: number } =>
  typeof o === 'number' ? { gamma: o, lastEpoch: -1 } : { gamma: o?.gamma ?? (dflt as number), lastEpoch: o?.lastEpoch ?? -1 };

/** Multiplies the lr by gamma every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: Optimizer, stepSize: number, options: number | GammaOptions = {}) {
    const o = gammaOf(options, 0.1);
    super(optimizer, o.lastEpoch);
    this.stepSize = checkInt('StepLR', 'stepSize', stepSize, 1);
    this.gamma = o.gamma;
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/** Multiplies the lr by gamma at each milestone epoch (repeated milestones multiply again). */
export class MultiStepLR extends LRScheduler {
  readonly milestones: Map<number, number>;
  readonly gamma: number;
  constructor(optimizer: Optimizer, milestones: number[], options: number | GammaOptions = {}) {
    const o = gammaOf(options, 0.1);
    super(optimizer, o.lastEpoch);
    if (!Array.isArray(milestones)) fail('ERR_ARGUMENT', 'MultiStepLR', 'an array of milestone epochs', describe(milestones));
    this.milestones = new Map();
    for (const m of milestones) {
      checkInt('MultiStepLR', 'milestone', m, 0);
      this.milestones.set(m, (this.milestones.get(m) ?? 0) + 1);
    }
    this.gamma = o.gamma;
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const count = this.milestones.get(this.lastEpoch);
    if (count === undefined) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma ** count);
  }
  protected override closedFormLr(): number[] {
    let passed = 0;
    for (const [m, c] of this.milestones) if (m <= this.lastEpoch) passed += c;
    return this.baseLrs.map((b) => b * this.gamma ** passed);
  }
}

/** Multiplies the lr by gamma every epoch. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: Optimizer, gamma: number, options: { lastEpoch?: number } = {}) {
    super(optimizer, options.lastEpoch ?? -1);
    if (typeof gamma !== 'number') fail('ERR_ARGUMENT', 'ExponentialLR', 'a number gamma', describe(gamma));
    this.gamma = gamma;
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
}

/** Cosine annealing from the base lr to etaMin over tMax epochs (SGDR without restarts), recursive form. */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: Optimizer, tMax: number, options: { etaMin?: number; lastEpoch?: number } = {}) {
    super(optimizer, options.lastEpoch ?? -1);
    this.tMax = checkInt('CosineAnnealingLR', 'tMax', tMax, 1);
    this.etaMin = options.etaMin ?? 0;
    this.initialStep();
  }
  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const { tMax, etaMin, lastEpoch: e } = this;
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0)
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / tMax))) / 2);
    if ((((e - 1 - tMax) % (2 * tMax)) + 2 * tMax) % (2 * tMax) === 0)
      return groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    return groups.map(
      (g) => ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) * (g.lr - etaMin) + etaMin,
    );
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }
}

/** lr = base lr × lrLambda(epoch); one function, or one per parameter group. */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: ((epoch: number) => number)[];
  constructor(optimizer: Optimizer, lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[], options: { lastEpoch?: number } = {}) {
    super(optimizer, options.lastEpoch ?? -1);
    const n = optimizer.paramGroups.length;
    const list = Array.isArray(lrLambda) ? lrLambda.slice() : new Array(n).fill(lrLambda);
    if (list.length !== n) fail('ERR_ARGUMENT', 'LambdaLR', `${n} lrLambdas (one per group)`, String(list.length));
    for (const f of list) if (typeof f !== 'function') fail('ERR_ARGUMENT', 'LambdaLR', 'functions epoch => factor', describe(f));
    this.lrLambdas = list;
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.lrLambdas[i](this.lastEpoch));
  }
  override stateDict(): Record<string, any> {
    const out = super.stateDict();
    delete out.lrLambdas;
    return out;
  }
}

export interface OneCycleOptions {
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
  lastEpoch?: number;
}

interface Phase {
  endStep: number;
  startLr: string;
  endLr: string;
  startMomentum: string;
  endMomentum: string;
}

/**
 * The 1cycle policy (Smith & Topin 2017): lr warms up from maxLr/divFactor to maxLr, then anneals
 * to initialLr/finalDivFactor; momentum (or beta1) cycles the other way. Step once per batch.
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly annealStrategy: 'cos' | 'linear';
  readonly cycleMomentum: boolean;
  readonly useBeta1: boolean;
  private readonly phases: Phase[];

  constructor(optimizer: Optimizer, maxLr: number | number[], options: OneCycleOptions = {}) {
    const op = 'OneCycleLR';
    checkOptimizer(op, optimizer);
    const lastEpoch = options.lastEpoch ?? -1;
    let total: number;
    if (options.totalSteps !== undefined) total = checkInt(op, 'totalSteps', options.totalSteps, 1);
    else if (options.epochs !== undefined && options.stepsPerEpoch !== undefined)
      total = checkInt(op, 'epochs', options.epochs, 1) * checkInt(op, 'stepsPerEpoch', options.stepsPerEpoch, 1);
    else fail('ERR_ARGUMENT', op, 'totalSteps, or epochs and stepsPerEpoch', 'neither');
    const pct = options.pctStart ?? 0.3;
    if (typeof pct !== 'number' || !(pct >= 0 && pct <= 1)) fail('ERR_ARGUMENT', op, 'pctStart in [0, 1]', describe(pct));
    const strategy = options.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear') fail('ERR_ARGUMENT', op, "annealStrategy 'cos' or 'linear'", describe(strategy));
    const groups = optimizer.paramGroups;
    const perGroup = (name: string, v: number | number[]): number[] => {
      if (!Array.isArray(v)) return groups.map(() => v);
      if (v.length !== groups.length) fail('ERR_ARGUMENT', op, `${groups.length} values for ${name}`, String(v.length));
      return v;
    };
    const divFactor = options.divFactor ?? 25, finalDivFactor = options.finalDivFactor ?? 1e4;
    if (lastEpoch === -1) {
      perGroup('maxLr', maxLr).forEach((m, i) => {
        groups[i].initialLr = m / divFactor;
        groups[i].maxLr = m;
        groups[i].minLr = groups[i].initialLr / finalDivFactor;
      });
    }
    const cycle = options.cycleMomentum ?? true;
    const useBeta1 = 'betas' in optimizer.defaults;
    if (cycle) {
      if (!('momentum' in optimizer.defaults) && !useBeta1)
        fail('ERR_ARGUMENT', op, 'an optimizer with momentum or betas when cycleMomentum is on', optimizer.constructor.name);
      if (lastEpoch === -1) {
        const maxM = perGroup('maxMomentum', options.maxMomentum ?? 0.95), baseM = perGroup('baseMomentum', options.baseMomentum ?? 0.85);
        groups.forEach((g, i) => {
          if (useBeta1) g.betas = [maxM[i], ...g.betas.slice(1)];
          else g.momentum = maxM[i];
          g.maxMomentum = maxM[i];
          g.baseMomentum = baseM[i];
        });
      }
    }
    super(optimizer, lastEpoch);
    this.totalSteps = total;
    this.annealStrategy = strategy;
    this.cycleMomentum = cycle;
    this.useBeta1 = useBeta1;
    this.phases = options.threePhase
      ? [
          { endStep: pct * total - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: 2 * pct * total - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
          { endStep: total - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          { endStep: pct * total - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: total - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    this.initialStep();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps)
      fail('ERR_ARGUMENT', 'OneCycleLR.step', `at most totalSteps = ${this.totalSteps} steps`, `step ${stepNum + 1}`);
    return this.optimizer.paramGroups.map((g) => {
      let start = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const ph = this.phases[i];
        if (stepNum <= ph.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - start) / (ph.endStep - start);
          const lr = this.anneal(g[ph.startLr], g[ph.endLr], pct);
          if (this.cycleMomentum) {
            const m = this.anneal(g[ph.startMomentum], g[ph.endMomentum], pct);
            if (this.useBeta1) g.betas = [m, ...g.betas.slice(1)];
            else g.momentum = m;
          }
          return lr;
        }
        start = ph.endStep;
      }
      return g.lr;
    });
  }
}

export interface ReduceLROnPlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number | number[];
  eps?: number;
}

/** Multiplies the lr by `factor` when a metric has stopped improving for `patience` epochs. */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer;
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    const op = 'ReduceLROnPlateau';
    this.optimizer = checkOptimizer(op, optimizer);
    this.factor = options.factor ?? 0.1;
    if (!(this.factor < 1)) fail('ERR_ARGUMENT', op, 'factor < 1', describe(this.factor));
    const n = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr) && minLr.length !== n) fail('ERR_ARGUMENT', op, `${n} minLr values`, String(minLr.length));
    this.minLrs = Array.isArray(minLr) ? minLr.slice() : new Array(n).fill(minLr);
    this.patience = options.patience ?? 10;
    this.cooldown = options.cooldown ?? 0;
    this.mode = options.mode ?? 'min';
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.eps = options.eps ?? 1e-8;
    if (this.mode !== 'min' && this.mode !== 'max') fail('ERR_ARGUMENT', op, "mode 'min' or 'max'", describe(this.mode));
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') fail('ERR_ARGUMENT', op, "thresholdMode 'rel' or 'abs'", describe(this.thresholdMode));
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  /** Records this epoch's metric (a number or a one-element tensor) and reduces the lr on a plateau. */
  step(metric: number | { item(): number | boolean }): void {
    const current = typeof metric === 'number' ? metric : Number(metric.item());
    this.lastEpoch++;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const newLr = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - newLr > this.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): Record<string, any> {
    const { optimizer, ...rest } = this as any;
    return { ...rest, minLrs: this.minLrs.slice(), lastLr: this.lastLr.slice() };
  }

  loadStateDict(state: Record<string, any>): void {
    for (const [k, v] of Object.entries(state)) if (k !== 'optimizer') (this as any)[k] = Array.isArray(v) ? v.slice() : v;
  }
}

// Adam (with AMSGrad) and AdamW, PyTorch 1.13's rules: bias corrections folded into the step
// size and the denominator, weight decay as L2 (Adam) or decoupled (AdamW: p *= 1 - lr*wd).
import type { Tensor } from '../tensor';
import { Optimizer, checkBetas, checkOption, fusedStep, type ParamGroup, type Params } from './optimizer';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

export class Adam extends Optimizer<AdamOptions> {
  protected readonly decoupled: boolean = false;
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, {
      lr: options.lr ?? 1e-3,
      betas: options.betas ?? [0.9, 0.999],
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      amsgrad: options.amsgrad ?? false,
      maximize: options.maximize ?? false,
    });
  }
  protected validateGroup(g: ParamGroup<AdamOptions>): void {
    const name = this.constructor.name;
    checkOption(name, 'lr', g.lr, 0);
    checkOption(name, 'eps', g.eps, 0);
    checkBetas(name, g.betas);
    checkOption(name, 'weightDecay', g.weightDecay, 0);
  }
  protected updateParameter(p: Tensor, grad: Tensor, g: ParamGroup<AdamOptions>, state: Record<string, any>): void {
    if (state.step === undefined) {
      state.step = 0;
      state.exp_avg = this.stateTensor(p);
      state.exp_avg_sq = this.stateTensor(p);
    }
    if (g.amsgrad && !state.max_exp_avg_sq) state.max_exp_avg_sq = this.stateTensor(p);
    const step = ++state.step;
    const [beta1, beta2] = g.betas;
    const stepSize = g.lr / (1 - beta1 ** step);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
    fusedStep(
      'adam',
      [g.weightDecay, g.lr, beta1, beta2, g.eps, bc2Sqrt, stepSize, g.amsgrad, g.maximize, this.decoupled],
      p, grad, [state.exp_avg, state.exp_avg_sq, g.amsgrad ? state.max_exp_avg_sq : null],
    );
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter 2019); weightDecay defaults to 1e-2. */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { ...options, weightDecay: options.weightDecay ?? 1e-2 });
  }
}

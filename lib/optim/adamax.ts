// Adamax: Adam with the infinity norm, exp_inf = max(beta2 * exp_inf, |g| + eps) (torch.optim.Adamax).
import type { Tensor } from '../tensor';
import { Optimizer, checkBetas, checkOption, fusedStep, type ParamGroup, type Params } from './optimizer';

export interface AdamaxOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

export class Adamax extends Optimizer<AdamaxOptions> {
  constructor(params: Params<AdamaxOptions>, options: Partial<AdamaxOptions> = {}) {
    super(params, {
      lr: options.lr ?? 2e-3,
      betas: options.betas ?? [0.9, 0.999],
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      maximize: options.maximize ?? false,
    });
  }
  protected validateGroup(g: ParamGroup<AdamaxOptions>): void {
    checkOption('Adamax', 'lr', g.lr, 0);
    checkOption('Adamax', 'eps', g.eps, 0);
    checkBetas('Adamax', g.betas);
    checkOption('Adamax', 'weightDecay', g.weightDecay, 0);
  }
  protected updateParameter(p: Tensor, grad: Tensor, g: ParamGroup<AdamaxOptions>, state: Record<string, any>): void {
    if (state.step === undefined) {
      state.step = 0;
      state.exp_avg = this.stateTensor(p);
      state.exp_inf = this.stateTensor(p);
    }
    const step = ++state.step;
    const [beta1, beta2] = g.betas;
    const clr = g.lr / (1 - beta1 ** step);
    fusedStep('adamax', [g.weightDecay, beta1, beta2, g.eps, clr, g.maximize], p, grad, [state.exp_avg, state.exp_inf]);
  }
}

// NAdam: Adam with Nesterov momentum and Dozat's momentum schedule (torch.optim.NAdam, 1.13).
import type { Tensor } from '../tensor';
import { Optimizer, checkBetas, checkOption, fusedStep, type ParamGroup, type Params } from './optimizer';

export interface NAdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  momentumDecay: number;
}

export class NAdam extends Optimizer<NAdamOptions> {
  constructor(params: Params<NAdamOptions>, options: Partial<NAdamOptions> = {}) {
    super(params, {
      lr: options.lr ?? 2e-3,
      betas: options.betas ?? [0.9, 0.999],
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      momentumDecay: options.momentumDecay ?? 4e-3,
    });
  }
  protected validateGroup(g: ParamGroup<NAdamOptions>): void {
    checkOption('NAdam', 'lr', g.lr, 0);
    checkOption('NAdam', 'eps', g.eps, 0);
    checkBetas('NAdam', g.betas);
    checkOption('NAdam', 'weightDecay', g.weightDecay, 0);
    checkOption('NAdam', 'momentumDecay', g.momentumDecay, 0);
  }
  protected updateParameter(p: Tensor, grad: Tensor, g: ParamGroup<NAdamOptions>, state: Record<string, any>): void {
    if (state.step === undefined) {
      state.step = 0;
      state.mu_product = 1;
      state.exp_avg = this.stateTensor(p);
      state.exp_avg_sq = this.stateTensor(p);
    }
    const step = ++state.step;
    const [beta1, beta2] = g.betas;
    const mu = beta1 * (1 - 0.5 * 0.96 ** (step * g.momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * g.momentumDecay));
    // PyTorch keeps mu_product in a float32 tensor, so every product rounds to float32; and 1.13
    // computes the next product from the already-updated one (times mu again), which is kept
    // here to give the same parameters.
    const f = Math.fround;
    const muProduct = f(state.mu_product * f(mu));
    const muProductNext = f(f(muProduct * f(mu)) * f(muNext));
    state.mu_product = muProduct;
    const gradCoef = (-g.lr * (1 - mu)) / (1 - muProduct);
    const avgCoef = (-g.lr * muNext) / (1 - muProductNext);
    fusedStep('nadam', [g.weightDecay, beta1, beta2, g.eps, 1 - beta2 ** step, gradCoef, avgCoef], p, grad, [state.exp_avg, state.exp_avg_sq]);
  }
}

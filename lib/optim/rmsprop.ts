// RMSprop with momentum and the centered variant (torch.optim.RMSprop).
import type { Tensor } from '../tensor';
import { Optimizer, checkOption, fusedStep, type ParamGroup, type Params } from './optimizer';

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Params<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super(params, {
      lr: options.lr ?? 1e-2,
      alpha: options.alpha ?? 0.99,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      momentum: options.momentum ?? 0,
      centered: options.centered ?? false,
      maximize: options.maximize ?? false,
    });
  }
  protected validateGroup(g: ParamGroup<RMSpropOptions>): void {
    checkOption('RMSprop', 'lr', g.lr, 0);
    checkOption('RMSprop', 'eps', g.eps, 0);
    checkOption('RMSprop', 'alpha', g.alpha, 0);
    checkOption('RMSprop', 'weightDecay', g.weightDecay, 0);
    checkOption('RMSprop', 'momentum', g.momentum, 0);
  }
  protected updateParameter(p: Tensor, grad: Tensor, g: ParamGroup<RMSpropOptions>, state: Record<string, any>): void {
    if (state.step === undefined) {
      state.step = 0;
      state.square_avg = this.stateTensor(p);
    }
    if (g.momentum > 0 && !state.momentum_buffer) state.momentum_buffer = this.stateTensor(p);
    if (g.centered && !state.grad_avg) state.grad_avg = this.stateTensor(p);
    state.step++;
    fusedStep(
      'rmsprop',
      [g.lr, g.alpha, g.eps, g.weightDecay, g.momentum, g.centered, g.maximize],
      p, grad, [state.square_avg, g.centered ? state.grad_avg : null, g.momentum > 0 ? state.momentum_buffer : null],
    );
  }
}

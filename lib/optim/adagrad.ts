// Adagrad with lr decay and an initial accumulator value (torch.optim.Adagrad); its state is
// created at construction, as PyTorch does.
import type { Tensor } from '../tensor';
import { Optimizer, checkOption, fusedStep, type ParamGroup, type Params } from './optimizer';

export interface AdagradOptions {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: Params<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super(params, {
      lr: options.lr ?? 1e-2,
      lrDecay: options.lrDecay ?? 0,
      weightDecay: options.weightDecay ?? 0,
      initialAccumulatorValue: options.initialAccumulatorValue ?? 0,
      eps: options.eps ?? 1e-10,
      maximize: options.maximize ?? false,
    });
  }
  protected validateGroup(g: ParamGroup<AdagradOptions>): void {
    checkOption('Adagrad', 'lr', g.lr, 0);
    checkOption('Adagrad', 'lrDecay', g.lrDecay, 0);
    checkOption('Adagrad', 'weightDecay', g.weightDecay, 0);
    checkOption('Adagrad', 'initialAccumulatorValue', g.initialAccumulatorValue, 0);
    checkOption('Adagrad', 'eps', g.eps, 0);
  }
  protected override initGroup(g: ParamGroup<AdagradOptions>): void {
    for (const p of g.params) if (!this.state.has(p)) this.state.set(p, { step: 0, sum: this.stateTensor(p, g.initialAccumulatorValue) });
  }
  protected updateParameter(p: Tensor, grad: Tensor, g: ParamGroup<AdagradOptions>, state: Record<string, any>): void {
    if (state.sum === undefined) {
      state.step = 0;
      state.sum = this.stateTensor(p, g.initialAccumulatorValue);
    }
    const step = ++state.step;
    const clr = g.lr / (1 + (step - 1) * g.lrDecay);
    fusedStep('adagrad', [g.weightDecay, g.eps, clr, g.maximize], p, grad, [state.sum]);
  }
}

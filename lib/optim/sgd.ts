// SGD with momentum, dampening, Nesterov momentum, weight decay and maximize (torch.optim.SGD).
import { fail } from '../errors';
import type { Tensor } from '../tensor';
import { Optimizer, checkOption, fusedStep, type ParamGroup, type Params } from './optimizer';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  /** `lr` has no default (as PyTorch): give it here or in every parameter group. */
  constructor(params: Params<SGDOptions>, options: Partial<SGDOptions> = {}) {
    super(params, {
      lr: options.lr as number,
      momentum: options.momentum ?? 0,
      dampening: options.dampening ?? 0,
      weightDecay: options.weightDecay ?? 0,
      nesterov: options.nesterov ?? false,
      maximize: options.maximize ?? false,
    });
  }
  protected validateGroup(g: ParamGroup<SGDOptions>): void {
    checkOption('SGD', 'lr', g.lr, 0);
    checkOption('SGD', 'momentum', g.momentum, 0);
    checkOption('SGD', 'dampening', g.dampening, -Infinity);
    checkOption('SGD', 'weightDecay', g.weightDecay, 0);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0))
      fail('ERR_ARGUMENT', 'SGD', 'momentum > 0 and dampening 0 for Nesterov momentum', `momentum ${g.momentum}, dampening ${g.dampening}`);
  }
  protected updateParameter(p: Tensor, grad: Tensor, g: ParamGroup<SGDOptions>, state: Record<string, any>): void {
    let buf: Tensor | null = null;
    let first = false;
    if (g.momentum !== 0) {
      buf = state.momentum_buffer ?? null;
      if (buf === null) {
        buf = state.momentum_buffer = this.stateTensor(p);
        first = true;
      }
    }
    fusedStep('sgd', [g.lr, g.weightDecay, g.momentum, g.dampening, g.nesterov, g.maximize, first], p, grad, [buf]);
  }
}

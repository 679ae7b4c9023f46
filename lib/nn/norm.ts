// BatchNorm1d and BatchNorm2d: PyTorch's parameters (weight = 1, bias = 0) and buffers
// (running_mean, running_var, num_batches_tracked as int64) in PyTorch's order and names.
import { describe, fail, fmtShape } from '../errors';
import { Tensor } from '../tensor';
import { noGrad } from '../autograd/node';
import { Module, Parameter } from './module';
import { ones, tensor, zeros } from '../ops/creation';
import { batchNorm } from '../ops/norm';
import type { DType } from '../dtype';

export interface BatchNormModuleOptions {
  eps?: number;
  /** Weight of each batch in the running stats; null for a cumulative (equal-weight) average. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
  dtype?: DType;
}

abstract class BatchNormNd extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  running_mean: Tensor | null = null;
  running_var: Tensor | null = null;
  num_batches_tracked: Tensor | null = null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(readonly numFeatures: number, options: BatchNormModuleOptions) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) fail('ERR_ARGUMENT', this.constructor.name, 'numFeatures as an integer >= 1', describe(numFeatures));
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const dtype = options.dtype;
    this.weight = this.affine ? Parameter(ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? Parameter(zeros([numFeatures], { dtype })) : null;
    const track = this.trackRunningStats;
    this.registerBuffer('running_mean', track ? zeros([numFeatures], { dtype }) : null);
    this.registerBuffer('running_var', track ? ones([numFeatures], { dtype }) : null);
    this.registerBuffer('num_batches_tracked', track ? tensor(0, { dtype: 'int64' }) : null);
  }

  protected abstract checkInput(x: Tensor): void;

  resetRunningStats(): void {
    noGrad(() => {
      this.running_mean?.zero_();
      this.running_var?.fill_(1);
      this.num_batches_tracked?.zero_();
    });
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures)
      fail('ERR_SHAPE', this.constructor.name, `input with ${this.numFeatures} channels in dim 1`, fmtShape(x.shape));
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.num_batches_tracked) {
      noGrad(() => this.num_batches_tracked!.add_(1));
      if (this.momentum === null) factor = 1 / Number(this.num_batches_tracked.item());
    }
    const useBatchStats = this.training || (this.running_mean === null && this.running_var === null);
    const track = !this.training || this.trackRunningStats;
    return batchNorm(x, track ? this.running_mean : null, track ? this.running_var : null, this.weight, this.bias, {
      training: useBatchStats, momentum: factor, eps: this.eps,
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Batch norm over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormModuleOptions = {}) {
    super(numFeatures, options);
  }
  protected checkInput(x: Tensor): void {
    if (!(x instanceof Tensor) || (x.ndim !== 2 && x.ndim !== 3))
      fail('ERR_SHAPE', 'BatchNorm1d', 'input of shape [N, C] or [N, C, L]', x instanceof Tensor ? fmtShape(x.shape) : describe(x));
  }
}

/** Batch norm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormModuleOptions = {}) {
    super(numFeatures, options);
  }
  protected checkInput(x: Tensor): void {
    if (!(x instanceof Tensor) || x.ndim !== 4)
      fail('ERR_SHAPE', 'BatchNorm2d', 'input of shape [N, C, H, W]', x instanceof Tensor ? fmtShape(x.shape) : describe(x));
  }
}

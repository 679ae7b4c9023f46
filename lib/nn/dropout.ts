// Dropout and Upsample modules.
import { describe, fail } from '../errors';
import { Tensor } from '../tensor';
import { Module } from './module';
import { dropout } from '../ops/norm';
import { interpolate, type InterpolateOptions } from '../ops/interpolate';

/** Zeroes elements with probability p while training (survivors scaled by 1/(1-p)); the identity in eval(). */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('ERR_ARGUMENT', 'Dropout', 'p in [0, 1]', describe(p));
  }
  forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.training });
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Resizes images: `new Upsample({ scaleFactor: 2, mode: 'nearest' })` (Keras' UpSampling2D) or `{ size, mode: 'bilinear' }`. */
export class Upsample extends Module {
  constructor(readonly options: InterpolateOptions = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return interpolate(x, this.options);
  }
  override extraRepr(): string {
    const o = this.options;
    return [o.size !== undefined ? `size=${JSON.stringify(o.size)}` : `scaleFactor=${JSON.stringify(o.scaleFactor)}`, `mode='${o.mode ?? 'nearest'}'`].join(', ');
  }
}

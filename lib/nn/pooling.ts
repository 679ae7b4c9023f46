// Pooling modules: MaxPool2d AvgPool2d AdaptiveAvgPool2d AdaptiveMaxPool2d.
import { Tensor } from '../tensor';
import { Module } from './module';
import { adaptiveAvgPool2d, adaptiveMaxPool2d, avgPool2d, maxPool2d, type AdaptiveSize, type AvgPool2dOptions, type MaxPool2dOptions } from '../ops/pool';
import type { IntPair } from '../ops/conv';

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: IntPair, readonly options: MaxPool2dOptions = {}) {
    super();
  }
  /** The pooled tensor, or [values, indices] with `returnIndices`. */
  forward(x: Tensor): any {
    return maxPool2d(x, this.kernelSize, this.options as any);
  }
  override extraRepr(): string {
    return `kernelSize=${JSON.stringify(this.kernelSize)}, stride=${JSON.stringify(this.options.stride ?? this.kernelSize)}, padding=${JSON.stringify(this.options.padding ?? 0)}`;
  }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: IntPair, readonly options: AvgPool2dOptions = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return `kernelSize=${JSON.stringify(this.kernelSize)}, stride=${JSON.stringify(this.options.stride ?? this.kernelSize)}, padding=${JSON.stringify(this.options.padding ?? 0)}`;
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: AdaptiveSize) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}`;
  }
}

export class AdaptiveMaxPool2d extends Module {
  constructor(readonly outputSize: AdaptiveSize, readonly options: { returnIndices?: boolean } = {}) {
    super();
  }
  forward(x: Tensor): any {
    return adaptiveMaxPool2d(x, this.outputSize, this.options as any);
  }
  override extraRepr(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}`;
  }
}

// Detection pooling modules (torchvision.ops.RoIPool / RoIAlign): fixed-size features per box.
import { Tensor } from '../tensor';
import { Module } from './module';
import { roiAlign, roiPool, type RoiBoxes } from '../ops/roi';

type OutputSize = number | readonly [number, number];

export class RoIPool extends Module {
  constructor(readonly outputSize: OutputSize, readonly spatialScale: number) {
    super();
  }
  /** x (N, C, H, W) and boxes ((K, 5) or one (Ki, 4) per image) -> (K, C, h, w). */
  forward(x: Tensor, boxes: RoiBoxes): Tensor {
    return roiPool(x, boxes, this.outputSize, { spatialScale: this.spatialScale });
  }
  override extraRepr(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}, spatialScale=${this.spatialScale}`;
  }
}

export class RoIAlign extends Module {
  readonly aligned: boolean;
  constructor(readonly outputSize: OutputSize, readonly spatialScale: number, readonly samplingRatio: number, options: { aligned?: boolean } = {}) {
    super();
    this.aligned = options.aligned ?? false;
  }
  /** x (N, C, H, W) and boxes ((K, 5) or one (Ki, 4) per image) -> (K, C, h, w). */
  forward(x: Tensor, boxes: RoiBoxes): Tensor {
    return roiAlign(x, boxes, this.outputSize, { spatialScale: this.spatialScale, samplingRatio: this.samplingRatio, aligned: this.aligned });
  }
  override extraRepr(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}, spatialScale=${this.spatialScale}, samplingRatio=${this.samplingRatio}, aligned=${this.aligned}`;
  }
}

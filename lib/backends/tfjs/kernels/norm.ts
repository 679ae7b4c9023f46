// FusedBatchNorm: y = offset + (x - mean) * scale / sqrt(variance + eps). tfjs indexes each
// parameter cyclically (element i uses param[i % length]): a [C] parameter on a channels-last
// tensor is per channel, a full-size one elementwise, a scalar one shared. With length m
// dividing x's size that is exactly broadcasting over x viewed as [size / m, m], which is how it
// runs here, on dendrite's elementwise kernels without copies of x.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { Tensor } from '../../../tensor';
import { add, mul, rsqrt, sub } from '../../../ops/elementwise';
import { cast } from '../../../ops/shape';
import { runOnCpu } from '../fallback';
import { kernel, attr } from './common';

export const normKernels: KernelConfig[] = [
  kernel('FusedBatchNorm', (args) => {
    const { inputs, backend, attrs } = args;
    const { x, mean, variance } = inputs;
    const scale: TensorInfo | undefined = inputs.scale ?? undefined, offset: TensorInfo | undefined = inputs.offset ?? undefined;
    const n = util.sizeFromShape(x.shape);
    const params = [mean, variance, scale, offset].filter((p): p is TensorInfo => p != null);
    if (params.some((p) => util.sizeFromShape(p.shape) === 0 || n % util.sizeFromShape(p.shape) !== 0) ||
      [x, ...params].some((p) => p.dtype === 'string' || p.dtype === 'complex64')) return runOnCpu('FusedBatchNorm', args);
    const eps = attr<number>(attrs, 'varianceEpsilon') ?? 0.001;
    const flat = (info: TensorInfo): Tensor => {
      const t = backend.viewOf(info).reshape([util.sizeFromShape(info.shape)]);
      return t.dtype === 'float32' ? t : cast(t, 'float32');
    };
    // y (flat, n) op p, with p repeating along y.
    const along = (y: Tensor, info: TensorInfo, op: (a: Tensor, b: Tensor) => Tensor, p: Tensor): Tensor => {
      const m = util.sizeFromShape(info.shape);
      return op(y.reshape([n / m, m]), p).reshape([n]);
    };
    let y = along(flat(x), mean, sub, flat(mean));
    if (scale) y = along(y, scale, mul, flat(scale));
    y = along(y, variance, mul, rsqrt(add(flat(variance), eps)));
    if (offset) y = along(y, offset, add, flat(offset));
    return backend.makeOutput(y, x.shape, 'float32');
  }),
];

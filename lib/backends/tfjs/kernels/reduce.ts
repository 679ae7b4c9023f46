// Reductions and softmax on dendrite's native reduce kernels (one pass over any set of axes,
// no transposes).
import type { DataType, KernelConfig } from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';
import { Tensor } from '../../../tensor';
import { cast } from '../../../ops/shape';
import { all, any, argmax, argmin, mean, sum } from '../../../ops/reduce';
import { beginLayouts, native, REDUCE } from '../../../native';
import type { DType } from '../../../dtype';
import { softmax } from '../../../ops/activation';
import { ne, where } from '../../../ops/elementwise';
import { numericKernel, attr } from './common';

type Reduce = (x: Tensor, axes: number[]) => Tensor;

/**
 * A reduction over tfjs's `axis` (or `reductionIndices`) attribute. An empty axis list reduces
 * nothing, as in tfjs (dendrite reads an empty list as "all dims").
 */
function reduceKernel(name: string, axisAttr: string, reduce: Reduce, outDType: (x: DataType) => DataType): KernelConfig {
  return numericKernel(name, ({ inputs, backend, attrs }) => {
    const info = inputs.x;
    const axes = util.parseAxisParam(attr<number | number[]>(attrs, axisAttr), info.shape);
    const keepDims = attr<boolean>(attrs, 'keepDims') ?? false;
    const [reducedShape] = backend_util.computeOutAndReduceShapes(info.shape, axes);
    const shape = keepDims ? backend_util.expandShapeToKeepDim(reducedShape, axes) : reducedShape;
    const x = backend.viewOf(info);
    const out = axes.length === 0 || x.ndim === 0 ? x : reduce(x, axes);
    return backend.makeOutput(out, shape, outDType(info.dtype));
  });
}

const sameDType = (d: DataType): DataType => d;
const summed = (d: DataType): DataType => (d === 'float32' ? 'float32' : 'int32');

export const reduceKernels: KernelConfig[] = [
  reduceKernel('Sum', 'axis', (x, axes) => sum(x, axes), summed),
  reduceKernel('Prod', 'axis', (x, axes) => reduceNative('prod', x.dtype === 'float32' ? x : cast(x, 'int32'), axes, x.dtype === 'float32' ? 'float32' : 'int64'), summed),
  reduceKernel('Mean', 'axis', (x, axes) => mean(cast(x, 'float32'), axes), () => 'float32'),
  reduceKernel('Max', 'reductionIndices', (x, axes) => reduceNative('max', x, axes, x.dtype), sameDType),
  reduceKernel('Min', 'axis', (x, axes) => reduceNative('min', x, axes, x.dtype), sameDType),
  reduceKernel('All', 'axis', (x, axes) => all(x, axes), () => 'bool'),
  reduceKernel('Any', 'axis', (x, axes) => any(x, axes), () => 'bool'),
  // tfjs's arg reductions skip NaNs (a NaN never compares greater); dendrite's pick them.
  reduceKernel('ArgMax', 'axis', (x, axes) => argmax(x.dtype === 'float32' ? where(ne(x, x), -Infinity, x) : x, axes[0]), () => 'int32'),
  reduceKernel('ArgMin', 'axis', (x, axes) => argmin(x.dtype === 'float32' ? where(ne(x, x), Infinity, x) : x, axes[0]), () => 'int32'),
  numericKernel('Softmax', ({ inputs, backend, attrs }) => {
    const logits = backend.viewOf(inputs.logits);
    const dim = attr<number>(attrs, 'dim');
    return backend.makeOutput(softmax(logits, dim ?? -1), inputs.logits.shape, 'float32');
  }),
];

/** The native reduce over a set of axes, without keepdim (the caller lays out the final shape). */
function reduceNative(op: string, x: Tensor, axes: number[], outDType: DType): Tensor {
  let mask = 0;
  for (const a of axes) mask |= 1 << a;
  const out = Tensor.empty(x.shape.filter((_, i) => !axes.includes(i)), outDType);
  beginLayouts();
  out.putLayout();
  x.putLayout();
  native.reduce(REDUCE[op], mask, 0, out.storage.buffer, x.storage.buffer);
  return out;
}

// Pooling: MaxPool, MaxPoolGrad, AvgPool, AvgPoolGrad on dendrite's native NCHW pooling
// kernels. tfjs's windows come from its conv_util (its 'same' padding puts the odd row/column at
// the bottom/right; the kernels clip windows to the input, so only the top/left padding is
// passed). tfjs's max pooling skips NaNs and its average divides by the input elements in the
// window: the kernels' ignoreNan and countIncludePad = false. MaxPool keeps its argmax with its
// output, so MaxPoolGrad scatters the gradient without pooling again.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';
import { Tensor, keep } from '../../../tensor';
import { beginLayouts, native } from '../../../native';
import { cast } from '../../../ops/shape';
import '../../../ops/pool'; // the native pool declarations
import type { DendriteBackend } from '../backend';
import { kernel, attr, type KernelArgs } from './common';
import { nchwOf, outputImage } from './layout';

type Pad = 'same' | 'valid' | number | backend_util.ExplicitPadding;

function poolInfo(attrs: KernelArgs['attrs'], xShape: number[]): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(xShape as [number, number, number, number], attr<[number, number]>(attrs, 'filterSize'),
    attr<[number, number]>(attrs, 'strides'), 1, attr<Pad>(attrs, 'pad'), attr<'floor' | 'round' | 'ceil'>(attrs, 'dimRoundingMode'));
}

const windowArgs = (c: backend_util.Conv2DInfo): number[] => [c.filterHeight, c.filterWidth, c.strideHeight, c.strideWidth,
  c.padInfo.top, c.padInfo.left, c.dilationHeight, c.dilationWidth];

/** The key under which MaxPool leaves its argmax on its output's entry. */
const argmaxKey = (c: backend_util.Conv2DInfo): string => `argmax:${windowArgs(c).join(',')}:${c.inShape.join(',')}`;

/** A 4-D NHWC tensor as float32 NCHW. */
function floatImage(backend: DendriteBackend, info: TensorInfo): Tensor {
  const x = nchwOf(backend, info);
  return x.dtype === 'float32' ? x : cast(x, 'float32');
}

function outShape(c: backend_util.Conv2DInfo): number[] {
  return [c.batchSize, c.inChannels, c.outHeight, c.outWidth];
}

/** Max pooling in NCHW: [values, int64 argmax within each plane]. */
function maxPool(c: backend_util.Conv2DInfo, x: Tensor): [Tensor, Tensor] {
  const y = Tensor.empty(outShape(c), 'float32'), indices = Tensor.empty(outShape(c), 'int64');
  if (y.numel() === 0) return [y, indices];
  beginLayouts();
  y.putLayout();
  indices.putLayout();
  x.putLayout();
  (native.maxPool2d as Function)(...windowArgs(c), y.storage.buffer, indices.storage.buffer, x.storage.buffer, true);
  return [y, indices];
}

/**
 * Average pooling in NCHW. The forward divides by the input elements in each window; tfjs's
 * gradient (every backend's) divides by the whole filter size, padding or not: so does this one.
 */
function avgPool(c: backend_util.Conv2DInfo, x: Tensor, backward: boolean): Tensor {
  const out = Tensor.empty(backward ? [c.batchSize, c.inChannels, c.inHeight, c.inWidth] : outShape(c), 'float32');
  if (out.numel() === 0 || x.numel() === 0) return out;
  beginLayouts();
  out.putLayout();
  x.putLayout();
  const f = (backward ? native.avgPool2dBackward : native.avgPool2d) as Function;
  f(...windowArgs(c), false, backward ? c.filterHeight * c.filterWidth : 0, out.storage.buffer, x.storage.buffer);
  return out;
}

function output(backend: DendriteBackend, y: Tensor, dtype: TensorInfo['dtype']): TensorInfo {
  const info = outputImage(backend, y, true);
  if (dtype !== 'float32') {
    // tfjs keeps an int32 input's dtype through max pooling.
    const out = backend.makeOutput(backend.viewOf(info), info.shape, dtype);
    backend.disposeData(info.dataId);
    return out;
  }
  return info;
}

/** tfjs's shortcut (cpu and wasm backends): a 1x1 window that keeps the shape is the identity, whatever the padding says. */
function isIdentity(c: backend_util.Conv2DInfo): boolean {
  return c.filterHeight === 1 && c.filterWidth === 1 && util.arraysEqual(c.inShape, c.outShape);
}

export const poolKernels: KernelConfig[] = [
  kernel('MaxPool', ({ inputs, backend, attrs }) => {
    const c = poolInfo(attrs, inputs.x.shape);
    if (isIdentity(c)) return backend.forward(inputs.x);
    const [y, indices] = maxPool(c, floatImage(backend, inputs.x));
    const info = output(backend, y, inputs.x.dtype);
    const entry = backend.data.get(info.dataId);
    (entry.twins ??= new Map()).set(argmaxKey(c), keep(indices));
    return info;
  }),
  kernel('MaxPoolGrad', ({ inputs, backend, attrs }) => {
    const { dy, input, output: y } = inputs;
    const c = poolInfo(attrs, input.shape);
    let indices = y != null && backend.data.has(y.dataId) ? backend.data.get(y.dataId).twins?.get(argmaxKey(c)) : undefined;
    if (indices === undefined) indices = maxPool(c, floatImage(backend, input))[1];
    const gx = Tensor.empty([c.batchSize, c.inChannels, c.inHeight, c.inWidth], 'float32');
    if (gx.numel() > 0) {
      const g = floatImage(backend, dy);
      beginLayouts();
      gx.putLayout();
      g.putLayout();
      indices.putLayout();
      native.maxPool2dBackward(gx.storage.buffer, g.storage.buffer, indices.storage.buffer);
    }
    return outputImage(backend, gx, true);
  }),
  kernel('AvgPool', ({ inputs, backend, attrs }) => {
    const c = poolInfo(attrs, inputs.x.shape);
    if (isIdentity(c)) return backend.forward(inputs.x);
    return output(backend, avgPool(c, floatImage(backend, inputs.x), false), 'float32');
  }),
  kernel('AvgPoolGrad', ({ inputs, backend, attrs }) => {
    const c = poolInfo(attrs, inputs.input.shape);
    return outputImage(backend, avgPool(c, floatImage(backend, inputs.dy), true), true);
  }),
];

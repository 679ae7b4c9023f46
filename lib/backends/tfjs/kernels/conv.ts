// Convolutions: Conv2D and its two backprops, FusedConv2D, DepthwiseConv2dNative and its two
// backprops, FusedDepthwiseConv2D, all on dendrite's native conv kernels (im2col + SGEMM, a
// direct kernel for depthwise). tfjs's geometry (its 'same'/'valid'/explicit padding, rounding
// modes, dilations, data formats) comes from tfjs's own conv_util; the native kernels take the
// top/left padding and read the output size off the output tensor, so tfjs's asymmetric 'same'
// padding (the odd row/column at the bottom/right) needs nothing more. Images move between
// NHWC and NCHW through layout.ts, which keeps each tensor's NCHW copy for the next kernel.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { Tensor } from '../../../tensor';
import { beginLayouts, native } from '../../../native';
import { add } from '../../../ops/elementwise';
import { contiguous } from '../../../ops/shape';
import '../../../ops/conv'; // the native conv declarations
import type { DendriteBackend } from '../backend';
import { kernel, attr, type KernelArgs } from './common';
import { activate, type Activation } from './matmul';
import { convFilterOf, depthwiseFilterOf, imageOf, outputImage } from './layout';

type Conv2DInfo = backend_util.Conv2DInfo;
type NativeConv = 'conv2d' | 'conv2dBackwardInput' | 'conv2dBackwardWeight';
type Pad = 'same' | 'valid' | number | backend_util.ExplicitPadding;

/** out = kernel(a, b, bias?) into a new NCHW tensor of `shape`; every operand contiguous. */
function runConv(name: NativeConv, info: Conv2DInfo, groups: number, shape: number[], a: Tensor, b: Tensor, bias?: Tensor): Tensor {
  const out = Tensor.empty(shape, 'float32');
  if (out.numel() === 0) return out;
  beginLayouts();
  out.putLayout();
  a.putLayout();
  b.putLayout();
  bias?.putLayout();
  (native[name] as Function)(info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    info.dilationHeight, info.dilationWidth, groups, out.storage.buffer, a.storage.buffer, b.storage.buffer, bias?.storage.buffer);
  return out;
}

/** The NCHW shapes of a conv: input, output. */
function nchwShapes(c: Conv2DInfo): { x: number[]; y: number[] } {
  return { x: [c.batchSize, c.inChannels, c.inHeight, c.inWidth], y: [c.batchSize, c.outChannels, c.outHeight, c.outWidth] };
}

function isChannelsLast(attrs: KernelArgs['attrs']): boolean {
  return (attr<string>(attrs, 'dataFormat') ?? 'NHWC') !== 'NCHW';
}

function float(backend: DendriteBackend, info: TensorInfo, t: Tensor): Tensor {
  if (info.dtype !== 'float32') throw new Error(`dendrite: convolutions take float32 tensors, got ${info.dtype}`);
  return t;
}

interface ConvCase {
  depthwise: boolean;
}

function convInfoOf(args: KernelArgs, xShape: number[], filterShape: number[], c: ConvCase, channelsLast: boolean): Conv2DInfo {
  const { attrs } = args;
  return backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attr<[number, number]>(attrs, 'strides'), attr<[number, number]>(attrs, 'dilations') ?? 1, attr<Pad>(attrs, 'pad'),
    attr<'floor' | 'round' | 'ceil'>(attrs, 'dimRoundingMode'), c.depthwise, channelsLast ? 'channelsLast' : 'channelsFirst');
}

/** The forward conv in NCHW, plus a native per-channel bias when `bias` is given. */
function forward(args: KernelArgs, c: ConvCase, bias?: Tensor): { y: Tensor; channelsLast: boolean } {
  const { inputs, backend } = args;
  const channelsLast = c.depthwise || isChannelsLast(args.attrs);
  const info = convInfoOf(args, inputs.x.shape, inputs.filter.shape, c, channelsLast);
  const x = float(backend, inputs.x, imageOf(backend, inputs.x, channelsLast));
  const w = float(backend, inputs.filter, c.depthwise ? depthwiseFilterOf(backend, inputs.filter) : convFilterOf(backend, inputs.filter));
  const groups = c.depthwise ? info.inChannels : 1;
  return { y: runConv('conv2d', info, groups, nchwShapes(info).y, x, w, bias), channelsLast };
}

/** FusedConv2D / FusedDepthwiseConv2D: conv, + bias, activation (tfjs's broadcasting rules). */
function fused(args: KernelArgs, c: ConvCase): TensorInfo {
  const { inputs, backend, attrs } = args;
  const act = attr<Activation>(attrs, 'activation') ?? 'linear';
  const leaky = attr<number>(attrs, 'leakyreluAlpha');
  const channelsLast = c.depthwise || isChannelsLast(attrs);
  const biasInfo = inputs.bias ?? null;
  const outChannels = c.depthwise ? inputs.filter.shape[2] * inputs.filter.shape[3] : inputs.filter.shape[3];
  // A 1-D bias of one value per output channel goes into the conv kernel itself.
  const nativeBias = biasInfo !== null && biasInfo.shape.length === 1 && biasInfo.shape[0] === outChannels;
  const { y } = forward(args, c, nativeBias ? backend.viewOf(biasInfo) : undefined);
  const alphaInfo = inputs.preluActivationWeights ?? null;
  if ((biasInfo === null || nativeBias) && act !== 'prelu') return outputImage(backend, activate(y, act, null, leaky), channelsLast);
  // Other bias and prelu-weight shapes broadcast against the output in tfjs's layout.
  let z = channelsLast ? contiguous(y.permute([0, 2, 3, 1])) : y;
  const perChannel = (info: TensorInfo): Tensor => {
    const t = backend.viewOf(info);
    return !channelsLast && info.shape.length === 1 && info.shape[0] !== 1 ? t.reshape([info.shape[0], 1, 1]) : t;
  };
  if (biasInfo !== null && !nativeBias) z = add(z, perChannel(biasInfo));
  z = activate(z, act, alphaInfo !== null ? perChannel(alphaInfo) : null, leaky);
  return backend.makeOutput(z, z.shape, 'float32');
}

function conv2DBackpropInput(args: KernelArgs, c: ConvCase): TensorInfo {
  const { inputs, backend, attrs } = args;
  const channelsLast = c.depthwise || isChannelsLast(attrs);
  const info = convInfoOf(args, attr<number[]>(attrs, 'inputShape'), inputs.filter.shape, c, channelsLast);
  let dy = float(backend, inputs.dy, imageOf(backend, inputs.dy, channelsLast));
  // tfjs's kernels read dy over the output extent that inputShape and the padding give; a larger
  // dy (conv2dTranspose with an outputShape smaller than its input allows) is cropped to it.
  if (dy.shape[2] > info.outHeight || dy.shape[3] > info.outWidth)
    dy = contiguous(dy.narrow(2, 0, Math.min(info.outHeight, dy.shape[2])).narrow(3, 0, Math.min(info.outWidth, dy.shape[3])));
  const w = c.depthwise ? depthwiseFilterOf(backend, inputs.filter) : convFilterOf(backend, inputs.filter);
  const groups = c.depthwise ? info.inChannels : 1;
  return outputImage(backend, runConv('conv2dBackwardInput', info, groups, nchwShapes(info).x, dy, w), channelsLast);
}

function conv2DBackpropFilter(args: KernelArgs, c: ConvCase): TensorInfo {
  const { inputs, backend, attrs } = args;
  const channelsLast = c.depthwise || isChannelsLast(attrs);
  const filterShape = attr<number[]>(attrs, 'filterShape');
  const info = convInfoOf(args, inputs.x.shape, filterShape, c, channelsLast);
  const x = float(backend, inputs.x, imageOf(backend, inputs.x, channelsLast));
  const dy = imageOf(backend, inputs.dy, channelsLast);
  const [fH, fW, C, M] = filterShape;
  // dendrite's weight layout: [outC, inC/groups, fH, fW].
  const gwShape = c.depthwise ? [C * M, 1, fH, fW] : [M, C, fH, fW];
  const gw = runConv('conv2dBackwardWeight', info, c.depthwise ? C : 1, gwShape, dy, x);
  const out = c.depthwise ? contiguous(gw.reshape([C, M, fH, fW]).permute([2, 3, 0, 1])) : contiguous(gw.permute([2, 3, 1, 0]));
  return backend.makeOutput(out, filterShape, 'float32');
}

const CONV: ConvCase = { depthwise: false };
const DEPTHWISE: ConvCase = { depthwise: true };

export const convKernels: KernelConfig[] = [
  kernel('Conv2D', (args) => {
    const { y, channelsLast } = forward(args, CONV);
    return outputImage(args.backend, y, channelsLast);
  }),
  kernel('FusedConv2D', (args) => fused(args, CONV)),
  kernel('Conv2DBackpropInput', (args) => conv2DBackpropInput(args, CONV)),
  kernel('Conv2DBackpropFilter', (args) => conv2DBackpropFilter(args, CONV)),
  kernel('DepthwiseConv2dNative', (args) => {
    const { y } = forward(args, DEPTHWISE);
    return outputImage(args.backend, y, true);
  }),
  kernel('FusedDepthwiseConv2D', (args) => fused(args, DEPTHWISE)),
  kernel('DepthwiseConv2dNativeBackpropInput', (args) => conv2DBackpropInput(args, DEPTHWISE)),
  kernel('DepthwiseConv2dNativeBackpropFilter', (args) => conv2DBackpropFilter(args, DEPTHWISE)),
];

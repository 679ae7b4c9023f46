// Conv2d and ConvTranspose2d with PyTorch's parameter names, shapes and initialisation.
import { describe, fail, fmtShape } from '../errors';
import { Tensor } from '../tensor';
import { Module, Parameter } from './module';
import { kaimingUniform_, uniform_, calculateFans } from './init';
import { empty } from '../ops/creation';
import { conv2d, convTranspose2d, convTransposeOutputSize, intPair, type IntPair } from '../ops/conv';
import { pad } from '../ops/pad';
import type { DType } from '../dtype';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

function checkCount(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail('ERR_ARGUMENT', op, `${name} as an integer >= ${min}`, describe(v));
  return v;
}

/** Shared by both convolutions (PyTorch's _ConvNd). */
abstract class ConvNd extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];

  constructor(op: string, readonly inChannels: number, readonly outChannels: number, kernelSize: IntPair,
    o: { stride?: IntPair; dilation?: IntPair; groups?: number; bias?: boolean; dtype?: DType }, transposed: boolean, readonly groups = o.groups ?? 1) {
    super();
    checkCount(op, 'inChannels', inChannels, 1);
    checkCount(op, 'outChannels', outChannels, 1);
    checkCount(op, 'groups', groups, 1);
    if (inChannels % groups !== 0) fail('ERR_ARGUMENT', op, `inChannels divisible by groups = ${groups}`, String(inChannels));
    if (outChannels % groups !== 0) fail('ERR_ARGUMENT', op, `outChannels divisible by groups = ${groups}`, String(outChannels));
    this.kernelSize = intPair(kernelSize, op, 'kernelSize', 1);
    this.stride = intPair(o.stride ?? 1, op, 'stride', 1);
    this.dilation = intPair(o.dilation ?? 1, op, 'dilation', 1);
    const shape = transposed
      ? [inChannels, outChannels / groups, ...this.kernelSize]
      : [outChannels, inChannels / groups, ...this.kernelSize];
    this.weight = Parameter(empty(shape, { dtype: o.dtype }));
    this.bias = o.bias === false ? null : Parameter(empty([outChannels], { dtype: o.dtype }));
    this.resetParameters();
  }

  /** PyTorch's default: kaiming_uniform(a = sqrt(5)) for the weight, U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for the bias. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const fanIn = calculateFans(this.weight)[0];
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }
}

export interface Conv2dModuleOptions {
  stride?: IntPair;
  padding?: IntPair | 'same' | 'valid';
  dilation?: IntPair;
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
  dtype?: DType;
}

export class Conv2d extends ConvNd {
  readonly padding: [number, number] | 'same' | 'valid';
  readonly paddingMode: PaddingMode;
  constructor(inChannels: number, outChannels: number, kernelSize: IntPair, options: Conv2dModuleOptions = {}) {
    super('Conv2d', inChannels, outChannels, kernelSize, options, false);
    const p = options.padding ?? 0;
    this.padding = p === 'same' || p === 'valid' ? p : intPair(p, 'Conv2d', 'padding', 0);
    if (p === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1))
      fail('ERR_ARGUMENT', 'Conv2d', "stride 1 with padding 'same'", `stride [${this.stride}]`);
    this.paddingMode = options.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate', 'circular'].includes(this.paddingMode))
      fail('ERR_ARGUMENT', 'Conv2d', "paddingMode 'zeros', 'reflect', 'replicate' or 'circular'", describe(this.paddingMode));
    if (this.paddingMode !== 'zeros' && typeof this.padding === 'string')
      fail('ERR_NOT_IMPLEMENTED', 'Conv2d', `numeric padding with paddingMode '${this.paddingMode}'`, `padding '${this.padding}'`);
  }
  forward(x: Tensor): Tensor {
    const o = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode !== 'zeros' && typeof this.padding !== 'string') {
      const [ph, pw] = this.padding;
      const padded = pad(x, [pw, pw, ph, ph], this.paddingMode);
      return conv2d(padded, this.weight, this.bias, { ...o, padding: 0 });
    }
    return conv2d(x, this.weight, this.bias, { ...o, padding: this.padding });
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}]` +
      (typeof this.padding === 'string' ? `, padding='${this.padding}'` : `, padding=[${this.padding}]`) +
      (this.dilation[0] !== 1 || this.dilation[1] !== 1 ? `, dilation=[${this.dilation}]` : '') +
      (this.groups !== 1 ? `, groups=${this.groups}` : '') + (this.bias ? '' : ', bias=false');
  }
}

export interface ConvTranspose2dModuleOptions {
  stride?: IntPair;
  padding?: IntPair;
  outputPadding?: IntPair;
  dilation?: IntPair;
  groups?: number;
  bias?: boolean;
  dtype?: DType;
}

export class ConvTranspose2d extends ConvNd {
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  constructor(inChannels: number, outChannels: number, kernelSize: IntPair, options: ConvTranspose2dModuleOptions = {}) {
    super('ConvTranspose2d', inChannels, outChannels, kernelSize, options, true);
    this.padding = intPair(options.padding ?? 0, 'ConvTranspose2d', 'padding', 0);
    this.outputPadding = intPair(options.outputPadding ?? 0, 'ConvTranspose2d', 'outputPadding', 0);
  }
  /** `outputSize` ([h, w], optionally with N and C in front) picks the outputPadding that produces it. */
  forward(x: Tensor, outputSize?: readonly number[]): Tensor {
    let outputPadding = this.outputPadding;
    if (outputSize !== undefined) {
      const want = outputSize.slice(-2);
      if (want.length !== 2) fail('ERR_ARGUMENT', 'ConvTranspose2d', 'outputSize [h, w] (or [N, C, h, w])', describe(outputSize));
      const spatial = x.shape.slice(-2);
      outputPadding = [0, 1].map((i) => {
        const base = convTransposeOutputSize(spatial[i], this.kernelSize[i], this.stride[i], this.padding[i], this.dilation[i], 0);
        const extra = want[i] - base;
        if (!(extra >= 0 && (extra < this.stride[i] || extra < this.dilation[i])))
          fail('ERR_SHAPE', 'ConvTranspose2d', `an output size between ${base} and ${base + Math.max(this.stride[i], this.dilation[i]) - 1} in dim ${i}`,
            `${fmtShape(want)} for input ${fmtShape(x.shape)}`);
        return extra;
      }) as [number, number];
    }
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride, padding: this.padding, outputPadding, dilation: this.dilation, groups: this.groups,
    });
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}], padding=[${this.padding}]` +
      (this.outputPadding[0] || this.outputPadding[1] ? `, outputPadding=[${this.outputPadding}]` : '') +
      (this.groups !== 1 ? `, groups=${this.groups}` : '') + (this.bias ? '' : ', bias=false');
  }
}

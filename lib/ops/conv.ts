// conv2d and convTranspose2d (NCHW) on the native conv kernels. A transposed convolution is
// the input adjoint of a convolution, so both ops run on the same three kernels, roles swapped:
//   conv2d:           y = forward(x, w)         gx = backwardInput(gy, w)   gw = backwardWeight(gy, x)
//   convTranspose2d:  y = backwardInput(x, w)   gx = forward(gy, w)         gw = backwardWeight(x, gy)
import type { StorageHandle } from '../storage';
import { describe, fail, fmtShape } from '../errors';
import { isFloat } from '../dtype';
import { Tensor, contiguousCopy } from '../tensor';
import { record } from '../autograd/node';
import { beginLayouts, native } from '../native';
import { checkTensor } from './helpers';
import { sum } from './reduce';

declare module '../native' {
  interface NativeAddon {
    conv2d(sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, groups: number,
      y: StorageHandle, x: StorageHandle, w: StorageHandle, bias?: StorageHandle): void;
    conv2dBackwardInput(sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, groups: number,
      gx: StorageHandle, gy: StorageHandle, w: StorageHandle, bias?: StorageHandle): void;
    conv2dBackwardWeight(sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, groups: number,
      gw: StorageHandle, gy: StorageHandle, x: StorageHandle): void;
  }
}

/** A size per spatial dim: one number for both, or [h, w]. */
export type IntPair = number | readonly [number, number] | readonly number[];

/** [h, w] from a number or a pair of integers >= min. */
export function intPair(v: unknown, op: string, name: string, min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : null;
  if (p === null || !p.every((k) => typeof k === 'number' && Number.isInteger(k) && k >= min))
    fail('ERR_ARGUMENT', op, `${name} as an integer >= ${min} or a pair of them`, describe(v));
  return [p[0], p[1]];
}

export interface Conv2dOptions {
  stride?: IntPair;
  /** Zero padding on each side, or 'valid' (none) or 'same' (output size = input size; stride 1). */
  padding?: IntPair | 'same' | 'valid';
  dilation?: IntPair;
  groups?: number;
}

export interface ConvTranspose2dOptions {
  stride?: IntPair;
  padding?: IntPair;
  /** Extra rows/cols on the bottom/right of the output (each < stride or < dilation). */
  outputPadding?: IntPair;
  dilation?: IntPair;
  groups?: number;
}

/** [sh, sw, ph, pw, dh, dw, groups]: the geometry arguments of every conv kernel. */
type Geometry = [number, number, number, number, number, number, number];

const contiguousRaw = (t: Tensor, temps: Tensor[]): Tensor => {
  if (t.isContiguous()) return t;
  const c = contiguousCopy(t);
  temps.push(c);
  return c;
};

function disposeAll(temps: Tensor[]): void {
  for (const t of temps) t.dispose();
}

type Kernel = 'conv2d' | 'conv2dBackwardInput' | 'conv2dBackwardWeight';

/** Runs one kernel into a new tensor of `shape`: out = kernel(a, b, bias?). */
function runKernel(kernel: Kernel, g: Geometry, shape: number[], a: Tensor, b: Tensor, bias?: Tensor | null): Tensor {
  const temps: Tensor[] = [];
  try {
    const ac = contiguousRaw(a, temps), bc = contiguousRaw(b, temps);
    const biasc = bias ? contiguousRaw(bias, temps) : undefined;
    // On the operands' device (checkOperands saw to one device); the binding routes by it.
    const out = Tensor.empty(shape, ac.dtype, ac.device);
    try {
      beginLayouts();
      out.putLayout();
      ac.putLayout();
      bc.putLayout();
      if (biasc) biasc.putLayout();
      (native[kernel] as Function)(...g, out.storage.buffer, ac.storage.buffer, bc.storage.buffer, biasc?.storage.buffer);
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  } finally {
    disposeAll(temps);
  }
}

/** Splits `conv2d(x, w, options)` from `conv2d(x, w, bias, options)`. */
function biasAndOptions<O>(bias: unknown, options: O | undefined): [Tensor | null, O] {
  if (bias instanceof Tensor || bias === null || bias === undefined) return [(bias as Tensor | null) ?? null, options ?? ({} as O)];
  if (typeof bias === 'object' && options === undefined) return [null, bias as O];
  return fail('ERR_ARGUMENT', 'conv', 'a Tensor bias, null, or an options object', describe(bias));
}

function checkOperands(op: string, x: Tensor, weight: Tensor, bias: Tensor | null): void {
  checkTensor(x, op);
  checkTensor(weight, op, 'weight');
  if (bias !== null) checkTensor(bias, op, 'bias');
  if (x.ndim !== 4) fail('ERR_SHAPE', op, 'input of shape [N, C, H, W] (or [C, H, W])', fmtShape(x.shape));
  if (weight.ndim !== 4) fail('ERR_SHAPE', op, 'a 4-D weight', fmtShape(weight.shape));
  if (weight.device !== x.device || (bias !== null && bias.device !== x.device))
    fail('ERR_DEVICE', op, `weight and bias on the input's device, ${x.device}`,
      `weight on ${weight.device}${bias !== null ? `, bias on ${bias.device}` : ''}`);
  if (!isFloat(x.dtype)) fail('ERR_DTYPE', op, 'a float32 or float64 input', x.dtype);
  if (x.device === 'cuda' && x.dtype !== 'float32') fail('ERR_DTYPE', op, 'a float32 input on cuda (float64 convolutions run on the CPU)', x.dtype);
  if (weight.dtype !== x.dtype) fail('ERR_DTYPE', op, `weight of the input's dtype ${x.dtype}`, weight.dtype);
  if (bias !== null && bias.dtype !== x.dtype) fail('ERR_DTYPE', op, `bias of the input's dtype ${x.dtype}`, bias.dtype);
}

function checkGroups(op: string, groups: unknown): number {
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) fail('ERR_ARGUMENT', op, 'groups as an integer >= 1', describe(groups));
  return groups;
}

function checkBiasShape(op: string, bias: Tensor | null, channels: number): void {
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== channels))
    fail('ERR_SHAPE', op, `bias of shape [${channels}]`, fmtShape(bias.shape));
}

/**
 * 2-D convolution (cross-correlation, as PyTorch) of x [N, C, H, W] with weight
 * [outC, C/groups, kH, kW], plus bias [outC]. `conv2d(x, w, options)` also works without a bias.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null | Conv2dOptions, options?: Conv2dOptions): Tensor {
  const [b, o] = biasAndOptions<Conv2dOptions>(bias, options);
  const op = 'conv2d';
  if (x instanceof Tensor && x.ndim === 3) return conv2d(x.unsqueeze(0), weight, b, o).squeeze(0);
  checkOperands(op, x, weight, b);
  const groups = checkGroups(op, o.groups ?? 1);
  const [sh, sw] = intPair(o.stride ?? 1, op, 'stride', 1);
  const [dh, dw] = intPair(o.dilation ?? 1, op, 'dilation', 1);
  const [N, C, H, W] = x.shape;
  const [K, Cg, R, S] = weight.shape;
  if (K % groups !== 0) fail('ERR_SHAPE', op, `out channels (weight.shape[0]) divisible by groups = ${groups}`, fmtShape(weight.shape));
  if (Cg * groups !== C)
    fail('ERR_SHAPE', op, `input with ${Cg * groups} channels (weight ${fmtShape(weight.shape)}, groups = ${groups}): [N, ${Cg * groups}, H, W]`, fmtShape(x.shape));
  checkBiasShape(op, b, K);
  let ph: number, pw: number, OH: number, OW: number;
  const padding = o.padding ?? 0;
  if (padding === 'same') {
    if (sh !== 1 || sw !== 1) fail('ERR_ARGUMENT', op, "stride 1 with padding 'same'", `stride [${sh}, ${sw}]`);
    // Total padding d*(k-1) per dim, the odd one extra at the bottom/right (PyTorch's choice):
    // the kernels read taps past the input as zeros, so asking for OH = H does exactly that.
    ph = Math.floor((dh * (R - 1)) / 2);
    pw = Math.floor((dw * (S - 1)) / 2);
    OH = H;
    OW = W;
  } else {
    [ph, pw] = padding === 'valid' ? [0, 0] : intPair(padding, op, 'padding', 0);
    OH = Math.floor((H + 2 * ph - dh * (R - 1) - 1) / sh) + 1;
    OW = Math.floor((W + 2 * pw - dw * (S - 1) - 1) / sw) + 1;
    if (OH < 1 || OW < 1)
      fail('ERR_SHAPE', op, `an input at least as large as the dilated kernel [${dh * (R - 1) + 1}, ${dw * (S - 1) + 1}] after padding [${ph}, ${pw}]`, fmtShape(x.shape));
  }
  const g: Geometry = [sh, sw, ph, pw, dh, dw, groups];
  const out = runKernel('conv2d', g, [N, K, OH, OW], x, weight, b);
  const inputs = b ? [x, weight, b] : [x, weight];
  return record(out, op, inputs, (gy) => [
    x.requiresGrad ? runKernel('conv2dBackwardInput', g, x.shape.slice(), gy, weight) : null,
    weight.requiresGrad ? runKernel('conv2dBackwardWeight', g, weight.shape.slice(), gy, x) : null,
    b?.requiresGrad ? sum(gy, [0, 2, 3]) : null,
  ]);
}

/** Output size of a transposed convolution along one dim. */
export function convTransposeOutputSize(size: number, k: number, stride: number, pad: number, dil: number, outPad: number): number {
  return (size - 1) * stride - 2 * pad + dil * (k - 1) + outPad + 1;
}

/**
 * Transposed convolution of x [N, inC, H, W] with weight [inC, outC/groups, kH, kW] (+ bias
 * [outC]): each input value times the kernel, written to the output at stride steps with
 * overlaps summed, then `padding` rows/cols cropped from each side; the adjoint of conv2d.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null | ConvTranspose2dOptions, options?: ConvTranspose2dOptions): Tensor {
  const [b, o] = biasAndOptions<ConvTranspose2dOptions>(bias, options);
  const op = 'convTranspose2d';
  if (x instanceof Tensor && x.ndim === 3) return convTranspose2d(x.unsqueeze(0), weight, b, o).squeeze(0);
  checkOperands(op, x, weight, b);
  const groups = checkGroups(op, o.groups ?? 1);
  const [sh, sw] = intPair(o.stride ?? 1, op, 'stride', 1);
  const [ph, pw] = intPair(o.padding ?? 0, op, 'padding', 0);
  const [dh, dw] = intPair(o.dilation ?? 1, op, 'dilation', 1);
  const [oph, opw] = intPair(o.outputPadding ?? 0, op, 'outputPadding', 0);
  if ((oph >= sh && oph >= dh) || (opw >= sw && opw >= dw))
    fail('ERR_ARGUMENT', op, `outputPadding smaller than stride [${sh}, ${sw}] or dilation [${dh}, ${dw}]`, `[${oph}, ${opw}]`);
  const [N, C, H, W] = x.shape;
  const [Cin, Kg, R, S] = weight.shape;
  if (Cin !== C)
    fail('ERR_SHAPE', op, `input with ${Cin} channels (weight ${fmtShape(weight.shape)} is [inC, outC/groups, kH, kW]): [N, ${Cin}, H, W]`, fmtShape(x.shape));
  if (C % groups !== 0) fail('ERR_SHAPE', op, `in channels divisible by groups = ${groups}`, fmtShape(x.shape));
  const K = Kg * groups;
  checkBiasShape(op, b, K);
  const OH = convTransposeOutputSize(H, R, sh, ph, dh, oph), OW = convTransposeOutputSize(W, S, sw, pw, dw, opw);
  if (OH < 1 || OW < 1) fail('ERR_SHAPE', op, `a positive output size (padding [${ph}, ${pw}] crops it to [${OH}, ${OW}])`, fmtShape(x.shape));
  const g: Geometry = [sh, sw, ph, pw, dh, dw, groups];
  const out = runKernel('conv2dBackwardInput', g, [N, K, OH, OW], x, weight, b);
  const inputs = b ? [x, weight, b] : [x, weight];
  return record(out, op, inputs, (gy) => [
    x.requiresGrad ? runKernel('conv2d', g, x.shape.slice(), gy, weight) : null,
    weight.requiresGrad ? runKernel('conv2dBackwardWeight', g, weight.shape.slice(), x, gy) : null,
    b?.requiresGrad ? sum(gy, [0, 2, 3]) : null,
  ]);
}

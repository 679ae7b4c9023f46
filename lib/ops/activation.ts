// Activations and (log-)softmax. Each forward is one native pass; each backward a fused native
// kernel taking (grad, saved input or output).
import { fail, fmtShape } from '../errors';
import { floatOf, isFloat } from '../dtype';
import { Tensor, normDim } from '../tensor';
import { record } from '../autograd/node';
import { beginLayouts, BINARY, native, UNARY } from '../native';
import { asDType, binaryRaw, checkTensor, disposeAll, floatUnaryRaw, unaryRaw } from './helpers';
import { contiguous } from './shape';

/** unary forward in float; backward = BINARY[bw](g, saved) where saved is the input or output. */
function activation(name: string, x: Tensor, bw: string, saveOutput: boolean, p0 = 0, p1 = 0): Tensor {
  checkTensor(x, name);
  const out = floatUnaryRaw(UNARY[name], x, p0, p1);
  return record(out, name, [x], (g) => [binaryRaw(BINARY[bw], g, saveOutput ? out : x, name, g.dtype, p0, p1)]);
}

/** relu keeps integer dtypes, as torch.relu (the others compute in float). */
export function relu(x: Tensor): Tensor {
  if (checkTensor(x, 'relu').dtype === 'bool') fail('ERR_DTYPE', 'relu', 'a numeric tensor', 'bool');
  return isFloat(x.dtype) ? activation('relu', x, 'reluBackward', false) : unaryRaw(UNARY.relu, x);
}
export const sigmoid = (x: Tensor): Tensor => activation('sigmoid', x, 'sigmoidBackward', true);
export const tanh = (x: Tensor): Tensor => activation('tanh', x, 'tanhBackward', true);
export const silu = (x: Tensor): Tensor => activation('silu', x, 'siluBackward', false);

export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return activation('leakyRelu', x, 'leakyReluBackward', false, negativeSlope);
}

export function elu(x: Tensor, alpha = 1.0): Tensor {
  return activation('elu', x, 'eluBackward', false, alpha);
}

export function softplus(x: Tensor, options: { beta?: number; threshold?: number } = {}): Tensor {
  const beta = options.beta ?? 1, threshold = options.threshold ?? 20;
  if (!(beta > 0)) fail('ERR_ARGUMENT', 'softplus', 'beta > 0', String(beta));
  return activation('softplus', x, 'softplusBackward', false, beta, threshold);
}

export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  if (!(minVal <= maxVal)) fail('ERR_ARGUMENT', 'hardtanh', 'minVal <= maxVal', `${minVal} > ${maxVal}`);
  checkTensor(x, 'hardtanh');
  const out = floatUnaryRaw(UNARY.clamp, x, minVal, maxVal);
  return record(out, 'hardtanh', [x], (g) => [binaryRaw(BINARY.hardtanhBackward, g, x, 'hardtanh', g.dtype, minVal, maxVal)]);
}

export const relu6 = (x: Tensor): Tensor => hardtanh(x, 0, 6);

/** GELU, exact (erf) by default; `{ approximate: 'tanh' }` for the tanh form. */
export function gelu(x: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const tanhForm = options.approximate === 'tanh';
  if (options.approximate !== undefined && options.approximate !== 'none' && !tanhForm)
    fail('ERR_ARGUMENT', 'gelu', "approximate 'none' or 'tanh'", String(options.approximate));
  return tanhForm ? activation('geluTanh', x, 'geluTanhBackward', false) : activation('gelu', x, 'geluBackward', false);
}

function softmaxImpl(name: 'softmax' | 'logSoftmax', x: Tensor, dim: number): Tensor {
  checkTensor(x, name);
  if (dim === undefined) fail('ERR_ARGUMENT', name, 'a dim', 'none');
  const d = x.ndim === 0 ? 0 : normDim(dim, x.ndim, name);
  const temps: Tensor[] = [];
  let out: Tensor;
  try {
    let xf = asDType(x, floatOf(x.dtype), temps);
    const xc = contiguous(xf);
    if (xc !== xf) temps.push(xc);
    xf = xc;
    out = Tensor.empty(x.shape.slice(), xf.dtype, xf.device);
    beginLayouts();
    out.putLayout();
    xf.putLayout();
    native.softmax(d, name === 'logSoftmax', out.storage.buffer, xf.storage.buffer);
  } finally {
    disposeAll(temps);
  }
  return record(out, name, [x], (g) => {
    const gc = contiguous(g);
    const gi = Tensor.empty(x.shape.slice(), out.dtype, out.device);
    beginLayouts();
    gi.putLayout();
    gc.putLayout();
    out.putLayout();
    native.softmaxBackward(d, name === 'logSoftmax', gi.storage.buffer, gc.storage.buffer, out.storage.buffer);
    if (gc !== g) gc.dispose();
    return [gi];
  });
}

export const softmax = (x: Tensor, dim: number): Tensor => softmaxImpl('softmax', x, dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => softmaxImpl('logSoftmax', x, dim);

export function checkFloat(x: Tensor, op: string): void {
  if (!isFloat(x.dtype)) fail('ERR_DTYPE', op, 'a floating-point tensor', `${x.dtype} ${fmtShape(x.shape)}`);
}

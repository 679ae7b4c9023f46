// Unary elementwise kernels and activations. Output dtype is the input's (tfjs-core casts to
// float32 before the float-only ones); integer inputs of float functions compute in float32.
import type { KernelConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { Tensor } from '../../../tensor';
import { UNARY } from '../../../native';
import { floatUnaryRaw, unaryRaw } from '../../../ops/helpers';
import { cast } from '../../../ops/shape';
import { abs, add, eq, ge, gt, lt, mul, ne, where } from '../../../ops/elementwise';
import { full } from '../../../ops/creation';
import { numericKernel, attr } from './common';

type Compute = (x: Tensor, attrs: NamedAttrMap) => Tensor;

function unaryKernel(name: string, compute: Compute, outDType?: 'float32' | 'bool'): KernelConfig {
  return numericKernel(name, ({ inputs, backend, attrs }) => {
    const x = backend.viewOf(inputs.x);
    const out = compute(x, attrs);
    return backend.makeOutput(out, inputs.x.shape, outDType ?? inputs.x.dtype);
  });
}

/** A float function (exp, log, ...): int and bool inputs compute in float32. */
const floatFn = (code: number, p0 = 0, p1 = 0): Compute => (x) => floatUnaryRaw(code, x, p0, p1);
/** A function every numeric dtype has (neg, abs, square, ...); bool computes in int32. */
const anyFn = (code: number): Compute => (x) => unaryRaw(code, x.dtype === 'bool' ? cast(x, 'int32') : x);
/** Rounding is the identity on integers. */
const roundFn = (code: number): Compute => (x) => (x.dtype === 'float32' ? unaryRaw(code, x) : x);

const SELU_ALPHA = backend_util.SELU_SCALEALPHA / backend_util.SELU_SCALE;

export const unaryKernels: KernelConfig[] = [
  unaryKernel('Abs', anyFn(UNARY.abs)),
  unaryKernel('Neg', anyFn(UNARY.neg)),
  unaryKernel('Square', anyFn(UNARY.square)),
  unaryKernel('Sign', anyFn(UNARY.sign)),
  unaryKernel('Floor', roundFn(UNARY.floor)),
  unaryKernel('Ceil', roundFn(UNARY.ceil)),
  unaryKernel('Round', roundFn(UNARY.round)),
  unaryKernel('Exp', floatFn(UNARY.exp), 'float32'),
  unaryKernel('Expm1', floatFn(UNARY.expm1)),
  unaryKernel('Log', floatFn(UNARY.log)),
  unaryKernel('Log1p', floatFn(UNARY.log1p)),
  unaryKernel('Sqrt', floatFn(UNARY.sqrt)),
  unaryKernel('Rsqrt', floatFn(UNARY.rsqrt)),
  unaryKernel('Reciprocal', floatFn(UNARY.reciprocal)),
  unaryKernel('Sin', floatFn(UNARY.sin)),
  unaryKernel('Cos', floatFn(UNARY.cos)),
  unaryKernel('Erf', floatFn(UNARY.erf)),
  unaryKernel('LogicalNot', (x) => unaryRaw(UNARY.logicalNot, x.dtype === 'bool' ? x : cast(x, 'bool')), 'bool'),
  unaryKernel('IsNan', (x) => ne(x, x), 'bool'),
  unaryKernel('IsInf', (x) => eq(abs(cast(x, 'float32')), Infinity), 'bool'),
  unaryKernel('IsFinite', (x) => lt(abs(cast(x, 'float32')), Infinity), 'bool'),
  // Activations.
  unaryKernel('Relu', floatFn(UNARY.relu)),
  unaryKernel('Relu6', floatFn(UNARY.clamp, 0, 6)),
  unaryKernel('Sigmoid', floatFn(UNARY.sigmoid)),
  unaryKernel('Tanh', floatFn(UNARY.tanh)),
  unaryKernel('Softplus', floatFn(UNARY.softplus, 1, 20)),
  unaryKernel('Elu', floatFn(UNARY.elu, 1)),
  unaryKernel('Selu', (x) => mul(floatUnaryRaw(UNARY.elu, x, SELU_ALPHA), backend_util.SELU_SCALE)),
  unaryKernel('LeakyRelu', (x, attrs) => floatUnaryRaw(UNARY.leakyRelu, x, attr<number>(attrs, 'alpha')), 'float32'),
  unaryKernel('ClipByValue', (x, attrs) =>
    unaryRaw(UNARY.clamp, x, attr<number>(attrs, 'clipValueMin'), attr<number>(attrs, 'clipValueMax'))),
  unaryKernel('Step', (x, attrs) => {
    const xf = cast(x, 'float32');
    return where(ne(xf, xf), xf, where(gt(xf, 0), full([], 1), full([], attr<number>(attrs, 'alpha'))));
  }),
  numericKernel('EluGrad', ({ inputs, backend }) => {
    const dy = backend.viewOf(inputs.dy), y = backend.viewOf(inputs.y);
    return backend.makeOutput(where(ge(y, 0), dy, mul(dy, add(y, 1))), inputs.y.shape, 'float32');
  }),
];

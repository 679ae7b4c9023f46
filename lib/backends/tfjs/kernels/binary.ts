// Binary elementwise kernels (arithmetic, comparison, logic) on dendrite's broadcasting
// elementwise kernels. tfjs-core's ops have already given both operands one dtype.
import type { DataType, KernelConfig } from '@tensorflow/tfjs-core';
import { Tensor } from '../../../tensor';
import { BINARY, UNARY } from '../../../native';
import { binaryRaw, unaryRaw } from '../../../ops/helpers';
import { cast } from '../../../ops/shape';
import { abs, lt, mul, where, gt } from '../../../ops/elementwise';
import { numericKernel, type KernelArgs } from './common';

/** The dtype a binary op computes in: bool arithmetic runs in int32 (tfjs stores it back as 0/1). */
function computeDType(t: Tensor, arithmetic: boolean): Tensor {
  return arithmetic && t.dtype === 'bool' ? cast(t, 'int32') : t;
}

/** JS's ToInt32 on the values that reach an int32 output: NaN and ±Infinity become 0. */
export function finiteOrZero(t: Tensor): Tensor {
  return where(lt(abs(t), Infinity), t, 0);
}

type Compute = (a: Tensor, b: Tensor) => Tensor;

function binaryKernel(name: string, compute: Compute, outDType?: DataType, arithmetic = true): KernelConfig {
  return numericKernel(name, ({ inputs, backend }: KernelArgs) => {
    const { a, b } = inputs;
    const x = computeDType(backend.viewOf(a), arithmetic), y = computeDType(backend.viewOf(b), arithmetic);
    const out = compute(x, y);
    const dtype = outDType ?? a.dtype;
    return backend.makeOutput(out, out.shape, dtype);
  });
}

const raw = (code: number, outBool = false): Compute => (a, b) => binaryRaw(code, a, b, 'tfjs', outBool ? 'bool' : a.dtype);

/** Integer operands compute in float64 (exact for int32) and come back through ToInt32. */
const viaFloat64 = (f: (a: Tensor, b: Tensor) => Tensor): Compute => (a, b) => {
  if (a.dtype === 'float32') return f(a, b);
  return finiteOrZero(f(cast(a, 'float64'), cast(b, 'float64')));
};

const floorDiv: Compute = viaFloat64((a, b) => {
  // floor(a / b) with the quotient in double precision, as tfjs computes it.
  const q = binaryRaw(BINARY.div, cast(a, 'float64'), cast(b, 'float64'), 'floorDiv', 'float64');
  return cast(unaryRaw(UNARY.floor, q), a.dtype);
});

export const binaryKernels: KernelConfig[] = [
  binaryKernel('Add', raw(BINARY.add)),
  binaryKernel('Sub', raw(BINARY.sub)),
  binaryKernel('Multiply', raw(BINARY.mul)),
  binaryKernel('RealDiv', viaFloat64(raw(BINARY.div))),
  binaryKernel('FloorDiv', floorDiv),
  binaryKernel('Mod', viaFloat64(raw(BINARY.remainder))),
  binaryKernel('Maximum', raw(BINARY.maximum)),
  binaryKernel('Minimum', raw(BINARY.minimum)),
  binaryKernel('Pow', viaFloat64(raw(BINARY.pow))),
  binaryKernel('Atan2', (a, b) => binaryRaw(BINARY.atan2, cast(a, 'float32'), cast(b, 'float32'), 'atan2', 'float32')),
  binaryKernel('SquaredDifference', (a, b) => unaryRaw(UNARY.square, binaryRaw(BINARY.sub, a, b, 'squaredDifference', a.dtype))),
  binaryKernel('Equal', raw(BINARY.eq, true), 'bool', false),
  binaryKernel('NotEqual', raw(BINARY.ne, true), 'bool', false),
  binaryKernel('Less', raw(BINARY.lt, true), 'bool', false),
  binaryKernel('LessEqual', raw(BINARY.le, true), 'bool', false),
  binaryKernel('Greater', raw(BINARY.gt, true), 'bool', false),
  binaryKernel('GreaterEqual', raw(BINARY.ge, true), 'bool', false),
  binaryKernel('LogicalAnd', raw(BINARY.logicalAnd, true), 'bool', false),
  binaryKernel('LogicalOr', raw(BINARY.logicalOr, true), 'bool', false),
  binaryKernel('LogicalXor', raw(BINARY.logicalXor, true), 'bool', false),
  numericKernel('Prelu', ({ inputs, backend }) => {
    const x = backend.viewOf(inputs.x), alpha = backend.viewOf(inputs.alpha);
    const out = where(gt(x, 0), x, mul(x, alpha));
    return backend.makeOutput(out, out.shape, 'float32');
  }),
];

// Elementwise arithmetic, math functions, comparisons, where and clamp, with broadcasting and
// PyTorch's type promotion; each op's backward sits next to its forward.
import { describe, fail } from '../errors';
import { floatOf, isFloat, promoteTensorTypes, promoteWithScalar, type DType } from '../dtype';
import { Tensor } from '../tensor';
import { record, isGradEnabled, needsGrad } from '../autograd/node';
import { beginLayouts, BINARY, native, UNARY } from '../native';
import {
  asDType, binaryRaw, binaryScalarRaw, broadcastShapes, checkTensor, copyInto, disposeAll, fillRaw, floatUnaryRaw, isScalar,
  putBroadcast, unaryRaw, type Scalar, type TensorLike,
} from './helpers';
import { sumToShape } from './reduce';

type Operands = { a: Tensor | null; b: Tensor | null; sa: number; sb: number };

function operands(op: string, x: TensorLike, y: TensorLike): Operands {
  const xt = x instanceof Tensor, yt = y instanceof Tensor;
  if (!xt && !yt) fail('ERR_ARGUMENT', op, 'at least one Tensor operand', `${describe(x)} and ${describe(y)}`);
  if (xt) (x as Tensor).assertLive(op);
  else if (!isScalar(x)) fail('ERR_ARGUMENT', op, 'a Tensor or number', describe(x));
  if (yt) (y as Tensor).assertLive(op);
  else if (!isScalar(y)) fail('ERR_ARGUMENT', op, 'a Tensor or number', describe(y));
  return {
    a: xt ? (x as Tensor) : null,
    b: yt ? (y as Tensor) : null,
    sa: xt ? 0 : Number(x),
    sb: yt ? 0 : Number(y),
  };
}

function resultDType(o: Operands, x: TensorLike, y: TensorLike): DType {
  if (o.a && o.b) return promoteTensorTypes(o.a.dtype, o.a.ndim, o.b.dtype, o.b.ndim);
  if (o.a) return promoteWithScalar(o.a.dtype, y as Scalar);
  return promoteWithScalar(o.b!.dtype, x as Scalar);
}

/** Runs a binary kernel over tensor/tensor or tensor/scalar operands, computing in `dtype`. */
function runBinary(code: number, o: Operands, op: string, dtype: DType, outDType: DType, p0 = 1, p1 = 0): Tensor {
  const temps: Tensor[] = [];
  try {
    if (o.a && o.b) return binaryRaw(code, asDType(o.a, dtype, temps), asDType(o.b, dtype, temps), op, outDType, p0, p1);
    if (o.a) return binaryScalarRaw(code, asDType(o.a, dtype, temps), o.sb, false, outDType, p0, p1);
    return binaryScalarRaw(code, asDType(o.b!, dtype, temps), o.sa, true, outDType, p0, p1);
  } finally {
    disposeAll(temps);
  }
}

const inputsOf = (o: Operands): Tensor[] => [o.a, o.b].filter((t): t is Tensor => t !== null);

/** Maps per-operand grads onto the recorded inputs list (which omits scalars). */
function gradsFor(o: Operands, ga: Tensor | null, gb: Tensor | null): (Tensor | null)[] {
  const out: (Tensor | null)[] = [];
  if (o.a) out.push(ga);
  if (o.b) out.push(gb);
  return out;
}

const reduceTo = (g: Tensor, t: Tensor | null): Tensor | null => (t && t.requiresGrad ? sumToShape(g, t.shape) : null);

export function add(x: TensorLike, y: TensorLike, options: { alpha?: number } = {}): Tensor {
  const o = operands('add', x, y);
  const alpha = options.alpha ?? 1;
  const dtype = resultDType(o, x, y);
  if (dtype === 'bool') return logicalOr(x, y);
  const out = runBinary(BINARY.add, o, 'add', dtype, dtype, alpha);
  if (!needsGrad(o.a, o.b)) return out;
  return record(out, 'add', inputsOf(o), (g) =>
    gradsFor(o, reduceTo(g, o.a), o.b?.requiresGrad ? sumToShape(alpha === 1 ? g : mul(g, alpha), o.b.shape) : null),
  );
}

export function sub(x: TensorLike, y: TensorLike, options: { alpha?: number } = {}): Tensor {
  const o = operands('sub', x, y);
  const alpha = options.alpha ?? 1;
  const dtype = resultDType(o, x, y);
  if (dtype === 'bool') fail('ERR_DTYPE', 'sub', 'numeric operands (use logicalXor for bools)', 'two bool operands');
  const out = runBinary(BINARY.sub, o, 'sub', dtype, dtype, alpha);
  if (!needsGrad(o.a, o.b)) return out;
  return record(out, 'sub', inputsOf(o), (g) =>
    gradsFor(o, reduceTo(g, o.a), o.b?.requiresGrad ? sumToShape(mul(g, -alpha), o.b.shape) : null),
  );
}

export function mul(x: TensorLike, y: TensorLike): Tensor {
  const o = operands('mul', x, y);
  const dtype = resultDType(o, x, y);
  if (dtype === 'bool') return logicalAnd(x, y);
  const out = runBinary(BINARY.mul, o, 'mul', dtype, dtype);
  if (!needsGrad(o.a, o.b)) return out;
  return record(out, 'mul', inputsOf(o), (g) =>
    gradsFor(
      o,
      o.a?.requiresGrad ? sumToShape(mul(g, o.b ?? o.sb), o.a.shape) : null,
      o.b?.requiresGrad ? sumToShape(mul(g, o.a ?? o.sa), o.b.shape) : null,
    ),
  );
}

export function div(x: TensorLike, y: TensorLike): Tensor {
  const o = operands('div', x, y);
  const dtype = floatOf(resultDType(o, x, y));  // true division, as torch.div
  const out = runBinary(BINARY.div, o, 'div', dtype, dtype);
  if (!needsGrad(o.a, o.b)) return out;
  return record(out, 'div', inputsOf(o), (g) =>
    gradsFor(
      o,
      o.a?.requiresGrad ? sumToShape(div(g, o.b ?? o.sb), o.a.shape) : null,
      o.b?.requiresGrad ? sumToShape(neg(div(mul(g, out), o.b)), o.b.shape) : null,
    ),
  );
}

export function pow(x: TensorLike, y: TensorLike): Tensor {
  const o = operands('pow', x, y);
  let dtype = resultDType(o, x, y);
  if (dtype === 'bool') dtype = 'int64';
  // A negative integer exponent of an integer tensor is an error in PyTorch too.
  const out = runBinary(BINARY.pow, o, 'pow', dtype, dtype);
  return record(out, 'pow', inputsOf(o), (g) => {
    let ga: Tensor | null = null, gb: Tensor | null = null;
    if (o.a?.requiresGrad) {
      const e = o.b ?? o.sb;
      // d/da a^e = e * a^(e-1); e == 0 gives 0 everywhere (PyTorch's convention).
      if (typeof e === 'number') ga = e === 0 ? mul(g, 0) : mul(mul(g, e), pow(o.a, e - 1));
      else ga = sumToShape(where(eq(e, 0), 0, mul(mul(g, e), pow(o.a, sub(e, 1)))), o.a.shape);
    }
    if (o.b?.requiresGrad) {
      // d/db a^b = a^b * log(a), defined as 0 where a == 0 and b >= 0.
      const base = o.a ?? o.sa;
      const logA = o.a ? log(o.a) : Math.log(o.sa);
      let gbFull = mul(mul(g, out), logA);
      if (o.a) gbFull = where(logicalAnd(eq(o.a, 0), ge(o.b, 0)), 0, gbFull);
      else if (base === 0) gbFull = where(ge(o.b, 0), 0, gbFull);
      gb = sumToShape(gbFull, o.b.shape);
    }
    return gradsFor(o, ga, gb);
  });
}

/** torch.maximum / minimum: NaN-propagating; on ties the gradient is split evenly. */
function extremum(name: 'maximum' | 'minimum', x: Tensor, y: Tensor): Tensor {
  const o = operands(name, checkTensor(x, name), checkTensor(y, name));
  const dtype = resultDType(o, x, y);
  const out = dtype === 'bool'
    ? (name === 'maximum' ? logicalOr(x, y) : logicalAnd(x, y))
    : runBinary(BINARY[name], o, name, dtype, dtype);
  return record(out, name, [x, y], (g) => {
    // As PyTorch: an operand loses the gradient only where the other one strictly wins, so
    // where either is NaN (no order) both get it.
    const loseA = name === 'maximum' ? lt(x, y) : gt(x, y);
    const loseB = name === 'maximum' ? gt(x, y) : lt(x, y);
    const shared = where(eq(x, y), mul(g, 0.5), g);
    const ga = x.requiresGrad ? sumToShape(where(loseA, 0, shared), x.shape) : null;
    const gb = y.requiresGrad ? sumToShape(where(loseB, 0, shared), y.shape) : null;
    return [ga, gb];
  });
}
export const maximum = (x: Tensor, y: Tensor): Tensor => extremum('maximum', x, y);
export const minimum = (x: Tensor, y: Tensor): Tensor => extremum('minimum', x, y);

// ---- comparisons and logic (no gradient) ------------------------------------------------

function compare(name: string, x: TensorLike, y: TensorLike): Tensor {
  const o = operands(name, x, y);
  return runBinary(BINARY[name], o, name, resultDType(o, x, y), 'bool');
}
export const eq = (x: TensorLike, y: TensorLike): Tensor => compare('eq', x, y);
export const ne = (x: TensorLike, y: TensorLike): Tensor => compare('ne', x, y);
export const lt = (x: TensorLike, y: TensorLike): Tensor => compare('lt', x, y);
export const le = (x: TensorLike, y: TensorLike): Tensor => compare('le', x, y);
export const gt = (x: TensorLike, y: TensorLike): Tensor => compare('gt', x, y);
export const ge = (x: TensorLike, y: TensorLike): Tensor => compare('ge', x, y);
export const logicalAnd = (x: TensorLike, y: TensorLike): Tensor => compare('logicalAnd', x, y);
export const logicalOr = (x: TensorLike, y: TensorLike): Tensor => compare('logicalOr', x, y);
export const logicalXor = (x: TensorLike, y: TensorLike): Tensor => compare('logicalXor', x, y);
export function logicalNot(x: Tensor): Tensor {
  checkTensor(x, 'logicalNot');
  const temps: Tensor[] = [];
  try {
    return unaryRaw(UNARY.logicalNot, asDType(x, 'bool', temps));
  } finally {
    disposeAll(temps);
  }
}

// ---- unary math -------------------------------------------------------------------------

type UnaryBackward = (g: Tensor, x: Tensor, out: Tensor) => Tensor;

/** A float unary op: integer inputs compute in float32 (torch.exp(int) is float). */
function floatUnary(name: string, x: Tensor, backward: UnaryBackward | null, p0 = 0, p1 = 0): Tensor {
  checkTensor(x, name);
  const out = floatUnaryRaw(UNARY[name], x, p0, p1);
  if (backward === null) return out;
  return record(out, name, [x], (g) => [backward(g, x, out)]);
}

/** A unary op defined on every numeric dtype, keeping it. */
function sameTypeUnary(name: string, x: Tensor, backward: UnaryBackward | null, p0 = 0, p1 = 0): Tensor {
  checkTensor(x, name);
  if (x.dtype === 'bool') fail('ERR_DTYPE', name, 'a numeric tensor', 'bool');
  const out = unaryRaw(UNARY[name], x, p0, p1);
  if (backward === null) return out;
  return record(out, name, [x], (g) => [backward(g, x, out)]);
}

const zerosGrad: UnaryBackward = (g) => mul(g, 0);

export const neg = (x: Tensor): Tensor => sameTypeUnary('neg', x, (g) => neg(g));
export const abs = (x: Tensor): Tensor => sameTypeUnary('abs', x, (g, xx) => mul(g, sign(xx)));
export const sign = (x: Tensor): Tensor => sameTypeUnary('sign', x, zerosGrad);
export const square = (x: Tensor): Tensor => sameTypeUnary('square', x, (g, xx) => mul(g, mul(xx, 2)));
export const exp = (x: Tensor): Tensor => floatUnary('exp', x, (g, _x, y) => mul(g, y));
export const log = (x: Tensor): Tensor => floatUnary('log', x, (g, xx) => div(g, xx));
export const sqrt = (x: Tensor): Tensor => floatUnary('sqrt', x, (g, _x, y) => div(g, mul(y, 2)));
export const rsqrt = (x: Tensor): Tensor => floatUnary('rsqrt', x, (g, _x, y) => mul(g, mul(pow(y, 3), -0.5)));
export const reciprocal = (x: Tensor): Tensor => floatUnary('reciprocal', x, (g, _x, y) => neg(mul(g, mul(y, y))));
export const sin = (x: Tensor): Tensor => floatUnary('sin', x, (g, xx) => mul(g, cos(xx)));
export const cos = (x: Tensor): Tensor => floatUnary('cos', x, (g, xx) => neg(mul(g, sin(xx))));
export const log1p = (x: Tensor): Tensor => floatUnary('log1p', x, (g, xx) => div(g, add(xx, 1)));
export const expm1 = (x: Tensor): Tensor => floatUnary('expm1', x, (g, _x, y) => mul(g, add(y, 1)));
export const erf = (x: Tensor): Tensor =>
  floatUnary('erf', x, (g, xx) => mul(g, mul(exp(neg(square(xx))), 2 / Math.sqrt(Math.PI))));
export const floor = (x: Tensor): Tensor => (isFloat(checkTensor(x, 'floor').dtype) ? floatUnary('floor', x, zerosGrad) : x.clone());
export const ceil = (x: Tensor): Tensor => (isFloat(checkTensor(x, 'ceil').dtype) ? floatUnary('ceil', x, zerosGrad) : x.clone());
export const round = (x: Tensor): Tensor => (isFloat(checkTensor(x, 'round').dtype) ? floatUnary('round', x, zerosGrad) : x.clone());

export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  checkTensor(x, 'clamp');
  const lo = min ?? -Infinity, hi = max ?? Infinity;
  if (min == null && max == null) fail('ERR_ARGUMENT', 'clamp', 'at least one of min and max', 'neither');
  if (typeof lo !== 'number' || typeof hi !== 'number') fail('ERR_ARGUMENT', 'clamp', 'numeric bounds', `${describe(min)}, ${describe(max)}`);
  const dtype = isFloat(x.dtype) || (Number.isInteger(lo) || !isFinite(lo)) && (Number.isInteger(hi) || !isFinite(hi)) ? x.dtype : 'float32';
  const temps: Tensor[] = [];
  let out: Tensor;
  try {
    out = unaryRaw(UNARY.clamp, asDType(x, dtype, temps), lo, hi);
  } finally {
    disposeAll(temps);
  }
  return record(out, 'clamp', [x], (g) => [binaryRaw(BINARY.clampBackward, g, x, 'clamp', g.dtype, lo, hi)]);
}
export const clip = clamp;

/** torch.where(cond, x, y) with broadcasting over all three. */
export function where(cond: Tensor, x: TensorLike, y: TensorLike): Tensor {
  checkTensor(cond, 'where', 'condition');
  if (isScalar(x) && isScalar(y)) {
    // torch.where(cond, 1, 0): two numbers give int64 when both are integers, bool when both
    // are booleans, else float32.
    const both = typeof x === 'boolean' && typeof y === 'boolean' ? 'bool'
      : Number.isInteger(x) && Number.isInteger(y) && typeof x === 'number' && typeof y === 'number' ? 'int64' : 'float32';
    const xt = Tensor.empty([], both, cond.device);
    fillRaw(xt, Number(x));
    try {
      return where(cond, xt, y);
    } finally {
      xt.dispose();
    }
  }
  const o = operands('where', x, y);
  const dtype = resultDType(o, x, y);
  const temps: Tensor[] = [];
  const toT = (t: Tensor | null, s: number): Tensor => {
    if (t) return asDType(t, dtype, temps);
    const c = Tensor.empty([], dtype, cond.device);
    temps.push(c);
    fillRaw(c, s);
    return c;
  };
  let out: Tensor;
  try {
    const c = asDType(cond, 'bool', temps);
    const a = toT(o.a, o.sa), b = toT(o.b, o.sb);
    const shape = broadcastShapes(broadcastShapes(c.shape, a.shape, 'where'), b.shape, 'where');
    out = Tensor.empty(shape, dtype, c.device);
    beginLayouts();
    out.putLayout();
    putBroadcast(c, shape);
    putBroadcast(a, shape);
    putBroadcast(b, shape);
    native.where(out.storage.buffer, c.storage.buffer, a.storage.buffer, b.storage.buffer);
  } finally {
    disposeAll(temps);
  }
  return record(out, 'where', inputsOf(o), (g) =>
    gradsFor(
      o,
      o.a?.requiresGrad ? sumToShape(where(cond, g, 0), o.a.shape) : null,
      o.b?.requiresGrad ? sumToShape(where(cond, 0, g), o.b.shape) : null,
    ),
  );
}

// ---- in place (no autograd through them; for optimizers and manual updates) -------------

function checkInPlace(t: Tensor, op: string): void {
  checkTensor(t, op);
  if (isGradEnabled() && t.requiresGrad && t.isLeaf)
    fail('ERR_ARGUMENT', op, 'no in-place update of a leaf that requires grad while grad mode is on (wrap it in dt.noGrad)', 'such a leaf');
}

function inPlaceBinary(code: number, op: string, t: Tensor, other: TensorLike, p0 = 1): Tensor {
  checkInPlace(t, op);
  const temps: Tensor[] = [];
  try {
    beginLayouts();
    t.putLayout();
    t.putLayout();
    if (other instanceof Tensor) {
      other.assertLive(op);
      const b = asDType(other, t.dtype, temps);
      const shape = broadcastShapes(t.shape, b.shape, op);
      if (shape.length !== t.shape.length || shape.some((s, i) => s !== t.shape[i]))
        fail('ERR_SHAPE', op, `an operand that broadcasts to the in-place target [${t.shape}]`, `[${other.shape}]`);
      putBroadcast(b, t.shape);
      native.binary(code, p0, 0, t.storage.buffer, t.storage.buffer, b.storage.buffer);
    } else {
      if (!isScalar(other)) fail('ERR_ARGUMENT', op, 'a Tensor or number', describe(other));
      native.binaryScalar(code, p0, 0, Number(other), false, t.storage.buffer, t.storage.buffer);
    }
  } finally {
    disposeAll(temps);
  }
  return t;
}

export const addInPlace = (t: Tensor, o: TensorLike, options: { alpha?: number } = {}): Tensor =>
  inPlaceBinary(BINARY.add, 'add_', t, o, options.alpha ?? 1);
export const subInPlace = (t: Tensor, o: TensorLike, options: { alpha?: number } = {}): Tensor =>
  inPlaceBinary(BINARY.sub, 'sub_', t, o, options.alpha ?? 1);
export const mulInPlace = (t: Tensor, o: TensorLike): Tensor => inPlaceBinary(BINARY.mul, 'mul_', t, o);
export const divInPlace = (t: Tensor, o: TensorLike): Tensor => inPlaceBinary(BINARY.div, 'div_', t, o);

export function copyInPlace(t: Tensor, src: Tensor): Tensor {
  checkInPlace(t, 'copy_');
  checkTensor(src, 'copy_', 'source');
  broadcastShapes(t.shape, src.shape, 'copy_');
  copyInto(t, src);
  return t;
}

export function fillInPlace(t: Tensor, value: number): Tensor {
  checkInPlace(t, 'fill_');
  fillRaw(t, value);
  return t;
}
export const zeroInPlace = (t: Tensor): Tensor => fillInPlace(t, 0);

export function clampInPlace(t: Tensor, min?: number | null, max?: number | null): Tensor {
  checkInPlace(t, 'clamp_');
  beginLayouts();
  t.putLayout();
  t.putLayout();
  native.unary(UNARY.clamp, min ?? -Infinity, max ?? Infinity, t.storage.buffer, t.storage.buffer);
  return t;
}

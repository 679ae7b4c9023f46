// Tensor methods: every op is also t.op(...). Declaration merging gives them types; the
// prototype assignments below wire them to the op functions.
import { Tensor } from '../tensor';
import { checkDType, type DType } from '../dtype';
import { backward, type BackwardOptions } from '../autograd/engine';
import { fail, describe } from '../errors';
import * as E from './elementwise';
import * as A from './activation';
import * as R from './reduce';
import * as S from './shape';
import * as J from './join';
import * as I from './indexing';
import * as L from './linalg';
import type { TensorLike } from './helpers';
import type { Device } from '../storage';
import { isDeviceName, parseDevice } from '../device';

declare module '../tensor' {
  interface Tensor {
    add(other: TensorLike, options?: { alpha?: number }): Tensor;
    sub(other: TensorLike, options?: { alpha?: number }): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(exponent: TensorLike): Tensor;
    maximum(other: Tensor): Tensor;
    minimum(other: Tensor): Tensor;
    eq(other: TensorLike): Tensor;
    ne(other: TensorLike): Tensor;
    lt(other: TensorLike): Tensor;
    le(other: TensorLike): Tensor;
    gt(other: TensorLike): Tensor;
    ge(other: TensorLike): Tensor;
    logicalAnd(other: TensorLike): Tensor;
    logicalOr(other: TensorLike): Tensor;
    logicalXor(other: TensorLike): Tensor;
    logicalNot(): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    square(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    reciprocal(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    log1p(): Tensor;
    expm1(): Tensor;
    erf(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    clip(min?: number | null, max?: number | null): Tensor;
    where(condition: Tensor, other: TensorLike): Tensor;
    relu(): Tensor;
    leakyRelu(negativeSlope?: number): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    softplus(options?: { beta?: number; threshold?: number }): Tensor;
    hardtanh(minVal?: number, maxVal?: number): Tensor;
    gelu(options?: { approximate?: 'none' | 'tanh' }): Tensor;
    silu(): Tensor;
    elu(alpha?: number): Tensor;
    softmax(dim: number): Tensor;
    logSoftmax(dim: number): Tensor;
    sum(dim?: R.Dims, keepdim?: boolean | R.ReduceOptions): Tensor;
    mean(dim?: R.Dims, keepdim?: boolean | R.ReduceOptions): Tensor;
    prod(dim?: number | null, keepdim?: boolean | R.ReduceOptions): Tensor;
    max(): Tensor;
    max(dim: number, keepdim?: boolean | R.ReduceOptions): R.ValuesIndices;
    min(): Tensor;
    min(dim: number, keepdim?: boolean | R.ReduceOptions): R.ValuesIndices;
    argmax(dim?: number | null, keepdim?: boolean | R.ReduceOptions): Tensor;
    argmin(dim?: number | null, keepdim?: boolean | R.ReduceOptions): Tensor;
    var(dim?: R.Dims, keepdim?: boolean | R.VarOptions, options?: R.VarOptions): Tensor;
    std(dim?: R.Dims, keepdim?: boolean | R.VarOptions, options?: R.VarOptions): Tensor;
    logsumexp(dim: R.Dims, keepdim?: boolean | R.ReduceOptions): Tensor;
    all(dim?: R.Dims, keepdim?: boolean | R.ReduceOptions): Tensor;
    any(dim?: R.Dims, keepdim?: boolean | R.ReduceOptions): Tensor;
    reshape(shape: readonly number[] | number): Tensor;
    view(shape: readonly number[] | number): Tensor;
    permute(dims: readonly number[]): Tensor;
    transpose(dim0: number, dim1: number): Tensor;
    t(): Tensor;
    readonly T: Tensor;
    squeeze(dim?: number | number[]): Tensor;
    unsqueeze(dim: number): Tensor;
    expand(shape: readonly number[]): Tensor;
    expandAs(other: Tensor): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    slice(dim: number, start?: number | null, end?: number | null, step?: number): Tensor;
    select(dim: number, index: number): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    unflatten(dim: number, sizes: readonly number[]): Tensor;
    contiguous(): Tensor;
    clone(): Tensor;
    detach(): Tensor;
    split(splitSizeOrSections: number | number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[];
    indexSelect(dim: number, index: Tensor): Tensor;
    gather(dim: number, index: Tensor): Tensor;
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    matmul(other: Tensor): Tensor;
    mm(other: Tensor): Tensor;
    dot(other: Tensor): Tensor;
    /**
     * t.to('float64') casts; t.to('cuda') / t.to('cpu') copies to that device (t itself when it is
     * there already). Asking for 'cuda' without a usable GPU throws ERR_DEVICE saying why.
     */
    to(target: DType | Device | 'cuda:0'): Tensor;
    float(): Tensor;
    double(): Tensor;
    int(): Tensor;
    long(): Tensor;
    bool(): Tensor;
    cpu(): Tensor;
    cuda(): Tensor;
    backward(gradient?: Tensor, options?: BackwardOptions): void;
    requiresGrad_(requiresGrad?: boolean): Tensor;
    add_(other: TensorLike, options?: { alpha?: number }): Tensor;
    sub_(other: TensorLike, options?: { alpha?: number }): Tensor;
    mul_(other: TensorLike): Tensor;
    div_(other: TensorLike): Tensor;
    copy_(src: Tensor): Tensor;
    fill_(value: number): Tensor;
    zero_(): Tensor;
    clamp_(min?: number | null, max?: number | null): Tensor;
  }
}

const P = Tensor.prototype as any;
const methods: Record<string, (...args: any[]) => any> = {
  add: E.add, sub: E.sub, mul: E.mul, div: E.div, pow: E.pow, maximum: E.maximum, minimum: E.minimum,
  eq: E.eq, ne: E.ne, lt: E.lt, le: E.le, gt: E.gt, ge: E.ge,
  logicalAnd: E.logicalAnd, logicalOr: E.logicalOr, logicalXor: E.logicalXor, logicalNot: E.logicalNot,
  neg: E.neg, abs: E.abs, sign: E.sign, square: E.square, exp: E.exp, log: E.log, sqrt: E.sqrt, rsqrt: E.rsqrt,
  reciprocal: E.reciprocal, sin: E.sin, cos: E.cos, log1p: E.log1p, expm1: E.expm1, erf: E.erf,
  floor: E.floor, ceil: E.ceil, round: E.round, clamp: E.clamp, clip: E.clamp,
  relu: A.relu, leakyRelu: A.leakyRelu, sigmoid: A.sigmoid, tanh: A.tanh, softplus: A.softplus,
  hardtanh: A.hardtanh, gelu: A.gelu, silu: A.silu, elu: A.elu, softmax: A.softmax, logSoftmax: A.logSoftmax,
  sum: R.sum, mean: R.mean, prod: R.prod, max: R.max, min: R.min, argmax: R.argmax, argmin: R.argmin,
  var: R.variance, std: R.std, logsumexp: R.logsumexp, all: R.all, any: R.any,
  reshape: S.reshape, view: S.view, permute: S.permute, transpose: S.transpose, t: S.t, squeeze: S.squeeze,
  unsqueeze: S.unsqueeze, expand: S.expand, expandAs: S.expandAs, narrow: S.narrow, slice: S.slice,
  select: S.select, flatten: S.flatten, unflatten: S.unflatten, contiguous: S.contiguous, clone: S.clone,
  detach: S.detach, split: J.split, chunk: J.chunk, indexSelect: I.indexSelect, gather: I.gather,
  scatterAdd: I.scatterAdd, matmul: L.matmul, mm: L.mm, dot: L.dot,
  add_: E.addInPlace, sub_: E.subInPlace, mul_: E.mulInPlace, div_: E.divInPlace, copy_: E.copyInPlace,
  fill_: E.fillInPlace, zero_: E.zeroInPlace, clamp_: E.clampInPlace,
};
for (const [name, fn] of Object.entries(methods)) {
  P[name] = function (this: Tensor, ...args: any[]) {
    return fn(this, ...args);
  };
}
P.where = function (this: Tensor, condition: Tensor, other: TensorLike) {
  return E.where(condition, this, other);
};
Object.defineProperty(P, 'T', {
  get(this: Tensor) {
    return S.permute(this, this.shape.map((_, i) => this.ndim - 1 - i));
  },
});
P.to = function (this: Tensor, target: DType | Device) {
  if (isDeviceName(target)) return S.toDevice(this, parseDevice(target, 'to'));
  if (typeof target !== 'string') fail('ERR_ARGUMENT', 'to', 'a dtype or device name', describe(target));
  return S.cast(this, checkDType(target, 'to'));
};
P.float = function (this: Tensor) { return S.cast(this, 'float32'); };
P.double = function (this: Tensor) { return S.cast(this, 'float64'); };
P.int = function (this: Tensor) { return S.cast(this, 'int32'); };
P.long = function (this: Tensor) { return S.cast(this, 'int64'); };
P.bool = function (this: Tensor) { return S.cast(this, 'bool'); };
P.cpu = function (this: Tensor) { return S.toDevice(this, 'cpu'); };
P.cuda = function (this: Tensor) { return S.toDevice(this, parseDevice('cuda', 'cuda')); };
P.backward = function (this: Tensor, gradient?: Tensor, options?: BackwardOptions) {
  backward(this, gradient, options);
};
P.requiresGrad_ = function (this: Tensor, requiresGrad = true) {
  if (requiresGrad && this.dtype !== 'float32' && this.dtype !== 'float64')
    fail('ERR_DTYPE', 'requiresGrad_', 'a floating-point tensor', this.dtype);
  if (!requiresGrad && !this.isLeaf) fail('ERR_ARGUMENT', 'requiresGrad_', 'a leaf tensor (use detach() on results)', 'a non-leaf');
  this.requiresGrad = requiresGrad;
  return this;
};

// Loss functions (dt.F.mseLoss ... dt.F.klDiv) with PyTorch's reductions and numerics.
// nllLoss is a native kernel (native/cpu/loss); crossEntropy is logSoftmax + nllLoss, as in
// PyTorch. The regression losses compose elementwise ops and let autograd derive the backward;
// the binary cross-entropies compute their forward under noGrad and record PyTorch's own
// backward formulas (clamped denominator, sigmoid form), which are exact where composing the
// clamped logs would not be.
import { describe, fail, fmtShape } from '../errors';
import { isFloat } from '../dtype';
import { Tensor, contiguousCopy } from '../tensor';
import { noGrad, record } from '../autograd/node';
import { beginLayouts, native } from '../native';
import { checkTensor, sameShape } from './helpers';
import { sub, where } from './elementwise';
import { logSoftmax, softplus } from './activation';
import { sumToShape } from './reduce';
import { indexSelect } from './indexing';

export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION_CODES: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

function checkReduction(op: string, r: unknown, extra: string[] = []): Reduction {
  const allowed = ['none', 'mean', 'sum', ...extra];
  if (r === undefined) return 'mean';
  if (typeof r !== 'string' || !allowed.includes(r)) fail('ERR_ARGUMENT', op, `reduction ${allowed.map((a) => `'${a}'`).join(', ')}`, describe(r));
  return r as Reduction;
}

function checkFloatInput(x: unknown, op: string, what = 'input'): Tensor {
  const t = checkTensor(x, op, what);
  if (!isFloat(t.dtype)) fail('ERR_DTYPE', op, `a floating-point ${what}`, `${t.dtype} ${fmtShape(t.shape)}`);
  return t;
}

function checkOptionalTensor(x: unknown, op: string, what: string): Tensor | null {
  if (x === undefined || x === null) return null;
  return checkFloatInput(x, op, what);
}

function applyReduction(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  return reduction === 'mean' ? loss.mean() : loss.sum();
}

/**
 * Reduces `elementwise` (computed without recording) and records `grads`, which receives the
 * gradient of every element of `elementwise` and returns one gradient per input.
 */
function withBackward(name: string, inputs: Tensor[], elementwise: Tensor, reduction: Reduction, grads: (ge: Tensor) => (Tensor | null)[]): Tensor {
  const n = elementwise.numel(), shape = elementwise.shape.slice();
  const out = noGrad(() => applyReduction(elementwise, reduction));
  if (out !== elementwise) elementwise.dispose();
  return record(out, name, inputs, (g) => grads(reduction === 'none' ? g : (reduction === 'mean' ? g.div(n) : g).expand(shape)));
}

export interface LossOptions {
  reduction?: Reduction;
}

/** Mean squared error, (input - target)^2 reduced. */
export function mseLoss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  checkFloatInput(input, 'mseLoss');
  checkTensor(target, 'mseLoss', 'target');
  return applyReduction(input.sub(target).square(), checkReduction('mseLoss', options.reduction));
}

/** Mean absolute error, |input - target| reduced. */
export function l1Loss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  checkFloatInput(input, 'l1Loss');
  checkTensor(target, 'l1Loss', 'target');
  return applyReduction(input.sub(target).abs(), checkReduction('l1Loss', options.reduction));
}

/** Smooth L1: 0.5 z^2 / beta where z = |input - target| < beta, z - 0.5 beta elsewhere (beta 0: L1). */
export function smoothL1Loss(input: Tensor, target: Tensor, options: LossOptions & { beta?: number } = {}): Tensor {
  checkFloatInput(input, 'smoothL1Loss');
  checkTensor(target, 'smoothL1Loss', 'target');
  const reduction = checkReduction('smoothL1Loss', options.reduction);
  const beta = options.beta ?? 1;
  if (typeof beta !== 'number' || !(beta >= 0)) fail('ERR_ARGUMENT', 'smoothL1Loss', 'beta >= 0', describe(beta));
  if (beta === 0) return l1Loss(input, target, { reduction });
  const z = input.sub(target).abs();
  const loss = where(z.lt(beta), z.mul(0.5).mul(z).div(beta), z.sub(0.5 * beta));
  return applyReduction(loss, reduction);
}

function checkSameShape(op: string, input: Tensor, target: Tensor): void {
  if (!sameShape(input.shape, target.shape))
    fail('ERR_SHAPE', op, `a target of the input's shape ${fmtShape(input.shape)}`, fmtShape(target.shape));
}

// The verdict is read on the host: on CUDA this waits for the queued kernels (the one sync of
// binaryCrossEntropy), which PyTorch's device-side assert avoids at the price of a dead context.
function checkUnitRange(op: string, t: Tensor, what: string): void {
  const bad = noGrad(() => {
    const outside = t.lt(0).logicalOr(t.gt(1));
    const any = outside.any();
    const v = any.item();
    outside.dispose();
    any.dispose();
    return v;
  });
  if (bad) fail('ERR_ARGUMENT', op, `${what} values in [0, 1]`, 'values outside it');
}

const BCE_EPS = Math.fround(1e-12);

export interface BCEOptions extends LossOptions {
  /** Rescales each element's loss (broadcast to the input's shape). */
  weight?: Tensor | null;
}

/**
 * Binary cross-entropy on probabilities: -w (y log x + (1 - y) log(1 - x)), each log clamped at
 * -100 so that x = 0 or 1 gives a finite loss (PyTorch's numerics).
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BCEOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  checkFloatInput(input, op);
  checkFloatInput(target, op, 'target');
  checkSameShape(op, input, target);
  const reduction = checkReduction(op, options.reduction);
  const weight = checkOptionalTensor(options.weight, op, 'weight');
  checkUnitRange(op, input, 'input');
  checkUnitRange(op, target, 'target');
  const loss = noGrad(() => {
    const logX = input.log().clamp(-100, null);
    const log1mX = sub(1, input).log().clamp(-100, null);
    const l = target.sub(1).mul(log1mX).sub(target.mul(logX));
    return weight ? l.mul(weight) : l;
  });
  return withBackward(op, [input, target], loss, reduction, (ge) => {
    let gi: Tensor | null = null, gt: Tensor | null = null;
    if (input.requiresGrad) {
      // d/dx = (x - y) / max(x (1 - x), eps), PyTorch's eps being the float 1e-12.
      gi = ge.mul(input.sub(target)).div(sub(1, input).mul(input).clamp(BCE_EPS, null));
      if (weight) gi = gi.mul(weight);
      gi = sumToShape(gi, input.shape);
    }
    if (target.requiresGrad) {
      // d/dy = log(1 - x) - log(x) = -logit(x)
      gt = ge.mul(sub(1, input).log().sub(input.log()));
      if (weight) gt = gt.mul(weight);
      gt = sumToShape(gt, target.shape);
    }
    return [gi, gt];
  });
}

export interface BCEWithLogitsOptions extends BCEOptions {
  /** Weight of the positive class per output (broadcast over the last dims), e.g. negatives / positives. */
  posWeight?: Tensor | null;
}

/**
 * Sigmoid + binary cross-entropy in one stable expression (log-sum-exp form):
 * (1 - y) x + l (log(e^-m + e^(-x-m)) + m) with m = max(-x, 0) and l = 1 + (posWeight - 1) y.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BCEWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  checkFloatInput(input, op);
  checkFloatInput(target, op, 'target');
  checkSameShape(op, input, target);
  const reduction = checkReduction(op, options.reduction);
  const weight = checkOptionalTensor(options.weight, op, 'weight');
  const posWeight = checkOptionalTensor(options.posWeight, op, 'posWeight');
  const loss = noGrad(() => {
    const maxVal = input.neg().clamp(0, null);
    const lse = maxVal.neg().exp().add(input.neg().sub(maxVal).exp()).log();
    let l: Tensor;
    if (posWeight) {
      const logWeight = posWeight.sub(1).mul(target).add(1);
      l = sub(1, target).mul(input).add(logWeight.mul(lse.add(maxVal)));
    } else {
      l = sub(1, target).mul(input).add(maxVal).add(lse);
    }
    return weight ? l.mul(weight) : l;
  });
  return withBackward(op, [input, target], loss, reduction, (ge) => {
    let gi: Tensor | null = null, gt: Tensor | null = null;
    if (input.requiresGrad) {
      if (posWeight) {
        const t = posWeight.mul(target);
        gi = t.add(1).sub(target).mul(input.sigmoid()).sub(t).mul(ge);
      } else gi = input.sigmoid().sub(target).mul(ge);
      if (weight) gi = gi.mul(weight);
      gi = sumToShape(gi, input.shape);
    }
    if (target.requiresGrad) {
      // d/dy = logsigmoid(-x) - posWeight * logsigmoid(x), or -x without posWeight.
      gt = posWeight ? softplus(input).neg().add(softplus(input.neg()).mul(posWeight)) : input.neg();
      gt = gt.mul(ge);
      if (weight) gt = gt.mul(weight);
      gt = sumToShape(gt, target.shape);
    }
    return [gi, gt];
  });
}

export interface NLLOptions extends LossOptions {
  /** A weight per class, shape [C]. */
  weight?: Tensor | null;
  /** Targets equal to this contribute nothing (and no weight to the mean). Default -100. */
  ignoreIndex?: number;
}

function checkClassTarget(op: string, input: Tensor, target: Tensor): void {
  if (target.dtype !== 'int32' && target.dtype !== 'int64') fail('ERR_DTYPE', op, 'an int32 or int64 target of class indices', target.dtype);
  if (input.ndim === 0) fail('ERR_SHAPE', op, 'an input of shape [C] or [N, C, ...]', fmtShape(input.shape));
  const want = input.ndim === 1 ? [] : [input.shape[0], ...input.shape.slice(2)];
  if (!sameShape(target.shape, want)) fail('ERR_SHAPE', op, `a target of shape ${fmtShape(want)} for input ${fmtShape(input.shape)}`, fmtShape(target.shape));
}

function checkWeight(op: string, weight: Tensor | null, input: Tensor, classes: number): Tensor | null {
  if (weight === null) return null;
  if (weight.ndim !== 1 || weight.shape[0] !== classes) fail('ERR_SHAPE', op, `a weight of shape [${classes}]`, fmtShape(weight.shape));
  return weight;
}

/**
 * Negative log-likelihood of class indices under log-probabilities `input` ([C] or [N, C, ...]),
 * with class weights and an ignored target value. Mean divides by the summed weights of the
 * counted targets (NaN when every target is ignored, as PyTorch).
 */
export function nllLoss(input: Tensor, target: Tensor, options: NLLOptions = {}): Tensor {
  const op = 'nllLoss';
  checkFloatInput(input, op);
  checkTensor(target, op, 'target');
  checkClassTarget(op, input, target);
  const reduction = checkReduction(op, options.reduction);
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) fail('ERR_ARGUMENT', op, 'an integer ignoreIndex', describe(ignoreIndex));
  let weight = checkWeight(op, checkOptionalTensor(options.weight, op, 'weight'), input, input.ndim === 1 ? input.shape[0] : input.shape[1]);
  const temps: Tensor[] = [];
  const x = input.isContiguous() ? input : contiguousCopy(input);
  if (x !== input) temps.push(x);
  // The backward reuses target, weight and the total weight, so their contiguous forms live on.
  const t = target.isContiguous() ? target : contiguousCopy(target);
  if (weight && (weight.dtype !== input.dtype || !weight.isContiguous())) weight = contiguousCopy(weight, input.dtype);
  const code = REDUCTION_CODES[reduction];
  const out = Tensor.empty(reduction === 'none' ? target.shape.slice() : [], input.dtype, input.device);
  const totalWeight = Tensor.empty([], input.dtype, input.device);
  try {
    beginLayouts();
    out.putLayout();
    totalWeight.putLayout();
    x.putLayout();
    t.putLayout();
    weight?.putLayout();
    native.nllLoss(code, ignoreIndex, out.storage.buffer, totalWeight.storage.buffer, x.storage.buffer, t.storage.buffer, weight?.storage.buffer);
  } catch (e) {
    out.dispose();
    totalWeight.dispose();
    throw e;
  } finally {
    for (const tmp of temps) tmp.dispose();
  }
  const w = weight;
  return record(out, op, [input], (g) => {
    const gi = Tensor.empty(input.shape.slice(), input.dtype, input.device);
    beginLayouts();
    gi.putLayout();
    g.putLayout();
    t.putLayout();
    totalWeight.putLayout();
    w?.putLayout();
    native.nllLossBackward(code, ignoreIndex, gi.storage.buffer, g.storage.buffer, t.storage.buffer, totalWeight.storage.buffer, w?.storage.buffer);
    return [gi];
  });
}

export interface CrossEntropyOptions extends NLLOptions {
  /** Mixes the target with the uniform distribution: (1 - s) target + s / C. */
  labelSmoothing?: number;
}

/**
 * Cross-entropy of logits `input` ([C] or [N, C, ...]) against class indices (int target of
 * shape [] or [N, ...]) or class probabilities (float target of the input's shape):
 * logSoftmax over dim 1 (the log-sum-exp form), then the negative log-likelihood.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkFloatInput(input, op);
  checkTensor(target, op, 'target');
  if (input.ndim === 0) fail('ERR_SHAPE', op, 'an input of shape [C] or [N, C, ...]', fmtShape(input.shape));
  const reduction = checkReduction(op, options.reduction);
  const ignoreIndex = options.ignoreIndex ?? -100;
  const smoothing = options.labelSmoothing ?? 0;
  if (typeof smoothing !== 'number' || !(smoothing >= 0 && smoothing <= 1)) fail('ERR_ARGUMENT', op, 'labelSmoothing in [0, 1]', describe(smoothing));
  const classDim = input.ndim === 1 ? 0 : 1;
  const classes = input.shape[classDim];
  const weight = checkWeight(op, checkOptionalTensor(options.weight, op, 'weight'), input, classes);
  const weightView = weight ? weight.reshape(input.shape.map((s, d) => (d === classDim ? classes : 1))) : null;

  if (isFloat(target.dtype)) {
    if (!sameShape(target.shape, input.shape))
      fail('ERR_SHAPE', op, `class probabilities of the input's shape ${fmtShape(input.shape)} (or int class indices)`, fmtShape(target.shape));
    if (options.ignoreIndex !== undefined && ignoreIndex >= 0)
      fail('ERR_ARGUMENT', op, 'no ignoreIndex with class-probability targets', String(ignoreIndex));
    const logp = logSoftmax(input, classDim);
    const t = smoothing > 0 ? target.mul(1 - smoothing).add(smoothing / classes) : target;
    let prod = logp.mul(t);
    if (weightView) prod = prod.mul(weightView);
    if (reduction === 'none') return prod.sum(classDim).neg();
    if (reduction === 'sum') return prod.sum().neg();
    return prod.sum().neg().div(input.numel() / classes);
  }

  checkClassTarget(op, input, target);
  const logp = logSoftmax(input, classDim);
  const nll = nllLoss(logp, target, { weight, ignoreIndex, reduction });
  if (smoothing === 0) return nll;
  // PyTorch's label smoothing for class indices: the smooth term is -sum_c w_c log p_c per
  // sample, masked where the target is ignored, and normalised like the NLL term.
  const ignored = target.eq(ignoreIndex);
  let smooth = (weightView ? logp.mul(weightView) : logp).sum(classDim).neg();
  smooth = where(ignored, 0, smooth);
  let ret: Tensor;
  if (reduction === 'none') ret = smooth;
  else if (reduction === 'sum') ret = smooth.sum();
  else if (weight) {
    const safeTarget = where(ignored, 0, target).reshape([-1]);
    const targetWeights = where(ignored.reshape([-1]), 0, indexSelect(weight, 0, safeTarget));
    ret = smooth.sum().div(targetWeights.sum());
  } else ret = smooth.sum().div(ignored.logicalNot().sum());
  return nll.mul(1 - smoothing).add(ret.mul(smoothing / classes));
}

/**
 * Kullback-Leibler divergence KL(target || input) with `input` log-probabilities and `target`
 * probabilities (or log-probabilities with logTarget): target (log target - input), summed as
 * the reduction says; 'batchmean' divides the sum by the batch size (the true KL per sample).
 */
export function klDiv(input: Tensor, target: Tensor, options: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}): Tensor {
  const op = 'klDiv';
  checkFloatInput(input, op);
  checkFloatInput(target, op, 'target');
  const reduction = checkReduction(op, options.reduction, ['batchmean']) as Reduction | 'batchmean';
  let out: Tensor;
  if (options.logTarget) out = target.exp().mul(target.sub(input));
  else {
    // xlogy(t, t): 0 where t == 0. The log of a stand-in 1 keeps the target's gradient finite
    // there (-input), where PyTorch's xlogy derivative adds 0/0 and gives NaN.
    const safe = where(target.eq(0), 1, target);
    out = target.mul(safe.log()).sub(target.mul(input));
  }
  if (reduction === 'batchmean') {
    const s = out.sum();
    return input.ndim === 0 ? s : s.div(input.shape[0]);
  }
  return applyReduction(out, reduction);
}

// Metrics: streaming accumulators (update per batch, result at the end of a pass) for dt.fit
// and dt.evaluate, and one-shot functions of (pred, target). Every count is taken by tensor ops
// (argmax, eq, sum, scatterAdd); only the totals come back to JS.
import { describe, fail, fmtShape } from '../errors';
import { Tensor, tidy } from '../tensor';
import { noGrad } from '../autograd/node';
import { zeros, ones } from '../ops/creation';
import { gather, scatterAdd } from '../ops/indexing';

export interface Metric {
  /** The key in logs and History ('accuracy', 'top5', 'mae', ...). */
  readonly name: string;
  /** false for metrics whose result is not one number (confusion matrix): kept out of logs. */
  readonly scalar?: boolean;
  update(pred: Tensor, target: Tensor): void;
  result(): any;
  reset(): void;
}

/** Runs fn without autograd and frees every tensor it makes. */
function counted<T>(fn: () => T): T {
  return noGrad(() => tidy(fn));
}

/** target seen with pred's shape when they hold the same number of elements ([N] vs [N, 1]). */
function aligned(pred: Tensor, target: Tensor, op: string): Tensor {
  if (pred.shape.length === target.shape.length && pred.shape.every((s, i) => s === target.shape[i])) return target;
  if (pred.numel() === target.numel()) return target.reshape(pred.shape);
  return fail('ERR_SHAPE', op, `a target with the prediction's ${pred.numel()} elements ${fmtShape(pred.shape)}`, fmtShape(target.shape));
}

function checkPair(pred: unknown, target: unknown, op: string): [Tensor, Tensor] {
  if (!(pred instanceof Tensor)) fail('ERR_ARGUMENT', op, 'a prediction Tensor', describe(pred));
  if (!(target instanceof Tensor)) fail('ERR_ARGUMENT', op, 'a target Tensor', describe(target));
  pred.assertLive(op);
  target.assertLive(op);
  if (pred.ndim === 0 || target.ndim === 0) fail('ERR_SHAPE', op, 'a batch dimension', `${fmtShape(pred.shape)} and ${fmtShape(target.shape)}`);
  return [pred, target];
}

/** Class indices of a target: int labels [N] as they are, one-hot / probabilities [N, C] by argmax. */
function targetClasses(pred: Tensor, target: Tensor, op: string): Tensor {
  if (target.ndim === pred.ndim && target.shape[target.ndim - 1] === pred.shape[pred.ndim - 1]) return target.argmax(-1);
  if (target.ndim === pred.ndim - 1) return target.dtype === 'int64' || target.dtype === 'int32' ? target : target.to('int64');
  return fail('ERR_SHAPE', op, `class indices ${fmtShape(pred.shape.slice(0, -1))} or one-hot ${fmtShape(pred.shape)}`, fmtShape(target.shape));
}

function isBinary(pred: Tensor): boolean {
  return pred.ndim === 1 || pred.shape[pred.ndim - 1] === 1;
}

/** Correct predictions in a batch: argmax for class scores [N, C], a threshold for one output. */
function correctCount(pred: Tensor, target: Tensor, threshold: number, op: string): number {
  return counted(() => {
    if (isBinary(pred)) return Number(pred.gt(threshold).eq(aligned(pred, target, op).gt(0.5)).sum().item());
    return Number(pred.argmax(-1).eq(targetClasses(pred, target, op)).sum().item());
  });
}

function rowsOf(pred: Tensor): number {
  return pred.numel() / (isBinary(pred) ? 1 : pred.shape[pred.ndim - 1]);
}

/** Fraction of correct predictions: class scores [N, C] (argmax) against labels [N] or one-hot [N, C]; a single output [N] / [N, 1] is thresholded. */
export class Accuracy implements Metric {
  readonly name: string;
  private correct = 0;
  private total = 0;
  constructor(options: { name?: string; threshold?: number } = {}) {
    this.name = options.name ?? 'accuracy';
    this.threshold = options.threshold ?? 0.5;
  }
  private readonly threshold: number;
  update(pred: Tensor, target: Tensor): void {
    checkPair(pred, target, this.name);
    this.correct += correctCount(pred, target, this.threshold, this.name);
    this.total += rowsOf(pred);
  }
  result(): number {
    return this.total === 0 ? NaN : this.correct / this.total;
  }
  reset(): void {
    this.correct = this.total = 0;
  }
}

/** Accuracy of one output per sample (probability, or logit with threshold 0): pred > threshold vs target > 0.5. */
export class BinaryAccuracy extends Accuracy {
  constructor(options: { name?: string; threshold?: number } = {}) {
    super({ name: options.name ?? 'binaryAccuracy', threshold: options.threshold ?? 0.5 });
  }
  override update(pred: Tensor, target: Tensor): void {
    checkPair(pred, target, this.name);
    const flat = pred.ndim === 1 ? pred : pred.reshape([-1]);
    super.update(flat, target.reshape([-1]));
    if (flat !== pred) flat.dispose();
  }
}

/** The target class is among the k highest scores (ties count against it). */
export class TopKAccuracy implements Metric {
  readonly name: string;
  private correct = 0;
  private total = 0;
  constructor(readonly k = 5, options: { name?: string } = {}) {
    if (!Number.isInteger(k) || k < 1) fail('ERR_ARGUMENT', 'TopKAccuracy', 'a positive integer k', describe(k));
    this.name = options.name ?? `top${k}`;
  }
  update(pred: Tensor, target: Tensor): void {
    checkPair(pred, target, this.name);
    if (pred.ndim !== 2) fail('ERR_SHAPE', this.name, 'scores [N, C]', fmtShape(pred.shape));
    this.correct += counted(() => {
      const cls = targetClasses(pred, target, this.name).reshape([-1, 1]);
      const own = gather(pred, 1, cls.to('int64'));
      // Rank of the target's score: how many classes score strictly higher.
      const above = pred.gt(own).sum(1);
      return Number(above.lt(this.k).sum().item());
    });
    this.total += pred.shape[0];
  }
  result(): number {
    return this.total === 0 ? NaN : this.correct / this.total;
  }
  reset(): void {
    this.correct = this.total = 0;
  }
}

class MeanError implements Metric {
  private sum = 0;
  private count = 0;
  constructor(readonly name: string, private readonly squared: boolean) {}
  update(pred: Tensor, target: Tensor): void {
    checkPair(pred, target, this.name);
    this.sum += counted(() => {
      const d = pred.sub(aligned(pred, target, this.name));
      return Number((this.squared ? d.square() : d.abs()).sum().item());
    });
    this.count += pred.numel();
  }
  result(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }
  reset(): void {
    this.sum = this.count = 0;
  }
}

/** Mean absolute error over every element. */
export class MeanAbsoluteError extends MeanError {
  constructor(options: { name?: string } = {}) {
    super(options.name ?? 'mae', false);
  }
}
/** Mean squared error over every element. */
export class MeanSquaredError extends MeanError {
  constructor(options: { name?: string } = {}) {
    super(options.name ?? 'mse', true);
  }
}

/**
 * Counts of (true class, predicted class): result()[t][p], rows the true classes (as
 * sklearn.metrics.confusion_matrix). Binary outputs use classes 0/1 by the threshold.
 */
export class ConfusionMatrix implements Metric {
  readonly name: string;
  readonly scalar = false;
  private counts: Float64Array;
  constructor(readonly numClasses: number, options: { name?: string; threshold?: number } = {}) {
    if (!Number.isInteger(numClasses) || numClasses < 1) fail('ERR_ARGUMENT', 'ConfusionMatrix', 'a positive integer numClasses', describe(numClasses));
    this.name = options.name ?? 'confusionMatrix';
    this.threshold = options.threshold ?? 0.5;
    this.counts = new Float64Array(numClasses * numClasses);
  }
  private readonly threshold: number;
  update(pred: Tensor, target: Tensor): void {
    checkPair(pred, target, this.name);
    const C = this.numClasses;
    const batch = counted(() => {
      let p: Tensor, t: Tensor;
      if (isBinary(pred)) {
        p = pred.reshape([-1]).gt(this.threshold).to('int64');
        t = target.reshape([-1]).gt(0.5).to('int64');
      } else {
        p = pred.argmax(-1).reshape([-1]);
        t = targetClasses(pred, target, this.name).reshape([-1]).to('int64');
      }
      const lo = Math.min(Number(t.min().item()), Number(p.min().item()));
      const hi = Math.max(Number(t.max().item()), Number(p.max().item()));
      if (lo < 0 || hi >= C) fail('ERR_INDEX', this.name, `classes in [0, ${C - 1}]`, `a class ${lo < 0 ? lo : hi}`);
      const cell = t.mul(C).add(p);
      return Float64Array.from(scatterAdd(zeros([C * C], { dtype: 'float64' }), 0, cell, ones([cell.numel()], { dtype: 'float64' })).dataSync() as Float64Array);
    });
    for (let i = 0; i < batch.length; i++) this.counts[i] += batch[i];
  }
  result(): number[][] {
    const C = this.numClasses;
    return Array.from({ length: C }, (_, r) => Array.from(this.counts.subarray(r * C, (r + 1) * C)));
  }
  reset(): void {
    this.counts.fill(0);
  }
}

/** A metric from a function (pred, target) => number | Tensor, averaged over samples. */
export class FunctionMetric implements Metric {
  private sum = 0;
  private count = 0;
  constructor(readonly name: string, private readonly fn: (pred: Tensor, target: Tensor) => number | Tensor) {}
  update(pred: Tensor, target: Tensor): void {
    const v = counted(() => {
      const r = this.fn(pred, target);
      return r instanceof Tensor ? Number(r.item()) : Number(r);
    });
    const n = pred.ndim > 0 ? pred.shape[0] : 1;
    this.sum += v * n;
    this.count += n;
  }
  result(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }
  reset(): void {
    this.sum = this.count = 0;
  }
}

export type MetricSpec = string | Metric | ((pred: Tensor, target: Tensor) => number | Tensor);

/**
 * A fresh metric from a spec: 'accuracy' ('acc'), 'binaryAccuracy', 'top5' (any k), 'mae',
 * 'mse', a Metric (used as is) or a function (averaged).
 */
export function resolveMetric(spec: MetricSpec): Metric {
  if (typeof spec === 'string') {
    const s = spec.replace(/[_-]/g, '').toLowerCase();
    if (s === 'accuracy' || s === 'acc') return new Accuracy({ name: spec === 'acc' ? 'acc' : 'accuracy' });
    if (s === 'binaryaccuracy') return new BinaryAccuracy();
    const top = /^top(\d+)(accuracy)?$/.exec(s);
    if (top) return new TopKAccuracy(Number(top[1]), { name: spec });
    if (s === 'mae' || s === 'meanabsoluteerror') return new MeanAbsoluteError({ name: spec });
    if (s === 'mse' || s === 'meansquarederror') return new MeanSquaredError({ name: spec });
    return fail('ERR_ARGUMENT', 'metrics', "'accuracy', 'binaryAccuracy', 'top<k>', 'mae', 'mse', a Metric or a function", JSON.stringify(spec));
  }
  if (typeof spec === 'function') return new FunctionMetric(spec.name || 'metric', spec);
  if (spec !== null && typeof spec === 'object' && typeof spec.update === 'function' && typeof spec.result === 'function') return spec;
  return fail('ERR_ARGUMENT', 'metrics', 'a metric name, Metric or function', describe(spec));
}

// ---- one-shot functions (pred, target) ---------------------------------------------------

const once = (m: Metric, pred: Tensor, target: Tensor) => {
  m.update(pred, target);
  return m.result();
};
/** Fraction of rows whose argmax (or thresholded single output) matches the target. */
export const accuracy = (pred: Tensor, target: Tensor, options: { threshold?: number } = {}): number => once(new Accuracy(options), pred, target);
export const binaryAccuracy = (pred: Tensor, target: Tensor, options: { threshold?: number } = {}): number => once(new BinaryAccuracy(options), pred, target);
export const topKAccuracy = (pred: Tensor, target: Tensor, k = 5): number => once(new TopKAccuracy(k), pred, target);
export const meanAbsoluteError = (pred: Tensor, target: Tensor): number => once(new MeanAbsoluteError(), pred, target);
export const meanSquaredError = (pred: Tensor, target: Tensor): number => once(new MeanSquaredError(), pred, target);
export const confusionMatrix = (pred: Tensor, target: Tensor, numClasses: number): number[][] => once(new ConfusionMatrix(numClasses), pred, target);

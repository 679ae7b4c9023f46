import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

const M = dt.metrics;

describe('metrics', () => {
  const logits = dt.tensor([
    [2.0, 1.0, 0.1],
    [0.5, 2.5, 0.2],
    [0.3, 0.2, 0.9],
    [1.0, 3.0, 2.0],
  ]);
  const labels = dt.tensor([0, 1, 1, 2], { dtype: 'int64' });

  it('accuracy: argmax against labels or one-hot targets, streamed over batches', () => {
    expect(M.accuracy(logits, labels)).toBe(0.5);
    const oneHot = dt.tensor([[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]]);
    expect(M.accuracy(logits, oneHot)).toBe(0.5);
    const acc = new M.Accuracy();
    acc.update(logits.narrow(0, 0, 2), labels.narrow(0, 0, 2));
    acc.update(logits.narrow(0, 2, 2), labels.narrow(0, 2, 2));
    expect(acc.result()).toBe(0.5);
    acc.reset();
    expect(Number.isNaN(acc.result())).toBe(true);
  });

  it('top-k accuracy counts the target among the k best scores', () => {
    // Ranks of the targets: 0, 0, 2 (0.2 < 0.3 < 0.9), 1.
    expect(M.topKAccuracy(logits, labels, 1)).toBe(0.5);
    expect(M.topKAccuracy(logits, labels, 2)).toBe(0.75);
    expect(M.topKAccuracy(logits, labels, 3)).toBe(1);
    expect(dt.metrics.resolveMetric('top2').name).toBe('top2');
  });

  it('binary accuracy thresholds one output per sample', () => {
    const p = dt.tensor([[0.9], [0.2], [0.6], [0.4]]);
    const y = dt.tensor([1, 0, 0, 0]);
    expect(M.binaryAccuracy(p, y)).toBe(0.75);
    expect(M.binaryAccuracy(dt.tensor([1.5, -0.2]), dt.tensor([1, 1]), { threshold: 0 })).toBe(0.5);
    expect(M.accuracy(p, y)).toBe(0.75);
  });

  it('MAE and MSE average over every element ([N] targets against [N, 1] predictions)', () => {
    const pred = dt.tensor([[1], [2], [4]]);
    const y = dt.tensor([1.5, 2, 1]);
    expect(M.meanAbsoluteError(pred, y)).toBeCloseTo(3.5 / 3, 6);
    expect(M.meanSquaredError(pred, y)).toBeCloseTo((0.25 + 9) / 3, 6);
    const mae = new M.MeanAbsoluteError();
    mae.update(dt.tensor([0, 0]), dt.tensor([1, 3]));
    mae.update(dt.tensor([1]), dt.tensor([1]));
    expect(mae.result()).toBeCloseTo(4 / 3, 6);
    expect(() => M.meanAbsoluteError(pred, dt.tensor([1, 2]))).toThrow(/mae: expected a target with the prediction's 3 elements/);
  });

  it('confusion matrix: rows are true classes, columns predictions', () => {
    expect(M.confusionMatrix(logits, labels, 3)).toEqual([
      [1, 0, 0],
      [0, 1, 1],
      [0, 1, 0],
    ]);
    const cm = new M.ConfusionMatrix(2);
    cm.update(dt.tensor([0.9, 0.1, 0.7]), dt.tensor([1, 1, 0]));
    expect(cm.result()).toEqual([[0, 1], [1, 1]]);
    expect(() => M.confusionMatrix(logits, labels, 2)).toThrow(/classes in \[0, 1\]/);
  });

  it('resolves names, functions and objects; rejects the rest', () => {
    expect(M.resolveMetric('acc').name).toBe('acc');
    expect(M.resolveMetric('mae')).toBeInstanceOf(M.MeanAbsoluteError);
    const fnMetric = M.resolveMetric(function maxPred(p: dt.Tensor) {
      return p.max();
    });
    fnMetric.update(dt.tensor([[1], [5]]), dt.tensor([0, 0]));
    fnMetric.update(dt.tensor([[3], [3]]), dt.tensor([0, 0]));
    expect(fnMetric.name).toBe('maxPred');
    expect(fnMetric.result()).toBe(4);
    expect(() => M.resolveMetric('f7')).toThrow(/metrics: expected 'accuracy'/);
  });

  it('leaves no tensors behind', () => {
    const before = dt.memory().numTensors;
    M.accuracy(logits, labels);
    M.topKAccuracy(logits, labels, 2);
    M.confusionMatrix(logits, labels, 3);
    M.meanAbsoluteError(logits, logits);
    expect(dt.memory().numTensors).toBe(before);
  });
});

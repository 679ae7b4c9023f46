import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { expectClose, fixture, maxAbsDiff, T, weightedLoss } from './helpers';

const { nn, F } = dt;

describe('Embedding against PyTorch', () => {
  it('looks rows up, sums repeated indices in backward and leaves the padding row without gradient', () => {
    const c = fixture.embedding.find((e: any) => e.name === 'padding');
    const emb = new nn.Embedding(c.numEmbeddings, c.embeddingDim, { paddingIdx: c.paddingIdx });
    emb.loadStateDict({ weight: T(c.weight) });
    const out = emb.forward(T(c.indices));
    expectClose(out, c.out, 'output', 1e-7, 0);
    weightedLoss([out], c.lossWeights).backward();
    expectClose(emb.weight.grad, c.dweight, 'weight gradient', 1e-6, 1e-6);
  });

  it('maxNorm renormalises the looked-up rows in place, as PyTorch', () => {
    const c = fixture.embedding.find((e: any) => e.name === 'maxNorm');
    const emb = new nn.Embedding(c.numEmbeddings, c.embeddingDim, { maxNorm: c.maxNorm });
    emb.loadStateDict({ weight: T(c.weight) });
    const out = emb.forward(T(c.indices));
    expectClose(out, c.out, 'output', 1e-6, 1e-6);
    expectClose(emb.weight, c.weightAfter, 'weight after', 1e-6, 1e-6);
  });
});

describe('Embedding behaviour', () => {
  it('initialises from N(0, 1) with the padding row zero; int32 and int64 indices of any shape', () => {
    dt.manualSeed(1);
    const emb = new nn.Embedding(1000, 8, { paddingIdx: -1 });
    expect(emb.paddingIdx).toBe(999);
    expect(emb.weight.select(0, 999).abs().sum().item()).toBe(0);
    const std = emb.weight.std().item() as number;
    expect(std).toBeGreaterThan(0.95);
    expect(std).toBeLessThan(1.05);
    const i64 = dt.tensor([[[3, 4]], [[5, 999]]], { dtype: 'int64' });
    const i32 = i64.to('int32');
    const a = emb.forward(i64), b = emb.forward(i32);
    expect(a.shape).toEqual([2, 1, 2, 8]);
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(F.embedding(dt.tensor(7, { dtype: 'int64' }), emb.weight), emb.weight.select(0, 7))).toBe(0);
  });

  it('a conditional-GAN label embedding: the gradient reaches only the rows used', () => {
    const emb = new nn.Embedding(10, 4);
    const labels = dt.tensor([1, 1, 3], { dtype: 'int64' });
    emb.forward(labels).sum().backward();
    const g = emb.weight.grad!.sum(1).toArray() as number[];
    expect(g).toEqual([0, 8, 0, 4, 0, 0, 0, 0, 0, 0]);
  });

  it('fromPretrained copies and freezes by default', () => {
    const w = dt.randn([5, 3]);
    const frozen = nn.Embedding.fromPretrained(w);
    expect(frozen.weight.requiresGrad).toBe(false);
    expect(maxAbsDiff(frozen.weight, w)).toBe(0);
    expect(nn.Embedding.fromPretrained(w, { freeze: false }).weight.requiresGrad).toBe(true);
  });

  it('rejects bad indices and arguments', () => {
    const emb = new nn.Embedding(4, 2);
    expect(() => emb.forward(dt.tensor([0, 4], { dtype: 'int64' }))).toThrow(dt.DendriteError);
    expect(() => emb.forward(dt.tensor([-1], { dtype: 'int64' }))).toThrow(dt.DendriteError);
    expect(() => emb.forward(dt.tensor([0.5]))).toThrow(/embedding: expected int32 or int64 indices, got float32/);
    expect(() => new nn.Embedding(4, 2, { paddingIdx: 4 })).toThrow(/paddingIdx in \[-4, 3\]/);
    expect(() => F.embedding(dt.tensor([0], { dtype: 'int64' }), dt.randn([4]))).toThrow(/weight of shape \[numEmbeddings, embeddingDim\]/);
  });
});

import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { expectClose, fixture, maxAbsDiff, T, weightedLoss } from './helpers';

const { nn, F } = dt;

describe('scaledDotProductAttention against PyTorch', () => {
  for (const c of fixture.sdpa)
    it(c.name, () => {
      const q = T(c.q, { requiresGrad: true }), k = T(c.k, { requiresGrad: true }), v = T(c.v, { requiresGrad: true });
      const out = F.scaledDotProductAttention(q, k, v, {
        attnMask: c.attnMask ? T(c.attnMask) : undefined, isCausal: c.isCausal, scale: c.scale,
      });
      expectClose(out, c.out, 'output');
      weightedLoss([out], c.lossWeights).backward();
      expectClose(q.grad, c.dq, 'query gradient');
      expectClose(k.grad, c.dk, 'key gradient');
      expectClose(v.grad, c.dv, 'value gradient');
    });
});

describe('MultiheadAttention against PyTorch (weights loaded by state-dict name)', () => {
  for (const c of fixture.mha)
    it(c.name, () => {
      const mha = new nn.MultiheadAttention(c.embedDim, c.numHeads, { bias: c.bias, kdim: c.kdim ?? undefined, vdim: c.vdim ?? undefined, batchFirst: c.batchFirst });
      const sd: Record<string, dt.Tensor> = {};
      for (const [k, v] of Object.entries(c.params)) sd[k] = T(v as any);
      expect(Object.keys(mha.stateDict())).toEqual(Object.keys(c.params));
      mha.loadStateDict(sd);
      mha.eval();
      const query = T(c.query, { requiresGrad: true });
      const key = c.selfAttention ? query : T(c.key, { requiresGrad: true });
      const value = c.selfAttention ? query : T(c.value, { requiresGrad: true });
      const [out, weights] = mha.forward(query, key, value, {
        keyPaddingMask: c.keyPaddingMask ? T(c.keyPaddingMask) : null,
        attnMask: c.attnMask ? T(c.attnMask) : null,
        averageAttnWeights: c.averageAttnWeights,
      });
      expectClose(out, c.out, 'output');
      expectClose(weights, c.weights, 'weights');
      weightedLoss([out, weights!], c.lossWeights).backward();
      expectClose(query.grad, c.dquery, 'query gradient');
      if (!c.selfAttention) {
        expectClose(key.grad, c.dkey, 'key gradient');
        expectClose(value.grad, c.dvalue, 'value gradient');
      }
      for (const [n, p] of mha.namedParameters()) expectClose(p.grad, c.grads[n], `${n} gradient`);
    });
});

describe('AdditiveAttention', () => {
  it('matches the Bahdanau formula computed by PyTorch, masks included', () => {
    const c = fixture.additive;
    const att = new nn.AdditiveAttention(c.querySize, c.keySize, c.hiddenSize);
    const sd: Record<string, dt.Tensor> = {};
    for (const [k, v] of Object.entries(c.params)) sd[k] = T(v as any);
    att.loadStateDict(sd);
    const q = T(c.query, { requiresGrad: true }), k = T(c.keys, { requiresGrad: true }), v = T(c.values, { requiresGrad: true });
    const [ctx, w] = att.forward(q, k, v, { lengths: c.lengths });
    expectClose(ctx, c.context, 'context');
    expectClose(w, c.weights, 'weights');
    weightedLoss([ctx, w], c.lossWeights).backward();
    expectClose(q.grad, c.dquery, 'query gradient');
    expectClose(k.grad, c.dkeys, 'keys gradient');
    expectClose(v.grad, c.dvalues, 'values gradient');
    for (const [n, p] of att.namedParameters()) expectClose(p.grad, c.grads[n], `${n} gradient`);
  });

  it('a single decoder query (N, querySize) gives (N, Dv) and weights over the keys', () => {
    const att = new nn.AdditiveAttention(4, 6, 8);
    const [ctx, w] = att.forward(dt.randn([3, 4]), dt.randn([3, 5, 6]), dt.randn([3, 5, 2]));
    expect(ctx.shape).toEqual([3, 2]);
    expect(w.shape).toEqual([3, 5]);
    for (const s of w.sum(-1).dataSync()) expect(s).toBeCloseTo(1, 5);
  });
});

describe('attention behaviour', () => {
  it('gradcheck of scaledDotProductAttention with a float mask (float64)', () => {
    dt.manualSeed(4);
    const q = dt.randn([2, 3, 4], { dtype: 'float64', requiresGrad: true });
    const k = dt.randn([2, 5, 4], { dtype: 'float64', requiresGrad: true });
    const v = dt.randn([2, 5, 3], { dtype: 'float64', requiresGrad: true });
    const mask = dt.randn([3, 5], { dtype: 'float64' });
    expect(dt.autograd.gradcheck((a, b, c) => F.scaledDotProductAttention(a, b, c, { attnMask: mask }), [q, k, v])).toBe(true);
  });

  it('isCausal equals an explicit lower-triangular bool mask; keys past the query get zero weight', () => {
    const q = dt.randn([4, 6]), k = dt.randn([4, 6]), v = dt.randn([4, 6]);
    const tril = dt.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]).bool();
    const a = F.scaledDotProductAttention(q, k, v, { isCausal: true });
    const b = F.scaledDotProductAttention(q, k, v, { attnMask: tril });
    expect(maxAbsDiff(a, b)).toBe(0);
    // The first query sees only the first key.
    expect(maxAbsDiff(a.select(0, 0), v.select(0, 0))).toBeLessThan(1e-6);
  });

  it('dropoutP zeroes weights (scaled) and is exact at 0', () => {
    dt.manualSeed(1);
    const q = dt.randn([2, 8, 4]), k = dt.randn([2, 8, 4]), v = dt.ones([2, 8, 1]);
    const plain = F.scaledDotProductAttention(q, k, v);
    for (const s of plain.dataSync()) expect(s).toBeCloseTo(1, 5);
    const dropped = F.scaledDotProductAttention(q, k, v, { dropoutP: 0.5 });
    expect(maxAbsDiff(dropped, plain)).toBeGreaterThan(1e-3);
  });

  it('MultiheadAttention: needWeights false, unbatched input, isCausal, and PyTorch-like init', () => {
    dt.manualSeed(8);
    const mha = new nn.MultiheadAttention(8, 2);
    expect(mha.in_proj_bias!.abs().sum().item()).toBe(0);
    expect(mha.out_proj.bias!.abs().sum().item()).toBe(0);
    const x = dt.randn([5, 8]);
    const [out, w] = mha.forward(x, x, x);
    expect(out.shape).toEqual([5, 8]);
    expect(w!.shape).toEqual([5, 5]);
    const [outB, none] = mha.forward(x.unsqueeze(1), x.unsqueeze(1), x.unsqueeze(1), { needWeights: false });
    expect(none).toBeNull();
    expect(maxAbsDiff(out, outB.squeeze(1))).toBeLessThan(1e-6);
    const [, wc] = mha.forward(x, x, x, { isCausal: true });
    expect((wc!.select(0, 0).narrow(0, 1, 4).abs().sum().item() as number)).toBe(0);
  });

  it('rejects mismatched shapes and options', () => {
    expect(() => F.scaledDotProductAttention(dt.randn([2, 3]), dt.randn([4, 5]), dt.randn([4, 2]))).toThrow(/key with the query's feature size 3/);
    expect(() => F.scaledDotProductAttention(dt.randn([2, 3]), dt.randn([4, 3]), dt.randn([5, 2]))).toThrow(/value with the key's length 4/);
    expect(() => F.scaledDotProductAttention(dt.randn([2, 3]), dt.randn([2, 3]), dt.randn([2, 2]), { isCausal: true, attnMask: dt.ones([2, 2]).bool() })).toThrow(/either attnMask or isCausal/);
    expect(() => new nn.MultiheadAttention(10, 3)).toThrow(/numHeads dividing embedDim 10/);
    const mha = new nn.MultiheadAttention(4, 2);
    expect(() => mha.forward(dt.randn([3, 2, 4]), dt.randn([5, 2, 4]), dt.randn([5, 2, 4]), { keyPaddingMask: dt.zeros([2, 3]).bool() })).toThrow(/keyPaddingMask of shape \[2, 5\]/);
    expect(() => mha.forward(dt.randn([3, 2, 6]), dt.randn([3, 2, 6]), dt.randn([3, 2, 6]))).toThrow(/embedDim 4/);
  });
});

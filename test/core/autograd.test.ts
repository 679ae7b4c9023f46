import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

const close = (a: number[] | number, b: number[] | number, tol = 1e-5) => {
  const x = ([] as number[]).concat(a as any), y = ([] as number[]).concat(b as any);
  expect(x.length).toBe(y.length);
  x.forEach((v, i) => expect(Math.abs(v - y[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(y[i]))));
};

describe('autograd', () => {
  it('computes the gradient of a small expression (hand-derived)', () => {
    // f = sum((x * w + b)^2), df/dw = sum(2 (xw + b) x), df/db = sum(2 (xw + b))
    const x = dt.tensor([1, 2, 3]);
    const w = dt.tensor(2, { requiresGrad: true });
    const b = dt.tensor(0.5, { requiresGrad: true });
    const f = x.mul(w).add(b).square().sum();
    f.backward();
    close(f.item() as number, 2.5 ** 2 + 4.5 ** 2 + 6.5 ** 2);
    close(w.grad!.item() as number, 2 * (2.5 * 1 + 4.5 * 2 + 6.5 * 3));
    close(b.grad!.item() as number, 2 * (2.5 + 4.5 + 6.5));
  });

  it('accumulates into .grad across backward calls and sums multiple uses', () => {
    const x = dt.tensor([1, 2], { requiresGrad: true });
    x.mul(x).sum().backward(); // 2x
    close(x.grad!.toArray(), [2, 4]);
    x.mul(3).sum().backward(); // + 3
    close(x.grad!.toArray(), [5, 7]);
    const y = dt.tensor([1, 2], { requiresGrad: true });
    const z = y.add(y).add(y.mul(y)); // 2 + 2y
    z.sum().backward();
    close(y.grad!.toArray(), [4, 6]);
  });

  it('shared gradients never alias between leaves', () => {
    const a = dt.tensor([1, 2], { requiresGrad: true });
    const b = dt.tensor([3, 4], { requiresGrad: true });
    a.add(b).sum().backward();
    a.grad!.mul_(10);
    close(b.grad!.toArray(), [1, 1]);
  });

  it('backward(grad) for non-scalar roots; reduces broadcast dims', () => {
    const a = dt.tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    const b = dt.tensor([10, 20, 30], { requiresGrad: true });
    const c = dt.tensor([[2], [3]], { requiresGrad: true });
    const y = a.mul(b).add(c);
    y.backward(dt.tensor([[1, 1, 1], [2, 2, 2]]));
    close(a.grad!.toArray().flat(), [10, 20, 30, 20, 40, 60]);
    close(b.grad!.toArray(), [1 + 8, 2 + 10, 3 + 12]);
    close(c.grad!.toArray().flat(), [3, 6]);
    expect(b.grad!.shape).toEqual([3]);
    expect(c.grad!.shape).toEqual([2, 1]);
  });

  it('frees the graph after backward unless retainGraph', () => {
    const x = dt.tensor([1, 2], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward();
    expect(() => y.backward()).toThrow(/retainGraph/);
    const z = x.exp().sum();
    z.backward(undefined, { retainGraph: true });
    z.backward();
    close(x.grad!.toArray(), [Math.E * 3, Math.exp(2) * 3], 1e-5);
  });

  it('detach, noGrad and requiresGrad propagation', () => {
    const x = dt.tensor([1, 2], { requiresGrad: true });
    expect(x.mul(2).requiresGrad).toBe(true);
    expect(x.detach().requiresGrad).toBe(false);
    expect(x.detach().mul(2).requiresGrad).toBe(false);
    expect(dt.noGrad(() => x.mul(2)).requiresGrad).toBe(false);
    expect(dt.isGradEnabled()).toBe(true);
    expect(dt.noGrad(() => dt.enableGrad(() => x.mul(2))).requiresGrad).toBe(true);
    const y = x.mul(2);
    expect(y.isLeaf).toBe(false);
    expect(x.isLeaf).toBe(true);
    // only the path through x gets a gradient
    const c = dt.tensor([5, 5]);
    x.mul(c).sum().backward();
    expect(c.grad).toBeNull();
    close(x.grad!.toArray(), [5, 5]);
  });

  it('in-place updates of leaves that require grad are refused outside noGrad', () => {
    const w = dt.tensor([1, 2], { requiresGrad: true });
    expect(() => w.sub_(1)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
    dt.noGrad(() => w.sub_(1));
    close(w.toArray(), [0, 1]);
  });

  it('a backward that needs a tensor the caller disposed throws instead of reading recycled memory', () => {
    const w = dt.tensor([1, 2, 3], { requiresGrad: true });
    const x = dt.tensor([4, 5, 6]);
    const y = w.mul(x).sum();
    x.dispose();
    dt.ones([3]).mul(7); // may reuse x's storage
    expect(() => y.backward()).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
  });

  it('differentiates prod through zeros as PyTorch (product of the others at a single zero)', () => {
    // Reference gradients printed by PyTorch 1.13 for the same inputs.
    const cases: [number[], number[]][] = [[[2, 3, 4], [12, 8, 6]], [[2, 0, 4], [0, 8, 0]], [[0, 0, 4], [0, 0, 0]]];
    for (const [v, want] of cases) {
      const x = dt.tensor([v], { dtype: 'float64', requiresGrad: true });
      x.prod(1).sum().backward();
      expect(x.grad!.toArray()).toEqual([want]);
    }
    const y = dt.tensor([[2, 0], [3, 5]], { requiresGrad: true });
    y.prod().backward();
    expect(y.grad!.toArray()).toEqual([[0, 30], [0, 0]]);
    const z = dt.tensor([[1.5, 0, -2], [0.5, 3, 1.25]], { dtype: 'float64', requiresGrad: true });
    expect(dt.autograd.gradcheck((t) => t.prod(1), [z])).toBe(true);
  });

  it('leaf grads survive tidy', () => {
    const w = dt.tensor([1, 2, 3], { requiresGrad: true });
    dt.tidy(() => {
      w.mul(w).sum().backward();
    });
    expect(w.grad!.isDisposed).toBe(false);
    close(w.grad!.toArray(), [2, 4, 6]);
  });

  it('gradcheck passes on composite functions and catches a wrong gradient', () => {
    dt.manualSeed(3);
    const a = dt.randn([3, 4], { dtype: 'float64' }).requiresGrad_();
    const b = dt.randn([4, 2], { dtype: 'float64' }).requiresGrad_();
    const c = dt.randn([2], { dtype: 'float64' }).requiresGrad_();
    expect(dt.autograd.gradcheck((x, y, z) => x.matmul(y).add(z).tanh().softmax(1).log().sum(0), [a, b, c])).toBe(true);
    expect(dt.autograd.gradcheck((x) => x.var(1).add(x.std(0).sum()).mul(x.max()), [a])).toBe(true);
    expect(
      dt.autograd.gradcheck((x) => dt.cat([x.narrow(0, 1, 2), x.slice(0, 0, 3, 2).reshape([-1, 4])], 0).gelu().sum(1), [a]),
    ).toBe(true);
    // A function whose recorded backward is wrong: detach hides part of the dependence.
    expect(() => dt.autograd.gradcheck((x) => x.mul(x.detach()), [a])).toThrow(/gradcheck/);
  });
});

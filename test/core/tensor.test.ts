import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

describe('tensor creation and reading', () => {
  it('builds from numbers, nested arrays and typed arrays, keeping typed array dtypes', () => {
    expect(dt.tensor(3).shape).toEqual([]);
    expect(dt.tensor(3).dtype).toBe('float32');
    expect(dt.tensor(true).dtype).toBe('bool');
    expect(dt.tensor(5n).dtype).toBe('int64');
    const t = dt.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.ndim).toBe(2);
    expect(t.numel()).toBe(6);
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(dt.tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] }).dtype).toBe('float64');
    expect(dt.tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(dt.tensor(new BigInt64Array([1n, 2n])).dtype).toBe('int64');
    expect(dt.tensor(new Uint8Array([1, 2])).dtype).toBe('uint8');
    expect(dt.tensor([true, false]).toArray()).toEqual([true, false]);
    expect(dt.tensor([1.7, -2.2], { dtype: 'int32' }).toArray()).toEqual([1, -2]);
    expect(dt.tensor([]).shape).toEqual([0]);
  });

  it('reads out zero-copy when contiguous and through a copy otherwise', () => {
    const t = dt.arange(6).float().reshape([2, 3]);
    const view = t.dataSync() as Float32Array;
    expect(Array.from(view)).toEqual([0, 1, 2, 3, 4, 5]);
    dt.noGrad(() => t.add_(1));
    expect(view[0]).toBe(1);
    expect(Array.from(t.t().dataSync())).toEqual([1, 4, 2, 5, 3, 6]);
    expect(dt.tensor(2.5).item()).toBe(2.5);
    expect(dt.tensor([7], { dtype: 'int64' }).item()).toBe(7);
  });

  it('creates zeros, ones, full, arange, linspace, eye', () => {
    expect(dt.zeros([2, 2]).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(dt.ones([3], { dtype: 'int32' }).toArray()).toEqual([1, 1, 1]);
    expect(dt.full([2], 7).toArray()).toEqual([7, 7]);
    expect(dt.arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(dt.arange(5).dtype).toBe('int64');
    expect(dt.arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(dt.arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(dt.linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(dt.linspace(-1, 1, 1).toArray()).toEqual([-1]);
    expect(dt.eye(3).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(dt.eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
  });

  it('is reproducible under manualSeed, with the documented ranges and moments', () => {
    dt.manualSeed(42);
    const a = dt.rand([1000]).dataSync().slice();
    const n1 = dt.randn([20000]);
    const r = dt.randint(-3, 4, [5000]);
    dt.manualSeed(42);
    expect(Array.from(dt.rand([1000]).dataSync())).toEqual(Array.from(a));
    expect(Array.from(dt.randn([20000]).dataSync())).toEqual(Array.from(n1.dataSync()));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
    expect(Math.abs(n1.mean().item() as number)).toBeLessThan(0.03);
    expect(Math.abs((n1.std().item() as number) - 1)).toBeLessThan(0.03);
    const ints = Array.from(r.dataSync() as BigInt64Array, Number);
    expect(Math.min(...ints)).toBe(-3);
    expect(Math.max(...ints)).toBe(3);
    const perm = Array.from(dt.randperm(50).dataSync() as BigInt64Array, Number).sort((x, y) => x - y);
    expect(perm).toEqual([...Array(50).keys()]);
    dt.manualSeed(43);
    expect(Array.from(dt.rand([1000]).dataSync())).not.toEqual(Array.from(a));
  });

  it('draws the same numbers whatever the thread count', () => {
    dt.setNumThreads(1);
    dt.manualSeed(7);
    const one = Array.from(dt.randn([200000]).dataSync());
    dt.setNumThreads(2);
    dt.manualSeed(7);
    expect(Array.from(dt.randn([200000]).dataSync())).toEqual(one);
  });

  it('views share storage without copying', () => {
    const a = dt.zeros([2, 3]);
    const v = a.view([3, 2]);
    const tt = a.t();
    expect(v.storage).toBe(a.storage);
    expect(tt.storage).toBe(a.storage);
    expect(tt.isContiguous()).toBe(false);
    expect(a.unsqueeze(0).shape).toEqual([1, 2, 3]);
    expect(a.unsqueeze(-1).shape).toEqual([2, 3, 1]);
    expect(a.expand([4, 2, 3]).strides).toEqual([0, 3, 1]);
    dt.noGrad(() => a.narrow(1, 1, 1).fill_(5));
    expect(a.toArray()).toEqual([[0, 5, 0], [0, 5, 0]]);
    expect(v.toArray()).toEqual([[0, 5], [0, 0], [5, 0]]);
  });

  it('casts dtypes and follows PyTorch type promotion', () => {
    const i = dt.tensor([1, 2, 3], { dtype: 'int32' });
    expect(i.add(1).dtype).toBe('int32');
    expect(i.add(0.5).dtype).toBe('float32');
    expect(i.div(2).toArray()).toEqual([0.5, 1, 1.5]);
    expect(i.add(dt.tensor([1.5, 1.5, 1.5], { dtype: 'float64' })).dtype).toBe('float64');
    expect(i.add(dt.tensor([1, 1, 1], { dtype: 'int64' })).dtype).toBe('int64');
    expect(i.gt(1.5).toArray()).toEqual([false, true, true]);
    expect(i.sum().dtype).toBe('int64');
    expect(dt.tensor([true, false]).add(dt.tensor([true, true])).toArray()).toEqual([true, true]);
    expect(dt.tensor([2.7, -1.2]).to('int32').toArray()).toEqual([2, -1]);
    expect(dt.tensor([0, 3]).bool().toArray()).toEqual([false, true]);
  });

  it('broadcasts into shapes with a zero-size dim', () => {
    const one = dt.tensor([1]);
    for (const shape of [[0], [0, 5], [5, 0], [0, 0, 5], [2, 0, 3]]) {
      const empty = dt.zeros(shape);
      expect(dt.add(one, empty).shape).toEqual(shape);
      expect(dt.mul(empty, 2).shape).toEqual(shape);
      expect(dt.where(dt.tensor(true), empty, one).shape).toEqual(shape);
      expect(empty.to('int32').shape).toEqual(shape);
      expect(one.expand(shape.length ? shape : [1]).contiguous().numel()).toBe(0);
    }
  });

  it('converts NaN, infinities and out-of-range floats to integers as PyTorch does on x86', () => {
    // Reference values printed by PyTorch 1.13 (x86-64) for the same inputs.
    expect(dt.tensor([NaN, Infinity, 1e10, -3.7, 300, 2.9]).to('int32').toArray()).toEqual([-2147483648, -2147483648, -2147483648, -3, 300, 2]);
    expect(dt.tensor([NaN, -3.7, 300, 2.9]).to('uint8').toArray()).toEqual([0, 253, 44, 2]);
    expect(Array.from(dt.tensor([NaN, 1e30, -5.5]).to('int64').dataSync() as BigInt64Array)).toEqual([-(2n ** 63n), -(2n ** 63n), -5n]);
    expect(dt.full([2], NaN, { dtype: 'int32' }).toArray()).toEqual([-2147483648, -2147483648]);
  });

  it('accepts two numbers in where, as torch.where', () => {
    const c = dt.tensor([true, false]);
    expect(dt.where(c, 1, 0).dtype).toBe('int64');
    expect(dt.where(c, 1, 0).toArray()).toEqual([1, 0]);
    expect(dt.where(c, 0.5, 2).toArray()).toEqual([0.5, 2]);
    expect(dt.where(c, true, false).toArray()).toEqual([true, false]);
  });

  it('exposes the SIMD path chosen at load time and the thread count', () => {
    const info = dt.cpuInfo();
    expect(info.supportedPaths).toContain('scalar');
    expect(info.supportedPaths).toContain(info.path);
    if (process.env.DENDRITE_CPU === 'scalar') expect(info.path).toBe('scalar');
    expect(dt.getNumThreads()).toBeGreaterThanOrEqual(1);
  });

  it('loads through the ESM entry with the same instance', async () => {
    const esm: any = await import('../../dist/index.mjs');
    expect(esm.tensor).toBe(dt.tensor);
    expect(esm.default.var).toBe((dt as any).var);
    expect(esm.var).toBe((dt as any).var);
  });
});

import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

function expectError(fn: () => unknown, code: string, ...fragments: string[]) {
  let err: any;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(dt.DendriteError);
  expect(err.name).toBe('DendriteError');
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
}

describe('errors', () => {
  it('rejects shapes that do not broadcast, naming op, expected and got', () => {
    const a = dt.ones([2, 3]), b = dt.ones([4]);
    expectError(() => a.add(b), 'ERR_SHAPE', 'add', 'broadcast', '[2, 3]', '[4]');
    expectError(() => dt.matmul(dt.ones([2, 3]), dt.ones([4, 5])), 'ERR_SHAPE', 'matmul', '3 vs 4');
    expectError(() => dt.cat([dt.ones([2, 3]), dt.ones([2, 4])], 0), 'ERR_SHAPE', 'cat');
    expectError(() => a.reshape([4, 2]), 'ERR_SHAPE', 'reshape', '6 elements');
    expectError(() => a.transpose(0, 1).view([6]), 'ERR_SHAPE', 'view');
    expectError(() => a.expand([3, 3]), 'ERR_SHAPE', 'expand');
  });

  it('rejects ragged and malformed data', () => {
    expectError(() => dt.tensor([[1, 2], [3]]), 'ERR_SHAPE', 'tensor', 'rectangular');
    expectError(() => dt.tensor([[1, 2], 3] as any), 'ERR_SHAPE', 'tensor');
    expectError(() => dt.tensor([1, 'a'] as any), 'ERR_ARGUMENT', 'tensor');
    expectError(() => dt.tensor({} as any), 'ERR_ARGUMENT', 'tensor');
    expectError(() => dt.tensor(new Float32Array(6), { shape: [4, 2] }), 'ERR_SHAPE', 'tensor', '6 elements');
  });

  it('rejects negative, fractional and huge dims and out-of-range indices', () => {
    expectError(() => dt.zeros([-1, 2]), 'ERR_SHAPE', 'zeros');
    expectError(() => dt.zeros([1.5]), 'ERR_SHAPE', 'zeros');
    expectError(() => dt.zeros([2 ** 40, 2 ** 40]), 'ERR_SHAPE', 'zeros');
    expectError(() => dt.ones([2 ** 20, 2 ** 20, 2 ** 20]), 'ERR_SHAPE');
    const a = dt.ones([2, 3]);
    expectError(() => a.sum(2), 'ERR_INDEX', 'sum', 'dim');
    expectError(() => a.sum(-3), 'ERR_INDEX', 'sum');
    expectError(() => a.narrow(1, 2, 5), 'ERR_INDEX', 'narrow');
    expectError(() => a.select(0, 2), 'ERR_INDEX', 'select');
    expectError(() => a.indexSelect(1, dt.tensor([0, 3], { dtype: 'int64' })), 'ERR_INDEX', 'indexSelect', '[0, 3)');
    expectError(() => a.indexSelect(1, dt.tensor([-1], { dtype: 'int32' })), 'ERR_INDEX', 'indexSelect');
    expectError(() => a.gather(1, dt.tensor([[0, 5, 1], [0, 0, 0]], { dtype: 'int64' })), 'ERR_INDEX', 'gather');
    expectError(() => a.indexSelect(1, dt.tensor([0.0])), 'ERR_DTYPE', 'indexSelect');
  });

  it('rejects wrong dtypes and devices', () => {
    expectError(() => dt.tensor([1, 2], { dtype: 'float16' as any }), 'ERR_DTYPE', 'tensor', 'float16');
    expectError(() => dt.arange(3).mean(), 'ERR_DTYPE', 'mean');
    expectError(() => dt.arange(3).requiresGrad_(), 'ERR_DTYPE', 'requiresGrad_');
    expectError(() => dt.matmul(dt.tensor([true]), dt.tensor([true])), 'ERR_DTYPE', 'matmul');
    expectError(() => dt.ones([2], { device: 'cuda' }), 'ERR_DEVICE', 'cuda');
    expectError(() => dt.ones([2]).to('cuda'), 'ERR_DEVICE');
    expect(dt.cuda.isAvailable()).toBe(false);
    expect(dt.cuda.deviceCount()).toBe(0);
  });

  it('leaves inputs intact when an op fails, and the process keeps working', () => {
    const a = dt.tensor([[1, 2, 3], [4, 5, 6]]);
    const before = a.toArray();
    const idx = dt.tensor([0, 1, 7], { dtype: 'int64' });
    expectError(() => a.indexSelect(1, idx), 'ERR_INDEX');
    expectError(() => a.add(dt.ones([5])), 'ERR_SHAPE');
    expect(a.toArray()).toEqual(before);
    // scatterAdd validates every index before writing anything
    const base = dt.zeros([2, 3]);
    expectError(() => base.scatterAdd(1, dt.tensor([[0, 9]], { dtype: 'int64' }), dt.ones([1, 2])), 'ERR_INDEX');
    expect(base.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(a.add(1).sum().item()).toBe(27);
  });

  it('rejects bad arguments to creation and reduction ops', () => {
    expectError(() => dt.arange(0, 10, 0), 'ERR_ARGUMENT', 'arange', 'nonzero step');
    expectError(() => dt.arange(0, 10, -1), 'ERR_ARGUMENT', 'arange');
    expectError(() => dt.randint(5, 5, [3]), 'ERR_ARGUMENT', 'randint');
    expectError(() => dt.linspace(0, 1, -2), 'ERR_ARGUMENT', 'linspace');
    expectError(() => dt.zeros([0]).max(), 'ERR_SHAPE', 'max');
    expectError(() => dt.ones([3]).item(), 'ERR_SHAPE', 'item');
    expectError(() => dt.ones([3]).backward(), 'ERR_ARGUMENT', 'backward');
    expectError(() => dt.ones([3]).permute([0, 0] as any), 'ERR_ARGUMENT', 'permute');
    expectError(() => dt.tidy((() => Promise.resolve(1)) as any), 'ERR_ARGUMENT', 'tidy');
    expectError(() => dt.add(1 as any, 2 as any), 'ERR_ARGUMENT', 'add');
    expectError(() => dt.ones([2]).add('x' as any), 'ERR_ARGUMENT', 'add');
  });

  it('propagates NaN and Infinity like PyTorch', () => {
    const x = dt.tensor([NaN, Infinity, -Infinity, 0, -1]);
    const arr = (t: dt.Tensor) => Array.from(t.dataSync() as Float32Array);
    expect(arr(x.relu())).toEqual([NaN, Infinity, 0, 0, 0]);
    expect(arr(x.exp())).toEqual([NaN, Infinity, 0, 1, Math.fround(Math.exp(-1))]);
    expect(arr(dt.tensor([0, -1, NaN, Infinity]).log())).toEqual([-Infinity, NaN, NaN, Infinity]);
    expect(arr(x.sigmoid()).slice(0, 4)).toEqual([NaN, 1, 0, 0.5]);
    expect(x.max().item()).toBeNaN();
    expect(x.sum().item()).toBeNaN();
    expect(dt.tensor([1, 2]).div(dt.tensor([0, 0])).dataSync()[0]).toBe(Infinity);
    expect(arr(x.clamp(-2, 2))).toEqual([NaN, 2, -2, 0, -1]);
    expect(arr(dt.maximum(dt.tensor([NaN, 1]), dt.tensor([0, NaN])))).toEqual([NaN, NaN]);
  });
});

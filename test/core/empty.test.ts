import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

describe('tensors with a zero-size dim', () => {
  it('go through elementwise ops, casts, copies and backward without crashing', () => {
    const a = dt.zeros([0, 3]);
    expect(a.clone().shape).toEqual([0, 3]);
    expect(a.add(1).shape).toEqual([0, 3]);
    expect(a.to('float64').dtype).toBe('float64');
    expect(dt.ones([1, 3]).expand([0, 3]).contiguous().shape).toEqual([0, 3]);
    const z = dt.zeros([0, 4, 3], { requiresGrad: true });
    z.exp().sum().backward();
    expect(z.grad!.shape).toEqual([0, 4, 3]);
  });
});

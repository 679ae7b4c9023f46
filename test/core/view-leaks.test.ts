import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

describe('views leave no live tensors behind', () => {
  it('unflatten (its size check used to keep a hidden view alive)', () => {
    const x = dt.randn([2, 6]);
    const before = dt.memory().numTensors;
    const y = x.unflatten(1, [2, 3]);
    expect(y.shape).toEqual([2, 2, 3]);
    y.dispose();
    expect(dt.memory().numTensors).toBe(before);
    expect(() => x.unflatten(1, [4, 2])).toThrow(dt.DendriteError);
    expect(dt.memory().numTensors).toBe(before);
  });
});

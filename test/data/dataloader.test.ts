import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

const { DataLoader, TensorDataset, Dataset, Subset, randomSplit, defaultCollate } = dt.data;

function rows(n: number, width = 2) {
  // Row i is [i*10, i*10+1, ...], label i: a batch's content tells which samples it holds.
  const x = dt.tensor(Float32Array.from({ length: n * width }, (_, k) => Math.floor(k / width) * 10 + (k % width)), { shape: [n, width] });
  const y = dt.arange(n);
  return new TensorDataset(x, y);
}

const labels = (batch: dt.Tensor[]) => batch[1].toArray() as number[];

describe('TensorDataset', () => {
  it('indexes rows of every tensor and checks the sample dim', () => {
    const ds = rows(5);
    expect(ds.length).toBe(5);
    const [x, y] = ds.getItem(3);
    expect(x.toArray()).toEqual([30, 31]);
    expect(y.item()).toBe(3);
    expect(ds.getItem(-1)[1].item()).toBe(4);
    expect(() => ds.getItem(5)).toThrow(/TensorDataset.getItem: expected an index in \[-5, 4\], got 5/);
    expect(() => new TensorDataset(dt.zeros([3, 2]), dt.zeros([4]))).toThrow(/tensors of 3 samples/);
    const [bx, by] = ds.getBatch!([4, 0]);
    expect(bx.toArray()).toEqual([[40, 41], [0, 1]]);
    expect(by.toArray()).toEqual([4, 0]);
  });
});

describe('DataLoader', () => {
  it('batches in order without shuffling; dropLast drops the short batch', () => {
    const ds = rows(10);
    const loader = new DataLoader(ds, { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = [...loader];
    expect(batches.map(labels)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect((batches[0][0] as dt.Tensor).shape).toEqual([4, 2]);
    expect((batches[2][0] as dt.Tensor).toArray()).toEqual([[80, 81], [90, 91]]);
    const dropped = new DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(dropped.length).toBe(2);
    expect([...dropped].map(labels)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
  });

  it('shuffles by its own seeded generator: fixed order per seed, a new one per epoch', () => {
    const ds = rows(10);
    const a = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 0 });
    const b = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 0 });
    const epoch1 = [...a].map(labels).flat();
    // Pinned: Philox seed 0, Fisher-Yates (native/cpu/random).
    expect(epoch1).toEqual([7, 1, 0, 3, 6, 8, 4, 9, 2, 5]);
    expect([...b].map(labels).flat()).toEqual(epoch1);
    const epoch2 = [...a].map(labels).flat();
    expect(epoch2).not.toEqual(epoch1);
    expect(epoch2.slice().sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...b].map(labels).flat()).toEqual(epoch2);
    // The same permutation as dt.randperm under dt.manualSeed(seed).
    dt.manualSeed(42);
    const expected = dt.randperm(10).toArray();
    expect([...new DataLoader(ds, { batchSize: 10, shuffle: true, seed: 42 })].map(labels).flat()).toEqual(expected);
  });

  it('leaves the global generator alone, and takes its seed from it when none is given', () => {
    const ds = rows(8);
    dt.manualSeed(7);
    const ref = dt.rand([4]).toArray();
    dt.manualSeed(7);
    const loader = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 3 });
    [...loader];
    expect(dt.rand([4]).toArray()).toEqual(ref);

    dt.manualSeed(11);
    const o1 = [...new DataLoader(ds, { batchSize: 8, shuffle: true })].map(labels).flat();
    dt.manualSeed(11);
    const o2 = [...new DataLoader(ds, { batchSize: 8, shuffle: true })].map(labels).flat();
    expect(o1).toEqual(o2);
  });

  it('iterates asynchronously with the same batches, preparing batch i+1 before handing out batch i', async () => {
    const events: string[] = [];
    class Slow extends Dataset<[number, number]> {
      get length() {
        return 6;
      }
      getItem(i: number): any {
        events.push(`load ${i}`);
        return Promise.resolve([i, i * 2]);
      }
    }
    const loader = new DataLoader(new Slow(), { batchSize: 2 });
    const seen: number[][] = [];
    for await (const [x, y] of loader) {
      events.push(`use ${(x as dt.Tensor).toArray()}`);
      seen.push([...(x as dt.Tensor).toArray(), ...(y as dt.Tensor).toArray()]);
    }
    expect(seen).toEqual([[0, 1, 0, 2], [2, 3, 4, 6], [4, 5, 8, 10]]);
    expect(events).toEqual(['load 0', 'load 1', 'load 2', 'load 3', 'use 0,1', 'load 4', 'load 5', 'use 2,3', 'use 4,5']);
    expect(() => [...loader]).toThrow(/for await/);

    const sync = rows(5);
    const viaAsync: number[][] = [];
    for await (const b of new DataLoader(sync, { batchSize: 2, shuffle: true, seed: 9 })) viaAsync.push(labels(b));
    expect(viaAsync).toEqual([...new DataLoader(sync, { batchSize: 2, shuffle: true, seed: 9 })].map(labels));
  });

  it('frees the prefetched batch when the consumer stops early', async () => {
    const ds = rows(12);
    const before = dt.memory().numTensors;
    const loader = new DataLoader(ds, { batchSize: 3 });
    for await (const b of loader) {
      dt.data.disposeBatch(b);
      break;
    }
    await new Promise((r) => setTimeout(r, 0));
    expect(dt.memory().numTensors).toBe(before);
  });

  it('collates numbers, tensors, arrays and objects like default_collate; uses a custom collate', () => {
    const b = defaultCollate([{ x: dt.tensor([1, 2]), label: 3, w: 0.5 }, { x: dt.tensor([3, 4]), label: 1, w: 1.5 }]);
    expect(b.x.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(b.label.dtype).toBe('int64');
    expect(b.label.toArray()).toEqual([3, 1]);
    expect(b.w.dtype).toBe('float32');
    expect(b.w.toArray()).toEqual([0.5, 1.5]);
    const loader = new DataLoader(rows(4), { batchSize: 2, collate: (s: dt.Tensor[][]) => s.map((p) => p[1].item()) });
    expect([...loader]).toEqual([[0, 1], [2, 3]]);
    expect(loader.ownsBatches).toBe(false);
    expect(() => new DataLoader(rows(2), { batchSize: 0 })).toThrow(/positive integer batchSize/);
  });

  it('splits datasets at random into disjoint subsets', () => {
    const ds = rows(10);
    const [a, b] = randomSplit(ds, [0.7, 0.3], { seed: 1 });
    expect([a.length, b.length]).toEqual([7, 3]);
    const all = [...a.indices, ...b.indices].sort((p, q) => p - q);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const sub = new Subset(ds, [9, 2]);
    expect(sub.getItem(0)[1].item()).toBe(9);
    expect([...new DataLoader(sub, { batchSize: 2 })].map(labels)).toEqual([[9, 2]]);
    expect(() => randomSplit(ds, [3, 3])).toThrow(/summing to 10/);
  });

  it('keeps a Generator state of its own', () => {
    const g = new dt.Generator(5);
    const s = g.getState();
    const first = g.uniform(3);
    g.setState(s);
    expect(g.uniform(3)).toEqual(first);
    expect(g.getState().counter).toBeGreaterThan(0n);
    const state = dt.getRngState();
    dt.rand([10]);
    dt.setRngState(state);
    const again = dt.getRngState();
    expect(again).toEqual(state);
  });
});

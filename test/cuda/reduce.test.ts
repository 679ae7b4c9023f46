// Reductions, softmax / logSoftmax and the index ops on CUDA against the CPU: every reduce op
// over single dims, dim sets, full reductions (including ones long enough to split across
// blocks), keepdim, non-contiguous inputs and integer dtypes.
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { compareDevices, describeCuda, randomTensor } from './helpers';

const SHAPES: number[][] = [[1], [7], [1000], [1009], [3, 5], [33, 7], [2, 3, 5, 7], [4, 1, 13], [5, 2049]];

function dimSets(ndim: number): Array<number | number[] | undefined> {
  const out: Array<number | number[] | undefined> = [undefined];
  for (let d = 0; d < ndim; d++) out.push(d);
  if (ndim >= 2) out.push([0, ndim - 1]);
  if (ndim >= 3) out.push([0, 2], [1, 2]);
  return out;
}

describeCuda('cuda reductions', () => {
  it('sum mean prod var std logsumexp over every dim set, keepdim or not', () => {
    for (const [k, shape] of SHAPES.entries())
      for (const dims of dimSets(shape.length))
        for (const keep of [false, true]) {
          const tag = `[${shape}] dims ${JSON.stringify(dims)} keep ${keep}`;
          compareDevices([randomTensor(shape, 'float32', -2, 2, k)], (x) => x.sum(dims, keep), 1e-5, 1e-5, `sum ${tag}`);
          compareDevices([randomTensor(shape, 'float32', -2, 2, k)], (x) => x.mean(dims, keep), 1e-5, 1e-6, `mean ${tag}`);
          compareDevices([randomTensor(shape, 'float64', 0.9, 1.1, k)], (x) => x.prod(dims as any, keep), 1e-10, 0, `prod ${tag}`);
          compareDevices([randomTensor(shape, 'float64', -2, 2, k)], (x) => x.var(dims, keep), 1e-10, 1e-12, `var ${tag}`);
          compareDevices([randomTensor(shape, 'float32', -2, 2, k)], (x) => x.std(dims, keep, { correction: 0 }), 1e-5, 1e-6, `std ${tag}`);
          if (dims !== undefined) compareDevices([randomTensor(shape, 'float32', -5, 5, k)], (x) => x.logsumexp(dims, keep), 1e-5, 1e-6, `logsumexp ${tag}`);
        }
  });

  it('max min argmax argmin with indices, ties to the first, NaN wins', () => {
    for (const [k, shape] of SHAPES.entries()) {
      for (let d = 0; d < shape.length; d++) {
        // Rounded values make ties common.
        compareDevices([randomTensor(shape, 'float32', -3, 3, k)], (x) => { const [v, i] = x.round().max(d); return [v, i]; }, 0, 0, `max [${shape}] ${d}`);
        compareDevices([randomTensor(shape, 'float32', -3, 3, k)], (x) => { const [v, i] = x.round().min(d, true); return [v, i]; }, 0, 0, `min [${shape}] ${d}`);
        compareDevices([randomTensor(shape, 'int32', -3, 3, k)], (x) => x.argmax(d), 0, 0, `argmax [${shape}] ${d}`);
        compareDevices([randomTensor(shape, 'float64', -3, 3, k)], (x) => x.argmin(d), 0, 0, `argmin [${shape}] ${d}`);
      }
      compareDevices([randomTensor(shape, 'float32', -3, 3, k)], (x) => x.max(), 0, 0, `max all [${shape}]`);
      compareDevices([randomTensor(shape, 'float32', -3, 3, k)], (x) => x.argmin(), 0, 0, `argmin all [${shape}]`);
    }
    const x = dt.tensor([[1, NaN, 3, NaN], [2, 2, 1, 0]]);
    compareDevices([x], (t) => { const [v, i] = t.max(1); return [v, i]; }, 0, 0, 'NaN max');
  });

  it('integer sums, all / any, non-contiguous inputs', () => {
    for (const dtype of ['int32', 'int64', 'uint8', 'bool'] as const) {
      compareDevices([randomTensor([33, 7], dtype, 0, 9)], (x) => x.sum(0), 0, 0, `sum ${dtype}`);
      compareDevices([randomTensor([33, 7], dtype, 0, 9)], (x) => x.sum(), 0, 0, `sum all ${dtype}`);
      compareDevices([randomTensor([33, 7], dtype, 0, 2)], (x) => x.all(1), 0, 0, `all ${dtype}`);
      compareDevices([randomTensor([33, 7], dtype, 0, 2)], (x) => x.any(0), 0, 0, `any ${dtype}`);
    }
    compareDevices([randomTensor([13, 33, 5])], (x) => x.permute([2, 0, 1]).sum([0, 2]), 1e-5, 1e-5, 'permuted sum');
    compareDevices([randomTensor([40, 30])], (x) => x.slice(1, 0, null, 3).mean(0), 1e-5, 1e-6, 'strided mean');
  });

  it('long full reductions split across blocks (block then grid)', () => {
    compareDevices([randomTensor([1 << 20], 'float64', -1, 1, 3)], (x) => x.sum(), 1e-10, 1e-9, 'sum 2^20');
    compareDevices([randomTensor([3_000_001], 'float32', -1, 1, 4)], (x) => x.max(), 0, 0, 'max 3e6');
    compareDevices([randomTensor([3_000_001], 'float32', -1, 1, 5)], (x) => x.argmax(), 0, 0, 'argmax 3e6');
    compareDevices([randomTensor([2, 1 << 19], 'float64', -1, 1, 6)], (x) => x.var(1), 1e-10, 1e-12, 'var 2 x 2^19');
    compareDevices([randomTensor([1 << 18, 3], 'float64', -1, 1, 7)], (x) => x.sum(0), 1e-10, 1e-9, 'column sum 2^18 x 3');
  });

  it('reductions of empty dims follow the CPU (sum 0, mean NaN, prod 1)', () => {
    compareDevices([dt.zeros([0, 3])], (x) => [x.sum(0), x.mean(0), x.prod(0)], 0, 0, 'empty');
  });
});

describeCuda('cuda softmax', () => {
  it('softmax and logSoftmax along every dim, rows short and long, with backward', () => {
    const shapes = [[1], [7], [1000], [3, 5], [33, 7], [2, 3, 2049], [5, 4097]];
    for (const [k, shape] of shapes.entries())
      for (let d = 0; d < shape.length; d++)
        for (const log of [false, true]) {
          const fn = (x: dt.Tensor) => (log ? x.logSoftmax(d) : x.softmax(d));
          compareDevices([randomTensor(shape, 'float32', -10, 10, k)], fn, 1e-5, 1e-6, `${log ? 'log' : ''}softmax [${shape}] ${d}`);
          const x = randomTensor(shape, 'float64', -5, 5, k).requiresGrad_();
          const xc = x.cuda().detach().requiresGrad_();
          const g = randomTensor(shape, 'float64', -1, 1, k + 9);
          fn(x).mul(g).sum().backward();
          fn(xc).mul(g.cuda()).sum().backward();
          const w = Array.from(x.grad!.dataSync() as Float64Array), got = Array.from(xc.grad!.dataSync() as Float64Array);
          for (let i = 0; i < w.length; i++) expect(Math.abs(w[i] - got[i])).toBeLessThan(1e-10 + 1e-9 * Math.abs(w[i]));
        }
  });

  it('stable for large logits; NaN rows stay NaN', () => {
    compareDevices([dt.tensor([[1000, 1001, 1009], [-1000, 0, 1000]])], (x) => x.softmax(1), 1e-6, 1e-7, 'large');
    compareDevices([dt.tensor([[1, NaN, 2], [1, 2, 3]])], (x) => x.logSoftmax(1), 1e-6, 1e-7, 'nan');
  });
});

describeCuda('cuda index ops', () => {
  it('indexSelect, gather, scatterAdd and their backward', () => {
    for (const [k, shape] of [[7], [33, 7], [5, 6, 7]].entries())
      for (let d = 0; d < shape.length; d++) {
        const n = shape[d];
        const idx = dt.tensor(Array.from({ length: 11 }, (_, i) => (i * 5 + k) % n), { dtype: 'int64' });
        compareDevices([randomTensor(shape, 'float32', -3, 3, k), idx.clone()], (x, i) => x.indexSelect(d, i), 0, 0, `indexSelect [${shape}] ${d}`);
        const gshape = shape.slice();
        gshape[d] = 4;
        const gi = randomTensor(gshape, 'int32', 0, n, k + 3);
        compareDevices([randomTensor(shape, 'float32', -3, 3, k), gi.clone()], (x, i) => x.gather(d, i), 0, 0, `gather [${shape}] ${d}`);
        compareDevices([randomTensor(shape, 'float64', -3, 3, k), gi.clone(), randomTensor(gshape, 'float64', -1, 1, 4)], (x, i, s) => x.scatterAdd(d, i, s), 1e-12, 1e-12, `scatterAdd [${shape}] ${d}`);
        // backward: indexAdd and scatterAdd on the device
        const x = randomTensor(shape, 'float64', -3, 3, k).requiresGrad_();
        const xc = x.cuda().detach().requiresGrad_();
        x.indexSelect(d, idx).square().sum().backward();
        xc.indexSelect(d, idx.cuda()).square().sum().backward();
        expect(Array.from(xc.grad!.dataSync() as Float64Array).map((v) => +v.toFixed(9))).toEqual(Array.from(x.grad!.dataSync() as Float64Array).map((v) => +v.toFixed(9)));
      }
  });

  it('a bad index throws ERR_INDEX and writes nothing', () => {
    const x = dt.ones([4, 3], { device: 'cuda' });
    expect(() => x.indexSelect(0, dt.tensor([0, 4], { dtype: 'int64', device: 'cuda' }))).toThrow(expect.objectContaining({ code: 'ERR_INDEX' }));
    expect(() => x.gather(1, dt.tensor([[0], [3], [0], [0]], { dtype: 'int64', device: 'cuda' }))).toThrow(expect.objectContaining({ code: 'ERR_INDEX' }));
    expect(x.sum().item()).toBe(12);
  });
});

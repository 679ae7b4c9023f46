// Every elementwise CUDA kernel against the CPU one: unary and binary ops over odd shapes,
// broadcasting, non-contiguous views, every dtype that the op takes; casts; where; clamp;
// activations and their backward kernels (through autograd).
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { compareDevices, describeCuda, randomTensor, SHAPES } from './helpers';

const FLOAT_UNARY: Array<[string, (x: dt.Tensor) => dt.Tensor, number, number]> = [
  // name, op, lo, hi (input range)
  ['neg', (x) => x.neg(), -3, 3], ['abs', (x) => x.abs(), -3, 3], ['exp', (x) => x.exp(), -3, 3],
  ['log', (x) => x.log(), 0.01, 5], ['sqrt', (x) => x.sqrt(), 0, 5], ['rsqrt', (x) => x.rsqrt(), 0.1, 5],
  ['reciprocal', (x) => x.reciprocal(), 0.5, 5], ['sin', (x) => x.sin(), -6, 6], ['cos', (x) => x.cos(), -6, 6],
  ['log1p', (x) => x.log1p(), -0.9, 5], ['expm1', (x) => x.expm1(), -3, 3], ['erf', (x) => x.erf(), -3, 3],
  ['floor', (x) => x.floor(), -5, 5], ['ceil', (x) => x.ceil(), -5, 5], ['round', (x) => x.round(), -5, 5],
  ['sign', (x) => x.sign(), -3, 3], ['square', (x) => x.square(), -3, 3], ['relu', (x) => x.relu(), -3, 3],
  ['sigmoid', (x) => x.sigmoid(), -8, 8], ['tanh', (x) => x.tanh(), -4, 4], ['silu', (x) => x.silu(), -4, 4],
  ['softplus', (x) => x.softplus({ beta: 2, threshold: 5 }), -5, 5], ['gelu', (x) => x.gelu(), -4, 4],
  ['geluTanh', (x) => x.gelu({ approximate: 'tanh' }), -4, 4], ['leakyRelu', (x) => x.leakyRelu(0.2), -3, 3],
  ['elu', (x) => x.elu(0.7), -3, 3], ['hardtanh', (x) => x.hardtanh(-0.5, 0.8), -2, 2],
  ['clamp', (x) => x.clamp(-0.5, 1.25), -2, 2], ['logicalNot', (x) => x.round().logicalNot(), -1, 1],
];

const BINARY: Array<[string, (a: dt.Tensor, b: dt.Tensor) => dt.Tensor]> = [
  ['add', (a, b) => a.add(b)], ['addAlpha', (a, b) => a.add(b, { alpha: -2.5 })], ['sub', (a, b) => a.sub(b)],
  ['mul', (a, b) => a.mul(b)], ['div', (a, b) => a.div(b)], ['maximum', (a, b) => a.maximum(b)],
  ['minimum', (a, b) => a.minimum(b)], ['eq', (a, b) => a.round().eq(b.round())], ['ne', (a, b) => a.round().ne(b.round())],
  ['lt', (a, b) => a.lt(b)], ['le', (a, b) => a.le(b)], ['gt', (a, b) => a.gt(b)], ['ge', (a, b) => a.ge(b)],
  ['logicalAnd', (a, b) => a.round().logicalAnd(b.round())], ['logicalOr', (a, b) => a.round().logicalOr(b.round())],
  ['logicalXor', (a, b) => a.round().logicalXor(b.round())],
];

describeCuda('cuda elementwise', () => {
  it('unary float ops match the CPU over odd shapes, both float dtypes', () => {
    for (const [name, op, lo, hi] of FLOAT_UNARY)
      for (const dtype of ['float32', 'float64'] as const)
        for (const [k, shape] of SHAPES.entries())
          compareDevices([randomTensor(shape, dtype, lo, hi, k + 1)], op, dtype === 'float32' ? 2e-6 : 1e-12, 1e-6, `${name} ${dtype} [${shape}]`);
  });

  it('unary ops on non-contiguous views (transposed, strided slices)', () => {
    for (const [name, op, lo, hi] of FLOAT_UNARY) {
      compareDevices([randomTensor([33, 7], 'float32', lo, hi, 3)], (x) => op(x.t()), 2e-6, 1e-6, `${name} transposed`);
      compareDevices([randomTensor([40, 9], 'float32', lo, hi, 4)], (x) => op(x.slice(0, 1, null, 3).slice(1, 2)), 2e-6, 1e-6, `${name} sliced`);
    }
  });

  it('integer unary ops (neg abs relu clamp sign square logicalNot) on every integer dtype', () => {
    for (const dtype of ['int32', 'int64', 'uint8'] as const)
      for (const shape of [[1], [7], [1009], [5, 33]]) {
        const lo = dtype === 'uint8' ? 0 : -50;
        compareDevices([randomTensor(shape, dtype, lo, 100)], (x) => x.abs(), 0, 0, `abs ${dtype}`);
        compareDevices([randomTensor(shape, dtype, lo, 100)], (x) => x.relu(), 0, 0, `relu ${dtype}`);
        compareDevices([randomTensor(shape, dtype, lo, 100)], (x) => x.clamp(3, 40), 0, 0, `clamp ${dtype}`);
        compareDevices([randomTensor(shape, dtype, lo, 100)], (x) => x.sign(), 0, 0, `sign ${dtype}`);
        compareDevices([randomTensor(shape, dtype, lo, 100)], (x) => x.square(), 0, 0, `square ${dtype}`);
        compareDevices([randomTensor(shape, dtype, lo, 100)], (x) => x.logicalNot(), 0, 0, `logicalNot ${dtype}`);
        if (dtype !== 'uint8') compareDevices([randomTensor(shape, dtype, lo, 100)], (x) => x.neg(), 0, 0, `neg ${dtype}`);
      }
  });

  it('binary ops match the CPU with equal shapes, broadcasting and strided operands', () => {
    const pairs: Array<[number[], number[]]> = [
      [[1], [1]], [[7], [7]], [[1000], [1000]], [[1009], [1]], [[33, 7], [7]], [[4, 1, 13], [3, 1]],
      [[2, 3, 5], [2, 1, 5]], [[5, 1], [1, 97]], [[], [3]],
    ];
    for (const [name, op] of BINARY)
      for (const dtype of ['float32', 'float64'] as const)
        for (const [k, [sa, sb]] of pairs.entries())
          compareDevices([randomTensor(sa, dtype, -3, 3, k), randomTensor(sb, dtype, 0.5, 3, k + 50)], op, 1e-6, 1e-6, `${name} ${dtype} [${sa}] [${sb}]`);
    for (const [name, op] of BINARY)
      compareDevices([randomTensor([13, 33], 'float32', -3, 3, 7), randomTensor([33, 13], 'float32', 0.5, 3, 8)], (a, b) => op(a, b.t()), 1e-6, 1e-6, `${name} transposed`);
  });

  it('binary ops with a scalar, either side, and integer dtypes', () => {
    for (const dtype of ['float32', 'float64', 'int32', 'int64', 'uint8'] as const) {
      const x = () => randomTensor([1009], dtype, 1, 60, 11);
      compareDevices([x()], (t) => t.add(3), 0, 0, `add scalar ${dtype}`);
      compareDevices([x()], (t) => t.mul(2), 0, 0, `mul scalar ${dtype}`);
      compareDevices([x()], (t) => t.sub(5), 0, 0, `sub scalar ${dtype}`);
      compareDevices([x()], (t) => t.gt(30), 0, 0, `gt scalar ${dtype}`);
      compareDevices([x()], (t) => t.maximum(t.mul(0).add(20)), 0, 0, `maximum ${dtype}`);
      compareDevices([x(), randomTensor([1009], dtype, 1, 9, 12)], (a, b) => a.div(b), 1e-6, 0, `div ${dtype}`);
      compareDevices([x(), randomTensor([1009], dtype, 0, 3, 13)], (a, b) => a.pow(b), 1e-6, 0, `pow ${dtype}`);
    }
  });

  it('integer division by zero gives 0 on CUDA instead of throwing (kernels cannot throw per element)', () => {
    // div() is true division (int / int -> float, as torch.div); the in-place div_ keeps the
    // integer dtype and is what reaches the integer kernel.
    const a = dt.tensor([7, -7, 0], { dtype: 'int32', device: 'cuda' });
    const z = dt.zeros([3], { dtype: 'int32', device: 'cuda' });
    expect(a.div(z).toArray()).toEqual([Infinity, -Infinity, NaN]);
    expect(a.div_(z).toArray()).toEqual([0, 0, 0]);
    expect(a.dtype).toBe('int32');
  });

  it('casts between every pair of dtypes', () => {
    const dtypes = ['float32', 'float64', 'int32', 'int64', 'uint8', 'bool'] as const;
    for (const from of dtypes)
      for (const to of dtypes)
        for (const shape of [[7], [1000], [3, 33]])
          compareDevices([randomTensor(shape, from, from === 'uint8' || from === 'bool' ? 0 : -100, 200, 5)], (x) => x.to(to), 0, 0, `${from} -> ${to}`);
    compareDevices([randomTensor([33, 7], 'float32')], (x) => x.t().contiguous(), 0, 0, 'contiguous copy');
  });

  it('where and clamp with broadcasting; in-place ops', () => {
    compareDevices([randomTensor([33, 7], 'bool'), randomTensor([7]), randomTensor([33, 1], 'float32', -1, 1, 9)], (c, a, b) => dt.where(c, a, b), 0, 0, 'where');
    compareDevices([randomTensor([33, 7], 'bool'), randomTensor([33, 7])], (c, a) => dt.where(c, a, 0.5), 0, 0, 'where scalar');
    compareDevices([randomTensor([1000]), randomTensor([1000])], (a, b) => { const c = a.clone(); c.add_(b); c.mul_(2); c.clamp_(-1, 1); return c; }, 1e-6, 0, 'in place');
  });

  it('fill, arange, linspace, eye, full on the device', () => {
    for (const n of [1, 7, 33, 1000, 1009]) {
      expect(dt.arange(n, undefined, undefined, { device: 'cuda' }).toArray()).toEqual(dt.arange(n).toArray());
      expect(dt.linspace(-1, 2, n, { device: 'cuda' }).toArray()).toEqual(dt.linspace(-1, 2, n).toArray());
      expect(dt.full([n], 2.5, { device: 'cuda' }).toArray()).toEqual(dt.full([n], 2.5).toArray());
    }
    expect(dt.eye(5, 7, { device: 'cuda' }).toArray()).toEqual(dt.eye(5, 7).toArray());
    // fill through a strided view
    compareDevices([dt.zeros([6, 8])], (t) => { const c = t.clone(); c.slice(1, 1, null, 2).fill_(3); return c; }, 0, 0, 'strided fill');
  });

  it('activation backward kernels through autograd', () => {
    for (const [name, op, lo, hi] of FLOAT_UNARY) {
      if (['floor', 'ceil', 'round', 'sign', 'logicalNot'].includes(name)) continue;
      const x = randomTensor([7, 33], 'float32', lo, hi, 21);
      const xc = x.cuda().detach().requiresGrad_();
      x.requiresGrad_();
      op(x).sum().backward();
      op(xc).sum().backward();
      const want = x.grad!, got = xc.grad!;
      expect(got.device).toBe('cuda');
      const w = Array.from(want.dataSync() as Float32Array), g = Array.from(got.dataSync() as Float32Array);
      for (let i = 0; i < w.length; i++)
        if (!(Math.abs(w[i] - g[i]) <= 1e-5 + 1e-5 * Math.abs(w[i]))) expect.fail(`${name} backward element ${i}: expected ${w[i]}, got ${g[i]}`);
    }
  });
});

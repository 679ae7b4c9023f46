// conv2d and convTranspose2d: PyTorch fixtures (forward and every gradient, float32 and float64,
// on every SIMD path), the course's hand examples and its definition of transposed
// convolution, gradcheck, a naive reference on shapes that need several column tiles and both
// threading modes, and argument errors.
import { afterAll, describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { expectClose, fixture, flat, forEachPath, gen, TOL, values } from './fixtures';

const { F } = dt;

function runConvCase(c: any, dtype: 'float32' | 'float64', transposed: boolean) {
  const x = gen([c.N, c.C, c.H, c.W], c.seed, { dtype, requiresGrad: true });
  const wShape = transposed ? [c.C, c.K / c.groups, ...c.k] : [c.K, c.C / c.groups, ...c.k];
  const w = gen(wShape, c.seed + 2, { dtype, scale: 0.5, requiresGrad: true });
  const b = c.bias ? gen([c.K], c.seed + 3, { dtype, requiresGrad: true }) : null;
  const y = transposed
    ? F.convTranspose2d(x, w, b, { stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation, groups: c.groups })
    : F.conv2d(x, w, b, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
  expect(y.shape).toEqual(c.yShape);
  y.backward(gen(c.yShape, c.seed + 1, { dtype }));
  const [atol, rtol] = TOL[dtype];
  expectClose(flat(y), c.y, atol, rtol, `${c.name} y`);
  expectClose(flat(x.grad!), c.gx, atol, rtol, `${c.name} gx`);
  expectClose(flat(w.grad!), c.gw, atol, rtol, `${c.name} gw`);
  if (b) expectClose(flat(b.grad!), c.gb, atol, rtol, `${c.name} gb`);
}

describe('conv2d against PyTorch', () => {
  for (const c of fixture.conv2d) {
    it(`${c.name}: forward and gradients, float32 on every path and float64`, () => {
      forEachPath(() => runConvCase(c, 'float32', false));
      runConvCase(c, 'float64', false);
    });
  }
});

describe('convTranspose2d against PyTorch', () => {
  for (const c of fixture.convTranspose2d) {
    it(`${c.name}: forward and gradients, float32 on every path and float64`, () => {
      forEachPath(() => runConvCase(c, 'float32', true));
      runConvCase(c, 'float64', true);
    });
  }
});

const img = (rows: number[][]) => dt.tensor(rows).reshape([1, 1, rows.length, rows[0].length]);
const plane = (t: dt.Tensor) => t.reshape([t.shape[2], t.shape[3]]).toArray();

describe('the course hand examples', () => {
  it('5x5 input, kernel [[0,2,1],[4,1,0],[1,0,1]]: 16 at (0, 0)', () => {
    // The issue gives the kernel and the top-left value; this input's top-left patch
    // [[1,2,0],[2,1,1],[1,2,2]] gives 0+4+0 + 8+1+0 + 1+0+2 = 16.
    const x = img([[1, 2, 0, 1, 2], [2, 1, 1, 0, 1], [1, 2, 2, 1, 0], [0, 1, 2, 1, 1], [2, 0, 1, 2, 1]]);
    const w = img([[0, 2, 1], [4, 1, 0], [1, 0, 1]]);
    const y = plane(F.conv2d(x, w));
    expect(y[0][0]).toBe(16);
    // every output is the same patch-times-kernel sum, written out
    const xs = x.reshape([5, 5]).toArray(), ws = w.reshape([3, 3]).toArray();
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let r = 0; r < 3; r++) for (let q = 0; q < 3; q++) s += xs[i + r][j + q] * ws[r][q];
        expect(y[i][j]).toBe(s);
      }
    // padding 1 keeps the size; stride 2 halves it
    expect(F.conv2d(x, w, null, { padding: 1 }).shape).toEqual([1, 1, 5, 5]);
    expect(F.conv2d(x, w, null, { padding: 1, stride: 2 }).shape).toEqual([1, 1, 3, 3]);
  });

  it('transposed conv of [[1,2],[3,4]] with a 2x2 kernel of ones', () => {
    const x = img([[1, 2], [3, 4]]), w = dt.ones([1, 1, 2, 2]);
    expect(plane(F.convTranspose2d(x, w))).toEqual([[1, 3, 2], [4, 10, 6], [3, 7, 4]]);
    expect(plane(F.convTranspose2d(x, w, null, { stride: 2 }))).toEqual([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]);
  });
});

/**
 * The course's definition: each input value times the kernel, written to the output at
 * `stride` steps (taps `dilation` apart), overlaps summed; then `padding` rows/cols cropped
 * from each side (outputPadding adds rows/cols at the bottom/right). Summed over input
 * channels of the group.
 */
function transposedByDefinition(x: dt.Tensor, w: dt.Tensor, o: { stride: number[]; padding: number[]; outputPadding: number[]; dilation: number[]; groups: number }) {
  const [N, C, H, W] = x.shape, [, Kg, R, S] = w.shape;
  const K = Kg * o.groups, Cg = C / o.groups;
  const FH = (H - 1) * o.stride[0] + o.dilation[0] * (R - 1) + 1 + o.outputPadding[0];
  const FW = (W - 1) * o.stride[1] + o.dilation[1] * (S - 1) + 1 + o.outputPadding[1];
  const xs = x.dataSync(), ws = w.dataSync();
  const full = new Float64Array(N * K * FH * FW);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          const v = xs[((n * C + c) * H + i) * W + j];
          const g = Math.floor(c / Cg);
          for (let m = 0; m < Kg; m++)
            for (let r = 0; r < R; r++)
              for (let s = 0; s < S; s++) {
                const oi = i * o.stride[0] + r * o.dilation[0], oj = j * o.stride[1] + s * o.dilation[1];
                full[((n * K + g * Kg + m) * FH + oi) * FW + oj] += v * ws[((c * Kg + m) * R + r) * S + s];
              }
        }
  const OH = FH - 2 * o.padding[0], OW = FW - 2 * o.padding[1];
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) out.push(full[((n * K + k) * FH + i + o.padding[0]) * FW + j + o.padding[1]]);
  return { shape: [N, K, OH, OW], out };
}

describe('convTranspose2d is the course definition', () => {
  const configs = [
    { name: 'stride 1', C: 1, K: 1, H: 2, W: 2, k: [2, 2], stride: [1, 1], padding: [0, 0], outputPadding: [0, 0], dilation: [1, 1], groups: 1 },
    { name: 'stride 2, padding 1', C: 2, K: 3, H: 3, W: 4, k: [3, 3], stride: [2, 2], padding: [1, 1], outputPadding: [0, 0], dilation: [1, 1], groups: 1 },
    { name: 'k4 s2 p1 (DCGAN)', C: 3, K: 2, H: 4, W: 4, k: [4, 4], stride: [2, 2], padding: [1, 1], outputPadding: [0, 0], dilation: [1, 1], groups: 1 },
    { name: 'outputPadding, dilation, groups', C: 4, K: 2, H: 3, W: 5, k: [3, 2], stride: [3, 2], padding: [1, 0], outputPadding: [2, 1], dilation: [2, 1], groups: 2 },
  ];
  for (const c of configs) {
    it(c.name, () => {
      const x = gen([2, c.C, c.H, c.W], 31, { dtype: 'float64' });
      const w = gen([c.C, c.K / c.groups, ...c.k], 37, { dtype: 'float64' });
      const ref = transposedByDefinition(x, w, c);
      const y = F.convTranspose2d(x, w, null, c);
      expect(y.shape).toEqual(ref.shape);
      expectClose(flat(y), ref.out, 1e-12, 1e-12, c.name);
    });
  }
});

describe('gradcheck (float64)', () => {
  const cases: [string, number[], number[], dt.Conv2dOptions][] = [
    ['general: stride 2, padding 1, dilation 2', [2, 2, 6, 5], [3, 2, 3, 2], { stride: 2, padding: 1, dilation: [2, 1] }],
    ['groups 2', [1, 4, 5, 5], [4, 2, 3, 3], { padding: 1, groups: 2 }],
    ['depthwise, multiplier 2, stride 2', [2, 2, 5, 6], [4, 1, 3, 3], { stride: [2, 1], padding: 1, groups: 2 }],
    ['pointwise', [2, 3, 3, 4], [2, 3, 1, 1], {}],
    ["padding 'same', even kernel", [1, 2, 4, 5], [2, 2, 2, 4], { padding: 'same' }],
  ];
  for (const [name, xs, ws, o] of cases) {
    it(`conv2d ${name}`, () => {
      const x = gen(xs, 3, { dtype: 'float64', requiresGrad: true });
      const w = gen(ws, 5, { dtype: 'float64', requiresGrad: true });
      const b = gen([ws[0]], 7, { dtype: 'float64', requiresGrad: true });
      expect(dt.autograd.gradcheck((a, bw, bb) => F.conv2d(a, bw, bb, o), [x, w, b])).toBe(true);
    });
  }
  it('convTranspose2d: stride 2, padding 1, outputPadding 1, groups 2', () => {
    const x = gen([2, 4, 3, 3], 11, { dtype: 'float64', requiresGrad: true });
    const w = gen([4, 1, 3, 3], 13, { dtype: 'float64', requiresGrad: true });
    const b = gen([2], 17, { dtype: 'float64', requiresGrad: true });
    const o = { stride: 2, padding: 1, outputPadding: 1, groups: 2 };
    expect(dt.autograd.gradcheck((a, bw, bb) => F.convTranspose2d(a, bw, bb, o), [x, w, b])).toBe(true);
  });
});

/** Plain loops: y, and the gradients for an upstream gradient gy. */
function naiveConv(x: dt.Tensor, w: dt.Tensor, gy: dt.Tensor, s: number, p: number, d: number, groups: number) {
  const [N, C, H, W] = x.shape, [K, Cg, R, S] = w.shape, [, , OH, OW] = gy.shape;
  const xs = x.dataSync() as Float32Array, ws = w.dataSync() as Float32Array, gs = gy.dataSync() as Float32Array;
  const y = new Float64Array(N * K * OH * OW), gx = new Float64Array(xs.length), gw = new Float64Array(ws.length);
  const Kg = K / groups;
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) {
      const g = Math.floor(k / Kg);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const yi = ((n * K + k) * OH + oh) * OW + ow;
          let acc = 0;
          for (let c = 0; c < Cg; c++)
            for (let r = 0; r < R; r++) {
              const ih = oh * s - p + r * d;
              if (ih < 0 || ih >= H) continue;
              for (let q = 0; q < S; q++) {
                const iw = ow * s - p + q * d;
                if (iw < 0 || iw >= W) continue;
                const xi = ((n * C + g * Cg + c) * H + ih) * W + iw, wi = ((k * Cg + c) * R + r) * S + q;
                acc += xs[xi] * ws[wi];
                gx[xi] += ws[wi] * gs[yi];
                gw[wi] += xs[xi] * gs[yi];
              }
            }
          y[yi] = acc;
        }
    }
  return { y, gx, gw };
}

describe('larger shapes: column tiles and both threading modes against plain loops', () => {
  const threadsBefore = dt.getNumThreads();
  afterAll(() => dt.setNumThreads(threadsBefore));
  // CRS = 16*9 = 144 floats per column, so 33x33 outputs span several 512 KiB tiles.
  const cases: [string, number[], number[], number, number, number, number][] = [
    ['general, 1 image', [1, 16, 33, 33], [4, 16, 3, 3], 1, 1, 1, 1],
    ['general, 3 images, stride 2', [3, 16, 34, 31], [5, 16, 3, 3], 2, 1, 1, 1],
    ['groups 4, dilation 2', [2, 8, 20, 21], [8, 2, 3, 3], 1, 2, 2, 4],
    ['depthwise', [3, 6, 17, 18], [6, 1, 3, 3], 1, 1, 1, 6],
    ['pointwise', [3, 24, 13, 14], [10, 24, 1, 1], 1, 0, 1, 1],
    // Stride 1 runs on the flat column matrix, several images per GEMM: odd sizes, GEMM
    // panels straddling images, batch 1 (the GEMM itself threaded) and odd batches.
    ['stride 1 flat, 5 images, odd sizes', [5, 3, 7, 9], [6, 3, 3, 3], 1, 1, 1, 1],
    ['stride 1 flat, 33 small images, 2x2 kernel', [33, 2, 5, 6], [3, 2, 2, 2], 1, 0, 1, 1],
    ['stride 1 flat, batch 1, 3x5 kernel, wide image', [1, 4, 11, 61], [7, 4, 3, 5], 1, 1, 1, 1],
    ['stride 1 flat, 7 images, groups 2, dilation 2', [7, 4, 9, 10], [6, 2, 3, 3], 1, 1, 2, 2],
    ['stride 1, padding past the kernel reach', [3, 3, 6, 7], [5, 3, 3, 3], 1, 3, 1, 1],
    // Strided with few outputs per image: the input gradient runs several images per GEMM.
    ['stride 2, 7 small images', [7, 6, 9, 11], [5, 6, 3, 3], 2, 1, 1, 1],
    ['stride 2, 5 images, groups 2, 2x2 kernel', [5, 4, 8, 7], [6, 2, 2, 2], 2, 0, 1, 2],
    ['stride 2, batch 1, small', [1, 8, 9, 9], [4, 8, 3, 3], 2, 0, 1, 1],
  ];
  for (const [name, xs, ws, s, p, d, groups] of cases) {
    it(name, () => {
      const x = gen(xs, 41), w = gen(ws, 43, { scale: 0.3 });
      const OH = Math.floor((xs[2] + 2 * p - d * (ws[2] - 1) - 1) / s) + 1, OW = Math.floor((xs[3] + 2 * p - d * (ws[3] - 1) - 1) / s) + 1;
      const gy = gen([xs[0], ws[0], OH, OW], 47);
      const ref = naiveConv(x, w, gy, s, p, d, groups);
      for (const threads of [1, 2]) {
        dt.setNumThreads(threads);
        forEachPath((path) => {
          const xg = x.clone().requiresGrad_(), wg = w.clone().requiresGrad_();
          const y = F.conv2d(xg, wg, null, { stride: s, padding: p, dilation: d, groups });
          y.backward(gy);
          const what = `${name} (${threads} threads, ${path})`;
          expectClose(flat(y), Array.from(ref.y), 1e-4, 1e-4, `${what} y`);
          expectClose(flat(xg.grad!), Array.from(ref.gx), 1e-4, 1e-4, `${what} gx`);
          expectClose(flat(wg.grad!), Array.from(ref.gw), 2e-3, 1e-4, `${what} gw`);
        });
      }
    });
  }
});

describe('layouts and batching', () => {
  it('takes non-contiguous inputs and unbatched [C, H, W] input', () => {
    const x = gen([2, 3, 6, 5], 51), w = gen([4, 3, 3, 3], 53);
    const y = F.conv2d(x, w, null, { padding: 1 });
    const xt = x.transpose(2, 3).contiguous().transpose(2, 3);
    expect(xt.isContiguous()).toBe(false);
    expectClose(flat(F.conv2d(xt, w, null, { padding: 1 })), flat(y), 0, 0, 'strided');
    const y0 = F.conv2d(x.select(0, 1), w, null, { padding: 1 });
    expect(y0.shape).toEqual([4, 6, 5]);
    expectClose(flat(y0), flat(y.select(0, 1).contiguous()), 0, 0, 'unbatched');
    const yt = F.convTranspose2d(x.select(0, 0), w.transpose(0, 1).contiguous(), null, { stride: 2 });
    expect(yt.shape).toEqual([4, 13, 11]);
  });

  it('accepts conv2d(x, w, options) without a bias', () => {
    const x = gen([1, 2, 5, 5], 61), w = gen([3, 2, 3, 3], 63);
    expectClose(flat(F.conv2d(x, w, { stride: 2 })), flat(F.conv2d(x, w, null, { stride: 2 })), 0, 0);
  });
});

describe('errors', () => {
  const x = dt.zeros([2, 3, 8, 8]), w = dt.zeros([4, 3, 3, 3]);
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(dt.DendriteError);
      return [(e as dt.DendriteError).code, (e as Error).message];
    }
    return expect.fail('no error thrown');
  };
  it('names expected and got for wrong channel counts and shapes', () => {
    let [c, m] = code(() => F.conv2d(dt.zeros([2, 4, 8, 8]), w));
    expect(c).toBe('ERR_SHAPE');
    expect(m).toMatch(/conv2d: expected input with 3 channels .*\[N, 3, H, W\], got \[2, 4, 8, 8\]/);
    [c, m] = code(() => F.conv2d(x, dt.zeros([4, 2, 3, 3]), null, { groups: 2 }));
    expect(c).toBe('ERR_SHAPE');
    expect(m).toMatch(/divisible by groups = 2|input with 4 channels/);
    [c, m] = code(() => F.conv2d(x, w, dt.zeros([3])));
    expect([c, m]).toEqual(['ERR_SHAPE', 'conv2d: expected bias of shape [4], got [3]']);
    [c, m] = code(() => F.conv2d(dt.zeros([8, 8]), w));
    expect(c).toBe('ERR_SHAPE');
    [c, m] = code(() => F.conv2d(x, dt.zeros([4, 3, 9, 9])));
    expect(c).toBe('ERR_SHAPE');
    expect(m).toMatch(/dilated kernel \[9, 9\]/);
    [c, m] = code(() => F.convTranspose2d(x, dt.zeros([4, 2, 3, 3])));
    expect(c).toBe('ERR_SHAPE');
    expect(m).toMatch(/convTranspose2d: expected input with 4 channels .*got \[2, 3, 8, 8\]/);
    [c] = code(() => new dt.nn.Conv2d(3, 8, 3).forward(dt.zeros([1, 1, 8, 8])));
    expect(c).toBe('ERR_SHAPE');
  });
  it('rejects bad arguments and dtypes', () => {
    expect(code(() => F.conv2d(x, w, null, { stride: 0 }))[0]).toBe('ERR_ARGUMENT');
    expect(code(() => F.conv2d(x, w, null, { padding: -1 }))[0]).toBe('ERR_ARGUMENT');
    expect(code(() => F.conv2d(x, w, null, { padding: 'same', stride: 2 }))[0]).toBe('ERR_ARGUMENT');
    expect(code(() => F.conv2d(x, w, null, { groups: 0 }))[0]).toBe('ERR_ARGUMENT');
    expect(code(() => F.conv2d(x, w.double()))[0]).toBe('ERR_DTYPE');
    expect(code(() => F.conv2d(x.int(), w.int()))[0]).toBe('ERR_DTYPE');
    expect(code(() => F.convTranspose2d(x, dt.zeros([3, 2, 3, 3]), null, { stride: 2, outputPadding: 2 }))[0]).toBe('ERR_ARGUMENT');
  });
});

it('values() mirrors the fixture generator', () => {
  expect(values(3, 0).every((v) => v >= -1 && v <= 1)).toBe(true);
});

// roiPool / roiAlign: torchvision fixtures (forward and feature-map gradient), gradcheck,
// SIMD paths against scalar, edge cases and errors, also straight at the native layer.
import { readFileSync } from 'fs';
import { createRequire } from 'module';
import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

// The addon as dist/index.js loaded it (Node's module cache: one instance, one metadata channel).
const { beginLayouts, native, putLayout } = createRequire(import.meta.url)('../../dist/native.js');

const fx = JSON.parse(readFileSync(new URL('../fixtures/roi.json', import.meta.url), 'utf8'));
type Enc = { shape: number[]; data: number[] };
const T = (e: Enc, dtype: 'float32' | 'float64' = 'float32') =>
  dt.tensor(dtype === 'float64' ? Float64Array.from(e.data) : Float32Array.from(e.data), { shape: e.shape });

function expectClose(t: dt.Tensor, ref: Enc, atol = 1e-5, rtol = 1e-5) {
  expect(t.shape).toEqual(ref.shape);
  const v = t.dataSync();
  let worst = 0;
  for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(Number(v[i]) - ref.data[i]) - rtol * Math.abs(ref.data[i]));
  expect(worst).toBeLessThanOrEqual(atol);
}

function expectError(fn: () => unknown, code: string, ...fragments: string[]) {
  let err: any;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(dt.DendriteError);
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

// The op table: one row per fixture case, each run through the functional form.
type Row = { name: string; run: (x: dt.Tensor, boxes: dt.Tensor) => dt.Tensor; c: any };
const rows: Row[] = [
  ...fx.roiPool.map((c: any) => ({
    name: `roiPool scale ${c.spatialScale} out ${c.outputSize}`,
    run: (x: dt.Tensor, b: dt.Tensor) => dt.F.roiPool(x, b, c.outputSize, { spatialScale: c.spatialScale }),
    c,
  })),
  ...fx.roiAlign.map((c: any) => ({
    name: `roiAlign aligned ${c.aligned} samplingRatio ${c.samplingRatio} scale ${c.spatialScale} out ${c.outputSize}`,
    run: (x: dt.Tensor, b: dt.Tensor) =>
      dt.F.roiAlign(x, b, { outputSize: c.outputSize, spatialScale: c.spatialScale, samplingRatio: c.samplingRatio, aligned: c.aligned }),
    c,
  })),
];

describe('roiPool / roiAlign against torchvision', () => {
  for (const path of ['default', 'scalar'] as const)
    for (const row of rows)
      it(`${row.name} (${path} path): forward and feature-map gradient`, () => {
        const saved = dt.cpuInfo().path;
        if (path === 'scalar') dt.cpu.setPath('scalar');
        try {
          const x = T(fx.x).requiresGrad_(true);
          const y = row.run(x, T(row.c.boxes));
          expectClose(y, row.c.out);
          y.backward(T(row.c.gradOut));
          expectClose(x.grad!, row.c.gradX);
        } finally {
          dt.cpu.setPath(saved as any);
        }
      });

  for (const c of fx.roiAlignWide.cases)
    it(`roiAlign on 16 channels (the channels-last path where SIMD is on), aligned ${c.aligned}`, () => {
      const x = T(fx.roiAlignWide.x).requiresGrad_(true);
      const y = dt.F.roiAlign(x, T(fx.roiAlignWide.boxes), 3, { samplingRatio: c.samplingRatio, aligned: c.aligned });
      expectClose(y, c.out);
      y.backward(T(c.gradOut));
      expectClose(x.grad!, c.gradX);
    });

  it('accepts boxes as one [Ki, 4] tensor per image, and the module forms agree', () => {
    const x = T(fx.x);
    const boxes = fx.roiAlignList.boxes.map((b: Enc) => T(b));
    expectClose(dt.F.roiAlign(x, boxes, 2, { spatialScale: 1, samplingRatio: 2, aligned: true }), fx.roiAlignList.out);
    expectClose(dt.F.roiPool(x, boxes, 2), fx.roiAlignList.outPool);
    expectClose(new dt.nn.RoIAlign(2, 1, 2, { aligned: true }).forward(x, boxes), fx.roiAlignList.out);
    expectClose(new dt.nn.RoIPool([2, 2], 1).forward(x, boxes), fx.roiAlignList.outPool);
    expect(String(new dt.nn.RoIAlign(7, 1 / 16, 2))).toContain('RoIAlign(outputSize=7, spatialScale=0.0625, samplingRatio=2, aligned=false)');
  });

  it('feature maps in float64, non-contiguous, and boxes of another dtype give the same values', () => {
    const c = fx.roiAlign.find((r: any) => r.aligned && r.samplingRatio === 2);
    const opts = { outputSize: c.outputSize, spatialScale: c.spatialScale, samplingRatio: 2, aligned: true };
    expectClose(dt.F.roiAlign(T(fx.x, 'float64'), T(c.boxes), opts), c.out, 1e-6);
    const permuted = T(fx.x).permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2]);
    expect(permuted.isContiguous()).toBe(false);
    expectClose(dt.F.roiAlign(permuted, T(c.boxes, 'float64'), opts), c.out);
  });
});

describe('roiAlign gradcheck (float64)', () => {
  const x = dt.randn([2, 3, 6, 7], { dtype: 'float64' }).requiresGrad_(true);
  const boxes = dt.tensor([[0, 0.3, 0.6, 4.2, 5.1], [1, 2.2, -0.7, 6.9, 3.3], [1, -1.5, 4.5, 2.0, 7.0], [0, 5.5, 3.5, 1.0, 0.5]], { dtype: 'float64' });
  for (const aligned of [false, true])
    for (const samplingRatio of [0, 2])
      it(`aligned ${aligned}, samplingRatio ${samplingRatio}`, () => {
        expect(dt.autograd.gradcheck((t) => dt.F.roiAlign(t, boxes, [3, 2], { spatialScale: 0.9, samplingRatio, aligned }), [x])).toBe(true);
      });
  it('roiPool (max routes the gradient; inputs without ties)', () => {
    expect(dt.autograd.gradcheck((t) => dt.F.roiPool(t, boxes, [2, 3], { spatialScale: 0.9 }), [x])).toBe(true);
  });
});

describe('roiAlign / roiPool SIMD paths against scalar', () => {
  const simd = dt.cpuInfo().supportedPaths.filter((p: string) => p !== 'scalar');
  // Channel counts around the vector widths (8, 16, 4 x 16) exercise every block and the tails.
  const cases = [
    { n: 2, c: 24, h: 23, w: 19, k: 60, out: [7, 5] },
    { n: 1, c: 8, h: 9, w: 31, k: 25, out: [2, 3] },
    { n: 3, c: 67, h: 12, w: 12, k: 40, out: [7, 7] },
  ];
  function run(path: string, cs: (typeof cases)[number], aligned: boolean, samplingRatio: number, pool = false) {
    dt.cpu.setPath(path as any);
    dt.manualSeed(7);
    const x = dt.randn([cs.n, cs.c, cs.h, cs.w]).requiresGrad_(true);
    const corners = dt.rand([cs.k, 4]).mul(dt.tensor([cs.w, cs.h, cs.w, cs.h])).mul(1.4).sub(3);
    const idx = dt.randint(0, cs.n, [cs.k, 1]).float();
    const boxes = dt.cat([idx, dt.minimum(corners.narrow(1, 0, 2), corners.narrow(1, 2, 2)), dt.maximum(corners.narrow(1, 0, 2), corners.narrow(1, 2, 2))], 1);
    const y = pool
      ? dt.F.roiPool(x, boxes, cs.out as [number, number], { spatialScale: 0.8 })
      : dt.F.roiAlign(x, boxes, cs.out as [number, number], { spatialScale: 0.8, samplingRatio, aligned });
    y.backward(dt.randn(y.shape));
    return [Float32Array.from(y.dataSync() as Float32Array), Float32Array.from(x.grad!.dataSync() as Float32Array)];
  }
  for (const path of simd)
    for (const [i, cs] of cases.entries())
      it(`${path}, case ${i}`, () => {
        const saved = dt.cpuInfo().path;
        try {
          for (const aligned of [false, true])
            for (const samplingRatio of [0, 2]) {
              const [ys, gs] = run('scalar', cs, aligned, samplingRatio);
              const [yv, gv] = run(path, cs, aligned, samplingRatio);
              expect(maxAbsDiff(ys, yv)).toBeLessThan(1e-5);
              expect(maxAbsDiff(gs, gv)).toBeLessThan(1e-5);
            }
          // RoIPool's max is exact and its argmax (seen through the gradient) must agree too.
          const [ps, pgs] = run('scalar', cs, false, 0, true);
          const [pv, pgv] = run(path, cs, false, 0, true);
          expect(maxAbsDiff(ps, pv)).toBe(0);
          expect(maxAbsDiff(pgs, pgv)).toBe(0);
        } finally {
          dt.cpu.setPath(saved as any);
        }
      });

  it('gives the same values with 1 and 2 threads', () => {
    const before = dt.getNumThreads();
    try {
      const results = [1, 2].map((n) => {
        dt.setNumThreads(n);
        return run(dt.cpuInfo().path, cases[0], true, 2);
      });
      expect(maxAbsDiff(results[0][0], results[1][0])).toBe(0);
      expect(maxAbsDiff(results[0][1], results[1][1])).toBe(0);
    } finally {
      dt.setNumThreads(before);
    }
  });
});

describe('roi edge cases', () => {
  const x = dt.randn([2, 4, 5, 6]);

  it('no boxes: an empty output and a zero gradient', () => {
    const xi = x.clone().requiresGrad_(true);
    for (const f of [dt.F.roiAlign, dt.F.roiPool]) {
      const y = f(xi, dt.zeros([0, 5]), 3);
      expect(y.shape).toEqual([0, 4, 3, 3]);
      y.sum().backward();
    }
    expect(xi.grad!.abs().sum().item()).toBe(0);
    expect(dt.F.roiAlign(x, [dt.zeros([0, 4]), dt.zeros([0, 4])], 2).shape).toEqual([0, 4, 2, 2]);
  });

  it('an empty feature map pools to zeros', () => {
    const e = dt.zeros([1, 3, 0, 4]);
    const b = dt.tensor([[0, 0, 0, 2, 2]]);
    expect(Array.from(dt.F.roiAlign(e, b, 2).dataSync())).toEqual(new Array(12).fill(0));
    expect(Array.from(dt.F.roiPool(e, b, 2).dataSync())).toEqual(new Array(12).fill(0));
  });

  it('boxes far outside the map, inverted or enormous give defined values (0 where nothing is sampled)', () => {
    const b = dt.tensor([[0, 100, 100, 120, 130], [1, -1e30, -1e30, 1e30, 1e30], [0, 4, 4, 1, 1], [1, -50, -50, -40, -45]]);
    const a = dt.F.roiAlign(x, b, 2, { samplingRatio: 2, aligned: true });
    const v = Array.from(a.dataSync());
    expect(v.every(Number.isFinite)).toBe(true);
    for (const k of [0, 1, 3]) expect(v.slice(16 * k, 16 * (k + 1)).every((z) => z === 0)).toBe(true);
    // An inverted box has a negative size once aligned: the adaptive grid takes no samples.
    expect(Array.from(dt.F.roiAlign(x, b.narrow(0, 2, 1), 2, { aligned: true }).dataSync()).every((z) => z === 0)).toBe(true);
    const p = dt.F.roiPool(x, b, 2);
    expect(Array.from(p.dataSync()).every(Number.isFinite)).toBe(true);
    expect(Array.from(p.dataSync()).slice(0, 16).every((z) => z === 0)).toBe(true);
  });

  it('leaves no tensors behind inside tidy, forward and backward', () => {
    const xi = x.clone().requiresGrad_(true);
    const before = dt.memory().numTensors;
    dt.tidy(() => {
      dt.F.roiAlign(xi, [dt.tensor([[0, 0, 3, 3]]), dt.tensor([[1, 1, 4, 4]])], 2).sum().backward();
      dt.F.roiPool(xi, dt.tensor([[0, 0, 0, 3, 3]]), 2).sum().backward();
      dt.noGrad(() => dt.F.roiAlign(xi, dt.tensor([[0, 0, 0, 3, 3]]), 2));
    });
    expect(dt.memory().numTensors).toBe(before + 1); // xi.grad
  });
});

describe('roi errors', () => {
  const x = dt.randn([2, 3, 5, 5]);
  const b = dt.tensor([[0, 0, 0, 2, 2]]);

  it('rejects a batch index that does not exist with ERR_INDEX, leaving no half-made tensor', () => {
    const past = dt.tensor([[2, 0, 0, 2, 2]]), negative = dt.tensor([[0, 0, 0, 1, 1], [-1, 0, 0, 2, 2]]);
    const fractional = dt.tensor([[0.5, 0, 0, 2, 2]]), perImage = [dt.ones([1, 4]), dt.ones([1, 4]), dt.ones([1, 4])];
    const xg = x.clone().requiresGrad_(true);
    const before = dt.memory().numTensors;
    for (const f of [dt.F.roiAlign, dt.F.roiPool])
      for (const input of [x, xg]) {
        expectError(() => f(input, past, 2), 'ERR_INDEX', 'batch indices', '[0, 2)', 'box 0');
        expectError(() => f(input, negative, 2), 'ERR_INDEX', 'box 1');
        expectError(() => f(input, fractional, 2), 'ERR_INDEX', 'integers');
        expectError(() => f(input, perImage, 2), 'ERR_INDEX');
      }
    expect(dt.memory().numTensors).toBe(before);
  });

  it('rejects non-finite coordinates, bad shapes, dtypes and options', () => {
    expectError(() => dt.F.roiAlign(x, dt.tensor([[0, NaN, 0, 2, 2]]), 2), 'ERR_ARGUMENT', 'finite box coordinates');
    expectError(() => dt.F.roiPool(x, dt.tensor([[0, 0, Infinity, 2, 2]]), 2), 'ERR_ARGUMENT', 'finite');
    expectError(() => dt.F.roiAlign(x, dt.tensor([[0, 0, 2, 2]]), 2), 'ERR_SHAPE', 'roiAlign', '[K, 5]', '[1, 4]');
    expectError(() => dt.F.roiAlign(x, [dt.ones([2, 5])], 2), 'ERR_SHAPE', 'boxes[0]');
    expectError(() => dt.F.roiAlign(x, 'boxes' as any, 2), 'ERR_ARGUMENT');
    expectError(() => dt.F.roiAlign(dt.ones([3, 5, 5]), b, 2), 'ERR_SHAPE', '[N, C, H, W]');
    expectError(() => dt.F.roiPool(dt.ones([1, 3, 5, 5], { dtype: 'int32' }), b, 2), 'ERR_DTYPE');
    expectError(() => dt.F.roiAlign(x, b, 0), 'ERR_ARGUMENT', 'outputSize');
    expectError(() => dt.F.roiAlign(x, b, [2, 1.5] as any), 'ERR_ARGUMENT', 'outputSize');
    expectError(() => dt.F.roiAlign(x, b, {} as any), 'ERR_ARGUMENT', 'outputSize');
    expectError(() => dt.F.roiAlign(x, b, 2, { spatialScale: 0 }), 'ERR_ARGUMENT', 'spatialScale');
    expectError(() => dt.F.roiAlign(x, b, 2, { samplingRatio: 1.5 }), 'ERR_ARGUMENT', 'samplingRatio');
    expectError(() => dt.F.roiAlign(x, b, 2, { aligned: 1 as any }), 'ERR_ARGUMENT', 'aligned');
    // An adaptive grid for a box a million cells tall would take minutes: refused with a hint.
    expectError(() => dt.F.roiAlign(x, dt.tensor([[0, 0, 0, 2, 1e7]]), 2), 'ERR_ARGUMENT', 'adaptive sampling grid', 'samplingRatio');
    expect(dt.F.roiAlign(x, dt.tensor([[0, 0, 0, 2, 1e7]]), 2, { samplingRatio: 2 }).shape).toEqual([1, 3, 2, 2]);
  });

  it('the native layer validates again: shapes, dtypes, batch indices and argmax values', () => {
    const out = dt.zeros([1, 3, 2, 2]);
    const rois = dt.tensor([[5, 0, 0, 2, 2]]);
    const layouts = (...ts: dt.Tensor[]) => {
      beginLayouts();
      for (const t of ts) putLayout(t.dtype, 0, t.offset, t.shape, t.strides);
    };
    expectError(() => {
      layouts(out, x, rois);
      native.roiAlign(2, 2, 1, 2, false, out.storage.buffer, x.storage.buffer, rois.storage.buffer);
    }, 'ERR_INDEX', 'roiAlign', 'batch indices');
    expectError(() => {
      layouts(out, x, b);
      native.roiAlign(3, 2, 1, 2, false, out.storage.buffer, x.storage.buffer, b.storage.buffer);
    }, 'ERR_SHAPE', 'output of shape [1, 3, 3, 2]');
    const b64 = b.to('float64');
    expectError(() => {
      layouts(out, x, b64);
      native.roiAlign(2, 2, 1, 2, false, out.storage.buffer, x.storage.buffer, b64.storage.buffer);
    }, 'ERR_DTYPE', 'boxes of dtype float32');
    const argmax = dt.full([1, 3, 2, 2], 25, { dtype: 'int32' });
    const gx = dt.zeros([2, 3, 5, 5]);
    expectError(() => {
      layouts(gx, out, argmax, b);
      native.roiPoolBackward(gx.storage.buffer, out.storage.buffer, argmax.storage.buffer, b.storage.buffer);
    }, 'ERR_INDEX', 'argmax values in [-1, 25)');
    expectError(() => {
      layouts(out, argmax, x, b);
      native.roiPool(2, 2, -1, out.storage.buffer, argmax.storage.buffer, x.storage.buffer, b.storage.buffer);
    }, 'ERR_ARGUMENT', 'spatialScale');
  });
});

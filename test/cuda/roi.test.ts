// The roi family's CUDA kernels against the CPU ones (themselves tested against torchvision in
// test/roi): roiAlign / roiPool forward and feature-map gradient over the fixture cases and larger
// random ones, box IoU, nms and batched nms (ties, NaN scores, the sort across tiles, the host
// fallback above 2^16 boxes), anchors and small-box removal on the device, and the errors.
// The backwards scatter with atomicAdd: their sums are compared with a tolerance, not bitwise.
import { readFileSync } from 'fs';
import { createRequire } from 'module';
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { describeCuda, expectClose, seeded, values } from './helpers';

const { beginLayouts, native, putLayout } = createRequire(import.meta.url)('../../dist/native.js');

const fx = JSON.parse(readFileSync(new URL('../fixtures/roi.json', import.meta.url), 'utf8'));
type Enc = { shape: number[]; data: number[] };
const T = (e: Enc, dtype: 'float32' | 'float64' = 'float32') =>
  dt.tensor(dtype === 'float64' ? Float64Array.from(e.data) : Float32Array.from(e.data), { shape: e.shape });

type Boxes = dt.Tensor | dt.Tensor[];
const toCuda = (b: Boxes): Boxes => (Array.isArray(b) ? b.map((t) => t.cuda()) : b.cuda());
const ints = (t: dt.Tensor) => values(t);

function expectError(fn: () => unknown, code: string, ...fragments: string[]): string {
  let err: any;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(dt.DendriteError);
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
  return err.message;
}

/**
 * run(x, boxes) on the CPU and on CUDA (x and boxes copied there), forward compared, then the
 * same output gradient pushed back through both and the feature-map gradients compared.
 */
function compareRoi(x: dt.Tensor, boxes: Boxes, run: (x: dt.Tensor, b: Boxes) => dt.Tensor, what: string, tol = { fwd: 1e-5, grad: 1e-5 }) {
  const xCpu = x.clone().requiresGrad_(true);
  const xGpu = x.cuda().requiresGrad_(true);
  const yCpu = run(xCpu, boxes);
  const yGpu = run(xGpu, toCuda(boxes));
  expectClose(yGpu, yCpu, tol.fwd, tol.fwd, `${what} forward`);
  const rng = seeded(yCpu.numel() + 11);
  const g = yCpu.numel() === 0
    ? dt.zeros(yCpu.shape, { dtype: yCpu.dtype })
    : dt.tensor(Array.from({ length: yCpu.numel() }, () => rng() * 2 - 1), { shape: yCpu.shape, dtype: yCpu.dtype });
  yCpu.backward(g);
  yGpu.backward(g.cuda());
  expectClose(xGpu.grad!, xCpu.grad!, tol.grad, tol.grad, `${what} gradient`);
}

// The fixture rows of test/roi/roi.test.ts.
const alignRows = fx.roiAlign.map((c: any) => ({
  name: `roiAlign aligned ${c.aligned} samplingRatio ${c.samplingRatio} scale ${c.spatialScale} out ${c.outputSize}`,
  boxes: c.boxes,
  run: (x: dt.Tensor, b: Boxes) =>
    dt.F.roiAlign(x, b, { outputSize: c.outputSize, spatialScale: c.spatialScale, samplingRatio: c.samplingRatio, aligned: c.aligned }),
}));
const poolRows = fx.roiPool.map((c: any) => ({
  name: `roiPool scale ${c.spatialScale} out ${c.outputSize}`,
  boxes: c.boxes,
  run: (x: dt.Tensor, b: Boxes) => dt.F.roiPool(x, b, c.outputSize, { spatialScale: c.spatialScale }),
}));

/** Random boxes [idx, x1, y1, x2, y2] reaching past the map on every side (as the CPU SIMD tests). */
function randomRois(n: number, h: number, w: number, k: number, seed: number, dtype: dt.DType = 'float32'): dt.Tensor {
  const rng = seeded(seed);
  const rows: number[][] = [];
  for (let i = 0; i < k; i++) {
    const xs = [rng() * w * 1.4 - 3, rng() * w * 1.4 - 3], ys = [rng() * h * 1.4 - 3, rng() * h * 1.4 - 3];
    rows.push([Math.floor(rng() * n), Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]);
  }
  return dt.tensor(rows, { dtype });
}

function randomMap(shape: number[], seed: number, dtype: dt.DType = 'float32'): dt.Tensor {
  const rng = seeded(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return dt.tensor(Array.from({ length: n }, () => rng() * 4 - 2), { shape, dtype });
}

describeCuda('cuda roiAlign / roiPool', () => {
  it('match the CPU on every fixture case, float32 and float64, forward and gradient', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const tol = dtype === 'float32' ? { fwd: 1e-5, grad: 1e-5 } : { fwd: 1e-12, grad: 1e-12 };
      for (const row of alignRows) compareRoi(T(fx.x, dtype), T(row.boxes, dtype), row.run, `${row.name} ${dtype}`, tol);
      // Max pooling picks values: exact; its gradient sums routed values (atomics): a tolerance.
      for (const row of poolRows) compareRoi(T(fx.x, dtype), T(row.boxes, dtype), row.run, `${row.name} ${dtype}`, { fwd: 0, grad: tol.grad });
    }
  });

  it('match the CPU on 16 channels (the CPU channels-last path) and on larger random cases', () => {
    for (const c of fx.roiAlignWide.cases)
      compareRoi(T(fx.roiAlignWide.x), T(fx.roiAlignWide.boxes), (x, b) => dt.F.roiAlign(x, b, 3, { samplingRatio: c.samplingRatio, aligned: c.aligned }),
        `wide aligned ${c.aligned}`);
    const cases = [
      { n: 2, c: 24, h: 23, w: 19, k: 60, out: [7, 5] as [number, number] },
      { n: 1, c: 8, h: 9, w: 31, k: 25, out: [2, 3] as [number, number] },
      { n: 3, c: 67, h: 12, w: 12, k: 40, out: [7, 7] as [number, number] },
      { n: 2, c: 3, h: 1, w: 1, k: 9, out: [2, 2] as [number, number] },
    ];
    for (const [i, cs] of cases.entries()) {
      const x = randomMap([cs.n, cs.c, cs.h, cs.w], 100 + i);
      const boxes = randomRois(cs.n, cs.h, cs.w, cs.k, 200 + i);
      for (const aligned of [false, true])
        for (const samplingRatio of [-1, 0, 1, 2, 3])
          compareRoi(x, boxes, (t, b) => dt.F.roiAlign(t, b, cs.out, { spatialScale: 0.8, samplingRatio, aligned }),
            `case ${i} aligned ${aligned} samplingRatio ${samplingRatio}`, { fwd: 1e-5, grad: 2e-5 });
      for (const scale of [0.8, 1, 0.25])
        compareRoi(x, boxes, (t, b) => dt.F.roiPool(t, b, cs.out, { spatialScale: scale }), `case ${i} roiPool scale ${scale}`, { fwd: 0, grad: 1e-5 });
    }
  });

  it('take boxes as one tensor per image (built on the device, also from CPU box lists) and in module form', () => {
    const x = T(fx.x);
    const boxes = fx.roiAlignList.boxes.map((b: Enc) => T(b));
    compareRoi(x, boxes, (t, b) => dt.F.roiAlign(t, b, 2, { spatialScale: 1, samplingRatio: 2, aligned: true }), 'roiAlign list');
    compareRoi(x, boxes, (t, b) => dt.F.roiPool(t, b, 2), 'roiPool list', { fwd: 0, grad: 1e-6 });
    // CPU boxes with a CUDA map: copied over while the (K, 5) tensor is assembled.
    const want = dt.F.roiAlign(x, boxes, 2, { samplingRatio: 2, aligned: true });
    expectClose(dt.F.roiAlign(x.cuda(), boxes, 2, { samplingRatio: 2, aligned: true }), want, 1e-5, 1e-6, 'list of CPU boxes');
    expectClose(new dt.nn.RoIAlign(2, 1, 2, { aligned: true }).forward(x.cuda(), toCuda(boxes)), want, 1e-5, 1e-6, 'RoIAlign module');
    expectClose(new dt.nn.RoIPool([2, 2], 1).forward(x.cuda(), toCuda(boxes)), dt.F.roiPool(x, boxes, 2), 0, 0, 'RoIPool module');
    // float64 boxes for a float32 map, and a non-contiguous map.
    const c = fx.roiAlign.find((r: any) => r.aligned && r.samplingRatio === 2);
    const opts = { outputSize: c.outputSize, spatialScale: c.spatialScale, samplingRatio: 2, aligned: true };
    const permuted = T(fx.x).cuda().permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2]);
    expect(permuted.isContiguous()).toBe(false);
    expectClose(dt.F.roiAlign(permuted, T(c.boxes, 'float64').cuda(), opts), dt.F.roiAlign(T(fx.x), T(c.boxes), opts), 1e-5, 1e-6, 'strided map');
  });

  it('edge cases: no boxes, an empty map, boxes far outside, inverted or enormous', () => {
    const x = randomMap([2, 4, 5, 6], 7);
    for (const f of [dt.F.roiAlign, dt.F.roiPool]) {
      compareRoi(x, dt.zeros([0, 5]), (t, b) => f(t, b as dt.Tensor, 3), 'no boxes');
      const xi = x.cuda().requiresGrad_(true);
      const y = f(xi, dt.zeros([0, 5], { device: 'cuda' }), 3);
      expect(y.shape).toEqual([0, 4, 3, 3]);
      y.sum().backward();
      expect(values(xi.grad!).every((v) => v === 0)).toBe(true);
    }
    expect(dt.F.roiAlign(x.cuda(), [dt.zeros([0, 4]).cuda(), dt.zeros([0, 4]).cuda()], 2).shape).toEqual([0, 4, 2, 2]);
    const empty = dt.zeros([1, 3, 0, 4], { device: 'cuda' });
    const b = dt.tensor([[0, 0, 0, 2, 2]], { device: 'cuda' });
    expect(values(dt.F.roiAlign(empty, b, 2))).toEqual(new Array(12).fill(0));
    expect(values(dt.F.roiPool(empty, b, 2))).toEqual(new Array(12).fill(0));
    const odd = dt.tensor([[0, 100, 100, 120, 130], [1, -1e30, -1e30, 1e30, 1e30], [0, 4, 4, 1, 1], [1, -50, -50, -40, -45]]);
    compareRoi(x, odd, (t, bb) => dt.F.roiAlign(t, bb, 2, { samplingRatio: 2, aligned: true }), 'odd boxes aligned');
    compareRoi(x, odd, (t, bb) => dt.F.roiAlign(t, bb, 2, { samplingRatio: 1 }), 'odd boxes');
    compareRoi(x, odd.narrow(0, 2, 1).contiguous(), (t, bb) => dt.F.roiAlign(t, bb, 2, { aligned: true }), 'inverted adaptive');
    compareRoi(x, odd, (t, bb) => dt.F.roiPool(t, bb, 2), 'odd boxes roiPool', { fwd: 0, grad: 1e-6 });
  });

  it('reject bad boxes with the CPU errors before writing anything, and leave no tensors behind', () => {
    const xCpu = randomMap([2, 3, 5, 5], 3);
    const inputs: Array<[dt.Tensor, dt.Tensor]> = [
      [xCpu, xCpu.cuda()],
      [xCpu.clone().requiresGrad_(true), xCpu.cuda().requiresGrad_(true)],
    ];
    const cases: Array<[Boxes, string, string[]]> = [
      [dt.tensor([[2, 0, 0, 2, 2]]), 'ERR_INDEX', ['batch indices', '[0, 2)', 'box 0']],
      [dt.tensor([[0, 0, 0, 1, 1], [-1, 0, 0, 2, 2]]), 'ERR_INDEX', ['box 1']],
      [dt.tensor([[0.5, 0, 0, 2, 2]]), 'ERR_INDEX', ['integers']],
      [[dt.ones([1, 4]), dt.ones([1, 4]), dt.ones([1, 4])], 'ERR_INDEX', []],
      [dt.tensor([[0, 1, 1, 2, 2], [0, 0, NaN, 2, 2]]), 'ERR_ARGUMENT', ['finite box coordinates', 'box 1']],
      [dt.tensor([[0, 0, 0, 2, 2], [1, 0, Infinity, 2, 2]]), 'ERR_ARGUMENT', ['finite']],
      [dt.tensor([[0, 0, 0, 2, 1e7]]), 'ERR_ARGUMENT', ['adaptive sampling grid', 'samplingRatio', 'box 0']],
    ];
    const onDevice = cases.map(([b]) => toCuda(b));
    const before = dt.memory().numTensors;
    for (const f of [dt.F.roiAlign, dt.F.roiPool])
      for (const [inCpu, inGpu] of inputs)
        cases.forEach(([boxes, code, fragments], i) => {
          if (f === dt.F.roiPool && fragments.includes('adaptive sampling grid')) return;  // roiAlign only
          const onCpu = expectError(() => f(inCpu, boxes, 2), code, ...fragments);
          const onGpu = expectError(() => f(inGpu, onDevice[i], 2), code, ...fragments);
          expect(onGpu).toBe(onCpu);
        });
    expect(dt.memory().numTensors).toBe(before);
    expect(dt.F.roiAlign(inputs[0][1], onDevice[6], 2, { samplingRatio: 2 }).shape).toEqual([1, 3, 2, 2]);
  });

  it('validate again at the native layer: argmax values of roiPool backward, boxes of the backwards', () => {
    const layouts = (...ts: dt.Tensor[]) => {
      beginLayouts();
      for (const t of ts) putLayout(t.dtype, t.device === 'cuda' ? 1 : 0, t.offset, t.shape, t.strides);
    };
    const out = dt.zeros([1, 3, 2, 2], { device: 'cuda' });
    const b = dt.tensor([[0, 0, 0, 2, 2]], { device: 'cuda' });
    const gx = dt.zeros([2, 3, 5, 5], { device: 'cuda' });
    const argmax = dt.full([1, 3, 2, 2], 25, { dtype: 'int32', device: 'cuda' });
    expectError(() => {
      layouts(gx, out, argmax, b);
      native.roiPoolBackward(gx.storage.buffer, out.storage.buffer, argmax.storage.buffer, b.storage.buffer);
    }, 'ERR_INDEX', 'argmax values in [-1, 25)', 'got 25');
    const bad = dt.tensor([[5, 0, 0, 2, 2]], { device: 'cuda' });
    const ok = dt.full([1, 3, 2, 2], -1, { dtype: 'int32', device: 'cuda' });
    expectError(() => {
      layouts(gx, out, ok, bad);
      native.roiPoolBackward(gx.storage.buffer, out.storage.buffer, ok.storage.buffer, bad.storage.buffer);
    }, 'ERR_INDEX', 'batch indices');
    expectError(() => {
      layouts(gx, out, bad);
      native.roiAlignBackward(2, 2, 1, 2, false, gx.storage.buffer, out.storage.buffer, bad.storage.buffer);
    }, 'ERR_INDEX', 'roiAlign backward', 'batch indices');
    // Mixed devices are refused by the binding.
    const cpuBoxes = dt.tensor([[0, 0, 0, 2, 2]]);
    expectError(() => {
      layouts(out, gx, cpuBoxes);
      native.roiAlign(2, 2, 1, 2, false, out.storage.buffer, gx.storage.buffer, cpuBoxes.storage.buffer);
    }, 'ERR_DEVICE');
  });
});

function randomBoxes(n: number, size: number, seed: number, maxSide = size / 5): dt.Tensor {
  const rng = seeded(seed);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const x = rng() * size, y = rng() * size;
    rows.push([x, y, x + 1 + rng() * maxSide, y + 1 + rng() * maxSide]);
  }
  return dt.tensor(rows);
}

function randomScores(n: number, seed: number, levels = 0): dt.Tensor {
  const rng = seeded(seed);
  return dt.tensor(Array.from({ length: n }, () => (levels ? Math.floor(rng() * levels) / levels : rng())));
}

/**
 * nms / batchedNms on the CPU and on CUDA: the same indices in the same order, int64 on the device.
 * The CPU runs its scalar reference (the CUDA IoU rounds as it does; a SIMD path may fuse an fma),
 * and so does the host fallback above 2^16 boxes.
 */
function compareNms(boxes: dt.Tensor, scores: dt.Tensor, threshold: number, classes: dt.Tensor | null, what: string): number[] {
  const saved = dt.cpuInfo().path as any;
  if (dt.cpuInfo().supportedPaths.includes('scalar')) dt.cpu.setPath('scalar');
  try {
    return compareNmsOnPath(boxes, scores, threshold, classes, what);
  } finally {
    dt.cpu.setPath(saved);
  }
}

function compareNmsOnPath(boxes: dt.Tensor, scores: dt.Tensor, threshold: number, classes: dt.Tensor | null, what: string): number[] {
  const want = classes ? dt.ops.batchedNms(boxes, scores, classes, threshold) : dt.ops.nms(boxes, scores, threshold);
  const got = classes
    ? dt.ops.batchedNms(boxes.cuda(), scores.cuda(), classes.cuda(), threshold)
    : dt.ops.nms(boxes.cuda(), scores.cuda(), threshold);
  expect(got.device, what).toBe('cuda');
  expect(got.dtype, what).toBe('int64');
  expect(ints(got), what).toEqual(ints(want));
  return ints(want);
}

describeCuda('cuda boxIou / nms / anchors', () => {
  it('boxIou matches the CPU: fixtures, 301 x 517 random boxes, float64, empty sets', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const a = T(fx.boxIou.a, dtype), b = T(fx.boxIou.b, dtype);
      expectClose(dt.F.boxIou(a.cuda(), b.cuda()), dt.F.boxIou(a, b), 1e-6, 1e-7, `fixture ${dtype}`);
    }
    const a = randomBoxes(301, 50, 1), b = randomBoxes(517, 50, 2);
    expectClose(dt.F.boxIou(a.cuda(), b.cuda()), dt.F.boxIou(a, b), 1e-6, 1e-7, 'random');
    expect(dt.F.boxIou(dt.zeros([0, 4]).cuda(), b.cuda()).shape).toEqual([0, 517]);
    expect(dt.F.boxIou(a.cuda(), dt.zeros([0, 4]).cuda()).shape).toEqual([301, 0]);
    // With an input that requires grad the composed (autograd) form runs, on the device too.
    const ag = a.narrow(0, 0, 7).contiguous().cuda().requiresGrad_(true);
    const iou = dt.F.boxIou(ag, b.narrow(0, 0, 5).contiguous().cuda());
    iou.sum().backward();
    expect(ag.grad!.device).toBe('cuda');
  });

  it('nms and batchedNms keep the CPU boxes on the fixtures (float32, float64, int32 and int64 classes)', () => {
    for (const [i, c] of fx.nms.entries()) {
      expect(compareNms(T(c.boxes), T(c.scores), c.iouThreshold, null, `nms case ${i}`)).toEqual(c.keep);
      expect(compareNms(T(c.boxes, 'float64'), T(c.scores, 'float64'), c.iouThreshold, null, `nms64 case ${i}`)).toEqual(c.keep64);
    }
    for (const [i, c] of fx.batchedNms.entries())
      for (const dtype of ['int64', 'int32'] as const)
        expect(compareNms(T(c.boxes), T(c.scores), c.iouThreshold, dt.tensor(c.classes, { dtype }), `batched ${i} ${dtype}`)).toEqual(c.keep);
  });

  it('orders ties by index and NaN scores first; classes never suppress each other', () => {
    const far = dt.tensor([[0, 0, 1, 1], [5, 5, 6, 6], [10, 10, 11, 11], [20, 20, 21, 21], [30, 30, 31, 31]]);
    expect(compareNms(far, dt.tensor([0.5, 0.7, 0.5, 0.7, 0.5]), 0.5, null, 'ties')).toEqual([1, 3, 0, 2, 4]);
    expect(compareNms(far, dt.tensor([NaN, 0.7, 0.5, NaN, 0.5]), 0.5, null, 'NaN')).toEqual([0, 3, 1, 2, 4]);
    expect(compareNms(far, dt.tensor([0, -0, Infinity, -Infinity, -0]), 0.5, null, 'zeros and infinities')).toEqual([2, 0, 1, 4, 3]);
    const same = dt.tensor([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]);
    const scores = dt.tensor([0.1, 0.9, 0.5, 0.7]);
    expect(compareNms(same, scores, 0.5, null, 'identical')).toEqual([1]);
    expect(compareNms(same, scores, 0.5, dt.tensor([0, 1, 0, 1], { dtype: 'int64' }), 'two classes')).toEqual([1, 2]);
    expect(compareNms(same, scores, 0.5, dt.tensor([3, 2, 1, 0], { dtype: 'int32' }), 'four classes')).toEqual([1, 3, 2, 0]);
    expect(compareNms(same, scores, 0.5, dt.tensor([2 ** 40, 1, 2 ** 40, 1], { dtype: 'int64' }), 'wide class ids')).toEqual([1, 2]);
  });

  it('sorts like torch.sort across tiles: 5000 disjoint boxes with heavily tied scores', () => {
    const n = 5000;
    const rows = Array.from({ length: n }, (_, i) => [3 * (i % 100), 3 * Math.floor(i / 100), 3 * (i % 100) + 2, 3 * Math.floor(i / 100) + 2]);
    const boxes = dt.tensor(rows);
    const keep = compareNms(boxes, randomScores(n, 5, 7), 0.5, null, 'tied scores');
    expect(keep.length).toBe(n);
    const special = randomScores(n, 6, 5).toArray() as number[];
    [0, 17, 2047, 2048, 4999].forEach((i) => (special[i] = NaN));
    [3, 2049].forEach((i) => (special[i] = -0));
    [4, 4000].forEach((i) => (special[i] = Infinity));
    [5, 4001].forEach((i) => (special[i] = -Infinity));
    compareNms(boxes, dt.tensor(special), 0.5, null, 'special scores');
    compareNms(boxes.to('float64'), dt.tensor(special, { dtype: 'float64' }), 0.5, null, 'special scores float64');
  });

  it('keeps the CPU boxes on thousands of overlapping boxes, at the 2^16 limit and above it (host fallback)', () => {
    const boxes = randomBoxes(3000, 200, 3);
    const scores = randomScores(3000, 4);
    const rng = seeded(9);
    const classes = dt.tensor(Array.from({ length: 3000 }, () => Math.floor(rng() * 5)), { dtype: 'int64' });
    for (const thr of [0, 0.3, 0.5, 0.7, 1]) {
      compareNms(boxes, scores, thr, null, `3000 boxes thr ${thr}`);
      compareNms(boxes, scores, thr, classes, `3000 boxes batched thr ${thr}`);
    }
    for (const n of [20000, 65536, 70000]) {
      const big = randomBoxes(n, 300, n, 30);
      compareNms(big, randomScores(n, n + 1), 0.5, null, `${n} boxes`);
    }
  });

  it('handles no boxes, one box and non-contiguous inputs', () => {
    const none = dt.ops.nms(dt.zeros([0, 4]).cuda(), dt.zeros([0]).cuda(), 0.5);
    expect(none.shape).toEqual([0]);
    expect(none.device).toBe('cuda');
    expect(compareNms(dt.tensor([[1, 1, 2, 2]]), dt.tensor([0.3]), 0.5, null, 'one box')).toEqual([0]);
    const c = fx.nms[0];
    const strided = T(c.boxes).cuda().t().contiguous().t();
    expect(strided.isContiguous()).toBe(false);
    expect(ints(dt.F.nms(strided, T(c.scores).cuda(), c.iouThreshold))).toEqual(c.keep);
  });

  it('anchors follow the feature maps onto the device; removeSmallBoxes returns device indices', () => {
    const a = fx.anchors;
    const gen = new dt.ops.AnchorGenerator({ sizes: a.sizes, aspectRatios: a.aspectRatios });
    const maps = a.featureSizes.map(([h, w]: number[]) => dt.zeros([1, 8, h, w], { device: 'cuda' }));
    const out = gen.forward(dt.zeros([1, 3, ...a.imageSize], { device: 'cuda' }), maps);
    expect(out.device).toBe('cuda');
    expect(values(out)).toEqual(a.out.data);
    const one = new dt.ops.AnchorGenerator().forward([800, 800], [dt.zeros([1, 1, 50, 50], { device: 'cuda' })]);
    expect(one.device).toBe('cuda');
    expect(values(one)).toEqual(values(new dt.ops.AnchorGenerator().forward([800, 800], [[50, 50]])));
    expect(gen.forward(a.imageSize, a.featureSizes).device).toBe('cpu');
    const boxes = randomBoxes(200, 50, 8, 6);
    const small = dt.ops.removeSmallBoxes(boxes.cuda(), 3);
    expect(small.device).toBe('cuda');
    expect(ints(small)).toEqual(ints(dt.ops.removeSmallBoxes(boxes, 3)));
  });
});

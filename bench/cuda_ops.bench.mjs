// CUDA benchmark of the course's op families: convolution (and transposed convolution), LSTM,
// ROI align, NMS and a whole training step of the course CNN, beside PyTorch / cuDNN /
// torchvision on the same GPU in the same run (bench/cuda_ops_anchor.py; FP32, TF32 off,
// cudnn.benchmark = True).
//
//   node bench/cuda_ops.bench.mjs [--only conv,lstm,roi,nms,train] [--json out.json] [--no-python] [--python python3]
//
// Each case: `reps` calls between two synchronisations, the host clock around them, median of
// rounds (the anchor times the same loop with CUDA events). fwd+bwd clears the gradients, runs the
// forward with autograd and the backward with a fixed upstream gradient. The training step is
// zeroGrad, forward, cross-entropy, backward and Adam's step on a batch already on the GPU.
// The ratio column is PyTorch's time over dendrite's: above 1, dendrite is faster.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dt = require(path.join(root, 'dist/index.js'));
const { nn, F } = dt;

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const only = new Set(opt('only', 'conv,lstm,roi,nms,train').split(','));
const jsonOut = opt('json', null);
const python = opt('python', 'python3');
const withPython = !argv.includes('--no-python');
// --device cpu runs the same cases on the CPU (a dry run of this script where there is no GPU).
const DEV = opt('device', 'cuda');
const sync = () => (DEV === 'cuda' ? dt.cuda.synchronize() : undefined);

if (DEV === 'cuda' && !dt.cuda.isAvailable()) {
  console.log(`cuda ops bench: skipped (${dt.cuda.unavailableReason()})`);
  process.exit(0);
}

const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Seconds per call: `reps` calls between two synchronisations, median of `rounds`. */
function timed(fn, reps, rounds = 7) {
  fn();
  sync();
  const per = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = now();
    for (let i = 0; i < reps; i++) fn();
    sync();
    per.push((now() - t0) / reps);
  }
  return median(per);
}

const clearGrads = (...ts) => {
  for (const t of ts)
    if (t.grad) {
      t.grad.dispose();
      t.grad = null;
    }
};

// The shapes of the issue (NCHW; conv k×k, stride, padding).
const CASES = [
  { name: 'conv 64x32->32 26² k3', kind: 'conv', n: 64, cin: 32, cout: 32, h: 26, w: 26, k: 3, stride: 1, pad: 0, reps: 50 },
  { name: 'conv 8x64->64 56² k3 p1', kind: 'conv', n: 8, cin: 64, cout: 64, h: 56, w: 56, k: 3, stride: 1, pad: 1, reps: 50 },
  { name: 'conv 32x256->256 28² k3 p1', kind: 'conv', n: 32, cin: 256, cout: 256, h: 28, w: 28, k: 3, stride: 1, pad: 1, reps: 20 },
  { name: 'convT 1x1024->512 28²->56² k2 s2', kind: 'convT', n: 1, cin: 1024, cout: 512, h: 28, w: 28, k: 2, stride: 2, pad: 0, reps: 50 },
  { name: 'LSTM T50 b64 128->256', kind: 'lstm', T: 50, batch: 64, input: 128, hidden: 256, reps: 10 },
  { name: 'LSTM T100 b256 512->1024', kind: 'lstm', T: 100, batch: 256, input: 512, hidden: 1024, reps: 3 },
  { name: 'roiAlign 1x256x50² 300 boxes 7x7', kind: 'roiAlign', n: 1, c: 256, h: 50, w: 50, boxes: 300, out: 7, scale: 1 / 16, sampling: 2, reps: 50 },
  { name: 'roiAlign 2x256x100² 2000 boxes 7x7', kind: 'roiAlign', n: 2, c: 256, h: 100, w: 100, boxes: 2000, out: 7, scale: 1 / 16, sampling: 2, reps: 20 },
  { name: 'nms 2000 boxes', kind: 'nms', boxes: 2000, iou: 0.5, reps: 50 },
];
const TRAIN = [
  { name: 'course CNN batch 32', batch: 32, steps: 50 },
  { name: 'course CNN batch 256', batch: 256, steps: 20 },
];
const family = { conv: 'conv', convT: 'conv', lstm: 'lstm', roiAlign: 'roi', nms: 'nms' };
const cases = CASES.filter((c) => only.has(family[c.kind]));
const trains = only.has('train') ? TRAIN : [];

// Boxes both sides read: drawn here, written as raw float32 files for the anchor.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dendrite-cuda-bench-'));
let seed = 12345;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
function boxesOf(n, size) {
  const b = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const x0 = rnd() * size * 0.8, y0 = rnd() * size * 0.8;
    b.set([x0, y0, x0 + 16 + rnd() * size * 0.2, y0 + 16 + rnd() * size * 0.2], 4 * i);
  }
  return b;
}

const results = { cases: {}, train: {}, anchor: null };

for (const c of cases) {
  dt.manualSeed(0);
  if (c.kind === 'conv' || c.kind === 'convT') {
    const x = dt.randn([c.n, c.cin, c.h, c.w], { device: DEV }).requiresGrad_();
    const w = (c.kind === 'conv' ? dt.randn([c.cout, c.cin, c.k, c.k], { device: DEV }) : dt.randn([c.cin, c.cout, c.k, c.k], { device: DEV })).mul(0.05).requiresGrad_();
    const b = dt.zeros([c.cout], { device: DEV, requiresGrad: true });
    const f = () => (c.kind === 'conv' ? F.conv2d(x, w, b, { stride: c.stride, padding: c.pad }) : F.convTranspose2d(x, w, b, { stride: c.stride, padding: c.pad }));
    results.cases[`${c.name} fwd`] = timed(() => dt.noGrad(() => f().dispose()), c.reps);
    const g = dt.tidy(() => dt.randnLike(dt.noGrad(f)));
    results.cases[`${c.name} fwd+bwd`] = timed(() => {
      clearGrads(x, w, b);
      dt.tidy(() => f().backward(g));
    }, c.reps);
    clearGrads(x, w, b);
    for (const t of [x, w, b, g]) t.dispose();
  } else if (c.kind === 'lstm') {
    const lstm = new nn.LSTM(c.input, c.hidden).to(DEV);
    const x = dt.randn([c.T, c.batch, c.input], { device: DEV }).requiresGrad_();
    results.cases[`${c.name} fwd`] = timed(() => dt.noGrad(() => dt.tidy(() => void lstm.forward(x))), c.reps);
    const g = dt.randn([c.T, c.batch, c.hidden], { device: DEV });
    const params = lstm.parameters();
    results.cases[`${c.name} fwd+bwd`] = timed(() => {
      clearGrads(x, ...params);
      dt.tidy(() => lstm.forward(x)[0].backward(g));
    }, c.reps);
    clearGrads(x, ...params);
    lstm.dispose();
    x.dispose();
    g.dispose();
  } else if (c.kind === 'roiAlign') {
    const img = c.h / c.scale;
    const bx = boxesOf(c.boxes, img);
    const rois = new Float32Array(c.boxes * 5);
    for (let i = 0; i < c.boxes; i++) rois.set([i % c.n, ...bx.subarray(4 * i, 4 * i + 4)], 5 * i);
    c.rois = path.join(tmp, `${c.kind}-${c.boxes}.f32`);
    writeFileSync(c.rois, rois);
    const r = dt.tensor(rois, { shape: [c.boxes, 5], device: DEV });
    const x = dt.randn([c.n, c.c, c.h, c.w], { device: DEV }).requiresGrad_();
    const f = () => F.roiAlign(x, r, [c.out, c.out], { spatialScale: c.scale, samplingRatio: c.sampling, aligned: true });
    results.cases[`${c.name} fwd`] = timed(() => dt.noGrad(() => f().dispose()), c.reps);
    const g = dt.tidy(() => dt.randnLike(dt.noGrad(f)));
    results.cases[`${c.name} fwd+bwd`] = timed(() => {
      clearGrads(x);
      dt.tidy(() => f().backward(g));
    }, c.reps);
    clearGrads(x);
    for (const t of [x, r, g]) t.dispose();
  } else if (c.kind === 'nms') {
    const bx = boxesOf(c.boxes, 800);
    const sc = Float32Array.from({ length: c.boxes }, () => rnd());
    c.boxesPath = path.join(tmp, 'nms-boxes.f32');
    c.scoresPath = path.join(tmp, 'nms-scores.f32');
    writeFileSync(c.boxesPath, bx);
    writeFileSync(c.scoresPath, sc);
    const b = dt.tensor(bx, { shape: [c.boxes, 4], device: DEV }), s = dt.tensor(sc, { device: DEV });
    results.cases[c.name] = timed(() => dt.ops.nms(b, s, c.iou).dispose(), c.reps);
    b.dispose();
    s.dispose();
  }
  if (DEV === 'cuda') dt.cuda.emptyCache();
}

for (const t of trains) {
  dt.manualSeed(0);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 32, 3), new nn.Sigmoid(), new nn.Conv2d(32, 32, 3), new nn.Sigmoid(), new nn.MaxPool2d(2), new nn.Flatten(),
    new nn.Linear(32 * 12 * 12, 128), new nn.Sigmoid(), new nn.Linear(128, 10),
  ).to(DEV);
  const optimizer = new dt.optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = dt.rand([t.batch, 1, 28, 28], { device: DEV });
  const y = dt.randint(0, 10, [t.batch], { device: DEV });
  const s = timed(() => {
    optimizer.zeroGrad();
    dt.tidy(() => F.crossEntropy(model.forward(x), y).backward());
    optimizer.step();
  }, t.steps, 5);
  results.train[t.name] = t.batch / s;
  model.dispose();
  x.dispose();
  y.dispose();
  if (DEV === 'cuda') dt.cuda.emptyCache();
}

if (withPython && DEV === 'cuda') {
  const spec = {
    cases: cases.map((c) => ({ ...c, boxes: c.kind === 'nms' ? c.boxesPath : c.boxes, scores: c.scoresPath })),
    train: trains,
  };
  const specPath = path.join(tmp, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  const r = spawnSync(python, [path.join(root, 'bench', 'cuda_ops_anchor.py'), '--spec', specPath], { encoding: 'utf8' });
  if (r.status === 0) {
    try {
      results.anchor = JSON.parse(r.stdout.trim().split('\n').pop());
    } catch (e) {
      console.log(`cuda ops bench: could not read the anchor's output: ${e.message}`);
    }
  } else {
    console.log(`cuda ops bench: no PyTorch anchor (${python} bench/cuda_ops_anchor.py exited ${r.status}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')})`);
  }
}

const A = results.anchor;
const fmt = (v, d = 3) => (v === undefined || v === null ? '-' : v.toFixed(d));
console.log(`\nCUDA ops benchmark${A ? ` on ${A.device} (PyTorch ${A.torch}, CUDA ${A.cuda}, cuDNN ${A.cudnn}, torchvision ${A.torchvision}; FP32, TF32 off, cudnn.benchmark)` : ''}\n`);
console.log('| case | dendrite ms | PyTorch ms | PyTorch / dendrite |');
console.log('|---|---:|---:|---:|');
for (const [name, s] of Object.entries(results.cases)) {
  const a = A?.cases?.[name];
  console.log(`| ${name} | ${fmt(s * 1e3)} | ${fmt(a === undefined ? null : a * 1e3)} | ${a === undefined ? '-' : fmt(a / s, 2)} |`);
}
if (Object.keys(results.train).length) {
  console.log('\n| training step | dendrite samples/s | PyTorch samples/s | dendrite / PyTorch |');
  console.log('|---|---:|---:|---:|');
  for (const [name, v] of Object.entries(results.train)) {
    const a = A?.train?.[name];
    console.log(`| ${name} | ${fmt(v, 0)} | ${fmt(a, 0)} | ${a === undefined ? '-' : fmt(v / a, 2)} |`);
  }
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));

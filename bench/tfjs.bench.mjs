// TensorFlow.js backends side by side in one process: `dendrite` (this package's tfjs backend),
// tfjs's pure-JS `cpu` and `wasm` (XNNPACK, SIMD). Kernels alone (matMul) and a tfjs-layers
// MLP's training step (trainOnBatch: forward, backward, optimizer update) and inference
// (predict + dataSync). Medians of tinybench samples; each backend runs in --rounds interleaved
// rounds and keeps its best median (contention on a shared machine only slows a round down).
//
//   node bench/tfjs.bench.mjs [--rounds 2] [--backends dendrite,dendrite@1,wasm,cpu] [--json out.json] [--quick]
//
// `dendrite@1` is the dendrite backend with its thread pool at 1 thread, beside tfjs-wasm's
// single-threaded build (the default here: its threaded build needs cross-origin isolation).
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tf = require('@tensorflow/tfjs');
const tfwasm = require('@tensorflow/tfjs-backend-wasm');
const dtTfjs = require(path.join(root, 'dist/backends/tfjs/index.js'));
const dt = require(path.join(root, 'dist/index.js'));

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const quick = argv.includes('--quick');
const ROUNDS = Number(opt('rounds', quick ? '1' : '2'));
const BACKENDS = opt('backends', 'dendrite,dendrite@1,wasm,cpu').split(',');
const defaultThreads = dt.getNumThreads();
const jsonOut = opt('json', null);

tfwasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(12);
const randomArray = (n) => Float32Array.from({ length: n }, () => random() * 2 - 1);

async function median(fn, budgetMs) {
  const bench = new Bench({ time: budgetMs, iterations: 3, warmupIterations: 2, warmupTime: 20 });
  bench.add('x', fn);
  await bench.run();
  const r = bench.tasks[0].result;
  if (r?.error) throw r.error;
  return r.latency?.p50 ?? r.p50; // ms
}

// The cpu backend is 100x slower on big shapes: give every case a time budget, not a count.
const MATMULS = quick ? [[128, 128, 128], [512, 512, 512]] : [[128, 128, 128], [256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [128, 784, 256]];
const MLP = { batch: 128, input: 784, hidden: [256, 128], classes: 10 };
// The course's Fashion-MNIST CNN: Conv2D 32 -> Conv2D 32 -> MaxPool 2 -> Flatten -> Dense 128 -> Dense 10.
const CNN = { batch: 64 };
// conv2d alone: [batch, H, W, inC] * [k, k, inC, outC], 'valid' and 'same'.
const CONVS = quick
  ? [[64, 26, 26, 32, 32, 3, 'valid']]
  : [[64, 28, 28, 1, 32, 3, 'valid'], [64, 26, 26, 32, 32, 3, 'valid'], [32, 32, 32, 64, 64, 3, 'same'], [16, 56, 56, 64, 64, 1, 'valid']];

function buildMlp() {
  const model = tf.sequential();
  MLP.hidden.forEach((units, i) => model.add(tf.layers.dense({ units, activation: 'relu', ...(i === 0 ? { inputShape: [MLP.input] } : {}) })));
  model.add(tf.layers.dense({ units: MLP.classes, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

function buildCnn() {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

const cnnX = Float32Array.from({ length: CNN.batch * 784 }, () => random());
const xData = randomArray(MLP.batch * MLP.input);
const labels = Array.from({ length: MLP.batch }, (_, i) => i % MLP.classes);

async function measure(name) {
  const [backend, threads] = name.split('@');
  dt.setNumThreads(threads ? Number(threads) : defaultThreads);
  await tf.setBackend(backend);
  await tf.ready();
  const out = {};
  const budget = backend === 'cpu' ? 400 : 250;
  for (const [M, N, K] of MATMULS) {
    const a = tf.tensor2d(randomArray(M * K), [M, K]), b = tf.tensor2d(randomArray(K * N), [K, N]);
    const ms = await median(() => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    }, budget);
    out[`matMul ${M}x${N}x${K}`] = { ms, gflops: (2 * M * N * K) / (ms * 1e6) };
    tf.dispose([a, b]);
  }
  for (const [B, H, W, C, K, k, pad] of CONVS) {
    const x = tf.tensor4d(randomArray(B * H * W * C), [B, H, W, C]), f = tf.tensor4d(randomArray(k * k * C * K), [k, k, C, K]);
    const OH = pad === 'same' ? H : H - k + 1, OW = pad === 'same' ? W : W - k + 1;
    const ms = await median(() => {
      const y = tf.conv2d(x, f, 1, pad);
      y.dataSync();
      y.dispose();
    }, budget);
    out[`conv2d ${B}x${H}x${W}x${C} * ${k}x${k}x${K} ${pad}`] = { ms, gflops: (2 * B * OH * OW * K * C * k * k) / (ms * 1e6) };
    tf.dispose([x, f]);
  }
  {
    const model = buildCnn();
    const x = tf.tensor4d(cnnX, [CNN.batch, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(labels.slice(0, CNN.batch), 'int32'), 10);
    try {
      out['CNN train step'] = { ms: await median(async () => { await model.trainOnBatch(x, y); }, budget * 2) };
    } catch (e) {
      // tfjs-backend-wasm has no Conv2DBackpropFilter kernel: it cannot train a Conv2D layer.
      out['CNN train step'] = { ms: NaN, error: String(e.message ?? e).slice(0, 80) };
    }
    out['CNN inference'] = {
      ms: await median(() => {
        const p = model.predict(x);
        p.dataSync();
        p.dispose();
      }, budget),
    };
    tf.dispose([x, y]);
    model.dispose();
  }
  const model = buildMlp();
  const x = tf.tensor2d(xData, [MLP.batch, MLP.input]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), MLP.classes);
  out['MLP train step'] = { ms: await median(async () => { await model.trainOnBatch(x, y); }, budget * 2) };
  out['MLP inference'] = {
    ms: await median(() => {
      const p = model.predict(x);
      p.dataSync();
      p.dispose();
    }, budget),
  };
  tf.dispose([x, y]);
  model.dispose();
  return out;
}

const best = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const backend of BACKENDS) {
    const r = await measure(backend);
    for (const [task, v] of Object.entries(r)) {
      const cur = (best[task] ??= {});
      if (!cur[backend] || v.ms < cur[backend].ms || Number.isNaN(cur[backend].ms)) cur[backend] = v;
    }
    console.error(`round ${round + 1}: ${backend} done`);
  }
}

const info = dt.cpuInfo();
console.log(`\ntfjs backends, ${info.path} path, ${defaultThreads} dendrite threads (dendrite@1: one), wasm threads ${tfwasm.getThreadsCount?.() ?? 1}; MLP ${MLP.input}-${MLP.hidden.join('-')}-${MLP.classes}, batch ${MLP.batch}, Adam; CNN 28x28x1-conv32-conv32-maxpool-128-10, batch ${CNN.batch}, Adam`);
const cols = BACKENDS;
console.log(`| task | ${cols.map((c) => `${c} ms`).join(' | ')} | dendrite vs wasm | dendrite vs cpu |`);
console.log(`|---|${cols.map(() => '---:').join('|')}|---:|---:|`);
for (const [task, r] of Object.entries(best)) {
  const cell = (c) => (r[c] ? (Number.isNaN(r[c].ms) ? 'n/a' : `${r[c].ms.toFixed(3)}${r[c].gflops ? ` (${r[c].gflops.toFixed(1)} GF/s)` : ''}`) : '-');
  const ratio = (c) => (r[c] && r.dendrite && !Number.isNaN(r[c].ms) ? `${(r[c].ms / r.dendrite.ms).toFixed(1)}x` : '-');
  console.log(`| ${task} | ${cols.map(cell).join(' | ')} | ${ratio('wasm')} | ${ratio('cpu')} |`);
}
for (const [task, r] of Object.entries(best)) for (const [b, v] of Object.entries(r)) if (v.error) console.log(`${task} on ${b}: ${v.error}`);
console.log(`\ncpu fallbacks used on dendrite: ${JSON.stringify(dtTfjs.fallbackStats())}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ cpu: info, mlp: MLP, results: best }, null, 2));

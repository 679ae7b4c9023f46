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
  return r.latency?.p50 ?? r.p50; // ms
}

// The cpu backend is 100x slower on big shapes: give every case a time budget, not a count.
const MATMULS = quick ? [[128, 128, 128], [512, 512, 512]] : [[128, 128, 128], [256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [128, 784, 256]];
const MLP = { batch: 128, input: 784, hidden: [256, 128], classes: 10 };

function buildMlp() {
  const model = tf.sequential();
  MLP.hidden.forEach((units, i) => model.add(tf.layers.dense({ units, activation: 'relu', ...(i === 0 ? { inputShape: [MLP.input] } : {}) })));
  model.add(tf.layers.dense({ units: MLP.classes, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

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
      if (!cur[backend] || v.ms < cur[backend].ms) cur[backend] = v;
    }
    console.error(`round ${round + 1}: ${backend} done`);
  }
}

const info = dt.cpuInfo();
console.log(`\ntfjs backends, ${info.path} path, ${defaultThreads} dendrite threads (dendrite@1: one), wasm threads ${tfwasm.getThreadsCount?.() ?? 1}; MLP ${MLP.input}-${MLP.hidden.join('-')}-${MLP.classes}, batch ${MLP.batch}, Adam`);
const cols = BACKENDS;
console.log(`| task | ${cols.map((c) => `${c} ms`).join(' | ')} | dendrite vs wasm | dendrite vs cpu |`);
console.log(`|---|${cols.map(() => '---:').join('|')}|---:|---:|`);
for (const [task, r] of Object.entries(best)) {
  const cell = (c) => (r[c] ? `${r[c].ms.toFixed(3)}${r[c].gflops ? ` (${r[c].gflops.toFixed(1)} GF/s)` : ''}` : '-');
  const ratio = (c) => (r[c] && r.dendrite ? `${(r[c].ms / r.dendrite.ms).toFixed(1)}x` : '-');
  console.log(`| ${task} | ${cols.map(cell).join(' | ')} | ${ratio('wasm')} | ${ratio('cpu')} |`);
}
console.log(`\ncpu fallbacks used on dendrite: ${JSON.stringify(dtTfjs.fallbackStats())}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ cpu: info, mlp: MLP, results: best }, null, 2));

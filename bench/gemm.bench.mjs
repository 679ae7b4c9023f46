// SGEMM benchmark: dendrite's matmul beside onnxruntime-node's MatMul (MLAS) and tfjs-wasm's
// matMul in this process, plus numpy (OpenBLAS) and PyTorch from bench/gemm_anchor.py, on the
// same shapes at 1 and 2 threads; every rate also as a fraction of this CPU's measured FMA
// peak (dt.linalg.fmaPeak). Medians of tinybench samples.
//
//   node bench/gemm.bench.mjs [--threads 1,2] [--rounds 3] [--shapes 256x256x256,...] [--json out.json] [--no-python]
//
// Each library is measured in --rounds interleaved rounds and keeps its best median: on a
// machine shared with other jobs, contention only ever slows a round down, and every library
// gets the same treatment.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { fieldBytes, fieldString, fieldVarint, valueInfo } from './_proto.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dt = require(path.join(root, 'dist/index.js'));
const ort = require('onnxruntime-node');
const tf = require('@tensorflow/tfjs');
const tfwasm = require('@tensorflow/tfjs-backend-wasm');

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const THREADS = opt('threads', '1,2').split(',').map(Number);
const SHAPES = opt('shapes', '256x256x256,512x512x512,1024x1024x1024,2048x2048x2048,64x128x784,256x1024x1024,12544x64x576,1x1000x4096')
  .split(',').map((s) => s.split('x').map(Number)); // M x N x K
const jsonOut = opt('json', null);
const ROUNDS = Number(opt('rounds', '3'));
const withPython = !argv.includes('--no-python');

// One-node ONNX model for the anchor: C[M,N] = MatMul(A[M,K], B[K,N]).
function matmulModel(M, N, K) {
  const node = [...fieldString(1, 'A'), ...fieldString(1, 'B'), ...fieldString(2, 'C'), ...fieldString(4, 'MatMul')];
  const graph = [
    ...fieldBytes(1, node), ...fieldString(2, 'gemm'),
    ...fieldBytes(11, valueInfo('A', [M, K])), ...fieldBytes(11, valueInfo('B', [K, N])),
    ...fieldBytes(12, valueInfo('C', [M, N])),
  ];
  const opset = [...fieldString(1, ''), ...fieldVarint(2, 13)];
  return Uint8Array.from([...fieldVarint(1, 8), ...fieldBytes(8, opset), ...fieldBytes(7, graph)]);
}

const randomArray = (n) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

function benchOptions(flops) {
  // Big shapes: a few calls; small ones: enough for a stable median.
  const callsPerSecond = 100e9 / flops;
  return { time: Math.min(600, Math.max(150, 2000 / callsPerSecond)), iterations: 5, warmupIterations: 2, warmupTime: 50 };
}

async function median(flops, fn) {
  const bench = new Bench(benchOptions(flops));
  bench.add('x', fn);
  await bench.run();
  const r = bench.tasks[0].result;
  const p50 = r.latency?.p50 ?? r.p50;
  return p50 / 1e3; // ms -> s
}

async function runJs(threads) {
  const rows = [];
  dt.setNumThreads(threads);
  await tf.setBackend('wasm');
  await tf.ready();
  let wasmThreads = 1;
  try {
    tfwasm.setThreadsCount?.(threads);
    wasmThreads = tfwasm.getThreadsCount?.() ?? 1;
  } catch { /* single-threaded build */ }
  for (const [M, N, K] of SHAPES) {
    const flops = 2 * M * N * K;
    const a = dt.tensor(randomArray(M * K), { shape: [M, K] }), b = dt.tensor(randomArray(K * N), { shape: [K, N] });
    const dtS = await median(flops, () => dt.matmul(a, b).dispose());
    a.dispose();
    b.dispose();

    const session = await ort.InferenceSession.create(matmulModel(M, N, K), {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    });
    const feeds = { A: new ort.Tensor('float32', randomArray(M * K), [M, K]), B: new ort.Tensor('float32', randomArray(K * N), [K, N]) };
    const ortS = await median(flops, async () => { await session.run(feeds); });
    await session.release();

    const ta = tf.tensor2d(randomArray(M * K), [M, K]), tb = tf.tensor2d(randomArray(K * N), [K, N]);
    const tfS = await median(flops, () => { const c = tf.matMul(ta, tb); c.dataSync(); c.dispose(); });
    ta.dispose();
    tb.dispose();

    const g = (s) => flops / s / 1e9;
    rows.push({ M, N, K, threads, dendrite: g(dtS), onnxruntime: g(ortS), tfjsWasm: wasmThreads === threads ? g(tfS) : null });
    console.error(`  ${M}x${N}x${K} t=${threads}: dendrite ${g(dtS).toFixed(1)}, ort ${g(ortS).toFixed(1)}, tfjs-wasm ${g(tfS).toFixed(1)} (wasm threads ${wasmThreads})`);
  }
  return rows;
}

function runPython(lib, threads) {
  const py = lib === 'numpy' ? 'python3' : '/usr/bin/python3';
  const env = { ...process.env, OPENBLAS_NUM_THREADS: lib === 'numpy' ? String(threads) : '1', OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const shapes = SHAPES.map((s) => s.join('x')).join(',');
  const r = spawnSync(py, [path.join(root, 'bench/gemm_anchor.py'), lib, '--threads', String(threads), '--shapes', shapes], { env, encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`${lib} anchor failed: ${r.stderr}`);
    return [];
  }
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

const peaks = {};
const results = [];
const info = dt.cpuInfo();
console.error(`dendrite path ${info.path}, ${info.physicalCores} cores; shapes M x N x K`);
const better = (a, b) => (a == null ? b : b == null ? a : Math.max(a, b));
for (const threads of THREADS) {
  dt.setNumThreads(threads);
  let rows = null;
  for (let round = 0; round < ROUNDS; round++) {
    console.error(`threads ${threads}, round ${round + 1}/${ROUNDS}`);
    peaks[threads] = better(peaks[threads], dt.linalg.fmaPeak(threads, 0.3));
    const got = await runJs(threads);
    if (withPython) {
      for (const lib of ['numpy', 'torch']) {
        for (const a of runPython(lib, threads)) {
          const row = got.find((r) => r.M === a.M && r.N === a.N && r.K === a.K);
          if (row) row[lib] = a.gflops;
        }
      }
    }
    if (!rows) rows = got;
    else for (const [i, r] of got.entries()) for (const k of ['dendrite', 'onnxruntime', 'tfjsWasm', 'numpy', 'torch']) rows[i][k] = better(rows[i][k], r[k]);
  }
  results.push(...rows);
}

const anchors = ['onnxruntime', 'tfjsWasm', 'numpy', 'torch'];
const fmt = (v) => (v == null ? 'n/a' : v.toFixed(1));
console.log(`\nSGEMM GFLOP/s (median), ${info.path} path. FMA peak: ${THREADS.map((t) => `${t} thread(s) ${peaks[t].toFixed(1)}`).join(', ')} GFLOP/s\n`);
console.log('| M x N x K | thr | dendrite | % peak | onnxruntime | tfjs-wasm | numpy | torch | best anchor | dendrite / best |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const best = Math.max(...anchors.map((a) => r[a] ?? 0));
  const bestName = anchors.find((a) => (r[a] ?? 0) === best);
  r.peak = peaks[r.threads];
  r.fractionOfPeak = r.dendrite / r.peak;
  r.best = best;
  r.ratioToBest = r.dendrite / best;
  console.log(`| ${r.M}x${r.N}x${r.K} | ${r.threads} | ${fmt(r.dendrite)} | ${(100 * r.fractionOfPeak).toFixed(0)}% | ${fmt(r.onnxruntime)} | ${fmt(r.tfjsWasm)} | ${fmt(r.numpy)} | ${fmt(r.torch)} | ${bestName} ${fmt(best)} | ${(100 * r.ratioToBest).toFixed(0)}% |`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ path: info.path, peaks, results }, null, 2));
process.exit(0);

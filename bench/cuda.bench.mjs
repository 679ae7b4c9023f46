// CUDA benchmark: dendrite's SGEMM, elementwise add and per-op overhead on the GPU beside
// PyTorch on the same GPU in the same run (bench/cuda_anchor.py, TF32 off).
//
//   node bench/cuda.bench.mjs [--shapes MxNxK,...] [--add-n 100000000] [--json out.json] [--no-python] [--python python3]
//
// SGEMM: dt.cuda.sgemm into preallocated device buffers (what the kernel costs), timed over
// repeated launches between two synchronisations, median of rounds. Add: out = a + b on 1e8
// floats, bytes moved = 3 x 4 x n. Tiny add: 10,000 calls of a 1-element add from JS, then a
// synchronisation, per call (the JS -> N-API -> launch path). The last three default shapes take
// the split-K path (an LSTM step, an LSTM weight gradient, one long-K tile): run once more with
// DENDRITE_CUDA_SPLIT_K=0 for the one-pass figures.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dt = require(path.join(root, 'dist/index.js'));

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SHAPES = opt('shapes', '1024x1024x1024,2048x2048x2048,4096x4096x4096,8192x8192x8192,12544x64x576,256x1024x1024,1x1000x4096,64x1024x256,1024x256x4096,128x128x4096')
  .split(',').map((s) => s.split('x').map(Number));
const ADD_N = Number(opt('add-n', '100000000'));
const jsonOut = opt('json', null);
const python = opt('python', 'python3');
const withPython = !argv.includes('--no-python');

if (!dt.cuda.isAvailable()) {
  console.log(`cuda bench: skipped (${dt.cuda.unavailableReason()})`);
  process.exit(0);
}

const now = () => Number(process.hrtime.bigint()) / 1e9;
function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// Seconds per call of fn: `reps` calls between two synchronisations, median of `rounds`.
function timeKernel(fn, reps, rounds = 5) {
  fn();
  dt.cuda.synchronize();
  const per = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = now();
    for (let i = 0; i < reps; i++) fn();
    dt.cuda.synchronize();
    per.push((now() - t0) / reps);
  }
  return median(per);
}

const results = { device: null, sgemm: [], add: null, tinyAddUs: null, anchor: null };

for (const [M, N, K] of SHAPES) {
  dt.manualSeed(1);
  const A = dt.rand([M * K], { device: 'cuda' }), B = dt.rand([K * N], { device: 'cuda' }), C = dt.zeros([M * N], { device: 'cuda' });
  const flops = 2 * M * N * K;
  const reps = Math.max(3, Math.min(200, Math.round(2e12 / flops)));
  const s = timeKernel(() => dt.cuda.sgemm(M, N, K, A, B, C), reps);
  results.sgemm.push({ M, N, K, tflops: flops / s / 1e12, median_s: s });
  for (const t of [A, B, C]) t.dispose();
  dt.cuda.emptyCache();
}

{
  const a = dt.rand([ADD_N], { device: 'cuda' }), b = dt.rand([ADD_N], { device: 'cuda' });
  const s = timeKernel(() => a.add(b).dispose(), 20);
  results.add = { n: ADD_N, gbps: (3 * 4 * ADD_N) / s / 1e9, median_s: s };
  a.dispose();
  b.dispose();
  dt.cuda.emptyCache();
}

{
  const one = dt.ones([1], { device: 'cuda' });
  for (let i = 0; i < 1000; i++) one.add(one).dispose();
  dt.cuda.synchronize();
  const calls = 10000;
  const t0 = now();
  for (let i = 0; i < calls; i++) one.add(one).dispose();
  dt.cuda.synchronize();
  results.tinyAddUs = ((now() - t0) / calls) * 1e6;
}

if (withPython) {
  const r = spawnSync(python, [path.join(root, 'bench', 'cuda_anchor.py'), '--shapes', SHAPES.map((s) => s.join('x')).join(','), '--add-n', String(ADD_N)], { encoding: 'utf8' });
  if (r.status === 0) {
    try {
      results.anchor = JSON.parse(r.stdout.trim().split('\n').pop());
      results.device = results.anchor.device;
    } catch (e) {
      console.log(`cuda bench: could not read the PyTorch anchor's output: ${e.message}`);
    }
  } else {
    console.log(`cuda bench: no PyTorch anchor (${python} bench/cuda_anchor.py exited ${r.status}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`);
  }
}

const fmt = (v, d = 1) => (v === undefined || v === null ? '-' : v.toFixed(d));
console.log(`\nCUDA benchmark${results.device ? ` on ${results.device}` : ''}${results.anchor ? ` (PyTorch ${results.anchor.torch}, CUDA ${results.anchor.cuda}, TF32 off)` : ''}\n`);
console.log('SGEMM (M, N, K)            dendrite TFLOP/s   PyTorch TFLOP/s   ratio');
for (const r of results.sgemm) {
  const a = results.anchor?.sgemm.find((x) => x.M === r.M && x.N === r.N && x.K === r.K);
  const label = `(${r.M}, ${r.N}, ${r.K})`.padEnd(26);
  console.log(`${label} ${fmt(r.tflops, 2).padStart(16)} ${fmt(a?.tflops, 2).padStart(17)} ${a ? fmt(r.tflops / a.tflops, 2).padStart(7) : '      -'}`);
}
const addA = results.anchor?.add;
console.log(`\nadd of ${ADD_N.toExponential(0)} floats      ${fmt(results.add.gbps, 0).padStart(10)} GB/s ${fmt(addA?.gbps, 0).padStart(12)} GB/s ${addA ? fmt(results.add.gbps / addA.gbps, 2).padStart(7) : '      -'}`);
const tinyA = results.anchor?.tiny_add_us;
console.log(`1-element add, per call    ${fmt(results.tinyAddUs, 2).padStart(10)} us   ${fmt(tinyA, 2).padStart(12)} us   ${tinyA ? fmt(results.tinyAddUs / tinyA, 2).padStart(7) : '      -'}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));

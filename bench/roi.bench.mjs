// Detection-op benchmark: dendrite's roiAlign (forward, forward + backward), roiPool and nms
// beside torchvision on identical inputs (bench/roi_anchor.py, run with /usr/bin/python3 and
// torch.set_num_threads matching), at 1 and 2 threads. Feature map 1 x 256 x 50 x 50 (an
// 800 x 800 image at stride 16), 300 proposals, 7 x 7 output, spatial scale 1/16; nms on 5000
// boxes. Medians of tinybench samples.
//
//   node bench/roi.bench.mjs [--threads 1,2] [--rounds 3] [--json out.json] [--no-python]
//
// Each side is measured in --rounds interleaved rounds and keeps its best median: on a machine
// shared with other jobs, contention only ever slows a round down. At one thread the table also
// gives medians of process CPU time per call, which contention disturbs far less than wall time.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dt = require(path.join(root, 'dist/index.js'));

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const THREADS = opt('threads', '1,2').split(',').map(Number);
const ROUNDS = Number(opt('rounds', '3'));
const jsonOut = opt('json', null);
const withPython = !argv.includes('--no-python');

// Seeded inputs shared with the Python side through a JSON file.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rng = mulberry32(2024);
const IMAGE = 800;
const round2 = (v) => Math.round(v * 100) / 100;
function randomBox(minSize, maxSize) {
  const w = minSize + rng() * (maxSize - minSize), h = minSize + rng() * (maxSize - minSize);
  const cx = rng() * IMAGE, cy = rng() * IMAGE;
  const clip = (v) => Math.min(Math.max(v, 0), IMAGE);
  return [clip(cx - w / 2), clip(cy - h / 2), clip(cx + w / 2), clip(cy + h / 2)].map(round2);
}
const spec = {
  featureShape: [1, 256, 50, 50],
  outputSize: 7,
  spatialScale: 1 / 16,
  samplingRatios: [2, 0],
  rois: Array.from({ length: 300 }, () => [0, ...randomBox(16, 400)]),
  nmsBoxes: Array.from({ length: 5000 }, () => randomBox(20, 200)),
  nmsScores: Array.from({ length: 5000 }, () => round2(rng() * 100) / 100),
  nmsThresholds: [0.7, 0.5],
};
const specFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'roi-bench-')), 'cases.json');
writeFileSync(specFile, JSON.stringify(spec));

dt.manualSeed(0);
const x = dt.randn(spec.featureShape);
const xg = x.clone().requiresGrad_(true);
const rois = dt.tensor(spec.rois);
const grad = dt.randn([rois.shape[0], spec.featureShape[1], spec.outputSize, spec.outputSize]);
const nmsBoxes = dt.tensor(spec.nmsBoxes), nmsScores = dt.tensor(spec.nmsScores);

function forwardBackward(run) {
  return () => {
    dt.tidy(() => run(xg).backward(grad));
    xg.grad?.dispose();
    xg.grad = null;
  };
}
const cases = {};
for (const sr of spec.samplingRatios) {
  const align = (t) => dt.F.roiAlign(t, rois, spec.outputSize, { spatialScale: spec.spatialScale, samplingRatio: sr });
  cases[`roiAlign fwd sr=${sr}`] = () => align(x).dispose();
  cases[`roiAlign fwd+bwd sr=${sr}`] = forwardBackward(align);
}
const pool = (t) => dt.F.roiPool(t, rois, spec.outputSize, { spatialScale: spec.spatialScale });
cases['roiPool fwd'] = () => pool(x).dispose();
cases['roiPool fwd+bwd'] = forwardBackward(pool);
for (const thr of spec.nmsThresholds) cases[`nms ${nmsBoxes.shape[0]} iou=${thr}`] = () => dt.F.nms(nmsBoxes, nmsScores, thr).dispose();

async function median(fn) {
  const bench = new Bench({ time: 400, iterations: 5, warmupIterations: 2, warmupTime: 50 });
  bench.add('x', fn);
  await bench.run();
  const r = bench.tasks[0].result;
  return r.latency?.p50 ?? r.p50; // ms
}

/** Median process CPU time per call in ms (meaningful for one thread). */
function cpuMedian(fn, reps = 15) {
  fn();
  const samples = [];
  for (let i = 0; i < reps; i++) {
    const t = process.cpuUsage();
    fn();
    const u = process.cpuUsage(t);
    samples.push((u.user + u.system) / 1e3);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

function runPython(threads) {
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: '1' };
  const r = spawnSync('/usr/bin/python3', [path.join(root, 'bench/roi_anchor.py'), specFile, '--threads', String(threads)], { env, encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`torchvision anchor failed: ${r.stderr}`);
    return {};
  }
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((o) => [o.case, o]));
}

const info = dt.cpuInfo();
console.error(`dendrite path ${info.path}, ${info.physicalCores} cores`);
const best = (a, b) => (a == null ? b : b == null ? a : Math.min(a, b));
const results = [];
for (const threads of THREADS) {
  const rows = Object.keys(cases).map((name) => ({ case: name, threads, dendrite: null, torchvision: null, dendriteCpu: null, torchvisionCpu: null }));
  for (let round = 0; round < ROUNDS; round++) {
    console.error(`threads ${threads}, round ${round + 1}/${ROUNDS}`);
    dt.setNumThreads(threads);
    for (const row of rows) {
      row.dendrite = best(row.dendrite, await median(cases[row.case]));
      if (threads === 1) row.dendriteCpu = best(row.dendriteCpu, cpuMedian(cases[row.case]));
    }
    if (withPython) {
      const tv = runPython(threads);
      for (const row of rows) {
        row.torchvision = best(row.torchvision, tv[row.case]?.ms);
        if (threads === 1) row.torchvisionCpu = best(row.torchvisionCpu, tv[row.case]?.cpuMs);
      }
    }
  }
  results.push(...rows);
}

const fmt = (v) => (v == null ? 'n/a' : v.toFixed(3));
console.log(`\nDetection ops, median ms (best of ${ROUNDS} rounds), ${info.path} path. roiAlign/roiPool: 1x256x50x50, 300 boxes, 7x7, scale 1/16.\n`);
const ratio = (a, b) => (a == null || b == null ? 'n/a' : (a / b).toFixed(2) + 'x');
console.log('| case | threads | dendrite ms | torchvision ms | speed-up | dendrite CPU ms | torchvision CPU ms | CPU speed-up |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  r.speedup = r.torchvision != null ? r.torchvision / r.dendrite : null;
  r.cpuSpeedup = r.torchvisionCpu != null && r.dendriteCpu != null ? r.torchvisionCpu / r.dendriteCpu : null;
  const cpuCols = r.threads === 1 ? `${fmt(r.dendriteCpu)} | ${fmt(r.torchvisionCpu)} | ${ratio(r.torchvisionCpu, r.dendriteCpu)}` : ' | | ';
  console.log(`| ${r.case} | ${r.threads} | ${fmt(r.dendrite)} | ${fmt(r.torchvision)} | ${ratio(r.torchvision, r.dendrite)} | ${cpuCols} |`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ path: info.path, results }, null, 2));
process.exit(0);

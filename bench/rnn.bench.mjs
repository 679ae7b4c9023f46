// LSTM benchmark: dendrite's nn.LSTM forward and forward+backward beside PyTorch's nn.LSTM
// (bench/rnn_anchor.py through /usr/bin/python3) and onnxruntime-node's LSTM forward, at 1 and 2
// threads. Medians of tinybench samples (PyTorch: of its own timed loop).
//
//   node bench/rnn.bench.mjs [--threads 1,2] [--rounds 3] [--shapes 50x64x128x256,...] [--json out.json] [--no-python]
//
// Shapes are T x N x inputSize x hiddenSize, one layer, time-major. Each library is measured in
// --rounds interleaved rounds and keeps its best median: on a machine shared with other jobs,
// contention only ever slows a round down. At one thread the process CPU time per call is
// reported too, which contention hardly moves. onnxruntime's output is checked against
// dendrite's (same weights, gates reordered to ONNX's i, o, f, c) before it is timed.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { fieldBytes, fieldString, fieldVarint, initializer, valueInfo } from './_proto.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dt = require(path.join(root, 'dist/index.js'));
const ort = require('onnxruntime-node');

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const THREADS = opt('threads', '1,2').split(',').map(Number);
const SHAPES = opt('shapes', '50x64x128x256,50x32x128x256').split(',').map((s) => s.split('x').map(Number));
const ROUNDS = Number(opt('rounds', '3'));
const jsonOut = opt('json', null);
const withPython = !argv.includes('--no-python');

// One-node ONNX model for the anchor: Y = LSTM(X; W, R, B).
function lstmModel(T, N, I, H, W, R, B) {
  const attr = [...fieldString(1, 'hidden_size'), ...fieldVarint(3, H), ...fieldVarint(20, 2)];
  const node = [
    ...fieldString(1, 'X'), ...fieldString(1, 'W'), ...fieldString(1, 'R'), ...fieldString(1, 'B'),
    ...fieldString(2, 'Y'), ...fieldString(4, 'LSTM'), ...fieldBytes(5, attr),
  ];
  const graph = [
    ...fieldBytes(1, node), ...fieldString(2, 'lstm'),
    ...fieldBytes(5, initializer('W', [1, 4 * H, I], W)), ...fieldBytes(5, initializer('R', [1, 4 * H, H], R)),
    ...fieldBytes(5, initializer('B', [1, 8 * H], B)),
    ...fieldBytes(11, valueInfo('X', [T, N, I])), ...fieldBytes(12, valueInfo('Y', [T, 1, N, H])),
  ];
  const opset = [...fieldString(1, ''), ...fieldVarint(2, 14)];
  return Uint8Array.from([...fieldVarint(1, 8), ...fieldBytes(8, opset), ...fieldBytes(7, graph)]);
}

/** PyTorch's gate blocks i, f, g, o as ONNX's i, o, f, c. */
function onnxGates(t, H) {
  const src = t.dataSync();
  const cols = src.length / (4 * H);
  const out = new Float32Array(src.length);
  [0, 3, 1, 2].forEach((from, to) => out.set(src.subarray(from * H * cols, (from + 1) * H * cols), to * H * cols));
  return out;
}

/** { wall: median seconds per call, cpu: mean process CPU seconds per call (warm-up included) }. */
async function median(fn, time) {
  const bench = new Bench({ time, iterations: 5, warmupIterations: 2, warmupTime: 50 });
  let calls = 0;
  bench.add('x', async () => {
    calls++;
    await fn();
  });
  const cpu0 = process.cpuUsage();
  await bench.run();
  const cpu = process.cpuUsage(cpu0);
  const r = bench.tasks[0].result;
  return { wall: (r.latency?.p50 ?? r.p50) / 1e3, cpu: (cpu.user + cpu.system) / 1e6 / calls };
}

async function runJs(threads, T, N, I, H) {
  dt.setNumThreads(threads);
  dt.manualSeed(0);
  const lstm = new dt.nn.LSTM(I, H);
  const x = dt.randn([T, N, I]);
  const forward = await median(() => dt.noGrad(() => dt.tidy(() => { lstm.forward(x); })), 600);
  const train = await median(() => {
    dt.tidy(() => {
      const [y] = lstm.forward(x);
      y.sum().backward();
    });
    lstm.zeroGrad();
  }, 1200);

  // onnxruntime: the same weights, checked against dendrite's output first.
  const bias = new Float32Array(8 * H);
  bias.set(onnxGates(lstm.bias_ih_l0, H), 0);
  bias.set(onnxGates(lstm.bias_hh_l0, H), 4 * H);
  const session = await ort.InferenceSession.create(lstmModel(T, N, I, H, onnxGates(lstm.weight_ih_l0, H), onnxGates(lstm.weight_hh_l0, H), bias), {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const feeds = { X: new ort.Tensor('float32', x.dataSync().slice(), [T, N, I]) };
  const got = (await session.run(feeds)).Y.data;
  const want = dt.noGrad(() => lstm.forward(x)[0]).dataSync();
  let diff = 0;
  for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(got[i] - want[i]));
  if (!(diff < 1e-4)) throw new Error(`onnxruntime LSTM disagrees with dendrite: max |diff| ${diff}`);
  const ortForward = await median(async () => { await session.run(feeds); }, 600);
  await session.release();
  lstm.dispose();
  x.dispose();
  return { forward, train, ortForward };
}

function runPython(threads) {
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: '1' };
  const shapes = SHAPES.map((s) => s.join('x')).join(',');
  const r = spawnSync('/usr/bin/python3', [path.join(root, 'bench/rnn_anchor.py'), '--threads', String(threads), '--shapes', shapes], { env, encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`PyTorch anchor failed: ${r.stderr}`);
    return [];
  }
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

const info = dt.cpuInfo();
console.error(`dendrite path ${info.path}, ${info.physicalCores} cores; LSTM shapes T x N x input x hidden, one layer`);
const best = (a, b) => (a == null ? b : b == null ? a : Math.min(a, b));
const rows = [];
for (const threads of THREADS)
  for (const [T, N, I, H] of SHAPES) rows.push({ threads, T, N, I, H });
for (let round = 0; round < ROUNDS; round++) {
  for (const threads of THREADS) {
    console.error(`round ${round + 1}/${ROUNDS}, threads ${threads}`);
    for (const row of rows.filter((r) => r.threads === threads)) {
      const js = await runJs(threads, row.T, row.N, row.I, row.H);
      for (const k of ['forward', 'train', 'ortForward']) {
        row[k] = best(row[k], js[k].wall);
        row[`${k}Cpu`] = best(row[`${k}Cpu`], js[k].cpu);
      }
    }
    if (withPython)
      for (const a of runPython(threads)) {
        const row = rows.find((r) => r.threads === threads && r.T === a.T && r.N === a.N && r.I === a.I && r.H === a.H);
        if (row) {
          row.torchForward = best(row.torchForward, a.forward_s);
          row.torchTrain = best(row.torchTrain, a.train_s);
          row.torchForwardCpu = best(row.torchForwardCpu, a.forward_cpu_s);
          row.torchTrainCpu = best(row.torchTrainCpu, a.train_cpu_s);
        }
      }
  }
}

const ms = (s) => (s == null ? '—' : (s * 1e3).toPrecision(3));
const ratio = (other, ours) => (other == null || ours == null ? '—' : `${(other / ours).toFixed(2)}x`);
const header = ['shape T×N×I×H', 'threads', 'pass', 'clock', 'dendrite ms', 'PyTorch ms', 'vs PyTorch', 'onnxruntime ms', 'vs onnxruntime'];
const table = [header];
for (const r of rows) {
  const shape = `${r.T}×${r.N}×${r.I}×${r.H}`;
  const clocks = r.threads === 1 ? [['wall', ''], ['cpu', 'Cpu']] : [['wall', '']];
  for (const [clock, sfx] of clocks) {
    const f = r[`forward${sfx}`], tf = r[`torchForward${sfx}`], of = r[`ortForward${sfx}`];
    const t = r[`train${sfx}`], tt = r[`torchTrain${sfx}`];
    table.push([shape, String(r.threads), 'forward', clock, ms(f), ms(tf), ratio(tf, f), ms(of), ratio(of, f)]);
    table.push([shape, String(r.threads), 'forward+backward', clock, ms(t), ms(tt), ratio(tt, t), '—', '—']);
  }
}
const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
console.log("(ratios: the other library's time over dendrite's, above 1x dendrite is faster; wall: best median over rounds;");
console.log(' cpu: process CPU time per call at one thread, best over rounds)');
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ cpu: info, rows }, null, 2));

// conv2d / convTranspose2d forward and forward+backward on typical CNN shapes (issue 4), beside
// PyTorch (timed in /usr/bin/python3 with the same thread count) and onnxruntime-node (forward
// only; the ONNX model is built in memory). Self-contained: `node bench/conv.bench.mjs`
//   --threads 1,2     thread counts to run (default 1,2)
//   --time 400        milliseconds per measurement (default 400)
//   --shapes a,b,...  a subset of the shapes below
//   --json out.json   also write the raw numbers
//   --no-torch --no-ort
// Times are the best of the samples (the bench shares its cores with other work; the minimum is
// the least disturbed). Ratios are best anchor time / dendrite time: >= 1 means dendrite is at
// least as fast.
import { Bench } from 'tinybench';
import { execFileSync } from 'child_process';
import { writeFileSync } from 'fs';
import { createRequire } from 'module';
import * as dt from '../dist/index.mjs';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const flag = (name) => args.includes(`--${name}`);
const THREADS = opt('threads', '1,2').split(',').map(Number);
const TIME = Number(opt('time', '400'));
const ONLY = opt('shapes', null)?.split(',');

// (a)-(d) conv2d, (e)-(f) convTranspose2d: N, C -> K channels, H x W input, k x k kernel.
const SHAPES = [
  { id: 'a', desc: 'N64 1->32 28x28 k3', N: 64, C: 1, K: 32, H: 28, W: 28, k: 3, s: 1, p: 0 },
  { id: 'b', desc: 'N64 32->32 26x26 k3', N: 64, C: 32, K: 32, H: 26, W: 26, k: 3, s: 1, p: 0 },
  { id: 'c', desc: 'N8 64->64 56x56 k3 p1', N: 8, C: 64, K: 64, H: 56, W: 56, k: 3, s: 1, p: 1 },
  { id: 'd', desc: 'N1 3->64 224x224 k3 p1', N: 1, C: 3, K: 64, H: 224, W: 224, k: 3, s: 1, p: 1 },
  { id: 'e', desc: 'T N64 128->64 7->14 k4 s2 p1', N: 64, C: 128, K: 64, H: 7, W: 7, k: 4, s: 2, p: 1, transposed: true },
  { id: 'f', desc: 'T N1 1024->512 28->56 k2 s2', N: 1, C: 1024, K: 512, H: 28, W: 28, k: 2, s: 2, p: 0, transposed: true },
].filter((s) => !ONLY || ONLY.includes(s.id));

for (const s of SHAPES) {
  s.OH = s.transposed ? (s.H - 1) * s.s - 2 * s.p + s.k : Math.floor((s.H + 2 * s.p - s.k) / s.s) + 1;
  s.OW = s.transposed ? (s.W - 1) * s.s - 2 * s.p + s.k : Math.floor((s.W + 2 * s.p - s.k) / s.s) + 1;
  // Multiply-adds of the forward: every (output, tap) pair for conv, every (input, tap) for transposed.
  s.flops = 2 * s.N * s.K * s.C * s.k * s.k * (s.transposed ? s.H * s.W : s.OH * s.OW);
  s.wShape = s.transposed ? [s.C, s.K, s.k, s.k] : [s.K, s.C, s.k, s.k];
}

// ---- dendrite --------------------------------------------------------------------------------

async function timeTask(name, fn) {
  const bench = new Bench({ time: TIME, warmupTime: 100, warmupIterations: 2, iterations: 3 });
  bench.add(name, fn);
  await bench.run();
  return bench.tasks[0].result.latency.min;
}

async function dendrite(s, threads) {
  dt.setNumThreads(threads);
  dt.manualSeed(0);
  const x = dt.randn([s.N, s.C, s.H, s.W], { requiresGrad: true });
  const w = dt.randn(s.wShape).mul(0.05).requiresGrad_();
  const b = dt.randn([s.K], { requiresGrad: true });
  const o = s.transposed ? { stride: s.s, padding: s.p } : { stride: s.s, padding: s.p };
  const op = s.transposed ? dt.F.convTranspose2d : dt.F.conv2d;
  const gy = dt.randn([s.N, s.K, s.OH, s.OW]);
  const fwd = await timeTask('fwd', () => {
    dt.tidy(() => {
      dt.noGrad(() => op(x, w, b, o));
    });
  });
  const train = await timeTask('train', () => {
    dt.tidy(() => {
      const y = op(x, w, b, o);
      y.backward(gy);
    });
    for (const t of [x, w, b]) {
      t.grad?.dispose();
      t.grad = null;
    }
  });
  return { fwd, train };
}

// ---- PyTorch ---------------------------------------------------------------------------------

const TORCH = String.raw`
import json, sys, time, torch
import torch.nn.functional as F
shapes, threads, budget = json.loads(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000
torch.set_num_threads(threads)
torch.manual_seed(0)
def best_ms(fn):
    for _ in range(2): fn()
    times, start = [], time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < budget:
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return 1000 * min(times)
out = {}
for s in shapes:
    x = torch.randn(s['N'], s['C'], s['H'], s['W'], requires_grad=True)
    w = (torch.randn(*s['wShape']) * 0.05).requires_grad_()
    b = torch.randn(s['K'], requires_grad=True)
    gy = torch.randn(s['N'], s['K'], s['OH'], s['OW'])
    op = (lambda: F.conv_transpose2d(x, w, b, stride=s['s'], padding=s['p'])) if s.get('transposed') else (lambda: F.conv2d(x, w, b, stride=s['s'], padding=s['p']))
    def fwd():
        with torch.no_grad(): op()
    def train():
        x.grad = w.grad = b.grad = None
        op().backward(gy)
    out[s['id']] = {'fwd': best_ms(fwd), 'train': best_ms(train)}
print(json.dumps({'version': torch.__version__, 'results': out}))
`;

function torchTimes(threads) {
  if (flag('no-torch')) return null;
  try {
    const stdout = execFileSync('/usr/bin/python3', ['-c', TORCH, JSON.stringify(SHAPES), String(threads), String(TIME)], {
      encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) }, maxBuffer: 1 << 20,
    });
    return JSON.parse(stdout.trim().split('\n').pop());
  } catch (e) {
    console.error(`PyTorch anchor unavailable: ${e.message.split('\n')[0]}`);
    return null;
  }
}

// ---- onnxruntime-node: a one-node ONNX model, protobuf-encoded by hand -------------------------

function varint(n) {
  const bytes = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    bytes.push(b);
  } while (v > 0n);
  return bytes;
}
const key = (field, wire) => varint((field << 3) | wire);
const fInt = (field, n) => [...key(field, 0), ...varint(n)];
const fBytes = (field, bytes) => [...key(field, 2), ...varint(bytes.length), ...bytes];
const fStr = (field, s) => fBytes(field, [...Buffer.from(s, 'utf8')]);
const fMsg = (field, parts) => fBytes(field, parts.flat());

const attrInts = (name, ints) => fMsg(5, [fStr(1, name), fInt(20, 7), ...ints.map((i) => fInt(8, i))]); // AttributeProto INTS
const valueInfo = (field, name, shape) =>
  fMsg(field, [fStr(1, name), fMsg(2, [fMsg(1, [fInt(1, 1), fMsg(2, shape.map((d) => fMsg(1, [fInt(1, d)])))])])]);
const initializer = (name, shape, data) =>
  fMsg(5, [...shape.map((d) => fInt(1, d)), fInt(2, 1), fStr(8, name), fBytes(9, [...new Uint8Array(data.buffer, data.byteOffset, data.byteLength)])]);

function onnxModel(s, weight, bias) {
  const attrs = [attrInts('kernel_shape', [s.k, s.k]), attrInts('strides', [s.s, s.s]), attrInts('pads', [s.p, s.p, s.p, s.p])];
  const node = fMsg(1, [fStr(1, 'x'), fStr(1, 'w'), fStr(1, 'b'), fStr(2, 'y'), fStr(3, 'conv'), fStr(4, s.transposed ? 'ConvTranspose' : 'Conv'), ...attrs]);
  const graph = fMsg(7, [
    node, fStr(2, 'g'), initializer('w', s.wShape, weight), initializer('b', [s.K], bias),
    valueInfo(11, 'x', [s.N, s.C, s.H, s.W]), valueInfo(12, 'y', [s.N, s.K, s.OH, s.OW]),
  ]);
  return Uint8Array.from([...fInt(1, 8), ...fMsg(8, [fStr(1, ''), fInt(2, 13)]), ...graph]);
}

async function ortTime(s, threads) {
  if (flag('no-ort')) return null;
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch {
    return null;
  }
  const w = Float32Array.from({ length: s.wShape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i) * 0.05);
  const b = Float32Array.from({ length: s.K }, (_, i) => Math.cos(i));
  const session = await ort.InferenceSession.create(onnxModel(s, w, b), {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const x = new ort.Tensor('float32', Float32Array.from({ length: s.N * s.C * s.H * s.W }, (_, i) => Math.cos(i * 0.7)), [s.N, s.C, s.H, s.W]);
  const ms = await timeTask('ort', async () => {
    await session.run({ x });
  });
  await session.release();
  return ms;
}

// ---- run and report --------------------------------------------------------------------------

const info = dt.cpuInfo();
console.log(`dendrite conv bench: path ${info.path}, ${info.physicalCores} physical cores, ${TIME} ms per measurement`);
const rows = [];
for (const threads of THREADS) {
  const torch = torchTimes(threads);
  for (const s of SHAPES) {
    const d = await dendrite(s, threads);
    const o = await ortTime(s, threads);
    const t = torch?.results[s.id] ?? null;
    rows.push({ id: s.id, desc: s.desc, threads, flops: s.flops, dendrite: d, torch: t, ort: o });
    process.stderr.write('.');
  }
}
process.stderr.write('\n');

const f = (v, d = 2) => (v === null || v === undefined ? '-' : v.toFixed(d));
const gflops = (flops, ms) => (ms ? flops / ms / 1e6 : null);
const header = ['shape', 'thr', 'fwd ms', 'GF/s', 'torch ms', 'ort ms', 'fwd ratio', 'fwd+bwd ms', 'GF/s', 'torch ms', 'ratio'];
const table = rows.map((r) => {
  const bestFwd = Math.min(...[r.torch?.fwd, r.ort].filter((v) => v));
  return [
    `(${r.id}) ${r.desc}`, String(r.threads), f(r.dendrite.fwd), f(gflops(r.flops, r.dendrite.fwd), 1), f(r.torch?.fwd), f(r.ort),
    isFinite(bestFwd) ? f(bestFwd / r.dendrite.fwd) : '-',
    f(r.dendrite.train), f(gflops(3 * r.flops, r.dendrite.train), 1), f(r.torch?.train),
    r.torch ? f(r.torch.train / r.dendrite.train) : '-',
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of table) console.log(line(row));
console.log('GF/s: forward 2*MACs, fwd+bwd 3x that (input and weight gradients). Ratios: best anchor time / dendrite time.');
const out = opt('json', null);
if (out) writeFileSync(out, JSON.stringify({ cpu: info, rows }, null, 2));

// Optimizer-step benchmark: one step of Adam (and AdamW, AMSGrad, SGD with momentum) over a
// 10M-parameter MLP's parameters (float32), dendrite's fused native kernels beside PyTorch 1.13
// (Debian's /usr/bin/python3) at the same thread counts: PyTorch's default single-tensor path
// (foreach=False in 1.13) and its multi-tensor foreach path. Medians of tinybench samples (the
// PyTorch side times the same way in its own process); each side runs --rounds interleaved rounds
// and keeps its best median, since on a shared machine contention only slows a round down.
//
//   node bench/optim.bench.mjs [--threads 1,2] [--rounds 3] [--json out.json] [--no-python]
//
// GB/s counts the bytes a fused step must move: Adam reads param, grad, exp_avg, exp_avg_sq and
// writes param, exp_avg, exp_avg_sq (28 bytes per float32 parameter; AMSGrad 36, SGD 20).
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dt = require(path.join(root, 'dist/index.js'));

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const THREADS = arg('threads', `1,${dt.cpuInfo().physicalCores}`).split(',').map(Number).filter((v, i, a) => a.indexOf(v) === i);
const ROUNDS = Number(arg('rounds', '3'));
const jsonOut = arg('json', null);
const withPython = !argv.includes('--no-python');

// An MLP 1024 -> 4096 -> 1024 -> 1024 -> 512: 9,968,128 parameters in 8 tensors.
const SHAPES = [[4096, 1024], [4096], [1024, 4096], [1024], [1024, 1024], [1024], [512, 1024], [512]];
const NUMEL = SHAPES.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
const CASES = [
  { name: 'Adam', cls: 'Adam', options: { lr: 1e-3 }, torch: 'lr=1e-3', bytes: 28 },
  { name: 'AdamW', cls: 'AdamW', options: { lr: 1e-3 }, torch: 'lr=1e-3', bytes: 28 },
  { name: 'Adam amsgrad', cls: 'Adam', options: { lr: 1e-3, amsgrad: true }, torch: 'lr=1e-3, amsgrad=True', bytes: 36 },
  { name: 'SGD momentum', cls: 'SGD', options: { lr: 1e-2, momentum: 0.9 }, torch: 'lr=1e-2, momentum=0.9', bytes: 20 },
];

async function medianMs(fn) {
  const bench = new Bench({ time: 800, iterations: 10, warmupIterations: 3, warmupTime: 100 });
  bench.add('step', fn);
  await bench.run();
  const r = bench.tasks[0].result;
  return r.latency?.p50 ?? r.p50;
}

async function dendriteMs(c, threads) {
  dt.setNumThreads(threads);
  const params = SHAPES.map((s) => dt.nn.Parameter(dt.randn(s)));
  for (const p of params) p.grad = dt.randn(p.shape);
  const opt = new dt.optim[c.cls](params, c.options);
  const ms = await medianMs(() => opt.step());
  opt.disposeState();
  for (const p of params) p.dispose();
  return ms;
}

const PY = String.raw`
import json, sys, time, torch
threads, rounds = int(sys.argv[1]), int(sys.argv[2])
cases = json.loads(sys.argv[3])
shapes = json.loads(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)

def median_ms(fn, budget_s=0.8, min_reps=10):
    for _ in range(3):
        fn()
    times, start = [], time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < budget_s:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[len(times) // 2]

out = {}
for r in range(rounds):
    for c in cases:
        for foreach in (False, True):
            params = [torch.randn(s, requires_grad=True) for s in shapes]
            for p in params:
                p.grad = torch.randn(p.shape)
            opt = eval('torch.optim.%s(params, %s, foreach=%s)' % (c['cls'], c['torch'], foreach))
            ms = median_ms(opt.step)
            key = '%s|%s' % (c['name'], foreach)
            out[key] = min(out.get(key, float('inf')), ms)
            del opt, params
print(json.dumps({'version': torch.__version__, 'threads': torch.get_num_threads(), 'ms': out}))
`;

function torchMs(threads) {
  const res = spawnSync('/usr/bin/python3', ['-c', PY, String(threads), String(ROUNDS), JSON.stringify(CASES), JSON.stringify(SHAPES)], {
    encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) }, maxBuffer: 1 << 20,
  });
  if (res.status !== 0) {
    console.error(`PyTorch run failed (threads ${threads}): ${res.stderr || res.error}`);
    return null;
  }
  return JSON.parse(res.stdout.trim().split('\n').pop());
}

const fmt = (v, d = 2) => (v === null || v === undefined ? '-' : v.toFixed(d));
const rows = [];
console.log(`dendrite ${dt.cpuInfo().path} path; ${NUMEL.toLocaleString('en-US')} float32 parameters in ${SHAPES.length} tensors; best of ${ROUNDS} rounds of medians`);
for (const threads of THREADS) {
  const ours = {};
  for (let r = 0; r < ROUNDS; r++)
    for (const c of CASES) ours[c.name] = Math.min(ours[c.name] ?? Infinity, await dendriteMs(c, threads));
  const torch = withPython ? torchMs(threads) : null;
  for (const c of CASES) {
    const single = torch?.ms[`${c.name}|False`] ?? null, multi = torch?.ms[`${c.name}|True`] ?? null;
    rows.push({
      optimizer: c.name, threads, dendriteMs: ours[c.name], dendriteGBs: (NUMEL * c.bytes) / (ours[c.name] * 1e6),
      torchMs: single, torchForeachMs: multi,
      speedup: single ? single / ours[c.name] : null, speedupForeach: multi ? multi / ours[c.name] : null,
      torchVersion: torch?.version ?? null,
    });
  }
}

const head = ['optimizer', 'threads', 'dendrite ms', 'GB/s', 'torch ms', 'torch foreach ms', 'torch/dendrite', 'foreach/dendrite'];
const table = rows.map((r) => [r.optimizer, String(r.threads), fmt(r.dendriteMs), fmt(r.dendriteGBs, 1), fmt(r.torchMs), fmt(r.torchForeachMs),
  r.speedup ? `${fmt(r.speedup)}x` : '-', r.speedupForeach ? `${fmt(r.speedupForeach)}x` : '-']);
const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cells) => '| ' + cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
console.log(line(head));
console.log('|' + widths.map((w, i) => (i < 1 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
for (const t of table) console.log(line(t));
if (rows[0]?.torchVersion) console.log(`PyTorch ${rows[0].torchVersion} (/usr/bin/python3); torch/dendrite > 1 means dendrite is faster.`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ numel: NUMEL, shapes: SHAPES, cpu: dt.cpuInfo(), rows }, null, 2));

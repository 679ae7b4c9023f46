// bench/train: one epoch of the course's Fashion-MNIST CNN (conv 32 → conv 32 → max pool →
// dense 128 → dense 10, ReLU) in dendrite and in PyTorch (bench/train_torch.py through Debian's
// /usr/bin/python3) on the same machine: epoch time and test accuracy after that epoch.
//
//   node bench/train.bench.mjs [--threads N] [--runs 2] [--steps S] [--seed K] [--root DIR] [--json out.json] [--no-python]
//
// Both sides: PyTorch's default initialisation, Adam (lr 1e-3), batch 64 shuffled, pixels / 255
// then standardised, the full data set decoded into memory before the clock starts, so the epoch
// time is the training loop (dendrite's through dt.fit, PyTorch's a plain loop over its
// DataLoader). The sides alternate for --runs rounds; each run is a fresh process and model.
// On a machine shared with other jobs contention only ever slows a run down, so the best run
// is reported beside the median, with CPU time (which contention hardly moves).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ROOT = opt('root', '/usr/share/datasets/fashion-mnist');
const STEPS = Number(opt('steps', 0));
const SEED = Number(opt('seed', 0));
const RUNS = Number(opt('runs', 2));
const jsonOut = opt('json', null);
const withPython = !argv.includes('--no-python');

async function worker() {
  const dt = await import('../dist/index.mjs');
  const threads = Number(opt('threads', dt.getNumThreads()));
  dt.setNumThreads(threads);
  dt.manualSeed(Number(opt('seed', 0)));
  const { nn } = dt;
  const T = dt.data.transforms;
  const transform = T.compose([T.toTensor(), T.normalize(0.2860, 0.3530)]);
  const load = (train) => {
    const ds = dt.data.datasets.fashionMnist({ root: ROOT, train, locations: ['root'], log: false });
    // Decode and preprocess once, as the PyTorch side does.
    const x = dt.keep(transform(ds.data.unsqueeze(1)));
    return new dt.data.TensorDataset(x, ds.targets);
  };
  const train = load(true), test = load(false);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 32, 3), new nn.ReLU(),
    new nn.Conv2d(32, 32, 3), new nn.ReLU(),
    new nn.MaxPool2d(2), new nn.Flatten(),
    new nn.Linear(32 * 12 * 12, 128), new nn.ReLU(),
    new nn.Linear(128, 10),
  );
  const loader = new dt.data.DataLoader(train, { batchSize: 64, shuffle: true, seed: Number(opt('seed', 0)) });
  const t0 = performance.now(), c0 = process.cpuUsage();
  await dt.fit(model, loader, {
    optimizer: new dt.optim.Adam(model.parameters(), { lr: 1e-3 }),
    loss: 'crossEntropy', epochs: 1, stepsPerEpoch: STEPS || undefined, verbose: 'silent',
  });
  const epochS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const t1 = performance.now();
  const { accuracy } = await dt.evaluate(model, test, { metrics: ['accuracy'], batchSize: 500 });
  console.log(JSON.stringify({
    epoch_s: epochS, epoch_cpu_s: (cpu.user + cpu.system) / 1e6, steps: STEPS || loader.length, test_accuracy: accuracy,
    eval_s: (performance.now() - t1) / 1000, threads, path: dt.cpuInfo().path,
  }));
}

function runOnce(side, threads) {
  const args = ['--threads', String(threads), '--root', ROOT, '--seed', String(SEED), ...(STEPS ? ['--steps', String(STEPS)] : [])];
  const r = side === 'dendrite'
    ? spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--worker', ...args], { encoding: 'utf8' })
    : spawnSync('/usr/bin/python3', [path.join(here, 'train_torch.py'), ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
  if (r.status !== 0) throw new Error(`${side} run failed:\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

if (argv.includes('--worker')) await worker();
else {
  const dt = await import('../dist/index.mjs');
  const threads = Number(opt('threads', dt.getNumThreads()));
  const sides = withPython ? ['dendrite', 'pytorch'] : ['dendrite'];
  const results = Object.fromEntries(sides.map((s) => [s, []]));
  console.log(`one epoch of the course's CNN on ${ROOT}${STEPS ? ` (first ${STEPS} steps)` : ''}, ${threads} thread(s), ${RUNS} run(s) per side, alternating`);
  for (let run = 1; run <= RUNS; run++)
    for (const side of sides) {
      const r = runOnce(side, threads);
      results[side].push(r);
      console.log(`  run ${run} ${side.padEnd(8)}  epoch ${r.epoch_s.toFixed(1).padStart(6)} s  (CPU ${r.epoch_cpu_s.toFixed(1)} s)  test accuracy ${(r.test_accuracy * 100).toFixed(2)}%`);
    }
  const median = (v) => {
    const s = [...v].sort((a, b) => a - b), m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const summary = {};
  for (const side of sides) {
    const rs = results[side];
    summary[side] = {
      bestEpochS: Math.min(...rs.map((r) => r.epoch_s)), medianEpochS: median(rs.map((r) => r.epoch_s)),
      medianCpuS: median(rs.map((r) => r.epoch_cpu_s)), accuracies: rs.map((r) => r.test_accuracy),
    };
    const s = summary[side];
    console.log(`${side.padEnd(8)}  best epoch ${s.bestEpochS.toFixed(1)} s, median ${s.medianEpochS.toFixed(1)} s, CPU ${s.medianCpuS.toFixed(1)} s; test accuracy ${s.accuracies.map((a) => (a * 100).toFixed(2) + '%').join(', ')}`);
  }
  if (summary.pytorch) console.log(`dendrite / PyTorch epoch time (best runs): ${(summary.dendrite.bestEpochS / summary.pytorch.bestEpochS).toFixed(2)}`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), threads, steps: STEPS || null, results, summary }, null, 2));
}

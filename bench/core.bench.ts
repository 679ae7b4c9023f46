// Core op families beside onnxruntime-node and tfjs (cpu, wasm): per-op overhead, elementwise
// add against memory bandwidth, softmax, reductions, unary activations.
import * as os from 'node:os';
import {
  dt, environment, findResult, formatTable, formatTime, onnxAttr, runCases, setupAnchors, tf, writeResults,
  type OnnxInitializer, type OpCase, type Result,
} from './common';

const N = 1_000_000;
const ROWS = 1000, COLS = 1000;

const axes = (...values: number[]): OnnxInitializer => ({
  name: 'axes', dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)),
});
const noKeep = { keepdims: onnxAttr.int(0) };

const ORT_NOTE = 'public async run(): one setImmediate turn per call';
const cases: OpCase[] = [
  {
    group: '1. per-op overhead',
    name: 'add [1]',
    inputs: { a: [1], b: [1] },
    dendrite: ([a, b]) => dt.add(a, b),
    // ORT's profiler adds microseconds of its own to a run this small: no ort-session row.
    onnx: { nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['y'] }], outputs: { y: [1] }, sessionTime: false },
    tfjs: ([a, b]) => tf.add(a, b),
    notes: { onnxruntime: ORT_NOTE },
  },
  {
    group: '2. elementwise vs memory bandwidth (12 B/elem for add, 8 B/elem for copy)',
    name: 'copy [1e6]',
    inputs: { x: [N] },
    bytes: 8 * N,
    dendrite: ([x]) => x.clone(),
    custom: {
      js: ([x]) => {
        const dst = new Float32Array(N);
        return { run: () => dst.set(x), output: () => dst.slice() };
      },
    },
    notes: { dendrite: 'x.clone()', js: 'Float32Array.prototype.set' },
  },
  {
    group: '2. elementwise vs memory bandwidth (12 B/elem for add, 8 B/elem for copy)',
    name: 'add [1e6]',
    inputs: { a: [N], b: [N] },
    bytes: 12 * N,
    dendrite: ([a, b]) => dt.add(a, b),
    onnx: { nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['y'] }], outputs: { y: [N] } },
    tfjs: ([a, b]) => tf.add(a, b),
  },
  {
    group: '3. softmax',
    name: 'softmax [256,1000] dim -1',
    inputs: { x: [256, 1000] },
    bytes: 8 * 256 * 1000,
    dendrite: ([x]) => dt.softmax(x, -1),
    onnx: { nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: onnxAttr.int(-1) } }], outputs: { y: [256, 1000] } },
    tfjs: ([x]) => tf.softmax(x, -1),
  },
  {
    group: '4. reductions',
    name: 'sum [1e6] (full)',
    inputs: { x: [N] },
    bytes: 4 * N,
    // float32 sums of 1e6 values differ by accumulation order: up to ~1e-2 here.
    tolerance: { atol: 0.5 },
    dendrite: ([x]) => dt.sum(x),
    onnx: { nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['y'], attrs: noKeep }], outputs: { y: [] } },
    tfjs: ([x]) => tf.sum(x),
  },
  {
    group: '4. reductions',
    name: 'sum [1000,1000] dim 1',
    inputs: { x: [ROWS, COLS] },
    bytes: 4 * (ROWS * COLS + ROWS),
    dendrite: ([x]) => dt.sum(x, 1),
    onnx: { nodes: [{ op: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['y'], attrs: noKeep }], outputs: { y: [ROWS] }, initializers: [axes(1)] },
    tfjs: ([x]) => tf.sum(x, 1),
  },
  {
    group: '4. reductions',
    name: 'mean [1000,1000] dim 0',
    inputs: { x: [ROWS, COLS] },
    bytes: 4 * (ROWS * COLS + COLS),
    dendrite: ([x]) => dt.mean(x, 0),
    onnx: { nodes: [{ op: 'ReduceMean', inputs: ['x', 'axes'], outputs: ['y'], attrs: noKeep }], outputs: { y: [COLS] }, initializers: [axes(0)] },
    tfjs: ([x]) => tf.mean(x, 0),
  },
  {
    group: '4. reductions',
    name: 'max [1000,1000] dim -1',
    inputs: { x: [ROWS, COLS] },
    bytes: 4 * (ROWS * COLS + ROWS),
    dendrite: ([x]) => dt.max(x, -1),
    onnx: { nodes: [{ op: 'ReduceMax', inputs: ['x', 'axes'], outputs: ['y'], attrs: noKeep }], outputs: { y: [ROWS] }, initializers: [axes(-1)] },
    tfjs: ([x]) => tf.max(x, -1),
    notes: { dendrite: 'returns values and indices (PyTorch)' },
  },
];

const unary: [string, (x: dt.Tensor) => dt.Tensor, string, (x: tf.Tensor) => tf.Tensor][] = [
  ['relu', dt.relu, 'Relu', tf.relu],
  ['exp', dt.exp, 'Exp', tf.exp],
  ['sigmoid', dt.sigmoid, 'Sigmoid', tf.sigmoid],
  ['tanh', dt.tanh, 'Tanh', tf.tanh],
  // tfjs has no gelu op: the erf form composed from its ops, as a tfjs user would write it.
  ['gelu', (x) => dt.gelu(x), 'Gelu', (x) => tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))))],
];
for (const [name, dtOp, onnxOp, tfOp] of unary) {
  cases.push({
    group: '5. unary (8 B/elem)',
    name: `${name} [1e6]`,
    inputs: { x: [N] },
    bytes: 8 * N,
    dendrite: ([x]) => dtOp(x),
    onnx: { nodes: [{ op: onnxOp, inputs: ['x'], outputs: ['y'] }], outputs: { y: [N] } },
    tfjs: ([x]) => tfOp(x),
    notes: name === 'gelu' ? { dendrite: 'exact (erf)', onnxruntime: 'Gelu-20, exact', 'tfjs-cpu': 'composed: 0.5x(1+erf(x/√2)), 5 ops', 'tfjs-wasm': 'composed, 5 ops' } : undefined,
  });
}

/** The project's aims for this family, checked on this run's numbers. */
function aims(results: Result[]) {
  const overhead = findResult(results, 'add [1]', 'dendrite');
  const add = findResult(results, 'add [1e6]', 'dendrite');
  const copies = (['dendrite', 'js'] as const).map((lib) => findResult(results, 'copy [1e6]', lib)?.gbPerSec).filter((v) => v !== undefined);
  const bandwidth = copies.length > 0 ? Math.max(...copies) : undefined;
  return {
    perOpOverhead: overhead && {
      ns: overhead.medianNs!, aimNs: 1000, met: overhead.medianNs! <= 1000,
    },
    addVsBandwidth: add && bandwidth !== undefined && {
      addGBs: add.gbPerSec!, copyGBs: bandwidth, fraction: add.gbPerSec! / bandwidth, aim: 0.8, met: add.gbPerSec! / bandwidth >= 0.8,
    },
  };
}

async function main(): Promise<void> {
  const anchorInfo = await setupAnchors();
  const env = environment(anchorInfo);
  process.stderr.write(`core: ${env.cpu}, ${env.logicalCpus} CPUs, dendrite ${env.dendrite.cpu.path} × ${env.dendrite.numThreads} threads\n`);
  const started = performance.now();
  const results = await runCases(cases);
  const summary = aims(results);

  console.log(`\ncore ops — ${env.cpu} (${env.logicalCpus} CPUs), node ${env.node}, dendrite ${env.dendrite.cpu.path} × ${env.dendrite.numThreads} threads, ` +
    `onnxruntime-node ${anchorInfo.onnxruntime.version}, tfjs ${anchorInfo.tfjs.version} (wasm simd ${anchorInfo.tfjs.wasmSimd}, threads ${anchorInfo.tfjs.wasmThreads}); ` +
    `load average ${env.loadAverage[0].toFixed(1)} → ${os.loadavg()[0].toFixed(1)}\n`);
  console.log(formatTable(results));
  console.log('\naims');
  if (summary.perOpOverhead)
    console.log(`  per-op overhead (add [1]): ${formatTime(summary.perOpOverhead.ns)} — aim ≤ 1 µs: ${summary.perOpOverhead.met ? 'met' : 'NOT met'}`);
  if (summary.addVsBandwidth) {
    const a = summary.addVsBandwidth;
    console.log(`  add [1e6]: ${a.addGBs.toFixed(2)} GB/s = ${(100 * a.fraction).toFixed(0)}% of copy bandwidth ${a.copyGBs.toFixed(2)} GB/s (best copy) — aim ≥ 80%: ${a.met ? 'met' : 'NOT met'}`);
    const cache = env.lastLevelCacheBytes;
    if (cache !== undefined && 12 * N <= cache)
      console.log(`    (add's 12 MB working set fits the ${(cache / 2 ** 20).toFixed(0)} MiB last-level cache: this is cache bandwidth, not DRAM's)`);
  }

  const file = writeResults('core', {
    family: 'core',
    environment: env,
    loadAverageAfter: os.loadavg(),
    wallSeconds: (performance.now() - started) / 1000,
    aims: summary,
    results,
  });
  console.log(`\nresults: ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

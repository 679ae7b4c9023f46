// What every bench/<fam>.bench.ts shares: the anchors (onnxruntime-node, tfjs with its cpu
// and wasm backends) set up in this process, an op table runner on tinybench, the table on
// stdout and the JSON under bench/results/.
//
// Timing: one sample is the mean of `batch` back-to-back calls, with `batch` picked so that a
// sample lasts about TIMING.sampleMs: long enough that the two timer reads (~50 ns) do not
// count, short enough that a preemption spoils few samples, which the median then drops. Every
// library of an op is measured in TIMING.rounds short rounds, in alternating order, and the samples
// of all rounds pooled: on a shared machine the load drifts within seconds, and interleaving
// spreads that drift over all libraries instead of penalising whichever ran at a bad moment.
// We report the median, and compare libraries by their ratio to dendrite in the same run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as dt from 'dendrite';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { makeOnnxModel, type OnnxInitializer, type OnnxModelSpec, type OnnxNode } from './onnx';

export { makeOnnxModel, onnxAttr, type OnnxAttr, type OnnxDType, type OnnxInitializer, type OnnxModelSpec, type OnnxNode, type OnnxValueInfo } from './onnx';
export { dt, ort, tf };

// tinybench ships only as an ES module; these files compile to CommonJS (so that `dendrite`
// resolves to this package itself), hence the dynamic import.
type TinyBench = typeof import('tinybench', { with: { 'resolution-mode': 'import' } });

/**
 * 'onnxruntime' is timed through its public async `run()`, as a Node user calls it;
 * 'ort-session' is the same model's own `model_run` time from ORT's profiler, without the
 * Node binding and JS wrapper, which shows how ORT's kernels compare.
 */
export type Library = 'dendrite' | 'onnxruntime' | 'ort-session' | 'tfjs-cpu' | 'tfjs-wasm' | 'js';
const LIBRARY_ORDER: Library[] = ['dendrite', 'onnxruntime', 'tfjs-cpu', 'tfjs-wasm', 'js'];

/**
 * Time budget per (op, library), split over `rounds`; BENCH_TIME_MS overrides `time`. Slow ops
 * get at least `iterations` samples per round.
 */
export const TIMING = {
  time: Number(process.env.BENCH_TIME_MS ?? 1000),
  rounds: 3,
  iterations: 4,
  warmupTime: 50,
  warmupIterations: 1,
  sampleMs: 0.05,
};

/** One op, run once; `run` may return a Promise (onnxruntime), which is then awaited. */
export interface Impl {
  run: () => unknown;
  /** The op's (first) output as a flat copy, to check that every library computes the same thing. */
  output?: () => Float32Array | Promise<Float32Array>;
  /** Makes this library current before its round (tfjs: selects the backend). */
  activate?: () => Promise<void>;
  dispose?: () => void | Promise<void>;
  /** Timings the library takes itself (onnxruntime's profiler), run alongside the rounds. */
  internal?: InternalTimer;
}
export interface InternalTimer {
  library: Library;
  /** Runs the op about `runs` times under the library's own timer. */
  round(runs: number): Promise<void>;
  /** Per-run times in ns. */
  finish(): Promise<number[]>;
}
export type ImplFactory = () => Impl | Promise<Impl>;

/**
 * A row of an op table. Inputs are float32 arrays of N(0, 1) values, the same values handed to
 * every library. A library without an entry is not measured for that op.
 */
export interface OpCase {
  group: string;
  name: string;
  inputs: Record<string, number[]>;
  /** Bytes an op must move at least (each input read once, each output written once): gives GB/s. */
  bytes?: number;
  dendrite?: (xs: dt.Tensor[]) => unknown;
  /** The graph over the case's inputs (same names); outputs are preallocated and reused. */
  onnx?: {
    nodes: OnnxNode[];
    outputs: Record<string, number[]>;
    initializers?: OnnxInitializer[];
    opset?: number;
    /** Also report ORT's own model_run time (default true; meaningless for ops of a few µs). */
    sessionTime?: boolean;
  };
  tfjs?: (xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
  /** Anchors that fit no pattern above (e.g. a plain JS copy), keyed by library. */
  custom?: Partial<Record<Library, (data: Float32Array[]) => Impl>>;
  notes?: Partial<Record<Library, string>>;
  /** Agreement with dendrite's output: |a - b| <= atol + rtol * |b| (default 1e-5, 1e-3). */
  tolerance?: { atol?: number; rtol?: number };
}

export interface Result {
  group: string;
  op: string;
  library: Library;
  status: 'ok' | 'error';
  error?: string;
  note?: string;
  /** Calls per timed sample. */
  batch?: number;
  samples?: number;
  medianNs?: number;
  meanNs?: number;
  minNs?: number;
  p75Ns?: number;
  p99Ns?: number;
  /** Median absolute deviation of samples, ns. */
  madNs?: number;
  /** Relative margin of error of the mean (95%), %. */
  rme?: number;
  bytes?: number;
  gbPerSec?: number;
  opsPerSec?: number;
  /** This library's median time / dendrite's (> 1: dendrite is faster). */
  ratioVsDendrite?: number;
  /** Largest |difference| from dendrite's output, and whether it is within the case's tolerance. */
  maxAbsDiff?: number;
  agrees?: boolean;
}

// ---- anchors ------------------------------------------------------------------------------

export interface AnchorInfo {
  onnxruntime: { version: string; sessionOptions: ort.InferenceSession.SessionOptions };
  tfjs: { version: string; wasmSimd: boolean; wasmThreads: boolean };
}

// As many intra-op threads as dendrite's pool, and no spin-waiting: dendrite's workers sleep on a
// condition variable, and spinning workers on a small shared machine take the core the JS
// thread needs (on 2 cores, ORT's default spinning made its runs 2-4x slower and noisier).
function ortSessionOptions(): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: dt.getNumThreads(),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

let anchors: AnchorInfo | null = null;

/** Loads tfjs's wasm binary from node_modules (nothing is fetched) and starts both backends. */
export async function setupAnchors(): Promise<AnchorInfo> {
  if (anchors) return anchors;
  tf.enableProdMode();  // no debug checks, no "install tfjs-node" banner
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(wasmDir + path.sep);
  for (const backend of ['wasm', 'cpu']) {
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs: the ${backend} backend failed to start`);
  }
  anchors = {
    onnxruntime: { version: packageVersion('onnxruntime-node'), sessionOptions: ortSessionOptions() },
    tfjs: {
      version: tf.version.tfjs,
      wasmSimd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
      wasmThreads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
    },
  };
  return anchors;
}

function packageVersion(name: string): string {
  // Read through the entry point: not every package exports ./package.json.
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (pkg.name === name) return pkg.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/** Deterministic N(0, 1) float32 values (xorshift32 + Box-Muller), so every library sees the same data. */
export function normalData(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const uniform = (): number => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform())), t = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function disposeDendrite(v: unknown): void {
  if (v instanceof dt.Tensor) v.dispose();
  else if (Array.isArray(v)) for (const t of v) disposeDendrite(t);
}

function firstOf<T>(v: T | T[]): T {
  return Array.isArray(v) ? v[0] : v;
}

function dendriteImpl(c: OpCase, data: Float32Array[]): Impl {
  const shapes = Object.values(c.inputs);
  const xs = data.map((d, i) => dt.tensor(d, { shape: shapes[i] }));
  const op = c.dendrite!;
  return {
    run: () => disposeDendrite(op(xs)),
    output: () => {
      const out = op(xs);
      const values = (firstOf(out) as dt.Tensor).dataSync().slice() as Float32Array;
      disposeDendrite(out);
      return values;
    },
    dispose: () => xs.forEach((x) => x.dispose()),
  };
}

async function onnxImpl(c: OpCase, data: Float32Array[]): Promise<Impl> {
  const names = Object.keys(c.inputs);
  const spec: OnnxModelSpec = {
    nodes: c.onnx!.nodes,
    inputs: names.map((name) => ({ name, shape: c.inputs[name] })),
    outputs: Object.entries(c.onnx!.outputs).map(([name, shape]) => ({ name, shape })),
    initializers: c.onnx!.initializers,
    opset: c.onnx!.opset,
  };
  const model = makeOnnxModel(spec);
  const session = await ort.InferenceSession.create(model, ortSessionOptions());
  const feeds: Record<string, ort.Tensor> = {};
  names.forEach((name, i) => (feeds[name] = new ort.Tensor('float32', data[i], c.inputs[name])));
  const fetches: Record<string, ort.Tensor> = {};
  for (const [name, shape] of Object.entries(c.onnx!.outputs))
    fetches[name] = new ort.Tensor('float32', new Float32Array(numel(shape)), shape);
  const internal = c.onnx!.sessionTime === false ? undefined : await ortProfiledTwin(model, feeds, fetches);
  return {
    run: () => session.run(feeds, fetches),
    output: async () => {
      await session.run(feeds, fetches);
      return (Object.values(fetches)[0].data as Float32Array).slice();
    },
    dispose: async () => {
      await session.release();
      await internal?.discard();
    },
    internal,
  };
}

/**
 * A second session of the same model with ORT's profiler on; its `model_run` events (1 µs
 * resolution) time a run inside ORT, without the Node binding.
 */
async function ortProfiledTwin(model: Uint8Array, feeds: Record<string, ort.Tensor>, fetches: Record<string, ort.Tensor>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dendrite-bench-ort-'));
  const session = await ort.InferenceSession.create(model, { ...ortSessionOptions(), enableProfiling: true, profileFilePrefix: path.join(dir, 'ort') });
  let rounds = 0, warmupRuns = 0, ended = false;
  const end = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    session.endProfiling();
    await session.release();
  };
  return {
    library: 'ort-session' as Library,
    async round(runs: number): Promise<void> {
      // The first runs of the first round stand in for a warmup and are dropped below.
      if (rounds++ === 0) warmupRuns = Math.min(5, runs);
      for (let i = 0; i < runs + (rounds === 1 ? warmupRuns : 0); i++) await session.run(feeds, fetches);
    },
    async finish(): Promise<number[]> {
      await end();
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
      if (files.length !== 1) throw new Error(`onnxruntime profiling: expected one profile in ${dir}, found ${files.length}`);
      const events = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8')) as { cat: string; name: string; dur: number }[];
      return events.filter((e) => e.cat === 'Session' && e.name === 'model_run').slice(warmupRuns).map((e) => e.dur * 1000);
    },
    async discard(): Promise<void> {
      await end();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function tfjsImpl(backend: 'cpu' | 'wasm', c: OpCase, data: Float32Array[]): () => Promise<Impl> {
  const activate = async (): Promise<void> => {
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs: cannot switch to ${backend}`);
  };
  return async () => {
    // Tensors live in the backend that was current when they were made.
    await activate();
    const shapes = Object.values(c.inputs);
    const xs = data.map((d, i) => tf.tensor(d, shapes[i], 'float32'));
    const op = c.tfjs!;
    return {
      run: () => tf.dispose(op(xs)),
      output: () => {
        const out = op(xs);
        const values = firstOf(out).dataSync() as Float32Array;
        tf.dispose(out);
        return values;
      },
      activate,
      dispose: () => tf.dispose(xs),
    };
  };
}

// ---- running ------------------------------------------------------------------------------

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as Promise<unknown>)?.then === 'function';
}

/** Calls per sample so that one sample lasts about TIMING.sampleMs; also whether run is async. */
async function pickBatch(impl: Impl): Promise<{ batch: number; isAsync: boolean; perCallMs: number }> {
  const first = impl.run();
  const isAsync = isPromise(first);
  if (isAsync) await first;
  const timeCalls = async (calls: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) {
      const r = impl.run();
      if (isAsync) await r;
    }
    return (performance.now() - t0) / calls;
  };
  // Warm up (JIT, caches, allocator) first, else a slow first call picks a batch of 1.
  for (const t0 = performance.now(); performance.now() - t0 < 5;) await timeCalls(1);
  let calls = 1;
  let perCallMs = await timeCalls(1);
  if (perCallMs >= TIMING.sampleMs) return { batch: 1, isAsync, perCallMs };
  while (perCallMs * calls < TIMING.sampleMs / 4) perCallMs = await timeCalls((calls *= 2));
  // The median of a few short chunks: a GC pause or preemption in one does not skew the batch.
  const estimates = [perCallMs];
  for (const t0 = performance.now(); estimates.length < 15 && performance.now() - t0 < 20;) estimates.push(await timeCalls(calls));
  estimates.sort((a, b) => a - b);
  perCallMs = estimates[estimates.length >> 1];
  return { batch: Math.max(1, Math.round(TIMING.sampleMs / perCallMs)), isAsync, perCallMs };
}

/** One round of samples (ns per call) with tinybench. */
async function sampleRound(tb: TinyBench, impl: Impl, batch: number, isAsync: boolean): Promise<number[]> {
  const bench = new tb.Bench({
    time: TIMING.time / TIMING.rounds,
    iterations: TIMING.iterations,
    warmupTime: TIMING.warmupTime,
    warmupIterations: TIMING.warmupIterations,
    retainSamples: true,
    throws: true,
  });
  const run = impl.run;
  const now = (): number => performance.now();
  // Each sample times a batch itself and reports the per-call mean; the iteration cost keeps
  // tinybench's time budget honest.
  if (isAsync) {
    bench.add('op', async () => {
      const t0 = now();
      for (let i = 0; i < batch; i++) await run();
      const elapsed = now() - t0;
      return { overriddenDuration: elapsed / batch, overriddenIterationCost: elapsed };
    }, { async: true });
  } else {
    bench.add('op', () => {
      const t0 = now();
      for (let i = 0; i < batch; i++) run();
      const elapsed = now() - t0;
      return { overriddenDuration: elapsed / batch, overriddenIterationCost: elapsed };
    }, { async: false });
  }
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== 'completed') throw (r as { error?: Error }).error ?? new Error(`tinybench: task ${r.state}`);
  return Array.from(r.latency.samples ?? [], (ms) => ms * 1e6);
}

/** Statistics of per-call samples (ns). */
function resultFromSamples(c: OpCase, library: Library, samplesNs: number[], batch: number): Result {
  if (samplesNs.length === 0) throw new Error('no samples');
  const sorted = samplesNs.slice().sort((a, b) => a - b);
  const n = sorted.length;
  const quantile = (p: number): number => {
    const pos = (n - 1) * p, lo = Math.floor(pos), hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  };
  const median = quantile(0.5);
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(sorted.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  const deviations = sorted.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
  return {
    group: c.group, op: c.name, library, status: 'ok', note: c.notes?.[library], batch,
    samples: n,
    medianNs: median, meanNs: mean, minNs: sorted[0], p75Ns: quantile(0.75), p99Ns: quantile(0.99),
    madNs: deviations[n >> 1],
    rme: (100 * 1.96 * sd) / Math.sqrt(n) / mean,
    bytes: c.bytes,
    gbPerSec: c.bytes !== undefined ? c.bytes / median : undefined,
    opsPerSec: 1e9 / median,
  };
}

function factoriesFor(c: OpCase, data: Float32Array[]): [Library, ImplFactory][] {
  const out: [Library, ImplFactory][] = [];
  for (const lib of LIBRARY_ORDER) {
    if (lib === 'dendrite' && c.dendrite) out.push([lib, () => dendriteImpl(c, data)]);
    else if (lib === 'onnxruntime' && c.onnx) out.push([lib, () => onnxImpl(c, data)]);
    else if (lib === 'tfjs-cpu' && c.tfjs) out.push([lib, tfjsImpl('cpu', c, data)]);
    else if (lib === 'tfjs-wasm' && c.tfjs) out.push([lib, tfjsImpl('wasm', c, data)]);
    const custom = c.custom?.[lib];
    if (custom) out.push([lib, () => custom(data)]);
  }
  return out;
}

function liveCounts(): { dendrite: number; tfjs: number } {
  return { dendrite: dt.memory().numTensors, tfjs: tf.memory().numTensors };
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message.split('\n')[0] : String(e));

interface Entry {
  library: Library;
  impl: Impl | null;
  error?: string;
  batch: number;
  isAsync: boolean;
  perCallMs: number;
  samples: number[];
  output?: Float32Array;
}

/** Largest |a - b| and whether every element is within tolerance of the reference b. */
function compareOutputs(a: Float32Array, b: Float32Array, tol: OpCase['tolerance']): { maxAbsDiff: number; agrees: boolean } {
  if (a.length !== b.length) return { maxAbsDiff: Infinity, agrees: false };
  const atol = tol?.atol ?? 1e-5, rtol = tol?.rtol ?? 1e-3;
  let maxAbsDiff = 0, agrees = true;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= atol + rtol * Math.abs(b[i]))) agrees = false;  // NaN disagrees too
    if (!(d <= maxAbsDiff)) maxAbsDiff = d;
  }
  return { maxAbsDiff, agrees };
}

/** Measures one op in every library: set up all, interleave the rounds, tear down. */
async function runCase(tb: TinyBench, c: OpCase): Promise<Result[]> {
  const data = Object.values(c.inputs).map((shape, i) => normalData(numel(shape), 1 + i));
  const entries: Entry[] = [];
  for (const [library, make] of factoriesFor(c, data)) {
    const entry: Entry = { library, impl: null, batch: 1, isAsync: false, perCallMs: 0, samples: [] };
    entries.push(entry);
    try {
      entry.impl = await make();
      await entry.impl.activate?.();
      Object.assign(entry, await pickBatch(entry.impl));
      entry.output = await entry.impl.output?.();
    } catch (e) {
      entry.error = errorText(e);
    }
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let round = 0; round < TIMING.rounds; round++) {
    // Alternate the order so that no library always runs right after the same other one.
    const order = round % 2 === 0 ? entries : entries.slice().reverse();
    for (const entry of order) {
      if (entry.error !== undefined || entry.impl === null) continue;
      try {
        await entry.impl.activate?.();
        gc?.();
        for (const v of await sampleRound(tb, entry.impl, entry.batch, entry.isAsync)) entry.samples.push(v);
        // The library's own timer gets about half a round's budget of runs.
        const runs = Math.max(10, Math.min(1000, Math.round(TIMING.time / TIMING.rounds / 2 / entry.perCallMs)));
        await entry.impl.internal?.round(runs);
      } catch (e) {
        entry.error = errorText(e);
      }
    }
  }
  const results: Result[] = [];
  const failed = (library: Library, error: string): Result => ({ group: c.group, op: c.name, library, status: 'error', error, note: c.notes?.[library] });
  for (const entry of entries) {
    results.push(entry.error !== undefined ? failed(entry.library, entry.error) : resultFromSamples(c, entry.library, entry.samples, entry.batch));
    const internal = entry.impl?.internal;
    if (internal && entry.error === undefined) {
      try {
        results.push(resultFromSamples(c, internal.library, await internal.finish(), 1));
      } catch (e) {
        results.push(failed(internal.library, errorText(e)));
      }
    }
    try {
      await entry.impl?.dispose?.();
    } catch (e) {
      process.stderr.write(`  warning: ${c.name} · ${entry.library}: dispose failed: ${errorText(e)}\n`);
    }
  }
  const base = results.find((r) => r.library === 'dendrite' && r.status === 'ok');
  for (const r of results) if (base && r.status === 'ok') r.ratioVsDendrite = r.medianNs! / base.medianNs!;
  const reference = entries.find((e) => e.library === 'dendrite')?.output;
  for (const entry of entries) {
    if (!reference || !entry.output || entry.library === 'dendrite') continue;
    const check = compareOutputs(entry.output, reference, c.tolerance);
    for (const r of results)
      if (r.library === entry.library || (r.library === 'ort-session' && entry.library === 'onnxruntime')) Object.assign(r, check);
  }
  return results;
}

/** Runs every op of the table in turn; a library that fails is reported, not fatal. */
export async function runCases(cases: OpCase[]): Promise<Result[]> {
  const tb: TinyBench = await import('tinybench');
  await setupAnchors();
  const results: Result[] = [];
  for (const [k, c] of cases.entries()) {
    const before = liveCounts();
    const caseResults = await runCase(tb, c);
    const after = liveCounts();
    if (after.dendrite !== before.dendrite || after.tfjs !== before.tfjs)
      process.stderr.write(`  warning: ${c.name} left tensors alive (dendrite ${before.dendrite} → ${after.dendrite}, tfjs ${before.tfjs} → ${after.tfjs})\n`);
    const shown = caseResults.map((r) => `${r.library} ${r.status === 'ok' ? formatTime(r.medianNs!) : 'error'}`).join(', ');
    process.stderr.write(`  [${k + 1}/${cases.length}] ${c.name}: ${shown}\n`);
    results.push(...caseResults);
  }
  return results;
}

// ---- reporting ----------------------------------------------------------------------------

export function formatTime(ns: number): string {
  if (ns < 10_000) return `${ns.toFixed(0)} ns`;
  if (ns < 10_000_000) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

function formatThroughput(r: Result): string {
  if (r.gbPerSec !== undefined) return `${r.gbPerSec.toFixed(2)} GB/s`;
  const ops = r.opsPerSec!;
  return ops >= 1e6 ? `${(ops / 1e6).toFixed(2)} Mop/s` : `${(ops / 1e3).toFixed(1)} kop/s`;
}

/** The results as a fixed-width table: op, library, median, throughput, ratio to dendrite. */
export function formatTable(results: Result[]): string {
  const header = ['op', 'library', 'median', 'throughput', 'vs dendrite', 'note'];
  const rows: string[][] = [];
  let group = '';
  const groupRows = new Set<number>();
  for (const r of results) {
    if (r.group !== group) {
      group = r.group;
      groupRows.add(rows.length);
      rows.push([group, '', '', '', '', '']);
    }
    const ok = r.status === 'ok';
    rows.push([
      `  ${r.op}`,
      r.library,
      ok ? formatTime(r.medianNs!) : 'error',
      ok ? formatThroughput(r) : '',
      r.ratioVsDendrite !== undefined ? `${r.ratioVsDendrite.toFixed(2)}×` : '',
      ok ? [r.agrees === false ? `DIFFERS from dendrite by up to ${r.maxAbsDiff!.toPrecision(3)}` : '', r.note ?? ''].filter((s) => s).join('; ') : r.error ?? '',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.filter((_, k) => !groupRows.has(k)).map((r) => r[i].length)));
  const right = new Set([2, 3, 4]);
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : right.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(header), widths.map((w, i) => (i === widths.length - 1 ? '-'.repeat(Math.max(w, 4)) : '-'.repeat(w))).join('  ')];
  rows.forEach((r, k) => out.push(groupRows.has(k) ? r[0] : line(r)));
  out.push(
    '',
    'median: median of samples, each the mean of a batch of back-to-back calls. vs dendrite: median ÷ dendrite\'s median (> 1: dendrite faster).',
    'onnxruntime: through its public async run() with preallocated outputs; ort-session: ORT\'s own model_run time (profiler, 1 µs',
    'resolution), i.e. without the Node binding. GB/s counts the bytes an op must move: each input read once, each output written once.',
    'Every library\'s output was checked against dendrite\'s on the same inputs; a mismatch is flagged in the note column.',
  );
  return out.join('\n');
}

function repoRoot(): string {
  // Compiled to build/bench/, two levels below the package root.
  return path.resolve(__dirname, '..', '..');
}

/** The last-level cache in bytes, where Linux tells (sysfs); tells whether a working set is in cache. */
function lastLevelCacheBytes(): number | undefined {
  const dir = '/sys/devices/system/cpu/cpu0/cache';
  try {
    let best: number | undefined;
    for (const index of fs.readdirSync(dir).filter((d) => d.startsWith('index'))) {
      const size = fs.readFileSync(path.join(dir, index, 'size'), 'utf8').trim();
      const m = /^(\d+)([KMG]?)$/.exec(size);
      if (!m) continue;
      const bytes = Number(m[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as Record<string, number>)[m[2]];
      if (best === undefined || bytes > best) best = bytes;
    }
    return best;
  } catch {
    return undefined;
  }
}

export function environment(anchorInfo: AnchorInfo) {
  const rootPkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8'));
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    logicalCpus: os.cpus().length,
    lastLevelCacheBytes: lastLevelCacheBytes(),
    loadAverage: os.loadavg(),
    dendrite: { version: rootPkg.version, cpu: dt.cpuInfo(), numThreads: dt.getNumThreads() },
    ...anchorInfo,
    tinybench: { version: packageVersion('tinybench'), ...TIMING },
  };
}

/** Writes bench/results/<family>-<timestamp>.json and returns its path. */
export function writeResults(family: string, payload: object): string {
  const dir = path.join(repoRoot(), 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
  const file = path.join(dir, `${family}-${stamp}.json`);
  fs.writeFileSync(file, JSON.stringify(payload, null, 2) + '\n');
  return file;
}

export function findResult(results: Result[], op: string, library: Library): Result | undefined {
  return results.find((r) => r.op === op && r.library === library && r.status === 'ok');
}

#!/usr/bin/env node
// Runs tfjs-core's own op tests (the *_test.js files its npm package ships) against the
// `dendrite` backend and prints pass/fail counts per file.
//
//   node test/tfjs/run-core-tests.mjs                 # the default list below
//   node test/tfjs/run-core-tests.mjs --required      # only the files issue 12 names
//   node test/tfjs/run-core-tests.mjs ops/add_test relu_test --failures
//   node test/tfjs/run-core-tests.mjs --json          # one JSON object on the last line
//
// The test files are ES modules written against tfjs-core's source tree (extensionless
// relative imports, `require('jasmine-core/...')` inside an ES module), so they are bundled once
// with rolldown into a CommonJS file, cached in the OS temp dir by content. That bundle carries
// its own copy of tfjs-core; the engine, kernel registry and backends are process-global in
// tfjs (`globalThis._tfengine`), so the tests drive the very backend that `dendrite/tfjs`
// registers through the published `@tensorflow/tfjs-core` package. The tests run in jasmine
// (jasmine-core), as tfjs runs them, through jasmine_util's test environments; the only one
// registered is { backendName: 'dendrite', isDataSync: true }.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const require = createRequire(path.join(root, 'package.json'));

/** The files issue 12 asks to pass in full (mul and div live in arithmetic_test; reshape and cast in tensor_test). */
export const REQUIRED_FILES = [
  'add_test', 'sub_test', 'arithmetic_test', 'exp_test', 'log_test', 'sqrt_test', 'relu_test', 'sigmoid_test',
  'tanh_test', 'softmax_test', 'sum_test', 'mean_test', 'max_test', 'min_test', 'arg_max_test', 'mat_mul_test',
  'transpose_test', 'tensor_test', 'concat_test', 'slice_test', 'pad_test', 'gather_test', 'one_hot_test',
  'conv2d_test', 'conv2d_transpose_test', 'depthwise_conv2d_test', 'max_pool_test', 'avg_pool_test', 'batchnorm_test',
];

/**
 * Every other ops test file whose kernels the backend registers (natively or as a listed
 * fallback). The op test files left out need kernels it does not register (3-D conv and
 * pooling, bincount, einsum, diag, ragged and sparse ops, search sorted, LRN, dilation2d,
 * depthToSpace, tensorScatterUpdate, broadcastArgs, bitwiseAnd, maxPoolWithArgmax).
 */
export const OTHER_FILES = [
  'abs_test', 'acos_test', 'acosh_test', 'add_n_test', 'all_test', 'any_test', 'arg_min_test', 'asin_test',
  'asinh_test', 'atan_test', 'atanh_test', 'axis_util_test', 'basic_lstm_cell_test', 'batch_to_space_nd_test',
  'binary_ops_test', 'boolean_mask_test', 'broadcast_to_test', 'broadcast_util_test', 'ceil_test',
  'clip_by_value_test', 'clone_test', 'complex_ops_test', 'concat_util_test', 'confusion_matrix_test',
  'conv1d_test', 'conv2d_separable_test', 'conv_util_test', 'cos_test', 'cosh_test', 'cumprod_test',
  'cumsum_test', 'dropout_test', 'dropout_util_test', 'elu_test', 'ensure_shape_test', 'equal_test',
  'erf_test', 'euclidean_norm_test', 'expand_dims_test', 'expm1_test', 'eye_test', 'fill_test', 'floor_test',
  'floordiv_test', 'from_pixels_test', 'gather_nd_test', 'greater_equal_test', 'greater_test', 'ifft_test',
  'in_top_k_test', 'is_finite_test', 'is_inf_test', 'is_nan_test', 'leaky_relu_test', 'less_equal_test',
  'less_test', 'linspace_test', 'log1p_test', 'log_sigmoid_test', 'log_softmax_test', 'log_sum_exp_test',
  'logical_and_test', 'logical_not_test', 'logical_or_test', 'logical_xor_test', 'meshgrid_test',
  'mirror_pad_test', 'moments_test', 'moving_average_test', 'multi_rnn_cell_test', 'multinomial_test',
  'neg_test', 'norm_test', 'not_equal_test', 'ones_like_test', 'ones_test', 'operation_test', 'pool_test',
  'prod_test', 'rand_test', 'random_gamma_test', 'random_normal_test', 'random_standard_normal_test',
  'random_uniform_int_test', 'random_uniform_test', 'range_test', 'reciprocal_test', 'relu6_test',
  'reverse_1d_test', 'reverse_2d_test', 'reverse_3d_test', 'reverse_4d_test', 'reverse_test', 'round_test',
  'rsqrt_test', 'scatter_nd_test', 'selu_test', 'setdiff1d_async_test', 'sign_test', 'sin_test', 'sinh_test',
  'slice1d_test', 'slice2d_test', 'slice3d_test', 'slice4d_test', 'slice_util_test', 'softplus_test',
  'space_to_batch_nd_test', 'split_test', 'square_test', 'squeeze_test', 'stack_test', 'step_test',
  'strided_slice_test', 'tan_test', 'tile_test', 'to_pixels_test', 'topk_test', 'truncated_normal_test',
  'unique_test', 'unsorted_segment_sum_test', 'unstack_test', 'where_async_test', 'where_test',
  'zeros_like_test', 'zeros_test', 'ops/image/resize_bilinear_test', 'ops/image/resize_nearest_neighbor_test',
];

export const DEFAULT_FILES = [...REQUIRED_FILES, ...OTHER_FILES];

function resolveFrom(request) {
  const dirs = [root, ...(process.env.NODE_PATH ?? '').split(path.delimiter).filter(Boolean)];
  for (const dir of dirs) {
    try {
      return createRequire(path.join(dir, 'noop.js')).resolve(request);
    } catch {}
  }
  throw new Error(`${request} not found (install jasmine-core, a devDependency, or put it on NODE_PATH)`);
}

async function buildBundle(coreDist, files, jasminePath) {
  const version = JSON.parse(fs.readFileSync(path.join(coreDist, '..', 'package.json'), 'utf8')).version;
  const key = createHash('sha1').update(JSON.stringify({ version, files, jasminePath, v: 3 })).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), `dendrite-tfjs-core-tests-${key}`);
  const out = path.join(dir, 'bundle.cjs');
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(dir, { recursive: true });
  const lines = [`import ${JSON.stringify(path.join(dir, 'setup.mjs'))};`];
  fs.writeFileSync(path.join(dir, 'setup.mjs'),
    // What @tensorflow/tfjs adds on top of tfjs-core, and tfjs-core's own test setup imports.
    `import ${JSON.stringify(path.join(coreDist, 'register_all_gradients.js'))};\n` +
    `import ${JSON.stringify(path.join(coreDist, 'public/chained_ops/register_all_chained_ops.js'))};\n` +
    `import { setTestEnvs } from ${JSON.stringify(path.join(coreDist, 'jasmine_util.js'))};\n` +
    `setTestEnvs([{ name: 'dendrite', backendName: 'dendrite', flags: {}, isDataSync: true }]);\n`);
  files.forEach((f, i) => {
    // A marker module runs just before each test module, so the runner can attribute specs to files.
    const marker = path.join(dir, `file_${i}.mjs`);
    fs.writeFileSync(marker, `globalThis.__tfjsTestFile = ${JSON.stringify(f)};\n`);
    lines.push(`import ${JSON.stringify(marker)};`, `import ${JSON.stringify(path.join(coreDist, `${f}.js`))};`);
  });
  const entry = path.join(dir, 'entry.mjs');
  fs.writeFileSync(entry, lines.join('\n') + '\n');
  const { rolldown } = require('rolldown');
  const bundle = await rolldown({
    input: entry,
    platform: 'node',
    cwd: root,
    logLevel: 'silent',
    // tfjs-core's package.json marks its test files side-effect free; they are nothing but side effects.
    treeshake: false,
    resolve: { alias: { 'jasmine-core/lib/jasmine-core/jasmine.js': jasminePath } },
  });
  await bundle.write({ file: out + '.tmp', format: 'cjs' });
  await bundle.close();
  fs.renameSync(out + '.tmp', out);
  return out;
}

async function main() {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const showFailures = args.includes('--failures');
  const named = args.filter((a) => !a.startsWith('--'));
  const coreDist = path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')) + '/dist';
  // A bare name is looked up in dist/ops/ first, then dist/.
  const normalize = (f) => {
    const name = f.replace(/\.js$/, '');
    return name.includes('/') || !fs.existsSync(path.join(coreDist, 'ops', `${name}.js`)) ? name : `ops/${name}`;
  };
  const files = (named.length > 0 ? named : args.includes('--required') ? REQUIRED_FILES : DEFAULT_FILES).map(normalize);
  const jasminePath = resolveFrom('jasmine-core/lib/jasmine-core/jasmine.js');
  const bundlePath = await buildBundle(coreDist, files, jasminePath);

  const jasmineRequire = require(jasminePath);
  const j = jasmineRequire.core(jasmineRequire);
  const env = j.getEnv();
  Object.assign(globalThis, jasmineRequire.interface(j, env));
  env.configure({ random: false, stopOnSpecFailure: false });
  j.DEFAULT_TIMEOUT_INTERVAL = 20000;

  const specFile = new Map();
  for (const name of ['it', 'fit', 'xit']) {
    const original = globalThis[name];
    globalThis[name] = function (...a) {
      const spec = original.apply(this, a);
      specFile.set(spec.id, globalThis.__tfjsTestFile);
      return spec;
    };
  }

  const counts = Object.fromEntries(files.map((f) => [f, { passed: 0, failed: 0, skipped: 0 }]));
  // Kernel name -> cpu fallback calls, per test file (the difference of fallbackStats() around each spec).
  const fileFallbacks = Object.fromEntries(files.map((f) => [f, {}]));
  let dendriteTfjs = null;
  let statsBefore = {};
  const failures = [];
  const suiteErrors = [];
  const done = new Promise((resolve) => {
    env.addReporter({
      jasmineStarted(i) {
        if (process.env.TFJS_TEST_DEBUG) console.error('jasmine started', i.totalSpecsDefined);
      },
      specStarted(r) {
        if (process.env.TFJS_TEST_DEBUG) console.error('start', r.fullName);
        statsBefore = dendriteTfjs.fallbackStats();
      },
      specDone(r) {
        const f = specFile.get(r.id) ?? '?';
        const fb = (fileFallbacks[f] ??= {});
        for (const [k, n] of Object.entries(dendriteTfjs.fallbackStats())) {
          const d = n - (statsBefore[k] ?? 0);
          if (d > 0) fb[k] = (fb[k] ?? 0) + d;
        }
        const c = (counts[f] ??= { passed: 0, failed: 0, skipped: 0 });
        if (r.status === 'passed') c.passed++;
        else if (r.status === 'failed') {
          c.failed++;
          failures.push({ file: f, name: r.fullName, message: r.failedExpectations.map((e) => e.message).join(' | ').slice(0, 400) });
        } else c.skipped++;
      },
      suiteDone(r) {
        if (r.failedExpectations?.length) suiteErrors.push({ name: r.fullName, message: r.failedExpectations.map((e) => e.message).join(' | ').slice(0, 400) });
      },
      jasmineDone: resolve,
    });
  });

  const t0 = Date.now();
  // The bundle first: its tfjs-core copy then owns the global engine and Tensor class, on which
  // it registered the chained ops and gradients the tests use.
  require(bundlePath);
  // The backend under test, through the published packages (as a user would load it).
  dendriteTfjs = require(path.join(root, 'dist/backends/tfjs/index.js'));
  // A spec whose promise never settles would otherwise let the process exit with nothing said.
  const keepAlive = setInterval(() => {}, 1000);
  env.execute();
  await done;
  clearInterval(keepAlive);
  const seconds = (Date.now() - t0) / 1000;

  if (showFailures) {
    for (const f of failures) console.log(`FAIL [${f.file}] ${f.name}\n     ${f.message}`);
    for (const s of suiteErrors) console.log(`SUITE ERROR ${s.name}\n     ${s.message}`);
  }
  const width = Math.max(...Object.keys(counts).map((f) => f.length));
  console.log(`${'file'.padEnd(width)}  passed  failed  skipped`);
  let passed = 0, failed = 0;
  for (const [f, c] of Object.entries(counts)) {
    passed += c.passed;
    failed += c.failed;
    console.log(`${f.padEnd(width)}  ${String(c.passed).padStart(6)}  ${String(c.failed).padStart(6)}  ${String(c.skipped).padStart(7)}`);
  }
  console.log(`${'total'.padEnd(width)}  ${String(passed).padStart(6)}  ${String(failed).padStart(6)}   (${seconds.toFixed(1)} s)`);
  console.log(`cpu fallbacks used: ${JSON.stringify(dendriteTfjs.fallbackStats())}`);
  if (json) console.log(JSON.stringify({ counts, failures, suiteErrors, seconds, fallbackStats: dendriteTfjs.fallbackStats(), fileFallbacks }));
  process.exitCode = failed > 0 || suiteErrors.length > 0 ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});

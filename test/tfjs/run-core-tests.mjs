#!/usr/bin/env node
// Runs tfjs-core's own op tests (the *_test.js files its npm package ships) against the
// `dendrite` backend and prints pass/fail counts per file.
//
//   node test/tfjs/run-core-tests.mjs                 # the default list below
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

/** The files issue 12 asks to pass in full (those waiting for the conv branch are listed apart). */
// (mul and div live in arithmetic_test; reshape and cast in tensor_test.)
export const DEFAULT_FILES = [
  'add_test', 'sub_test', 'arithmetic_test', 'exp_test', 'log_test', 'sqrt_test', 'relu_test', 'sigmoid_test',
  'tanh_test', 'softmax_test', 'sum_test', 'mean_test', 'max_test', 'min_test', 'arg_max_test', 'mat_mul_test',
  'transpose_test', 'tensor_test', 'concat_test', 'slice_test', 'pad_test', 'gather_test', 'one_hot_test',
];

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
  const files = (named.length > 0 ? named : DEFAULT_FILES).map(normalize);
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
  const failures = [];
  const suiteErrors = [];
  const done = new Promise((resolve) => {
    env.addReporter({
      jasmineStarted(i) {
        if (process.env.TFJS_TEST_DEBUG) console.error('jasmine started', i.totalSpecsDefined);
      },
      specStarted(r) {
        if (process.env.TFJS_TEST_DEBUG) console.error('start', r.fullName);
      },
      specDone(r) {
        const f = specFile.get(r.id) ?? '?';
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
  const dendriteTfjs = require(path.join(root, 'dist/backends/tfjs/index.js'));
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
  if (json) console.log(JSON.stringify({ counts, failures, suiteErrors, seconds, fallbackStats: dendriteTfjs.fallbackStats() }));
  process.exitCode = failed > 0 || suiteErrors.length > 0 ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});

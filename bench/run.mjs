#!/usr/bin/env node
// npm run bench [-- name...]: compiles bench/*.ts to build/bench/ and runs each compiled
// *.bench.js (or the ones named: `core`, `core.bench`, `core.bench.ts` all pick core), one node
// process per file, so each starts with a fresh heap and its own addon thread pool.
// BENCH_TIME_MS sets the time budget per measurement (default in bench/common.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'build', 'bench');

if (!existsSync(join(root, 'dist', 'index.js'))) {
  console.error('bench: dist/index.js is missing; build first (npm run build).');
  process.exit(1);
}

// typescript/bin/tsc is not in the package's exports map: find it from its package.json.
const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'bench', 'tsconfig.json')], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

const available = readdirSync(outDir).filter((f) => f.endsWith('.bench.js')).sort();
const wanted = process.argv.slice(2).map((a) => a.replace(/\.ts$|\.js$/, '').replace(/\.bench$/, '') + '.bench.js');
const unknown = wanted.filter((f) => !available.includes(f));
if (unknown.length > 0) {
  console.error(`bench: no such benchmark: ${unknown.join(', ')} (have: ${available.join(', ')})`);
  process.exit(1);
}

let failed = 0;
for (const file of wanted.length > 0 ? wanted : available) {
  process.stderr.write(`\n== ${file.replace(/\.js$/, '')}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(outDir, file)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);

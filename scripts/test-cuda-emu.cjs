#!/usr/bin/env node
// `npm run test:cuda-emu [-- test/cuda/<file> | vitest args]`: test/cuda on the CUDA emulator (the CUDA kernels
// compiled for the CPU; docs/architecture.md, "CUDA emulator"). Build it first with
// `npm run build:cuda-emu` (or build:cuda-emu-asan, for which this preloads libasan into node);
// then `npm run build:ts`. Refuses to run against an addon that is not the emulator, so a pass
// here is never mistaken for a GPU run or a skip.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const addon = path.join(root, 'build', 'Release', 'dendrite.node');
if (!fs.existsSync(addon)) {
  console.error('test:cuda-emu: no build/Release/dendrite.node; run `npm run build:cuda-emu` first');
  process.exit(1);
}

const env = { ...process.env, DENDRITE_CUDA_EMU: '1' };
// An ASan build needs the ASan runtime loaded before anything else in node.
const ldd = spawnSync('ldd', [addon], { encoding: 'utf8' });
if (ldd.status === 0 && /libasan/.test(ldd.stdout)) {
  const cxx = process.env.CXX || 'g++';
  const lib = spawnSync(cxx, ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
  env.LD_PRELOAD = [lib, env.LD_PRELOAD].filter(Boolean).join(':');
  // Node's own allocations are not leaks worth reporting; the first error ends the process.
  env.ASAN_OPTIONS = env.ASAN_OPTIONS || 'detect_leaks=0:abort_on_error=0:halt_on_error=1';
  env.UBSAN_OPTIONS = env.UBSAN_OPTIONS || 'print_stacktrace=1:halt_on_error=1';
  console.log(`test:cuda-emu: ASan build, preloading ${lib}`);
}
const asan = Boolean(env.LD_PRELOAD && /libasan/.test(env.LD_PRELOAD));

const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(JSON.stringify(require('node-gyp-build')(process.argv[1]).cudaInfo()))", root], {
  encoding: 'utf8',
  env,
});
let info = {};
try {
  info = JSON.parse(probe.stdout);
} catch {
  console.error(`test:cuda-emu: cannot load the addon:\n${probe.stderr}`);
  process.exit(1);
}
if (!/emulator/.test(info.deviceName || '')) {
  console.error(`test:cuda-emu: the addon is not the CUDA emulator (device "${info.deviceName || ''}", ${info.reason || 'no reason'}); run \`npm run build:cuda-emu\``);
  process.exit(1);
}
console.log(`test:cuda-emu: running test/cuda on "${info.deviceName}"`);
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2);
// File filters given (test/cuda/gemm): run those; else the whole of test/cuda.
const files = args.some((a) => !a.startsWith('-')) ? [] : ['test/cuda'];
// Under ASan the 10,000-step training test takes about a minute: a longer per-test limit.
const timeout = asan && !args.some((a) => a.startsWith('--testTimeout')) ? ['--testTimeout=600000'] : [];
const r = spawnSync(process.execPath, [vitest, 'run', ...files, ...timeout, ...args], { cwd: root, stdio: 'inherit', env });
process.exit(r.status === null ? 1 : r.status);

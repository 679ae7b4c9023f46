#!/usr/bin/env node
// `npm run test:cuda-emu-self [-- --asan]`: builds native/cuda_emu/selftest/selftest.cu with the
// emulator (translated like native/cuda, compiled with g++ beside emu.cc) and runs it: barriers,
// shuffles, votes, atomics, index variables, shared memory, and the faults the emulator must
// report (deadlocks, divergent barriers, bad launch configurations, host pointers, bad copies).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { translate } = require('./cuda-emu-translate.cjs');

const root = path.join(__dirname, '..');
const asan = process.argv.includes('--asan');
const out = path.join(root, 'build', 'cuda_emu_selftest');
fs.mkdirSync(out, { recursive: true });
const src = path.join(root, 'native', 'cuda_emu', 'selftest', 'selftest.cu');
const cc = path.join(out, 'selftest.cu.cc');
fs.writeFileSync(cc, translate(fs.readFileSync(src, 'utf8'), src, true));
const exe = path.join(out, asan ? 'selftest-asan' : 'selftest');
const cxx = process.env.CXX || 'g++';
const flags = ['-std=c++17', '-g', '-I', path.join(root, 'native', 'cuda_emu'), '-DDENDRITE_CUDA_EMU=1', '-D__CUDACC__=1',
  '-Wall', '-Wno-unknown-pragmas', '-fno-strict-aliasing', '-march=native', '-ffp-contract=off', ...(asan ? ['-O1', '-fsanitize=address,undefined'] : ['-O2'])];
const build = spawnSync(cxx, [...flags, cc, path.join(root, 'native', 'cuda_emu', 'emu.cc'), '-o', exe, '-pthread'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(1);
const run = spawnSync(exe, [], { stdio: 'inherit', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } });
process.exit(run.status === null ? 1 : run.status);

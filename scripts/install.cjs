#!/usr/bin/env node
// `npm install` for dendrite: picks how to get the native addon.
//   1. a prebuilt binary in prebuilds/ that matches this platform, Node ABI (N-API) and the CUDA
//      choice -> use it, build nothing;
//   2. CUDA requested (DENDRITE_CUDA=1) or nvcc found on the PATH (unless DENDRITE_CUDA=0) ->
//      cmake-js with the CUDA kernels (CMakeLists.txt); if that fails and CUDA was only found,
//      not requested, say so and fall back to 3;
//   3. node-gyp (binding.gyp), the CPU-only addon.
// Either build writes build/Release/dendrite.node, which node-gyp-build loads at run time.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const want = process.env.DENDRITE_CUDA;

function log(msg) {
  console.log(`dendrite install: ${msg}`);
}

function onPath(name) {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = path.join(dir, name + ext);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {}
    }
  }
  return null;
}

function run(cmd, args) {
  log(`${path.basename(cmd)} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  return r.status === 0;
}

// A prebuild node-gyp-build would load (it looks in prebuilds/ for this platform and ABI).
// Prebuilds tagged "cuda" in their file name are the CUDA variant.
function matchingPrebuild(cuda) {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!fs.existsSync(dir)) return null;
  let found;
  try {
    found = require('node-gyp-build').path(root);
  } catch {
    return null;
  }
  if (!found || !found.includes(`${path.sep}prebuilds${path.sep}`)) return null;
  return /cuda/.test(path.basename(found)) === cuda ? found : null;
}

function nodeGyp() {
  // Under npm, npm_config_node_gyp names npm's own node-gyp (what node-gyp-build uses too).
  const bundled = process.env.npm_config_node_gyp;
  if (bundled && fs.existsSync(bundled)) return run(process.execPath, [bundled, 'rebuild']);
  try {
    return run(process.execPath, [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild']);
  } catch {}
  const onpath = onPath('node-gyp');
  if (onpath) return run(onpath, ['rebuild']);
  log('no node-gyp found (install it, or run npm install from npm, which bundles one)');
  return false;
}

function cmakeJsCuda(required) {
  if (!onPath('cmake')) {
    log('cmake is not on the PATH; the CUDA build needs it');
    return false;
  }
  let cli;
  try {
    cli = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    log('cmake-js is not installed');
    return false;
  }
  return run(process.execPath, [cli, 'rebuild', `--CDDENDRITE_CUDA=${required ? '1' : 'AUTO'}`]);
}

function main() {
  const nvcc = onPath('nvcc');
  const cuda = want === '1' || (want !== '0' && nvcc !== null);
  const prebuild = matchingPrebuild(cuda);
  if (prebuild) {
    log(`using the prebuilt ${path.relative(root, prebuild)}`);
    return 0;
  }
  if (cuda) {
    log(want === '1' ? 'building with CUDA (DENDRITE_CUDA=1)' : `building with CUDA (found ${nvcc}; DENDRITE_CUDA=0 skips it)`);
    if (cmakeJsCuda(want === '1')) return 0;
    if (want === '1') {
      log('the CUDA build failed and DENDRITE_CUDA=1 asks for it; stopping');
      return 1;
    }
    log('the CUDA build failed; building the CPU-only addon instead');
  }
  return nodeGyp() ? 0 : 1;
}

process.exit(main());

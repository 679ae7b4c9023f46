#!/usr/bin/env node
// The source step of the CUDA emulator (native/cuda_emu/, `npm run build:cuda-emu`): copies
// native/cuda/** into a mirror tree under the build directory so the host C++ compiler can build
// the very same kernels against the emulated runtime. Only two things change, and nothing else:
//
//   EXPR<<<grid, block[, smem[, stream]]>>>(args)
//     -> ::dendrite_emu::launch(SITE, ::dendrite_emu::LaunchConfig(grid, block[, smem[, stream]]),
//                               [](auto... a) { EXPR(a...); }, args)
//   (EXPR: `name`, `ns::name`, `name<T, 4>`, ...; the generic lambda lets template kernels deduce
//   their arguments exactly as nvcc would), and
//
//   __shared__ [__align__(n)] T name[...];   (a declaration inside a function body)
//     -> the same declaration, then ::dendrite_emu::shared_touch(&name, sizeof(name), &epoch);
//   which fills the block's shared variable with garbage the first time a block reaches it, so a
//   read of shared memory no thread has written shows up; and
//
//   extern __shared__ [__align__(n)] T name[];
//     -> T* const name = static_cast<T*>(::dendrite_emu::dynamic_shared());
//
// Comments and string literals are left alone, line breaks are kept (so `#line` maps every line
// back to the original file for compiler messages, __LINE__ and debuggers), and .cu files get
// `#include <cuda_runtime.h>` first, as nvcc includes it implicitly. Files are rewritten only when
// their translation changed, so an incremental build recompiles only what changed.
//
// Usage: node scripts/cuda-emu-translate.cjs <native/cuda dir> <output dir>
//   every *.cu becomes <output>/<rel>.cc, every other file (.cuh, .h) keeps its name.
'use strict';
const fs = require('fs');
const path = require('path');

// Spans of code (not comments, strings or character literals) in `src`: an array with, for each
// character index, whether it is code.
function codeMask(src) {
  const mask = new Uint8Array(src.length);
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i], d = src[i + 1];
    if (c === '/' && d === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === 'R' && d === '"' && !/[A-Za-z0-9_]/.test(src[i - 1] || '')) {
      // raw string R"delim( ... )delim"
      const open = src.indexOf('(', i + 2);
      const delim = src.slice(i + 2, open);
      const end = src.indexOf(')' + delim + '"', open);
      i = end < 0 ? n : end + delim.length + 2;
    } else if (c === '"' || (c === "'" && !/[0-9A-Fa-f]/.test(src[i - 1] || ''))) {
      // string or character literal (a ' after a hex digit is a digit separator)
      const q = c;
      i++;
      while (i < n && src[i] !== q) {
        if (src[i] === '\\') i++;
        if (src[i] === '\n') break;
        i++;
      }
      i++;
    } else {
      mask[i] = 1;
      i++;
    }
  }
  return mask;
}

// Index of the bracket closing the one at `open` (code only), or -1.
function matchForward(src, mask, open, oc, cc) {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (!mask[i]) continue;
    if (src[i] === oc) depth++;
    else if (src[i] === cc && --depth === 0) return i;
  }
  return -1;
}

function fail(file, src, at, msg) {
  const line = src.slice(0, at).split('\n').length;
  throw new Error(`${file}:${line}: cuda-emu-translate: ${msg}`);
}

// Start of the kernel expression that ends just before `end` (exclusive): identifiers, `::`,
// and one balanced template argument list per name.
function kernelExprStart(src, mask, end, file) {
  let i = end - 1;
  while (i >= 0 && /\s/.test(src[i])) i--;
  for (;;) {
    if (src[i] === '>') {
      let depth = 0;
      for (; i >= 0; i--) {
        if (!mask[i]) continue;
        if (src[i] === '>') depth++;
        else if (src[i] === '<' && --depth === 0) break;
      }
      if (i < 0) fail(file, src, end, 'unbalanced template arguments before <<<');
      i--;
      while (i >= 0 && /\s/.test(src[i])) i--;
    }
    if (!/[A-Za-z0-9_]/.test(src[i] || '')) fail(file, src, end, 'no kernel name before <<<');
    while (i >= 0 && /[A-Za-z0-9_]/.test(src[i])) i--;
    // ns::name
    let j = i;
    while (j >= 0 && /[ \t]/.test(src[j])) j--;
    if (src[j] === ':' && src[j - 1] === ':') {
      j -= 2;
      while (j >= 0 && /[ \t]/.test(src[j])) j--;
      if (/[A-Za-z0-9_>]/.test(src[j] || '')) {
        i = j;
        continue;
      }
      return j + 1;  // a leading ::
    }
    return i + 1;
  }
}

function rewriteLaunches(src, file) {
  let out = '';
  let pos = 0;
  let mask = codeMask(src);
  for (;;) {
    let at = src.indexOf('<<<', pos);
    while (at >= 0 && !mask[at]) at = src.indexOf('<<<', at + 1);
    if (at < 0) break;
    const start = kernelExprStart(src, mask, at, file);
    if (start < pos) fail(file, src, at, 'kernel expression overlaps the previous launch');
    const expr = src.slice(start, at);
    // The configuration runs to the matching >>> (parentheses may hold anything).
    let depth = 0, cfgEnd = -1;
    for (let i = at + 3; i < src.length; i++) {
      if (!mask[i]) continue;
      const c = src[i];
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') depth--;
      else if (depth === 0 && src.startsWith('>>>', i)) { cfgEnd = i; break; }
    }
    if (cfgEnd < 0) fail(file, src, at, 'no >>> closing the launch configuration');
    const cfg = src.slice(at + 3, cfgEnd);
    let p = cfgEnd + 3;
    while (p < src.length && /\s/.test(src[p])) p++;
    if (src[p] !== '(') fail(file, src, at, 'no argument list after >>>');
    const close = matchForward(src, mask, p, '(', ')');
    if (close < 0) fail(file, src, at, 'unbalanced kernel arguments');
    const args = src.slice(p + 1, close);
    const gap = src.slice(cfgEnd + 3, p).replace(/[^\n]/g, '');
    const name = expr.replace(/\s+/g, ' ').trim().replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    out += src.slice(pos, start);
    out += `::dendrite_emu::launch(::dendrite_emu::Site{"${name}", __FILE__, __LINE__}, ::dendrite_emu::LaunchConfig(${cfg}), ` +
      `[](auto... dendrite_emu_a) { ${expr}(dendrite_emu_a...); }${args.trim() ? ', ' : ''}${args})${gap}`;
    pos = close + 1;
  }
  return out + src.slice(pos);
}

// Whether index `at` lies inside a function body (or any block that is not a namespace, an
// extern "C" block, a class or an enum): statements may follow a declaration there.
function blockKinds(src, mask) {
  const kinds = new Array(src.length);
  const stack = [];
  let last = 0;
  for (let i = 0; i < src.length; i++) {
    if (!mask[i]) continue;
    const c = src[i];
    if (c === '{') {
      const before = src.slice(last, i);
      const head = before.slice(Math.max(before.lastIndexOf(';'), before.lastIndexOf('}'), before.lastIndexOf('{')) + 1);
      let kind = 'code';
      if (/\bnamespace\b/.test(head) || /extern\s*"C"\s*$/.test(head)) kind = 'namespace';
      else if (/\b(struct|class|union|enum)\b[^()]*$/.test(head)) kind = 'class';
      else if (/=\s*$/.test(head)) kind = 'init';
      stack.push(kind);
      last = i + 1;
    } else if (c === '}') {
      stack.pop();
      last = i + 1;
    } else if (c === ';') {
      last = i + 1;
    }
    kinds[i] = stack.length ? stack[stack.length - 1] : 'namespace';
  }
  return kinds;
}

function rewriteShared(src, file) {
  const mask = codeMask(src);
  const kinds = blockKinds(src, mask);
  const re = /\b(extern\s+)?__shared__\b/g;
  let out = '';
  let pos = 0;
  let counter = 0;
  let m;
  while ((m = re.exec(src)) !== null) {
    const at = m.index;
    if (!mask[at] || at < pos) continue;
    // The declaration runs to the next ';' at bracket depth 0.
    let depth = 0, end = -1;
    for (let i = at; i < src.length; i++) {
      if (!mask[i]) continue;
      const c = src[i];
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') depth--;
      else if (c === ';' && depth === 0) { end = i; break; }
    }
    if (end < 0) fail(file, src, at, '__shared__ declaration without a ;');
    const decl = src.slice(at, end);
    const inCode = kinds[at] === 'code';
    if (m[1]) {
      // extern __shared__ [__align__(n)] T name[];
      const d = /^extern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?([\s\S]*?)\s*\b([A-Za-z_]\w*)\s*\[\s*\]\s*$/.exec(decl);
      if (!d || !inCode) fail(file, src, at, 'unsupported extern __shared__ declaration (the emulator takes `extern __shared__ T name[];` in a function body)');
      out += src.slice(pos, at) + `${d[1]}* const ${d[2]} = static_cast<${d[1]}*>(::dendrite_emu::dynamic_shared())`;
      pos = end;
      continue;
    }
    if (!inCode) continue;
    // One declarator: the name is the identifier before the first '[' at depth 0 (or the last
    // identifier). Anything fancier is left as it is, unpoisoned.
    let name = null;
    const body = decl.replace(/__align__\s*\(\s*\d+\s*\)/g, '');
    if (!/,(?![^<>]*>)/.test(body.replace(/\[[^\]]*\]/g, '').replace(/\([^)]*\)/g, '')) && !/=/.test(body)) {
      const br = body.indexOf('[');
      const head = br >= 0 ? body.slice(0, br) : body;
      const id = /([A-Za-z_]\w*)\s*$/.exec(head);
      if (id) name = id[1];
    }
    if (!name) continue;
    const epoch = `dendrite_emu_shared_epoch_${counter++}`;
    out += src.slice(pos, end + 1) +
      ` static unsigned long long ${epoch}; ::dendrite_emu::shared_touch(&${name}, sizeof(${name}), &${epoch});`;
    pos = end + 1;
  }
  return out + src.slice(pos);
}

function translate(src, file, isCu) {
  let text = rewriteShared(rewriteLaunches(src, file), file);
  const lines = (s) => s.split('\n').length;
  if (lines(text) !== lines(src)) throw new Error(`${file}: cuda-emu-translate: line count changed`);
  const head = isCu ? '#include <cuda_runtime.h>\n' : '';
  return `${head}#line 1 "${file.replace(/\\/g, '/')}"\n${text}`;
}

function walk(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

function main() {
  const [srcDir, outDir] = process.argv.slice(2);
  if (!srcDir || !outDir) {
    console.error('usage: cuda-emu-translate.cjs <native/cuda dir> <output dir>');
    process.exit(2);
  }
  const root = path.resolve(srcDir);
  let written = 0;
  for (const file of walk(root)) {
    const rel = path.relative(root, file);
    if (!/\.(cu|cuh|h|hpp|inl)$/.test(rel)) continue;
    const isCu = rel.endsWith('.cu');
    const dst = path.join(outDir, isCu ? rel + '.cc' : rel);
    const text = translate(fs.readFileSync(file, 'utf8'), file, isCu);
    let old = null;
    try {
      old = fs.readFileSync(dst, 'utf8');
    } catch {}
    if (old !== text) {
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      fs.writeFileSync(dst, text);
      written++;
    }
  }
  // An empty stamp the build can depend on.
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, '.stamp'), '');
  if (written) console.log(`cuda-emu-translate: ${written} file(s) written to ${outDir}`);
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
module.exports = { translate, rewriteLaunches, rewriteShared };

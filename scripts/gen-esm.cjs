// Writes the ESM entry points: dist/index.mjs and, for the `dendrite/tfjs` subpath,
// dist/backends/tfjs/index.mjs. Each loads its CommonJS build once (one addon instance, one
// tensor registry, one tfjs backend registration) and re-exports every name, so `import * as dt`
// and `import { tensor }` both work.
const fs = require('fs');
const path = require('path');
const dist = path.join(__dirname, '..', 'dist');

function writeWrapper(dir, base) {
  const cjs = path.join(dir, `${base}.js`);
  const names = Object.keys(require(cjs)).filter((n) => n !== 'default' && n !== '__esModule');
  const lines = [
    "import { createRequire } from 'node:module';",
    'const require = createRequire(import.meta.url);',
    `const m = require('./${base}.js');`,
    'export default m;',
    // Bound through locals so reserved words (`var`) can still be export names.
    ...names.map((n, i) => `const e${i} = m[${JSON.stringify(n)}];`),
    `export { ${names.map((n, i) => `e${i} as ${n}`).join(', ')} };`,
  ];
  fs.writeFileSync(path.join(dir, `${base}.mjs`), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, `${base}.d.mts`), `export * from './${base}.js';\nimport * as m from './${base}.js';\nexport default m;\n`);
}

writeWrapper(dist, 'index');

// The tfjs backend needs its optional peer dependencies (@tensorflow/tfjs-core and
// tfjs-backend-cpu) to load; without them there is nothing to wrap.
const tfjsDir = path.join(dist, 'backends', 'tfjs');
try {
  require.resolve('@tensorflow/tfjs-core');
  writeWrapper(tfjsDir, 'index');
} catch (e) {
  if (e.code !== 'MODULE_NOT_FOUND') throw e;
  console.warn('gen-esm: @tensorflow/tfjs-core not installed; skipped dist/backends/tfjs/index.mjs');
}

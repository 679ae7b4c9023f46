// Writes dist/index.mjs, the ESM entry point: it loads the CommonJS build once (one addon
// instance, one tensor registry) and re-exports every name, so `import * as dt` and
// `import { tensor }` both work.
const fs = require('fs');
const path = require('path');
const dist = path.join(__dirname, '..', 'dist');
const names = Object.keys(require(path.join(dist, 'index.js'))).filter((n) => n !== 'default' && n !== '__esModule');
const lines = [
  "import { createRequire } from 'node:module';",
  'const require = createRequire(import.meta.url);',
  "const dt = require('./index.js');",
  'export default dt;',
  // Bound to positional locals and exported under their names: an export name may be a
  // reserved word (`var`), a binding may not.
  ...names.map((n, i) => `const e${i} = dt.${n};`),
  `export { ${names.map((n, i) => `e${i} as ${n}`).join(', ')} };`,
];
fs.writeFileSync(path.join(dist, 'index.mjs'), lines.join('\n') + '\n');
fs.writeFileSync(path.join(dist, 'index.d.mts'), "export * from './index.js';\nimport * as dt from './index.js';\nexport default dt;\n");

// npm run example -- NAME [args]: runs examples/NAME.mjs; without a name, lists them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const names = fs.readdirSync(dir).filter((f) => f.endsWith('.mjs') && !f.startsWith('_') && f !== 'run.mjs').map((f) => f.slice(0, -4)).sort();
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name.replace(/\.mjs$/, ''))) {
  if (name) console.error(`no example named ${JSON.stringify(name)}`);
  console.log(`usage: npm run example -- NAME\nexamples: ${names.join(', ')}`);
  process.exit(name ? 1 : 0);
}
const r = spawnSync(process.execPath, [path.join(dir, `${name.replace(/\.mjs$/, '')}.mjs`), ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);

#!/usr/bin/env node
// npx dendrite demo [args]          the main demo (examples/demo.mjs)
// npx dendrite example NAME [args]  one of the course's programs (examples/NAME.mjs); without NAME, the list
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const examples = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'examples');
const [command, ...args] = process.argv.slice(2);
const run = (script, rest) => {
  const r = spawnSync(process.execPath, [path.join(examples, script), ...rest], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
};
if (command === 'demo') run('demo.mjs', args);
else if (command === 'example' || command === 'examples') run('run.mjs', args);
else {
  if (command && command !== 'help' && command !== '--help' && command !== '-h') console.error(`unknown command ${JSON.stringify(command)}`);
  console.log('usage: dendrite demo [--full] [--epochs N]\n       dendrite example [NAME] [args]');
  process.exit(command && command !== 'help' && command !== '--help' && command !== '-h' ? 1 : 0);
}

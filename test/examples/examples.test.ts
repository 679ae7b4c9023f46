// Smoke test of every example: each runs in its own process with DENDRITE_SMOKE=1, which
// shrinks it to a few steps, and must exit cleanly and print what it learned.
import { describe, expect, it } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

const root = path.resolve(__dirname, '..', '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dendrite-examples-'));

function run(args: string[]) {
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, DENDRITE_SMOKE: '1', DENDRITE_OUT: out },
    timeout: 60000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const expected: Record<string, RegExp[]> = {
  linear_regression: [/learned price model/, /test mean absolute error: [\d.]+ k€/],
  logistic_regression: [/learned boundary/, /test accuracy: [\d.]+%/],
  xor_mlp: [/0 XOR 1 -> [\d.]+/, /final accuracy/],
  fast_rcnn: [/before training: mean IoU [\d.]+/, /step   1  loss [\d.]+/, /after training: mean IoU [\d.]+ of the top detection/],
  seq_classify: [/trained in [\d.]+ s/],
  seq2seq_attention: [/trained in [\d.]+ s: [\d.]+% of digits/, /example: \d+ -> \d+/],
  fashion_mlp: [/fashion-mnist: train split, 3000 images from .*fashion-mnist-subset/, /Epoch 1\/1 - 5 steps/, /test accuracy: [\d.]+% on 1000 images \(subset\)/, /wrote .*fashion_mlp\.svg/],
};

describe('examples (smoke)', () => {
  const names = fs.readdirSync(path.join(root, 'examples')).filter((f) => /^[a-z].*\.mjs$/.test(f) && f !== 'run.mjs' && f !== 'demo.mjs').map((f) => f.slice(0, -4));

  it('has a smoke expectation for every example', () => {
    expect(names.sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [name, patterns] of Object.entries(expected)) {
    it(`runs ${name}`, () => {
      const r = run([path.join('examples', 'run.mjs'), name]);
      expect(r.output, r.output).not.toMatch(/Error/);
      expect(r.status).toBe(0);
      for (const p of patterns) expect(r.output).toMatch(p);
    });
  }

  it('writes the plot files', () => {
    expect(fs.readFileSync(path.join(out, 'fashion_mlp.svg'), 'utf8')).toMatch(/^<svg/);
    expect(fs.statSync(path.join(out, 'fashion_mlp.png')).size).toBeGreaterThan(1000);
  });

  it('lists the examples when no name is given', () => {
    const r = run([path.join('examples', 'run.mjs')]);
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/examples: .*fashion_mlp.*xor_mlp/);
    expect(run([path.join('examples', 'run.mjs'), 'nope']).status).toBe(1);
  });
});

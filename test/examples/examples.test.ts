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
  fashion_cnn: [/600,810 parameters/, /Epoch 1\/1 - 5 steps/, /test accuracy: [\d.]+% on 200 images \(subset\)/, /wrote .*fashion_cnn\.svg/],
  fashion_cnn_bn: [/BatchNorm2d/, /Epoch 1\/1 - 5 steps/, /test accuracy: [\d.]+% on 200 images \(subset\)/, /wrote .*fashion_cnn_bn\.png/],
  transfer_learning: [/frozen backbone weights: max \|change\| = 0 \(unchanged\); new head: max \|change\| = [\d.]+/, /\d+ trainable, \d+ frozen parameters/, /learned: frozen backbone \+ new head [\d.]+% vs from scratch [\d.]+%/],
  unet: [/U-Net: [\d,]+ parameters/, /learned: circle masks at [\d.]+% pixel accuracy, IoU [\d.]+/, /wrote .*unet_masks\.png/],
  gan: [/loss D [\d.]+  loss G [\d.]+/, /learned: samples with pixel mean/, /wrote .*gan_samples\.png/],
  dcgan: [/generator \d+ parameters, discriminator \d+/, /learned: samples with pixel mean/, /wrote .*dcgan_samples\.png/],
  cgan: [/loss D [\d.]+  loss G [\d.]+/, /learned: for \d+ of 10 classes/, /wrote .*cgan_samples\.png/],
  vae: [/-ELBO [\d.]+ nats\/image +\(reconstruction [\d.]+, KL [\d.]+\)/, /learned: a 16-d latent code/, /wrote .*vae_reconstructions\.png .* and .*vae_samples\.png/],
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

  it('runs the main demo: summary first, checkpoint round trip, test accuracy last', () => {
    const r = run([path.join('examples', 'demo.mjs')]);
    expect(r.output, r.output).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.output.trimStart()).toMatch(/^dendrite \w+ kernels, \d+ threads\s+Model: "Sequential"/);
    expect(r.output).toMatch(/Total params: 421,866/);
    expect(r.output).toMatch(/Epoch 1\/1 - 5 steps/);
    expect(r.output).toMatch(/wrote .*demo_cnn\.safetensors \(20 tensors\)/);
    expect(r.output).toMatch(/#7  true \S+ +predicted/);
    expect(r.output).toMatch(/reloaded checkpoint matches the trained model: yes/);
    expect(r.output.trimEnd()).toMatch(/test accuracy: [\d.]+% on 200 test images \(subset\)$/);
    expect(fs.readFileSync(path.join(out, 'demo_curves.svg'), 'utf8')).toMatch(/^<svg/);
    expect(fs.statSync(path.join(out, 'demo_curves.png')).size).toBeGreaterThan(1000);
  });

  it('runs the demo through the dendrite command', () => {
    const r = run([path.join('bin', 'dendrite.mjs'), 'example', 'xor_mlp']);
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/final accuracy/);
    expect(run([path.join('bin', 'dendrite.mjs'), 'nope']).status).toBe(1);
  });

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

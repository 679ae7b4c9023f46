// A GAN of two MLPs on Fashion-MNIST (Goodfellow et al. 2014, with the non-saturating generator
// loss). Each step trains the discriminator on real and generated images, then freezes it
// (requiresGrad_(false)) while the generator learns to fool it. Writes a grid of samples from a
// fixed noise batch as PNG.
//
//   npm run example -- gan [--steps N]
import * as dt from '../dist/index.mjs';
import { outPath, smoke } from './_common.mjs';
import { fashionImages, flag } from './_fashion.mjs';
import { trainGan } from './_gan.mjs';

const { nn } = dt;
const Z = 64, BATCH = 64;
const STEPS = smoke ? 3 : Number(flag('steps', 2000));

dt.manualSeed(0);
const { images, count, source } = fashionImages({ range: [-1, 1] });
console.log(`${count} training images (${source}), pixels in [-1, 1]`);

const generator = new nn.Sequential(
  new nn.Linear(Z, 256), new nn.LeakyReLU(0.2),
  new nn.Linear(256, 512), new nn.LeakyReLU(0.2),
  new nn.Linear(512, 784), new nn.Tanh(),
  new nn.Unflatten(1, [1, 28, 28]),
);
const discriminator = new nn.Sequential(
  new nn.Flatten(),
  new nn.Linear(784, 512), new nn.LeakyReLU(0.2),
  new nn.Linear(512, 256), new nn.LeakyReLU(0.2),
  new nn.Linear(256, 1),
);
const fixedNoise = dt.randn([64, Z]);
trainGan({ generator, discriminator, images, z: Z, batch: BATCH, steps: STEPS, logEvery: 250 });

generator.eval();
const samples = dt.noGrad(() => generator.forward(fixedNoise));
const file = outPath('gan_samples.png');
await dt.utils.saveImageGrid(samples, file, { nrow: 8, valueRange: [-1, 1] });
console.log(`learned: samples with pixel mean ${samples.mean().item().toFixed(3)} (real images ${images.mean().item().toFixed(3)})`);
console.log(`wrote ${file}`);

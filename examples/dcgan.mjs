// DCGAN (Radford et al. 2015) on Fashion-MNIST, kept small for a CPU: the generator projects the
// noise to 64×7×7 and upsamples with two stride-2 transposed convolutions (7 → 14 → 28) with
// batch norm and ReLU; the discriminator mirrors it with stride-2 convolutions and LeakyReLU.
// The discriminator is frozen while the generator trains. Writes a sample grid as PNG.
//
//   npm run example -- dcgan [--steps N]
import * as dt from '../dist/index.mjs';
import { outPath, smoke } from './_common.mjs';
import { fashionImages, flag } from './_fashion.mjs';
import { trainGan } from './_gan.mjs';

const { nn } = dt;
const Z = 64, BATCH = 64;
const STEPS = smoke ? 2 : Number(flag('steps', 600));

dt.manualSeed(0);
const { images, count, source } = fashionImages({ range: [-1, 1] });
console.log(`${count} training images (${source}), pixels in [-1, 1]`);

const generator = new nn.Sequential(
  new nn.Linear(Z, 64 * 7 * 7, { bias: false }), new nn.BatchNorm1d(64 * 7 * 7), new nn.ReLU(),
  new nn.Unflatten(1, [64, 7, 7]),
  new nn.ConvTranspose2d(64, 32, 4, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(32), new nn.ReLU(), // 14×14
  new nn.ConvTranspose2d(32, 1, 4, { stride: 2, padding: 1 }), new nn.Tanh(), // 28×28
);
const discriminator = new nn.Sequential(
  new nn.Conv2d(1, 32, 4, { stride: 2, padding: 1 }), new nn.LeakyReLU(0.2), // 14×14
  new nn.Conv2d(32, 64, 4, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(64), new nn.LeakyReLU(0.2), // 7×7
  new nn.Flatten(), new nn.Linear(64 * 7 * 7, 1),
);
// DCGAN's initialisation: conv weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02).
for (const m of [...generator.modules(), ...discriminator.modules()]) {
  if (m instanceof nn.Conv2d || m instanceof nn.ConvTranspose2d) nn.init.normal_(m.weight, 0, 0.02);
  if (m instanceof nn.BatchNorm2d) nn.init.normal_(m.weight, 1, 0.02);
}
console.log(`generator ${dt.summary(generator, [1, Z]).totalParams} parameters, discriminator ${dt.summary(discriminator, [1, 1, 28, 28]).totalParams}`);

const fixedNoise = dt.randn([64, Z]);
trainGan({ generator, discriminator, images, z: Z, batch: BATCH, steps: STEPS, logEvery: 100 });

generator.eval();
const samples = dt.noGrad(() => generator.forward(fixedNoise));
const file = outPath('dcgan_samples.png');
await dt.utils.saveImageGrid(samples, file, { nrow: 8, valueRange: [-1, 1] });
console.log(`learned: samples with pixel mean ${samples.mean().item().toFixed(3)}, std ${samples.std().item().toFixed(3)} (real images ${images.mean().item().toFixed(3)}, ${images.std().item().toFixed(3)})`);
console.log(`wrote ${file}`);

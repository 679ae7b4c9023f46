// A GAN of two MLPs on Fashion-MNIST (Goodfellow et al. 2014, with the non-saturating generator
// loss). Each step trains the discriminator on real and generated images, then freezes it
// (requiresGrad_(false)) while the generator learns to fool it. Writes a grid of samples from a
// fixed noise batch as PNG.
//
//   npm run example -- gan [--steps N]
import * as dt from '../dist/index.mjs';
import { outPath, smoke } from './_common.mjs';
import { fashionImages, flag, randomBatch } from './_fashion.mjs';

const { nn, F } = dt;
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
const optG = new dt.optim.Adam(generator.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
const optD = new dt.optim.Adam(discriminator.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
const ones = dt.ones([BATCH, 1]), zeros = dt.zeros([BATCH, 1]);
const fixedNoise = dt.randn([64, Z]);

const started = performance.now();
let dSum = 0, gSum = 0, realP = 0, fakeP = 0, n = 0;
for (let step = 1; step <= STEPS; step++) {
  dt.tidy(() => {
    const [real] = randomBatch([images], BATCH);
    const fake = generator.forward(dt.randn([BATCH, Z]));

    // Discriminator: real -> 1, generated -> 0 (the generator's graph is cut by detach()).
    optD.zeroGrad();
    const realLogits = discriminator.forward(real);
    const fakeLogits = discriminator.forward(fake.detach());
    const lossD = F.binaryCrossEntropyWithLogits(realLogits, ones).add(F.binaryCrossEntropyWithLogits(fakeLogits, zeros));
    lossD.backward();
    optD.step();

    // Generator: make the frozen discriminator say 1.
    discriminator.requiresGrad_(false);
    optG.zeroGrad();
    const lossG = F.binaryCrossEntropyWithLogits(discriminator.forward(fake), ones);
    lossG.backward();
    optG.step();
    discriminator.requiresGrad_(true);

    dSum += lossD.item(); gSum += lossG.item(); n++;
    realP += realLogits.sigmoid().mean().item(); fakeP += fakeLogits.sigmoid().mean().item();
  });
  if (step % 250 === 0 || step === STEPS) {
    console.log(`step ${String(step).padStart(5)}  loss D ${(dSum / n).toFixed(3)}  loss G ${(gSum / n).toFixed(3)}  D(real) ${(realP / n).toFixed(2)}  D(fake) ${(fakeP / n).toFixed(2)}`);
    dSum = gSum = realP = fakeP = n = 0;
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(`trained ${STEPS} steps in ${seconds.toFixed(1)} s`);

generator.eval();
const samples = dt.noGrad(() => generator.forward(fixedNoise));
const file = outPath('gan_samples.png');
await dt.utils.saveImageGrid(samples, file, { nrow: 8, valueRange: [-1, 1] });
console.log(`learned: samples with pixel mean ${samples.mean().item().toFixed(3)} (real images ${images.mean().item().toFixed(3)})`);
console.log(`wrote ${file}`);

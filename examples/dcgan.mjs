// DCGAN (Radford et al. 2015) on Fashion-MNIST, kept small for a CPU: the generator projects the
// noise to 64×7×7 and upsamples with two stride-2 transposed convolutions (7 → 14 → 28) with
// batch norm and ReLU; the discriminator mirrors it with stride-2 convolutions and LeakyReLU.
// The discriminator is frozen while the generator trains. Writes a sample grid as PNG.
//
//   npm run example -- dcgan [--steps N]
import * as dt from '../dist/index.mjs';
import { outPath, smoke } from './_common.mjs';
import { fashionImages, flag, randomBatch } from './_fashion.mjs';

const { nn, F } = dt;
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

    optD.zeroGrad();
    const realLogits = discriminator.forward(real);
    const fakeLogits = discriminator.forward(fake.detach());
    const lossD = F.binaryCrossEntropyWithLogits(realLogits, ones).add(F.binaryCrossEntropyWithLogits(fakeLogits, zeros));
    lossD.backward();
    optD.step();

    discriminator.requiresGrad_(false);
    optG.zeroGrad();
    const lossG = F.binaryCrossEntropyWithLogits(discriminator.forward(fake), ones);
    lossG.backward();
    optG.step();
    discriminator.requiresGrad_(true);

    dSum += lossD.item(); gSum += lossG.item(); n++;
    realP += realLogits.sigmoid().mean().item(); fakeP += fakeLogits.sigmoid().mean().item();
  });
  if (step % 100 === 0 || step === STEPS) {
    console.log(`step ${String(step).padStart(5)}  loss D ${(dSum / n).toFixed(3)}  loss G ${(gSum / n).toFixed(3)}  D(real) ${(realP / n).toFixed(2)}  D(fake) ${(fakeP / n).toFixed(2)}`);
    dSum = gSum = realP = fakeP = n = 0;
  }
}
console.log(`trained ${STEPS} steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);

generator.eval();
const samples = dt.noGrad(() => generator.forward(fixedNoise));
const file = outPath('dcgan_samples.png');
await dt.utils.saveImageGrid(samples, file, { nrow: 8, valueRange: [-1, 1] });
console.log(`learned: samples with pixel mean ${samples.mean().item().toFixed(3)}, std ${samples.std().item().toFixed(3)} (real images ${images.mean().item().toFixed(3)}, ${images.std().item().toFixed(3)})`);
console.log(`wrote ${file}`);

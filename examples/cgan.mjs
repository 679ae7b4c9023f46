// A conditional GAN (Mirza & Osindero 2014) on Fashion-MNIST: both networks see the class
// through a learned label embedding, concatenated to the noise (generator) or to the flattened
// image (discriminator), so the generator draws the class it is asked for. The discriminator is
// frozen while the generator trains. Writes a PNG grid with one row per class.
//
//   npm run example -- cgan [--steps N]
import * as dt from '../dist/index.mjs';
import { outPath, smoke } from './_common.mjs';
import { fashionImages, flag, randomBatch } from './_fashion.mjs';

const { nn, F } = dt;
const Z = 64, EMB = 16, CLASSES = 10, BATCH = 64;
const STEPS = smoke ? 3 : Number(flag('steps', 2500));

class Generator extends nn.Module {
  embed = new nn.Embedding(CLASSES, EMB);
  net = new nn.Sequential(
    new nn.Linear(Z + EMB, 256), new nn.LeakyReLU(0.2),
    new nn.Linear(256, 512), new nn.BatchNorm1d(512), new nn.LeakyReLU(0.2),
    new nn.Linear(512, 784), new nn.Tanh(),
  );
  forward([z, labels]) {
    return this.net.forward(dt.cat([z, this.embed.forward(labels)], 1)).reshape([-1, 1, 28, 28]);
  }
}

class Discriminator extends nn.Module {
  embed = new nn.Embedding(CLASSES, EMB);
  net = new nn.Sequential(
    new nn.Linear(784 + EMB, 512), new nn.LeakyReLU(0.2), new nn.Dropout(0.3),
    new nn.Linear(512, 256), new nn.LeakyReLU(0.2), new nn.Dropout(0.3),
    new nn.Linear(256, 1),
  );
  forward([x, labels]) {
    return this.net.forward(dt.cat([x.flatten(1), this.embed.forward(labels)], 1));
  }
}

dt.manualSeed(0);
const { images, labels, classes, count, source } = fashionImages({ range: [-1, 1] });
console.log(`${count} training images (${source}), pixels in [-1, 1], ${CLASSES} classes`);
const generator = new Generator(), discriminator = new Discriminator();
const optG = new dt.optim.Adam(generator.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
const optD = new dt.optim.Adam(discriminator.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
const ones = dt.ones([BATCH, 1]), zeros = dt.zeros([BATCH, 1]);

const started = performance.now();
let dSum = 0, gSum = 0, n = 0;
for (let step = 1; step <= STEPS; step++) {
  dt.tidy(() => {
    const [real, realLabels] = randomBatch([images, labels], BATCH);
    const fakeLabels = dt.randint(0, CLASSES, [BATCH]).to('int64');
    const fake = generator.forward([dt.randn([BATCH, Z]), fakeLabels]);

    optD.zeroGrad();
    const lossD = F.binaryCrossEntropyWithLogits(discriminator.forward([real, realLabels]), ones)
      .add(F.binaryCrossEntropyWithLogits(discriminator.forward([fake.detach(), fakeLabels]), zeros));
    lossD.backward();
    optD.step();

    discriminator.requiresGrad_(false);
    optG.zeroGrad();
    const lossG = F.binaryCrossEntropyWithLogits(discriminator.forward([fake, fakeLabels]), ones);
    lossG.backward();
    optG.step();
    discriminator.requiresGrad_(true);
    dSum += lossD.item(); gSum += lossG.item(); n++;
  });
  if (step % 250 === 0 || step === STEPS) {
    console.log(`step ${String(step).padStart(5)}  loss D ${(dSum / n).toFixed(3)}  loss G ${(gSum / n).toFixed(3)}`);
    dSum = gSum = n = 0;
  }
}
console.log(`trained ${STEPS} steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);

// One row per class, ten samples each: the label picks what is drawn.
generator.eval();
const rowLabels = dt.tensor(BigInt64Array.from({ length: 100 }, (_, i) => BigInt(Math.floor(i / 10))));
const samples = dt.noGrad(() => generator.forward([dt.randn([100, Z]), rowLabels]));
// What it learned: each class's mean generated image should sit nearest that class's mean real image.
const realMeans = classes.map((_, c) => dt.tidy(() => {
  const mask = labels.eq(c).float().reshape([-1, 1, 1, 1]);
  return images.mul(mask).sum(0).div(mask.sum());
}));
let matched = 0;
for (let c = 0; c < CLASSES; c++) {
  const fakeMean = samples.narrow(0, c * 10, 10).mean(0);
  const dists = realMeans.map((m) => m.sub(fakeMean).square().sum().item());
  if (dists.indexOf(Math.min(...dists)) === c) matched++;
}
console.log(`learned: for ${matched} of ${CLASSES} classes the mean generated image is closest to that class's mean real image`);
const file = outPath('cgan_samples.png');
await dt.utils.saveImageGrid(samples, file, { nrow: 10, valueRange: [-1, 1] });
console.log(`wrote ${file} (rows: ${classes.join(', ')})`);

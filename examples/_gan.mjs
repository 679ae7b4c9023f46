// The GAN training loop shared by gan.mjs and dcgan.mjs (Goodfellow et al. 2014, with the
// non-saturating generator loss): each step trains the discriminator on real and generated
// images, then freezes it (requiresGrad_(false)) while the generator learns to fool it.
import * as dt from '../dist/index.mjs';
import { randomBatch } from './_fashion.mjs';

const { F } = dt;

export function trainGan({ generator, discriminator, images, z, batch, steps, logEvery }) {
  const optG = new dt.optim.Adam(generator.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
  const optD = new dt.optim.Adam(discriminator.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
  const ones = dt.ones([batch, 1]), zeros = dt.zeros([batch, 1]);
  const started = performance.now();
  let dSum = 0, gSum = 0, realP = 0, fakeP = 0, n = 0;
  for (let step = 1; step <= steps; step++) {
    dt.tidy(() => {
      const [real] = randomBatch([images], batch);
      const fake = generator.forward(dt.randn([batch, z]));

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
    if (step % logEvery === 0 || step === steps) {
      console.log(`step ${String(step).padStart(5)}  loss D ${(dSum / n).toFixed(3)}  loss G ${(gSum / n).toFixed(3)}  D(real) ${(realP / n).toFixed(2)}  D(fake) ${(fakeP / n).toFixed(2)}`);
      dSum = gSum = realP = fakeP = n = 0;
    }
  }
  console.log(`trained ${steps} steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

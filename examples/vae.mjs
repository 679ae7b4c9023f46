// A variational autoencoder (Kingma & Welling 2013) on Fashion-MNIST: an MLP encoder gives the
// mean and log-variance of q(z|x), z = mu + sigma * eps (the reparameterisation trick, so the
// gradient flows through the sample), an MLP decoder gives Bernoulli pixel logits. The loss is
// the negative ELBO: reconstruction cross-entropy plus KL(q(z|x) || N(0, I)), per image.
// Writes reconstructions (originals above, reconstructions below) and samples from the prior.
//
//   npm run example -- vae [--epochs N]
import * as dt from '../dist/index.mjs';
import { outPath, smoke } from './_common.mjs';
import { fashionImages, flag } from './_fashion.mjs';

const { nn, F } = dt;
const LATENT = 16, BATCH = 128;
const EPOCHS = smoke ? 1 : Number(flag('epochs', 3));

class VAE extends nn.Module {
  encoder = new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 400), new nn.ReLU());
  mu = new nn.Linear(400, LATENT);
  logVar = new nn.Linear(400, LATENT);
  decoder = new nn.Sequential(new nn.Linear(LATENT, 400), new nn.ReLU(), new nn.Linear(400, 784), new nn.Unflatten(1, [1, 28, 28]));
  encode(x) {
    const h = this.encoder.forward(x);
    return [this.mu.forward(h), this.logVar.forward(h)];
  }
  forward(x) {
    const [mu, logVar] = this.encode(x);
    const z = mu.add(logVar.mul(0.5).exp().mul(dt.randnLike(mu))); // reparameterisation
    return [this.decoder.forward(z), mu, logVar];
  }
}

/** Negative ELBO per image, and its two parts. */
function vaeLoss([logits, mu, logVar], x) {
  const n = x.shape[0];
  const recon = F.binaryCrossEntropyWithLogits(logits, x, { reduction: 'sum' }).div(n);
  // KL(N(mu, sigma^2) || N(0, 1)) = -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2)
  const kl = logVar.add(1).sub(mu.square()).sub(logVar.exp()).sum().mul(-0.5 / n);
  return { loss: recon.add(kl), recon, kl };
}

dt.manualSeed(0);
const { images, count, source } = fashionImages({ range: [0, 1] });
console.log(`${count} training images (${source}), pixels in [0, 1]`);
const model = new VAE();
const optimizer = new dt.optim.Adam(model.parameters(), { lr: 1e-3 });
const loader = new dt.data.DataLoader(new dt.data.TensorDataset(images), { batchSize: BATCH, shuffle: true, seed: 0 });

const started = performance.now();
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  let lossSum = 0, reconSum = 0, klSum = 0, batches = 0;
  for (const [x] of loader) {
    dt.tidy(() => {
      optimizer.zeroGrad();
      const { loss, recon, kl } = vaeLoss(model.forward(x), x);
      loss.backward();
      optimizer.step();
      lossSum += loss.item(); reconSum += recon.item(); klSum += kl.item(); batches++;
    });
    x.dispose();
    if (smoke && batches >= 5) break;
  }
  console.log(`epoch ${epoch}/${EPOCHS}  -ELBO ${(lossSum / batches).toFixed(2)} nats/image  (reconstruction ${(reconSum / batches).toFixed(2)}, KL ${(klSum / batches).toFixed(2)})`);
}
console.log(`trained in ${((performance.now() - started) / 1000).toFixed(1)} s`);

model.eval();
const originals = images.narrow(0, 0, 16);
const [reconstructed, generated] = dt.noGrad(() => {
  const [mu] = model.encode(originals);
  return [model.decoder.forward(mu).sigmoid(), model.decoder.forward(dt.randn([64, LATENT])).sigmoid()];
});
const err = reconstructed.sub(originals).abs().mean().item();
console.log(`learned: a ${LATENT}-d latent code that reconstructs images to a mean absolute pixel error of ${err.toFixed(3)}`);
const reconFile = outPath('vae_reconstructions.png'), sampleFile = outPath('vae_samples.png');
await dt.utils.saveImageGrid(dt.cat([originals, reconstructed], 0), reconFile, { nrow: 16 });
await dt.utils.saveImageGrid(generated, sampleFile, { nrow: 8 });
console.log(`wrote ${reconFile} (originals above, reconstructions below) and ${sampleFile}`);

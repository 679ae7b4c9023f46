// The main demo: a Conv-BN-ReLU network trained on Fashion-MNIST with augmentation.
//
//   npm run demo                  3 rounds of 20000 shuffled images (one epoch's worth; a few minutes on 2 cores)
//   npm run demo -- --full        complete epochs over all 60000 images (5 by default; --epochs N)
//   npm run demo -- --epochs N --steps S   N rounds of S batches of 64
//   npm run demo -- --device cuda          the same on the GPU (a build with CUDA, a GPU)
//
// It prints dt.summary of the model first, trains through dt.fit (a progress bar on a terminal,
// one line per epoch otherwise), writes the training curves (SVG and PNG) and a safetensors
// checkpoint, reloads that checkpoint into a fresh model, serves a few predictions from it, and
// ends with the reloaded model's test accuracy. The full data set is used when this machine has
// it ($DENDRITE_DATA, or Debian's dataset-fashion-mnist), else the subset shipped with dendrite.
import * as dt from '../dist/index.mjs';
import { device, outPath, smoke } from './_common.mjs';
import { augmented, evalSet, fashionData, flag, plain, strongCnn } from './_fashion.mjs';

const BATCH = 64;
const full = flag('full', false) === true;
const info = dt.cpuInfo();
console.log(device === 'cpu' ? `dendrite ${info.path} kernels, ${info.numThreads} threads\n` : `dendrite on ${device}\n`);

dt.manualSeed(0);
const model = strongCnn();
console.log(dt.summary(model, [1, 1, 28, 28]).toString());
console.log();
model.to(device);

const { train, test } = fashionData({ trainTransform: augmented, testTransform: plain });
const trainLoader = new dt.data.DataLoader(train, { batchSize: BATCH, shuffle: true, seed: 0 });
const testSet = evalSet(test);
const testLoader = new dt.data.DataLoader(testSet, { batchSize: 500 });

// A "round" is `steps` batches from a fresh shuffle of the training set: by default three
// rounds of a third of the set each, so the curves have three points for one epoch's work.
const epochs = Number(flag('epochs', smoke ? 1 : full ? 5 : 3));
const steps = smoke ? 5 : full ? undefined : Number(flag('steps', Math.ceil(trainLoader.length / 3)));
const shown = steps === undefined ? `${epochs} epoch(s) of ${trainLoader.length} steps` : `${epochs} round(s) of ${steps} steps (${epochs * steps * BATCH} images seen)`;
console.log(`training: ${shown}, batch ${BATCH}, Adam lr 1e-3, random horizontal flip + random crop (2 px padding)\n`);

const started = performance.now();
const history = await dt.fit(model, trainLoader, {
  optimizer: new dt.optim.Adam(model.parameters(), { lr: 1e-3 }),
  loss: 'crossEntropy',
  epochs,
  stepsPerEpoch: steps,
  metrics: ['accuracy'],
  validation: testLoader,
});
console.log(`\ntrained in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const svg = history.plot(outPath('demo_curves.svg'), { title: 'Fashion-MNIST, Conv-BN-ReLU CNN' });
const png = history.plot(outPath('demo_curves.png'), { title: 'Fashion-MNIST, Conv-BN-ReLU CNN' });
const checkpoint = outPath('demo_cnn.safetensors');
await dt.save(model.stateDict(), checkpoint);
console.log(`wrote ${svg}, ${png}`);
console.log(`wrote ${checkpoint} (${Object.keys(model.stateDict()).length} tensors)`);

// The round trip: a fresh model (other random weights) takes the checkpoint and serves.
dt.manualSeed(123);
const served = strongCnn();
const { missingKeys, unexpectedKeys } = served.loadStateDict(await dt.load(checkpoint));
if (missingKeys.length || unexpectedKeys.length) throw new Error(`checkpoint mismatch: missing ${missingKeys}, unexpected ${unexpectedKeys}`);
served.to(device).eval();

const pick = [0, 1, 2, 3, 4, 5, 6, 7];
const [images, labels] = test.getBatch(pick);
const probs = dt.noGrad(() => served.forward(images.to(device)).softmax(1));
const [conf, predicted] = probs.max(1);
console.log('\npredictions of the reloaded model on the first test images:');
const p = predicted.dataSync(), c = conf.dataSync(), y = labels.dataSync();
pick.forEach((_, i) => {
  const truth = test.classes[Number(y[i])], guess = test.classes[Number(p[i])];
  console.log(`  #${i}  true ${truth.padEnd(12)} predicted ${guess.padEnd(12)} ${(c[i] * 100).toFixed(1).padStart(5)}%  ${truth === guess ? 'ok' : 'WRONG'}`);
});

const inMemory = history.history.valAccuracy.at(-1);
const { accuracy } = await dt.evaluate(served, testLoader, { metrics: ['accuracy'] });
console.log(`\nreloaded checkpoint matches the trained model: ${Math.abs(accuracy - inMemory) < 1e-9 ? 'yes' : `no (${inMemory})`}`);
console.log(`test accuracy: ${(accuracy * 100).toFixed(2)}% on ${testSet.length} test images (${test.source === 'subset' ? 'subset' : test.sourceDir})`);

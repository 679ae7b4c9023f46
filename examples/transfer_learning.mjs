// Transfer learning: train a small CNN on five Fashion-MNIST classes (T-shirt/top, Trouser,
// Pullover, Dress, Coat), freeze its convolutional backbone with requiresGrad_(false), and train
// only a new linear head on the other five (Sandal, Shirt, Sneaker, Bag, Ankle boot) from 100
// images (--few N). The same network trained from scratch on those few images is the
// comparison; the frozen weights are checked to be bit-for-bit unchanged after the head's
// training. (These five classes are easy: from scratch does nearly as well on the full test
// split; the frozen backbone gets there training 7845 parameters instead of 12645.)
import * as dt from '../dist/index.mjs';
import { smoke } from './_common.mjs';
import { fashionData, flag, plain } from './_fashion.mjs';

const { nn } = dt;
const FEW = Number(flag('few', 100));

/** The images (standardised) and labels (shifted to 0..4) of classes [first, first+5). */
function split(ds, first, limit = Infinity) {
  const labels = ds.targets.dataSync();
  const idx = [];
  for (let i = 0; i < labels.length && idx.length < limit; i++) if (Number(labels[i]) >= first && Number(labels[i]) < first + 5) idx.push(i);
  return dt.tidy(() => {
    const index = dt.tensor(Int32Array.from(idx));
    const x = plain(ds.data.indexSelect(0, index).unsqueeze(1));
    const y = ds.targets.indexSelect(0, index).sub(first);
    return [x, y];
  });
}

// The backbone is the convolutional feature extractor (1568 features per image); each task gets
// a head of its own on top of it.
const FEATURES = 32 * 7 * 7;
const backbone = () => new nn.Sequential(
  new nn.Conv2d(1, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(),
);
const sourceHead = () => new nn.Sequential(new nn.Linear(FEATURES, 64), new nn.ReLU(), new nn.Linear(64, 5));
const newHead = () => new nn.Linear(FEATURES, 5);

async function train(model, [x, y], { epochs, params = model.parameters(), steps }) {
  const loader = new dt.data.DataLoader(new dt.data.TensorDataset(x, y), { batchSize: 64, shuffle: true, seed: 1 });
  return dt.fit(model, loader, {
    optimizer: new dt.optim.Adam(params, { lr: 1e-3 }), loss: 'crossEntropy', epochs, stepsPerEpoch: steps,
    metrics: ['accuracy'], verbose: 'silent',
  });
}
const accuracy = async (model, data) => (await dt.evaluate(model, data, { metrics: ['accuracy'] })).accuracy;
const pct = (v) => `${(v * 100).toFixed(1)}%`;

dt.manualSeed(0);
const { train: trainSet, test: testSet } = fashionData({ trainTransform: undefined, testTransform: undefined });
const names = trainSet.classes;
const steps = smoke ? 3 : undefined;
const testLimit = smoke ? 200 : Infinity;

// 1. The backbone and a first head learn classes 0-4 from all their images.
const source = split(trainSet, 0), sourceTest = split(testSet, 0, testLimit);
const features = backbone();
const sourceModel = new nn.Sequential(features, sourceHead());
let t0 = performance.now();
await train(sourceModel, source, { epochs: 1, steps });
console.log(`1. backbone trained on ${names.slice(0, 5).join(', ')} (${source[0].shape[0]} images, ${((performance.now() - t0) / 1000).toFixed(1)} s): test accuracy ${pct(await accuracy(sourceModel, sourceTest))}`);

// 2. Frozen backbone, new head, classes 5-9 from only FEW images.
const target = split(trainSet, 5, FEW), targetTest = split(testSet, 5, testLimit);
// (The backbone has no batch norm: with it, the frozen part would also have to stay in eval
// mode, or its running statistics would keep moving.)
features.requiresGrad_(false);
const head = newHead();
const transferModel = new nn.Sequential(features, head);
const frozenBefore = Object.fromEntries(Object.entries(features.stateDict()).map(([k, v]) => [k, v.clone()]));
const headWeightBefore = head.weight.clone();
const trainable = transferModel.parameters().filter((p) => p.requiresGrad);
const s = dt.summary(transferModel, [1, 1, 28, 28]);
console.log(`2. new head on ${names.slice(5).join(', ')} from ${target[0].shape[0]} images: ${s.trainableParams} trainable, ${s.frozenParams} frozen parameters`);
t0 = performance.now();
await train(transferModel, target, { epochs: smoke ? 1 : 20, params: trainable, steps });
const transferAcc = await accuracy(transferModel, targetTest);
console.log(`   trained in ${((performance.now() - t0) / 1000).toFixed(1)} s: test accuracy ${pct(transferAcc)} on ${targetTest[0].shape[0]} test images`);

let maxFrozen = 0;
for (const [k, v] of Object.entries(features.stateDict())) maxFrozen = Math.max(maxFrozen, v.sub(frozenBefore[k]).abs().max().item());
const headDelta = head.weight.sub(headWeightBefore).abs().max().item();
console.log(`   frozen backbone weights: max |change| = ${maxFrozen} (${maxFrozen === 0 ? 'unchanged' : 'CHANGED'}); new head: max |change| = ${headDelta.toFixed(4)}`);

// 3. The comparison: the same network from scratch on the same few images.
dt.manualSeed(1);
const scratch = new nn.Sequential(backbone(), newHead());
await train(scratch, target, { epochs: smoke ? 1 : 20, steps });
const scratchAcc = await accuracy(scratch, targetTest);
console.log(`3. from scratch on the same ${target[0].shape[0]} images, all weights trained: test accuracy ${pct(scratchAcc)}`);
console.log(`learned: frozen backbone + new head ${pct(transferAcc)} vs from scratch ${pct(scratchAcc)} (same images, same epochs)`);

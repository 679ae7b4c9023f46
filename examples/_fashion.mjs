// What the Fashion-MNIST programs share: the course's CNN, its stronger Conv-BN-ReLU variant,
// and the data (the full set when this machine has it, the shipped subset otherwise; smoke
// mode always takes the subset).
import * as dt from '../dist/index.mjs';
import { smoke } from './_common.mjs';

const { nn } = dt;
const T = dt.data.transforms;

/** Fashion-MNIST's pixel mean and std over the training set. */
export const MEAN = 0.2860, STD = 0.3530;

/**
 * The course's CNN, as Keras writes it: Conv2D(32, 3, relu) → Conv2D(32, 3, relu) →
 * MaxPool2D(2) → Flatten → Dense(128, relu) → Dense(10). 28 → 26 → 24 → 12.
 */
export function courseCnn() {
  return new nn.Sequential(
    new nn.Conv2d(1, 32, 3), new nn.ReLU(),
    new nn.Conv2d(32, 32, 3), new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(32 * 12 * 12, 128), new nn.ReLU(),
    new nn.Linear(128, 10),
  );
}

/** The course's CNN with batch norm after every conv and the dense layer (ReLU after the norm). */
export function courseCnnBn() {
  return new nn.Sequential(
    new nn.Conv2d(1, 32, 3, { bias: false }), new nn.BatchNorm2d(32), new nn.ReLU(),
    new nn.Conv2d(32, 32, 3, { bias: false }), new nn.BatchNorm2d(32), new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(32 * 12 * 12, 128, { bias: false }), new nn.BatchNorm1d(128), new nn.ReLU(),
    new nn.Linear(128, 10),
  );
}

/** Conv → BatchNorm → ReLU, 'same' padding (the conv's bias is redundant before batch norm). */
function convBnRelu(inC, outC) {
  return [new nn.Conv2d(inC, outC, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(outC), new nn.ReLU()];
}

/**
 * The stronger variant: two Conv-BN-ReLU blocks, each closed by a max pool (28 → 14 → 7),
 * dropout, a dense layer with batch norm, dropout, and the classifier.
 */
export function strongCnn() {
  return new nn.Sequential(
    ...convBnRelu(1, 32), new nn.MaxPool2d(2),
    ...convBnRelu(32, 64), new nn.MaxPool2d(2),
    new nn.Dropout(0.25),
    new nn.Flatten(),
    new nn.Linear(64 * 7 * 7, 128, { bias: false }), new nn.BatchNorm1d(128), new nn.ReLU(),
    new nn.Dropout(0.5),
    new nn.Linear(128, 10),
  );
}

/** Test-time preprocessing: pixels to [0, 1], then standardised. */
export const plain = T.compose([T.toTensor(), T.normalize(MEAN, STD)]);

/** Training-time augmentation: a random horizontal flip and a small random crop (2 px of zero padding). */
export const augmented = T.compose([
  T.toTensor(),
  T.randomHorizontalFlip(0.5),
  T.randomCrop(28, { padding: 2 }),
  T.normalize(MEAN, STD),
]);

/** The train and test splits: smoke mode and `subset: true` use the shipped subset. */
export function fashionData({ trainTransform = plain, testTransform = plain, subset = false } = {}) {
  const where = smoke || subset ? { locations: ['subset'] } : {};
  const train = dt.data.datasets.fashionMnist({ train: true, transform: trainTransform, ...where });
  const test = dt.data.datasets.fashionMnist({ train: false, transform: testTransform, ...where });
  return { train, test };
}

/** The test set to evaluate on: all of it, or its first 200 images in smoke mode. */
export function evalSet(test) {
  return smoke ? new dt.data.Subset(test, Array.from({ length: 200 }, (_, i) => i)) : test;
}

/** `--name value` or `--name=value` from argv, else the default. */
export function flag(name, dflt) {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return i + 1 < argv.length && !argv[i + 1].startsWith('--') ? argv[i + 1] : true;
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return dflt;
}

/**
 * The training images as one float tensor [N, 1, 28, 28] in `range` ([-1, 1] for a tanh
 * generator, [0, 1] for a VAE), the labels (int64 [N]) and the class names. Smoke mode and
 * `subset: true` use the shipped subset.
 */
export function fashionImages({ range = [-1, 1], subset = false } = {}) {
  const where = smoke || subset ? { locations: ['subset'] } : {};
  const ds = dt.data.datasets.fashionMnist({ train: true, ...where });
  const [lo, hi] = range;
  const images = dt.tidy(() => ds.data.to('float32').mul((hi - lo) / 255).add(lo).unsqueeze(1));
  return { images, labels: ds.targets, classes: ds.classes, source: ds.source, count: ds.length };
}

/** A random batch (with replacement across batches) of `size` rows of each tensor. */
export function randomBatch(tensors, size) {
  const n = tensors[0].shape[0];
  const idx = dt.randint(0, n, [size]);
  const out = tensors.map((t) => t.indexSelect(0, idx));
  idx.dispose();
  return out;
}

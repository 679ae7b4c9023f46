// An MLP (784-256-128-10, ReLU) on Fashion-MNIST through dt.fit: the full data set when this
// machine has it (root, $DENDRITE_DATA, /usr/share/datasets/fashion-mnist), else the subset
// that ships with dendrite. Prints the test accuracy and writes the training curves.
import * as dt from '../dist/index.mjs';
import { crossEntropy, outPath, sgd, smoke } from './_common.mjs';

dt.manualSeed(0);
const T = dt.data.transforms;
// Fashion-MNIST's pixel mean and std over the training set.
const transform = T.compose([T.toTensor(), T.normalize(0.2860, 0.3530)]);
const where = smoke ? { locations: ['subset'] } : {};
const train = dt.data.datasets.fashionMnist({ train: true, transform, ...where });
const test = dt.data.datasets.fashionMnist({ train: false, transform, ...where });
const trainLoader = new dt.data.DataLoader(train, { batchSize: 64, shuffle: true, seed: 0 });
const testLoader = new dt.data.DataLoader(test, { batchSize: 1000 });

const model = new dt.nn.Sequential(
  new dt.nn.Flatten(),
  new dt.nn.Linear(784, 256), new dt.nn.ReLU(),
  new dt.nn.Linear(256, 128), new dt.nn.ReLU(),
  new dt.nn.Linear(128, 10),
);
const params = model.parameters().reduce((s, p) => s + p.numel(), 0);
console.log(`${model}\n${params} parameters\n`);

const history = await dt.fit(model, trainLoader, {
  optimizer: sgd(model.parameters(), { lr: 0.05, momentum: 0.9 }),
  loss: crossEntropy,
  epochs: smoke ? 1 : 5,
  stepsPerEpoch: smoke ? 5 : undefined,
  metrics: ['accuracy'],
  validation: testLoader,
});

const result = await dt.evaluate(model, testLoader, { metrics: ['accuracy', new dt.metrics.ConfusionMatrix(10)] });
console.log(`\ntest accuracy: ${(result.accuracy * 100).toFixed(2)}% on ${test.length} images (${test.source})`);
const cm = result.confusionMatrix;
const worst = test.classes.map((c, i) => [c, cm[i][i] / cm[i].reduce((a, b) => a + b, 0)]).sort((a, b) => a[1] - b[1])[0];
console.log(`hardest class: ${worst[0]} (${(worst[1] * 100).toFixed(1)}% right)`);
console.log(`wrote ${history.plot(outPath('fashion_mlp.svg'))} and ${history.plot(outPath('fashion_mlp.png'))}`);

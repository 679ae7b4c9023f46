// The body of the two Fashion-MNIST CNN examples: train one epoch (--epochs N for more) with
// Adam, evaluate on the test set, print the accuracy and the hardest class, write the curves.
import * as dt from '../dist/index.mjs';
import { device, outPath, smoke } from './_common.mjs';
import { evalSet, fashionData, flag } from './_fashion.mjs';

export async function trainCnn(name, makeModel, { lr = 1e-3 } = {}) {
  dt.manualSeed(0);
  const model = makeModel();
  console.log(`${model}`);
  const s = dt.summary(model, [1, 1, 28, 28]);
  console.log(`${s.totalParams.toLocaleString('en-US')} parameters, ${(s.macs / 1e6).toFixed(2)} M MACs per image\n`);
  model.to(device);

  const { train, test } = fashionData();
  const trainLoader = new dt.data.DataLoader(train, { batchSize: 64, shuffle: true, seed: 0 });
  const testSet = evalSet(test);
  const testLoader = new dt.data.DataLoader(testSet, { batchSize: 500 });
  const epochs = Number(flag('epochs', 1));
  const started = performance.now();
  const history = await dt.fit(model, trainLoader, {
    optimizer: new dt.optim.Adam(model.parameters(), { lr }),
    loss: 'crossEntropy',
    epochs: smoke ? 1 : epochs,
    stepsPerEpoch: smoke ? 5 : undefined,
    metrics: ['accuracy'],
    validation: testLoader,
  });
  const seconds = (performance.now() - started) / 1000;

  const result = await dt.evaluate(model, testLoader, { metrics: ['accuracy', new dt.metrics.ConfusionMatrix(10)] });
  const cm = result.confusionMatrix;
  const perClass = test.classes.map((c, i) => [c, cm[i][i] / cm[i].reduce((a, b) => a + b, 0)]).sort((a, b) => a[1] - b[1]);
  console.log(`\ntrained in ${seconds.toFixed(1)} s`);
  console.log(`hardest class: ${perClass[0][0]} (${(perClass[0][1] * 100).toFixed(1)}% right), easiest: ${perClass.at(-1)[0]} (${(perClass.at(-1)[1] * 100).toFixed(1)}%)`);
  console.log(`test accuracy: ${(result.accuracy * 100).toFixed(2)}% on ${testSet.length} images (${test.source === 'subset' ? 'subset' : test.sourceDir})`);
  console.log(`wrote ${history.plot(outPath(`${name}.svg`))} and ${history.plot(outPath(`${name}.png`))}`);
  return { model, history, result };
}

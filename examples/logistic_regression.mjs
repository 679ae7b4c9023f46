// Logistic regression: two classes of points in the plane (two Gaussian clouds), one linear
// unit with a sigmoid, binary cross-entropy. Prints the accuracy and the learned boundary.
import * as dt from '../dist/index.mjs';
import { bceWithLogits, sgd, smoke } from './_common.mjs';

dt.manualSeed(0);
const n = smoke ? 200 : 1000;
const labels = dt.rand([n, 1]).lt(0.5).float();
// Class 1 around (2, 2), class 0 around (-1, -1).
const centres = labels.mul(3).sub(1);
const X = dt.randn([n, 2]).add(centres);
const nTrain = Math.floor(n * 0.8);
const ds = new dt.data.TensorDataset(X.narrow(0, 0, nTrain), labels.narrow(0, 0, nTrain));
const model = new dt.nn.Linear(2, 1);
const history = await dt.fit(model, new dt.data.DataLoader(ds, { batchSize: 32, shuffle: true, seed: 2 }), {
  optimizer: sgd(model.parameters(), { lr: 0.1 }),
  loss: bceWithLogits,
  epochs: smoke ? 2 : 20,
  // The model outputs logits: positive means class 1.
  metrics: [new dt.metrics.BinaryAccuracy({ name: 'accuracy', threshold: 0 })],
  validation: [X.narrow(0, nTrain, n - nTrain), labels.narrow(0, nTrain, n - nTrain)],
  verbose: smoke ? 'lines' : 'auto',
});
const [w1, w2] = model.weight.toArray()[0];
const b = model.bias.item();
console.log(`\nlearned boundary: ${w1.toFixed(3)}·x1 + ${w2.toFixed(3)}·x2 + ${b.toFixed(3)} = 0`);
console.log(`(the Bayes boundary of these two clouds is x1 + x2 - 1 = 0, up to scale)`);
console.log(`test accuracy: ${(history.last('valAccuracy') * 100).toFixed(1)}%`);
const p = dt.noGrad(() => model.forward(dt.tensor([[2, 2], [-1, -1], [0.5, 0.5]])).sigmoid());
console.log('P(class 1) at (2,2), (-1,-1), (0.5,0.5):', Array.from(p.dataSync(), (v) => v.toFixed(3)).join(', '));

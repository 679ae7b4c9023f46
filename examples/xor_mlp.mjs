// XOR with a 2-8-1 multilayer perceptron (tanh hidden layer, sigmoid output): the problem a
// single linear unit cannot solve. Full-batch training through dt.fit.
import * as dt from '../dist/index.mjs';
import { bceWithLogits, sgd, smoke } from './_common.mjs';

dt.manualSeed(0);
const X = dt.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const Y = dt.tensor([[0], [1], [1], [0]]);
const model = new dt.nn.Sequential(new dt.nn.Linear(2, 8), new dt.nn.Tanh(), new dt.nn.Linear(8, 1));
const epochs = smoke ? 20 : 1500;
const history = await dt.fit(model, new dt.data.DataLoader(new dt.data.TensorDataset(X, Y), { batchSize: 4 }), {
  optimizer: sgd(model.parameters(), { lr: 0.5, momentum: 0.9 }),
  loss: bceWithLogits,
  epochs,
  metrics: [new dt.metrics.BinaryAccuracy({ name: 'accuracy', threshold: 0 })],
  verbose: 0,
  callbacks: [{ onEpochEnd: (e, logs) => { if (e % Math.max(1, Math.floor(epochs / 6)) === 0 || e === epochs) console.log(`epoch ${String(e).padStart(4)}  loss ${logs.loss.toFixed(5)}  accuracy ${logs.accuracy}`); } }],
});
const p = (await dt.predict(model, X)).sigmoid().dataSync();
[[0, 0], [0, 1], [1, 0], [1, 1]].forEach(([a, b], i) => console.log(`${a} XOR ${b} -> ${p[i].toFixed(4)} (${p[i] > 0.5 ? 1 : 0})`));
console.log(`final accuracy: ${history.last('accuracy')}`);

// Linear regression on house prices: four features (area, rooms, age, distance to the centre)
// of a synthetic market, standardised, fitted by mini-batch gradient descent on the mean squared
// error. Prints the learned weights in price units next to the true ones.
import * as dt from '../dist/index.mjs';
import { mseLoss, sgd, smoke } from './_common.mjs';

dt.manualSeed(0);
const n = smoke ? 256 : 2000;
const names = ['area m2', 'rooms', 'age years', 'km to centre'];
// price (k€) = 50 + 2.5·area + 10·rooms − 0.8·age − 6·distance + noise
const trueW = [2.5, 10, -0.8, -6], trueB = 50;
const area = dt.rand([n, 1]).mul(150).add(40);
const rooms = area.div(35).add(dt.rand([n, 1])).floor();
const age = dt.rand([n, 1]).mul(80);
const dist = dt.rand([n, 1]).mul(25);
const X = dt.cat([area, rooms, age, dist], 1);
const y = X.matmul(dt.tensor(trueW).reshape([4, 1])).add(trueB).add(dt.randn([n, 1]).mul(5));

// Standardise on the training split only, then apply the same scaling to the test split.
const nTrain = Math.floor(n * 0.8);
const [Xtr, Xte] = [X.narrow(0, 0, nTrain), X.narrow(0, nTrain, n - nTrain)];
const [ytr, yte] = [y.narrow(0, 0, nTrain), y.narrow(0, nTrain, n - nTrain)];
const mu = Xtr.mean(0), sigma = Xtr.std(0);
const yMu = ytr.mean(), ySigma = ytr.std();
const scaleX = (t) => t.sub(mu).div(sigma);
const scaleY = (t) => t.sub(yMu).div(ySigma);

const model = new dt.nn.Linear(4, 1);
const train = new dt.data.DataLoader(new dt.data.TensorDataset(scaleX(Xtr), scaleY(ytr)), { batchSize: 32, shuffle: true, seed: 1 });
const history = await dt.fit(model, train, {
  optimizer: sgd(model.parameters(), { lr: 0.05 }),
  loss: mseLoss,
  epochs: smoke ? 2 : 30,
  metrics: ['mae'],
  validation: [scaleX(Xte), scaleY(yte)],
  verbose: smoke ? 'lines' : 'auto',
});

// Undo the scaling: price = yMu + ySigma·(w·(x − mu)/sigma + b).
const w = model.weight.reshape([4]).mul(ySigma).div(sigma).toArray();
const b = yMu.item() + ySigma.item() * model.bias.item() - w.reduce((s, wi, i) => s + wi * mu.toArray()[i], 0);
console.log('\nlearned price model (k€):');
names.forEach((name, i) => console.log(`  ${name.padEnd(13)} ${w[i].toFixed(3).padStart(8)}   (true ${trueW[i]})`));
console.log(`  ${'intercept'.padEnd(13)} ${b.toFixed(3).padStart(8)}   (true ${trueB})`);
const pred = await dt.predict(model, scaleX(Xte));
const mae = dt.metrics.meanAbsoluteError(pred.mul(ySigma).add(yMu), yte);
console.log(`test mean absolute error: ${mae.toFixed(2)} k€ (noise std 5)`);

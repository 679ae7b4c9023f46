// Many-to-one sequence classification with an LSTM, trained by plain SGD (p -= lr * grad, with
// the gradient norm clipped at 1).
//
//   node examples/seq_classify.mjs
//
// Each sequence is 24 steps of 3 noisy channels with one pulse on channel 0; the label is the
// third of the sequence the pulse falls in (0, 1 or 2). The LSTM reads the whole sequence and a
// Linear head classifies its last hidden state (Keras: return_sequences=False).
import * as dt from '../dist/index.mjs';
import { device } from './_common.mjs';

const { nn, F } = dt;
const T = 24, FEATURES = 3, CLASSES = 3, HIDDEN = 32, BATCH = 64;

// A seeded generator for the data, so every run sees the same task.
let seed = 42;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

function makeBatch(n) {
  const x = new Float32Array(n * T * FEATURES);
  const y = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < T * FEATURES; i++) x[b * T * FEATURES + i] = (random() - 0.5) * 0.6;
    const label = Math.floor(random() * CLASSES);
    const t = label * (T / CLASSES) + Math.floor(random() * (T / CLASSES));
    x[(b * T + t) * FEATURES] += 2.5;
    y[b] = label;
  }
  return [dt.tensor(x, { shape: [n, T, FEATURES], device }), dt.tensor(y, { device })];
}

class Classifier extends nn.Module {
  lstm = new nn.LSTM(FEATURES, HIDDEN, { batchFirst: true });
  head = new nn.Linear(HIDDEN, CLASSES);
  forward(x) {
    const [, [h]] = this.lstm.forward(x);
    return this.head.forward(h.select(0, -1)); // the last layer's final hidden state
  }
}

const crossEntropy = (logits, y) => F.logSoftmax(logits, 1).gather(1, y.unsqueeze(1)).mean().neg();
const accuracy = (logits, y) => logits.argmax(1).eq(y).float().mean().item();

dt.manualSeed(0);
const model = new Classifier().to(device);
const [testX, testY] = makeBatch(512);
const lr = 0.5;
const start = Date.now();
// DENDRITE_SMOKE=1 (the examples smoke test) runs a few steps only.
const STEPS = process.env.DENDRITE_SMOKE ? 3 : 600;
for (let step = 1; step <= STEPS; step++) {
  const loss = dt.tidy(() => {
    const [x, y] = makeBatch(BATCH);
    const loss = crossEntropy(model.forward(x), y);
    loss.backward();
    dt.noGrad(() => {
      // Clip the gradient norm at 1 (usual for recurrent nets), then a plain SGD step.
      const params = model.parameters();
      const norm = Math.sqrt(params.reduce((s, p) => s + p.grad.square().sum().item(), 0));
      const scale = (step > 400 ? lr / 4 : lr) * Math.min(1, 1 / norm);
      for (const p of params) p.sub_(p.grad.mul(scale));
    });
    model.zeroGrad();
    return loss.item();
  });
  if (step % 100 === 0 || step === 1) {
    const acc = dt.tidy(() => dt.noGrad(() => accuracy(model.forward(testX), testY)));
    console.log(`step ${String(step).padStart(3)}  loss ${loss.toFixed(4)}  test accuracy ${(acc * 100).toFixed(1)}%`);
  }
}
console.log(`trained in ${((Date.now() - start) / 1000).toFixed(1)} s`);

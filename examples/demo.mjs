// The course's first two programs, in dendrite: linear regression by gradient descent, and a
// small MLP that learns XOR. Autograd computes the gradients; the updates are plain in-place
// tensor ops under noGrad (optimizers arrive with dt.optim).
import * as dt from '../dist/index.mjs';

dt.manualSeed(0);

function linearRegression() {
  console.log('Linear regression: y = 3x + 2 + noise, 100 points, full-batch gradient descent');
  const x = dt.rand([100, 1]).mul(4).sub(2);
  const y = x.mul(3).add(2).add(dt.randn([100, 1]).mul(0.1));
  const w = dt.zeros([1, 1], { requiresGrad: true });
  const b = dt.zeros([1], { requiresGrad: true });
  const lr = 0.1;
  for (let step = 0; step <= 200; step++) {
    const loss = dt.tidy(() => {
      const pred = x.matmul(w).add(b);
      const l = pred.sub(y).square().mean();
      l.backward();
      dt.noGrad(() => {
        w.sub_(w.grad.mul(lr));
        b.sub_(b.grad.mul(lr));
      });
      w.grad.dispose(); w.grad = null;
      b.grad.dispose(); b.grad = null;
      return l.item();
    });
    if (step % 25 === 0) console.log(`  step ${String(step).padStart(3)}  loss ${loss.toFixed(5)}`);
  }
  console.log(`  learned w = ${w.item().toFixed(4)} (true 3), b = ${b.item().toFixed(4)} (true 2)\n`);
}

function xorMlp() {
  console.log('XOR with a 2-8-1 MLP (tanh hidden layer, sigmoid output, binary cross-entropy)');
  const X = dt.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const Y = dt.tensor([[0], [1], [1], [0]]);
  // Xavier-style initialisation by hand.
  const W1 = dt.randn([2, 8]).mul(Math.sqrt(1 / 2)).requiresGrad_();
  const b1 = dt.zeros([8], { requiresGrad: true });
  const W2 = dt.randn([8, 1]).mul(Math.sqrt(1 / 8)).requiresGrad_();
  const b2 = dt.zeros([1], { requiresGrad: true });
  const params = [W1, b1, W2, b2];
  const lr = 0.5;
  const forward = () => X.matmul(W1).add(b1).tanh().matmul(W2).add(b2).sigmoid();
  for (let epoch = 0; epoch <= 2000; epoch++) {
    const loss = dt.tidy(() => {
      const p = forward().clamp(1e-7, 1 - 1e-7);
      const l = Y.mul(p.log()).add(Y.neg().add(1).mul(p.neg().add(1).log())).mean().neg();
      l.backward();
      dt.noGrad(() => params.forEach((t) => t.sub_(t.grad.mul(lr))));
      params.forEach((t) => { t.grad.dispose(); t.grad = null; });
      return l.item();
    });
    if (epoch % 250 === 0) console.log(`  epoch ${String(epoch).padStart(4)}  loss ${loss.toFixed(5)}`);
  }
  const p = dt.noGrad(forward);
  const probs = p.dataSync();
  [[0, 0], [0, 1], [1, 0], [1, 1]].forEach(([a, b], i) =>
    console.log(`  ${a} XOR ${b} -> ${probs[i].toFixed(4)}  (${probs[i] > 0.5 ? 1 : 0})`));
  console.log('  learned W1 =', JSON.stringify(W1.toArray().map((r) => r.map((v) => +v.toFixed(3)))));
  console.log('  learned W2 =', JSON.stringify(W2.toArray().map((r) => +r[0].toFixed(3))));
}

const info = dt.cpuInfo();
console.log(`dendrite on ${info.path} (${info.numThreads} threads)\n`);
linearRegression();
xorMlp();
const m = dt.memory();
console.log(`\nlive tensors: ${m.numTensors}, native bytes: ${m.numBytes}`);

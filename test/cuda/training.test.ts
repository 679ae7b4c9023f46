// Autograd and nn unchanged on CUDA: an MLP's loss and gradients on cuda equal those on cpu,
// and 10,000 training steps keep dt.cuda.memory() flat.
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { describeCuda, values } from './helpers';

function mlp(): dt.nn.Sequential {
  return new dt.nn.Sequential(new dt.nn.Linear(20, 64), new dt.nn.ReLU(), new dt.nn.Linear(64, 32), new dt.nn.GELU(), new dt.nn.Linear(32, 5));
}

function crossEntropy(logits: dt.Tensor, target: dt.Tensor): dt.Tensor {
  return logits.logSoftmax(1).gather(1, target.unsqueeze(1)).neg().mean();
}

describeCuda('cuda training', () => {
  it("an MLP's loss and gradients on cuda equal those on cpu", () => {
    dt.manualSeed(7);
    const cpuModel = mlp();
    const gpuModel = mlp();
    gpuModel.loadStateDict(cpuModel.stateDict());
    gpuModel.to('cuda');
    for (const p of gpuModel.parameters()) expect(p.device).toBe('cuda');
    const x = dt.randn([33, 20]);
    const y = dt.randint(0, 5, [33]);
    const lossCpu = crossEntropy(cpuModel.forward(x), y);
    const lossGpu = crossEntropy(gpuModel.forward(x.cuda()), y.cuda());
    expect(lossGpu.device).toBe('cuda');
    expect(Math.abs((lossGpu.item() as number) - (lossCpu.item() as number))).toBeLessThan(1e-5);
    lossCpu.backward();
    lossGpu.backward();
    const pc = cpuModel.namedParameters(), pg = gpuModel.namedParameters();
    for (let i = 0; i < pc.length; i++) {
      const a = values(pc[i][1].grad!), b = values(pg[i][1].grad!);
      a.forEach((v, k) => expect(Math.abs(v - b[k]), `${pc[i][0]}[${k}]`).toBeLessThan(1e-5 + 1e-4 * Math.abs(v)));
    }
  });

  it('keeps dt.cuda.memory() flat over 10,000 training steps', () => {
    dt.manualSeed(3);
    const x = dt.randn([64, 32], { device: 'cuda' });
    const y = dt.randn([64, 8], { device: 'cuda' });
    const w = dt.randn([32, 8], { device: 'cuda' }).mul(0.1).requiresGrad_();
    const b = dt.zeros([8], { requiresGrad: true, device: 'cuda' });
    const step = () =>
      dt.tidy(() => {
        const loss = x.matmul(w).add(b).relu().sub(y).square().mean();
        loss.backward();
        dt.noGrad(() => {
          w.sub_(w.grad!.mul(0.01));
          b.sub_(b.grad!.mul(0.01));
        });
        w.grad!.dispose();
        w.grad = null;
        b.grad!.dispose();
        b.grad = null;
        return loss;
      });
    for (let i = 0; i < 100; i++) step().dispose();
    dt.cuda.synchronize();
    const before = dt.cuda.memory();
    const tensorsBefore = dt.memory().numTensors;
    let first = 0, last = 0;
    for (let i = 0; i < 10000; i++) {
      const loss = step();
      if (i === 0) first = loss.item() as number;
      if (i === 9999) last = loss.item() as number;
      loss.dispose();
    }
    dt.cuda.synchronize();
    const after = dt.cuda.memory();
    expect(last).toBeLessThan(first);
    expect(after.allocated).toBe(before.allocated);
    expect(after.reserved).toBe(before.reserved);
    expect(after.cudaMallocs).toBe(before.cudaMallocs);
    expect(dt.memory().numTensors).toBe(tensorsBefore);
  });
});

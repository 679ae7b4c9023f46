// The course's programs on CUDA: the Fashion-MNIST CNN (through dt.fit, which moves the batches
// to the model's device), the U-Net example's network (conv, batch norm, max pool, transposed
// conv, skip concatenation) and the LSTM sequence classifier each train a few hundred steps on
// cuda and on cpu from the same weights and the same batches; the two loss curves must agree.
//
// Float32 sums run in another order on the GPU, and training amplifies such differences step by
// step, so the curves are compared where they are meaningful: every step early on (tight), then
// windowed means, which may part as far as the CPU's own curve parts from itself when its
// starting weights move by 1e-6 (float32 rounding): training here is chaotic enough that a fixed
// tolerance fails the CPU against itself (the LSTM's curve at steps 100..125, the U-Net's eval
// outputs after 200 steps).
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { describeCuda, emulated, seeded } from './helpers';

// Under the CPU emulation of the CUDA backend (npm run test:cuda-emu) every convolution runs as
// emulated GPU threads, about a second a step for these models: the two image models train 40
// steps there (they learn within that), 300 and 200 on a GPU. The LSTM keeps its 300.
const CNN_STEPS = emulated ? 40 : 300;
const UNET_STEPS = emulated ? 40 : 200;

const { nn, F } = dt;

type Batch = [dt.Tensor, dt.Tensor];

/** Trains `model` on `batches` (CPU tensors) with Adam, moving each batch to the model's device. */
function trainSteps(model: dt.nn.Module, batches: Batch[], lossFn: (p: dt.Tensor, y: dt.Tensor) => dt.Tensor, lr: number): number[] {
  const device = model.parameters()[0].device;
  const opt = new dt.optim.Adam(model.parameters(), { lr });
  const losses: number[] = [];
  for (const [x, y] of batches) {
    losses.push(
      dt.tidy(() => {
        opt.zeroGrad();
        const loss = lossFn(model.forward(x.to(device)), y.to(device));
        loss.backward();
        opt.step();
        return Number(loss.item());
      }),
    );
  }
  return losses;
}

/**
 * The same model three times from one state dict: on cpu, on cpu with every weight scaled by
 * 1 + 1e-6 (how far chaos alone carries a run), and moved to cuda.
 */
function triplets<M extends dt.nn.Module>(make: () => M): [M, M, M] {
  dt.manualSeed(0);
  const cpu = make();
  const nudged = make();
  const gpu = make();
  nudged.loadStateDict(cpu.stateDict());
  dt.noGrad(() => {
    for (const p of nudged.parameters()) p.mul_(1 + 1e-6);
  });
  gpu.loadStateDict(cpu.stateDict());
  gpu.to('cuda');
  for (const p of gpu.parameters()) expect(p.device).toBe('cuda');
  return [cpu, nudged, gpu];
}

function windowMeans(losses: number[], W: number): number[] {
  const out: number[] = [];
  for (let s = 0; s + W <= losses.length; s += W) out.push(losses.slice(s, s + W).reduce((a, b) => a + b, 0) / W);
  return out;
}

function expectSameCurve(cpu: number[], gpu: number[], what: string, nudged: number[]): void {
  expect(gpu.length).toBe(cpu.length);
  for (const v of gpu) expect(Number.isFinite(v), `${what}: finite losses`).toBe(true);
  // The first steps: the same weights and batches give the same loss up to float32 order.
  for (let i = 0; i < Math.min(10, cpu.length); i++)
    expect(Math.abs(gpu[i] - cpu[i]), `${what}: step ${i}: cpu ${cpu[i]}, cuda ${gpu[i]}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(cpu[i])));
  // Then windows of 25 steps (fewer on short runs): the means agree within 3%, or within twice
  // the furthest the nudged CPU run's means strayed from the CPU's.
  const W = Math.min(25, Math.floor(cpu.length / 4));
  const mc = windowMeans(cpu, W), mg = windowMeans(gpu, W), mn = windowMeans(nudged, W);
  const chaos = Math.max(...mc.map((m, k) => Math.abs(mn[k] - m)));
  mc.forEach((m, k) =>
    expect(Math.abs(mg[k] - m), `${what}: steps ${k * W}..${(k + 1) * W}: cpu mean ${m}, cuda mean ${mg[k]} (the nudged cpu run strays ${chaos})`)
      .toBeLessThan(0.03 * Math.abs(m) + 2e-3 + 2 * chaos));
  // And both learned: the last window's loss is well below the first's.
  for (const [name, l] of [['cpu', cpu], ['cuda', gpu]] as const) {
    const first = l.slice(0, W).reduce((a, b) => a + b, 0), last = l.slice(-W).reduce((a, b) => a + b, 0);
    expect(last, `${what}: ${name} learns`).toBeLessThan(0.8 * first);
  }
}

// ---- the course CNN ----------------------------------------------------------------------

function courseCnn(): dt.nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 32, 3), new nn.ReLU(),
    new nn.Conv2d(32, 32, 3), new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(32 * 12 * 12, 128), new nn.ReLU(),
    new nn.Linear(128, 10),
  );
}

/** Fashion-MNIST-like batches: 28×28 images whose class is set by which of 10 blobs is bright. */
function imageBatches(steps: number, batch: number): Batch[] {
  const rnd = seeded(11);
  const out: Batch[] = [];
  for (let s = 0; s < steps; s++) {
    const img = new Float32Array(batch * 28 * 28);
    const y = new Int32Array(batch);
    for (let b = 0; b < batch; b++) {
      const label = Math.floor(rnd() * 10);
      y[b] = label;
      const cy = 5 + 18 * ((label % 5) / 4), cx = label < 5 ? 8 : 20;
      for (let i = 0; i < 28; i++)
        for (let j = 0; j < 28; j++) {
          const d2 = (i - cy) ** 2 + (j - cx) ** 2;
          img[b * 784 + i * 28 + j] = 0.3 * rnd() + (d2 < 16 ? 0.8 : 0);
        }
    }
    out.push([dt.tensor(img, { shape: [batch, 1, 28, 28] }), dt.tensor(y, { dtype: 'int64' })]);
  }
  return out;
}

// ---- the U-Net ---------------------------------------------------------------------------

const block = (inC: number, outC: number) =>
  new nn.Sequential(
    new nn.Conv2d(inC, outC, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(outC), new nn.ReLU(),
    new nn.Conv2d(outC, outC, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(outC), new nn.ReLU(),
  );

class UNet extends nn.Module {
  enc1 = block(1, 16);
  enc2 = block(16, 32);
  bottleneck = block(32, 64);
  up2 = new nn.ConvTranspose2d(64, 32, 2, { stride: 2 });
  dec2 = block(64, 32);
  up1 = new nn.ConvTranspose2d(32, 16, 2, { stride: 2 });
  dec1 = block(32, 16);
  head = new nn.Conv2d(16, 1, 1);
  forward(x: dt.Tensor): dt.Tensor {
    const e1 = this.enc1.forward(x);
    const e2 = this.enc2.forward(F.maxPool2d(e1, 2));
    const b = this.bottleneck.forward(F.maxPool2d(e2, 2));
    const d2 = this.dec2.forward(dt.cat([this.up2.forward(b), e2], 1));
    const d1 = this.dec1.forward(dt.cat([this.up1.forward(d2), e1], 1));
    return this.head.forward(d1);
  }
}

/** 32×32 images of circles (mask 1) and rectangles (mask 0), as the U-Net example draws them. */
function maskBatches(steps: number, batch: number): Batch[] {
  const rnd = seeded(5);
  const S = 32;
  const out: Batch[] = [];
  for (let s = 0; s < steps; s++) {
    const img = new Float32Array(batch * S * S), mask = new Float32Array(batch * S * S);
    for (let k = 0; k < batch; k++) {
      const o = k * S * S;
      for (let i = 0; i < S * S; i++) img[o + i] = 0.1 * rnd();
      for (let n = 0; n < 3; n++) {
        const circle = rnd() < 0.5, v = 0.5 + 0.5 * rnd();
        const cy = 4 + rnd() * (S - 8), cx = 4 + rnd() * (S - 8), r = 3 + rnd() * 5;
        for (let y = 0; y < S; y++)
          for (let x = 0; x < S; x++) {
            const inside = circle ? (y - cy) ** 2 + (x - cx) ** 2 <= r * r : Math.abs(y - cy) <= r && Math.abs(x - cx) <= r;
            if (!inside) continue;
            img[o + y * S + x] = v;
            mask[o + y * S + x] = circle ? 1 : 0;
          }
      }
    }
    out.push([dt.tensor(img, { shape: [batch, 1, S, S] }), dt.tensor(mask, { shape: [batch, 1, S, S] })]);
  }
  return out;
}

// ---- the LSTM classifier -----------------------------------------------------------------

class SeqClassifier extends nn.Module {
  lstm = new nn.LSTM(3, 32, { batchFirst: true });
  head = new nn.Linear(32, 3);
  forward(x: dt.Tensor): dt.Tensor {
    const [, [h]] = this.lstm.forward(x) as any;
    return this.head.forward((h as dt.Tensor).select(0, -1));
  }
}

/** Sequences of 24 steps whose class is where a spike sits (the seq_classify example's task). */
function sequenceBatches(steps: number, batch: number): Batch[] {
  const rnd = seeded(42);
  const T = 24;
  const out: Batch[] = [];
  for (let s = 0; s < steps; s++) {
    const x = new Float32Array(batch * T * 3);
    const y = new Int32Array(batch);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < T * 3; i++) x[b * T * 3 + i] = (rnd() - 0.5) * 0.6;
      const label = Math.floor(rnd() * 3);
      x[(b * T + label * 8 + Math.floor(rnd() * 8)) * 3] += 2.5;
      y[b] = label;
    }
    out.push([dt.tensor(x, { shape: [batch, T, 3] }), dt.tensor(y, { dtype: 'int64' })]);
  }
  return out;
}

describeCuda('course models train on cuda with the loss curve of cpu', () => {
  it(`the Fashion-MNIST CNN, ${CNN_STEPS} steps of Adam through dt.fit (batches follow the model to cuda)`, async () => {
    const batches = imageBatches(CNN_STEPS, 32);
    const [cpu, nudged, gpu] = triplets(courseCnn);
    const run = async (m: dt.nn.Sequential) => {
      const losses: number[] = [];
      await dt.fit(m, batches, {
        optimizer: new dt.optim.Adam(m.parameters(), { lr: 1e-3 }),
        loss: (p: dt.Tensor, y: dt.Tensor) => F.crossEntropy(p, y),
        verbose: 0,
        callbacks: [{ onBatchEnd: (_s: number, logs: Record<string, number>) => void losses.push(logs.loss) } as any],
      });
      // logs.loss is the running mean; recover the per-step losses from it.
      return losses.map((mean, i) => (i === 0 ? mean : mean * (i + 1) - losses[i - 1] * i));
    };
    expectSameCurve(await run(cpu), await run(gpu), 'course CNN', await run(nudged));
    const acc = await dt.evaluate(gpu, batches.slice(0, 20), { metrics: ['accuracy'] });
    expect(acc.accuracy).toBeGreaterThan(0.9);
  });

  it(`the U-Net (batch norm, transposed conv, skip concatenation), ${UNET_STEPS} steps of Adam`, () => {
    const batches = maskBatches(UNET_STEPS, 8);
    const [cpu, nudged, gpu] = triplets(() => new UNet());
    const loss = (p: dt.Tensor, y: dt.Tensor) => F.binaryCrossEntropyWithLogits(p, y);
    expectSameCurve(trainSteps(cpu, batches, loss, 2e-3), trainSteps(gpu, batches, loss, 2e-3), 'U-Net', trainSteps(nudged, batches, loss, 2e-3));
    // Eval mode uses the running statistics, which must have followed the same path: as close
    // to the cpu's outputs as 5%, or as the nudged cpu run's outputs are.
    for (const m of [cpu, nudged, gpu]) m.eval();
    const [x] = batches[0];
    const a = dt.noGrad(() => cpu.forward(x)), b = dt.noGrad(() => gpu.forward(x.cuda())).cpu(), n = dt.noGrad(() => nudged.forward(x));
    const diff = a.sub(b).abs().max().item() as number, chaos = a.sub(n).abs().max().item() as number;
    expect(diff, `U-Net eval outputs: the nudged cpu run's differ by ${chaos}`).toBeLessThan(Math.max(0.05 * ((a.abs().max().item() as number) + 1), 2 * chaos));
  });

  it('the LSTM sequence classifier, 300 steps of Adam (BPTT over 24 steps)', () => {
    const batches = sequenceBatches(300, 64);
    const [cpu, nudged, gpu] = triplets(() => new SeqClassifier());
    const loss = (p: dt.Tensor, y: dt.Tensor) => F.crossEntropy(p, y);
    expectSameCurve(trainSteps(cpu, batches, loss, 1e-2), trainSteps(gpu, batches, loss, 1e-2), 'LSTM', trainSteps(nudged, batches, loss, 1e-2));
  });
});

import { describe, expect, it } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as dt from '../../dist/index.js';

const { nn } = dt;
const { DataLoader, TensorDataset } = dt.data;

// Local stand-ins for dt.optim.SGD and the losses (they arrive with their own issue).
class SGD {
  paramGroups: { lr: number }[];
  constructor(readonly params: dt.Tensor[], lr: number) {
    this.paramGroups = [{ lr }];
  }
  zeroGrad() {
    for (const p of this.params) if (p.grad) (p.grad.dispose(), (p.grad = null));
  }
  step() {
    dt.noGrad(() => {
      for (const p of this.params) if (p.grad) p.sub_(p.grad.mul(this.paramGroups[0].lr));
    });
  }
}
const mse = (p: dt.Tensor, y: dt.Tensor) => p.sub(y).square().mean();
const crossEntropy = (logits: dt.Tensor, y: dt.Tensor) => logits.logSoftmax(1).gather(1, y.reshape([-1, 1])).mean().neg();

function capture(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (s: string) => chunks.push(s) }, text: () => chunks.join(''), chunks };
}

function regressionData(n = 128) {
  dt.manualSeed(0);
  const x = dt.randn([n, 2]);
  const y = x.matmul(dt.tensor([[2], [-3]])).add(1);
  return { x, y };
}

function tmpfile(name: string) {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dendrite-fit-')), name);
}

describe('dt.fit', () => {
  it('trains a linear regression and records loss, metrics, validation and lr per epoch', async () => {
    const { x, y } = regressionData();
    const model = new nn.Linear(2, 1);
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 16, shuffle: true, seed: 1 });
    const out = capture(false);
    const history = await dt.fit(model, loader, {
      optimizer: new SGD(model.parameters(), 0.1), loss: mse, epochs: 15, metrics: ['mae'], validation: [x, y], stream: out.stream,
    });
    expect(history.epoch).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(history.keys()).toEqual(['loss', 'mae', 'valLoss', 'valMae', 'lr']);
    const loss = history.get('loss');
    expect(loss[14]).toBeLessThan(1e-4);
    expect(loss[14]).toBeLessThan(loss[0] / 100);
    expect(history.last('valLoss')).toBeLessThan(1e-4);
    expect(history.get('lr')).toEqual(new Array(15).fill(0.1));
    expect(history.best('valLoss').epoch).toBeGreaterThan(10);
    expect(history.params).toMatchObject({ epochs: 15, steps: 8, batchSize: 16 });
    const w = model.weight.toArray()[0];
    expect(w[0]).toBeCloseTo(2, 2);
    expect(w[1]).toBeCloseTo(-3, 2);
    expect(model.bias!.item()).toBeCloseTo(1, 2);
  });

  it('writes one plain line per epoch when the stream is not a TTY', async () => {
    const { x, y } = regressionData(40);
    const model = new nn.Linear(2, 1);
    const out = capture(false);
    await dt.fit(model, new DataLoader(new TensorDataset(x, y), { batchSize: 10 }), {
      optimizer: new SGD(model.parameters(), 0.05), loss: mse, epochs: 2, metrics: ['mae'], validation: [x, y], stream: out.stream,
    });
    const lines = out.text().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    for (const [i, line] of lines.entries())
      expect(line).toMatch(new RegExp(`^Epoch ${i + 1}/2 - 4 steps - [\\d.]+s - \\d+ samples/s - loss \\d+\\.\\d{4} - mae \\d+\\.\\d{4} - valLoss \\d+\\.\\d{4} - valMae \\d+\\.\\d{4} - lr 0\\.0500$`));
    expect(out.text()).not.toContain('\r');
  });

  it('draws a progress bar on a TTY and ends each epoch with a finished bar', async () => {
    const { x, y } = regressionData(64);
    const model = new nn.Linear(2, 1);
    const out = capture(true);
    await dt.fit(model, new DataLoader(new TensorDataset(x, y), { batchSize: 8 }), {
      optimizer: new SGD(model.parameters(), 0.05), loss: mse, epochs: 2, stream: out.stream,
    });
    const text = out.text();
    expect(text).toContain('\r\x1b[2K');
    expect(text.split('\n').filter(Boolean)).toHaveLength(2);
    expect(text).toMatch(/Epoch 1\/2 {2}\[={24}\] {2}8\/8 {2}loss \d+\.\d{4} {2}lr 0\.0500 {2}[\d.]+s {2}\d+ samples\/s\n/);
    expect(out.chunks[0]).toMatch(/^\r\x1b\[2KEpoch 1\/2 {2}\[=*>?\.*\] {2}1\/8 {2}loss \d+\.\d{4} {2}\d+ samples\/s {2}ETA /);
    const silent = capture(true);
    await dt.fit(model, new DataLoader(new TensorDataset(x, y), { batchSize: 8 }), { optimizer: new SGD(model.parameters(), 0), loss: mse, stream: silent.stream, verbose: 0 });
    expect(silent.text()).toBe('');
  });

  it('keeps memory flat across epochs, frees its batches, and restores the training mode', async () => {
    const { x, y } = regressionData(64);
    const model = new nn.Sequential(new nn.Linear(2, 8), new nn.Tanh(), new nn.Linear(8, 1));
    model.eval();
    const counts: number[] = [];
    const before = dt.memory().numTensors;
    await dt.fit(model, new DataLoader(new TensorDataset(x, y), { batchSize: 8, shuffle: true }), {
      optimizer: new SGD(model.parameters(), 0.05), loss: mse, epochs: 4, verbose: 'silent', validation: [x, y],
      callbacks: [{ onEpochEnd: () => void counts.push(dt.memory().numTensors) }],
    });
    expect(new Set(counts).size).toBe(1);
    // Gradients of the 4 parameters are what the run leaves (as a PyTorch loop does).
    expect(dt.memory().numTensors).toBe(before + 4);
    expect(model.training).toBe(false);
  });

  it('trains a classifier with accuracy and top-k, on batches given as an async iterable', async () => {
    dt.manualSeed(1);
    // Three separable blobs.
    const centres = dt.tensor([[3, 0], [-3, 0], [0, 3]]);
    const labels = dt.randint(0, 3, [150]);
    const x = centres.indexSelect(0, labels).add(dt.randn([150, 2]).mul(0.5));
    const model = new nn.Linear(2, 3);
    async function* batches() {
      for (let i = 0; i < 150; i += 30) yield [x.narrow(0, i, 30), labels.narrow(0, i, 30)];
    }
    const history = await dt.fit(model, { [Symbol.asyncIterator]: batches }, {
      optimizer: new SGD(model.parameters(), 0.5), loss: crossEntropy, epochs: 10, metrics: ['accuracy', 'top2'], verbose: 0,
    });
    expect(history.last('accuracy')).toBeGreaterThan(0.95);
    expect(history.last('top2')).toBe(1);
    const res = await dt.evaluate(model, [x, labels], { loss: crossEntropy, metrics: ['accuracy', new dt.metrics.ConfusionMatrix(3)] });
    expect(res.accuracy).toBeGreaterThan(0.95);
    const cm = res.confusionMatrix as number[][];
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(150);
    expect(cm[0][0] + cm[1][1] + cm[2][2]).toBe(Math.round(res.accuracy * 150));
  });

  it('rejects bad arguments with clear messages', async () => {
    const model = new nn.Linear(2, 1);
    const loader = new DataLoader(new TensorDataset(dt.zeros([4, 2]), dt.zeros([4, 1])), { batchSize: 2 });
    await expect(dt.fit(model, loader, { optimizer: {} as any, loss: mse })).rejects.toThrow(/fit: expected an optimizer with step\(\) and zeroGrad\(\)/);
    await expect(dt.fit(model, loader, { optimizer: new SGD(model.parameters(), 0.1), loss: 42 as any })).rejects.toThrow(/fit: expected a loss function/);
    await expect(dt.fit(model, loader, { optimizer: new SGD(model.parameters(), 0.1), loss: (p: dt.Tensor) => p, verbose: 0 })).rejects.toThrow(/a loss that is one number/);
    if (typeof (dt.F as any).mseLoss !== 'function')
      await expect(dt.fit(model, loader, { optimizer: new SGD(model.parameters(), 0.1), loss: 'mse', verbose: 0 })).rejects.toThrow(/no F.mseLoss in this build/);
    await expect(dt.fit(model, loader, { optimizer: new SGD(model.parameters(), 0.1), loss: mse, verbose: 0, device: 'tpu' as any })).rejects.toThrow(/fit: expected device 'cpu' or 'cuda'/);
    if (!dt.cuda.isAvailable()) {
      await expect(dt.fit(model, loader, { optimizer: new SGD(model.parameters(), 0.1), loss: mse, verbose: 0, device: 'cuda' })).rejects.toMatchObject({ code: 'ERR_DEVICE' });
      await expect(dt.evaluate(model, loader, { loss: mse, device: 'cuda' })).rejects.toMatchObject({ code: 'ERR_DEVICE' });
    }
  });

  it("moves each batch to options.device, else to the model's device", async () => {
    const { x, y } = regressionData(32);
    const model = new nn.Linear(2, 1);
    const seen: string[] = [];
    const forward = (t: dt.Tensor) => (seen.push(t.device), model.forward(t));
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 8 });
    (forward as any).parameters = () => model.parameters();
    await dt.fit(model, loader, { optimizer: new SGD(model.parameters(), 0.05), loss: mse, verbose: 0, device: 'cpu' });
    const r = await dt.evaluate(forward, loader, { loss: mse, device: 'cpu' });
    expect(seen).toEqual(['cpu', 'cpu', 'cpu', 'cpu']);
    expect(r.loss).toBeGreaterThan(0);
    const out = await dt.predict(model, x, { batchSize: 16, device: 'cpu' });
    expect(out.shape).toEqual([32, 1]);
    expect(out.device).toBe('cpu');
  });
});

describe('dt.evaluate and dt.predict', () => {
  it('average the loss over samples and concatenate outputs in order', async () => {
    const model = new nn.Linear(1, 1);
    dt.noGrad(() => {
      model.weight.fill_(2);
      model.bias!.fill_(0);
    });
    const x = dt.tensor([[1], [2], [3], [4], [5]]);
    const y = dt.tensor([[2], [4], [6], [8], [0]]);
    const res = await dt.evaluate(model, new DataLoader(new TensorDataset(x, y), { batchSize: 2 }), { loss: mse, metrics: ['mae'] });
    expect(res.loss).toBeCloseTo(100 / 5, 5);
    expect(res.mae).toBeCloseTo(10 / 5, 5);
    const out = await dt.predict(model, x, { batchSize: 2 });
    expect(out.toArray()).toEqual([[2], [4], [6], [8], [10]]);
    const viaLoader = await dt.predict(model, new DataLoader(new TensorDataset(x, y), { batchSize: 3 }));
    expect(viaLoader.toArray()).toEqual(out.toArray());
    expect(out.requiresGrad).toBe(false);
  });
});

describe('callbacks', () => {
  const ctxOf = (model: any = {}) => ({ model, optimizer: { paramGroups: [{ lr: 0.1 }] }, history: new dt.History(), stopTraining: false, epochs: 10 });

  it('early stopping waits `patience` epochs without improvement', () => {
    const es = new dt.callbacks.EarlyStopping({ monitor: 'valLoss', patience: 2 });
    const ctx = ctxOf();
    es.onTrainBegin();
    const seq = [1, 0.9, 0.95, 0.91, 0.92, 0.5];
    let stopped = 0;
    for (const [i, v] of seq.entries()) {
      es.onEpochEnd(i + 1, { valLoss: v }, ctx);
      if (ctx.stopTraining) {
        stopped = i + 1;
        break;
      }
    }
    expect(stopped).toBe(5);
    expect(es.stoppedEpoch).toBe(5);
    expect([es.best, es.bestEpoch]).toEqual([0.9, 2]);
    const acc = new dt.callbacks.EarlyStopping({ monitor: 'valAccuracy' });
    expect(acc.mode).toBe('max');
    expect(() => acc.onEpochEnd(1, { loss: 1 }, ctxOf())).toThrow(/EarlyStopping: expected a monitored key among loss/);
  });

  it('early stopping ends fit and can restore the best weights', async () => {
    const { x, y } = regressionData(32);
    const model = new nn.Linear(2, 1);
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 8 });
    // lr 0: the validation loss never improves after epoch 1.
    const history = await dt.fit(model, loader, {
      optimizer: new SGD(model.parameters(), 0), loss: mse, epochs: 10, validation: [x, y], verbose: 0,
      callbacks: [new dt.callbacks.EarlyStopping({ patience: 1 })],
    });
    expect(history.epoch).toEqual([1, 2, 3]);

    const w0 = model.weight.toArray();
    // A rising learning rate makes later epochs worse; the best (first) weights come back.
    const es = new dt.callbacks.EarlyStopping({ monitor: 'loss', patience: 10, restoreBestWeights: true });
    let firstEpochWeights: number[][] = [];
    await dt.fit(model, loader, {
      optimizer: new SGD(model.parameters(), 0.01), loss: mse, epochs: 3, verbose: 0,
      callbacks: [
        { onEpochEnd: (e: number, _l: any, ctx: any) => { if (e === 1) firstEpochWeights = model.weight.toArray(); ctx.optimizer.paramGroups[0].lr = 5; } },
        es,
      ],
    });
    expect(es.bestEpoch).toBe(1);
    expect(model.weight.toArray()).toEqual(firstEpochWeights);
    expect(model.weight.toArray()).not.toEqual(w0);
  });

  it('checkpoints the best epochs through the injected saver', async () => {
    const saved: [string, string[]][] = [];
    const model = { stateDict: () => ({ weight: dt.zeros([1]) }) };
    const cp = new dt.callbacks.ModelCheckpoint({ path: '/tmp/best-{epoch}.safetensors', saver: (sd: any, p: string) => void saved.push([p, Object.keys(sd)]) });
    const ctx = ctxOf(model);
    cp.onTrainBegin();
    for (const [i, v] of [3, 2, 2.5, 1].entries()) await cp.onEpochEnd(i + 1, { valLoss: v }, ctx);
    expect(saved).toEqual([
      ['/tmp/best-1.safetensors', ['weight']],
      ['/tmp/best-2.safetensors', ['weight']],
      ['/tmp/best-4.safetensors', ['weight']],
    ]);
    const noSaver = new dt.callbacks.ModelCheckpoint({ path: 'x' });
    if (typeof (dt as any).save !== 'function') expect(() => noSaver.onTrainBegin()).toThrow(/ModelCheckpoint: expected a saver/);
  });

  it('schedules the learning rate (Keras-style function, or a PyTorch-style scheduler)', async () => {
    const { x, y } = regressionData(16);
    const model = new nn.Linear(2, 1);
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 8 });
    const opt = new SGD(model.parameters(), 0.1);
    const h = await dt.fit(model, loader, {
      optimizer: opt, loss: mse, epochs: 3, verbose: 0,
      callbacks: [dt.callbacks.learningRateScheduler((epoch: number) => 0.1 / 2 ** (epoch - 1))],
    });
    expect(h.get('lr')).toEqual([0.1, 0.05, 0.025]);

    const calls: unknown[][] = [];
    const stepLR = { step: (...a: unknown[]) => { calls.push(a); opt.paramGroups[0].lr *= 0.5; } };
    const h2 = await dt.fit(model, loader, { optimizer: opt, loss: mse, epochs: 3, verbose: 0, scheduler: stepLR });
    expect(calls).toEqual([[], [], []]);
    expect(h2.get('lr')).toEqual([0.025, 0.0125, 0.00625]);

    class ReduceLROnPlateau {
      seen: number[] = [];
      step(metric: number) {
        this.seen.push(metric);
      }
    }
    const plateau = new ReduceLROnPlateau();
    const h3 = await dt.fit(model, loader, { optimizer: opt, loss: mse, epochs: 2, verbose: 0, scheduler: plateau, validation: [x, y] });
    expect(plateau.seen).toEqual(h3.get('valLoss'));

    let batchSteps = 0;
    await dt.fit(model, loader, { optimizer: opt, loss: mse, epochs: 2, verbose: 0, scheduler: { step: () => void batchSteps++ }, schedulerInterval: 'step' });
    expect(batchSteps).toBe(4);
  });

  it('logs every epoch to CSV', async () => {
    const file = tmpfile('log.csv');
    const { x, y } = regressionData(16);
    const model = new nn.Linear(2, 1);
    const h = await dt.fit(model, new DataLoader(new TensorDataset(x, y), { batchSize: 8 }), {
      optimizer: new SGD(model.parameters(), 0.1), loss: mse, epochs: 2, metrics: ['mae'], verbose: 0, callbacks: [dt.callbacks.csvLogger(file)],
    });
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('epoch,loss,mae');
    expect(lines[1]).toBe(`1,${h.get('loss')[0]},${h.get('mae')[0]}`);
    expect(lines).toHaveLength(3);
  });
});

describe('History', () => {
  const history = () => {
    const h = new dt.History();
    h.record(1, { loss: 1, accuracy: 0.5, valLoss: 1.2, valAccuracy: 0.4, lr: 0.1 });
    h.record(2, { loss: 0.5, accuracy: 0.8, valLoss: 0.9, valAccuracy: 0.7, lr: 0.1 });
    h.record(3, { loss: 0.25, accuracy: 0.9, valLoss: 1.0, valAccuracy: 0.75, lr: 0.1 });
    return h;
  };

  it('keeps values per key and epoch, and finds the best epoch', () => {
    const h = history();
    expect(h.get('valLoss')).toEqual([1.2, 0.9, 1.0]);
    expect(h.best('valLoss')).toEqual({ epoch: 2, value: 0.9 });
    expect(h.best('valAccuracy')).toEqual({ epoch: 3, value: 0.75 });
    expect(h.toCSV().split('\n')[1]).toBe('1,1,0.5,1.2,0.4,0.1');
    expect(JSON.parse(JSON.stringify(h)).history.loss).toEqual([1, 0.5, 0.25]);
    expect(() => h.get('top5')).toThrow(/History.get: expected a key among loss, accuracy/);
  });

  it('plots train vs validation as SVG, and as PNG', () => {
    const h = history();
    const svgFile = h.plot(tmpfile('curves.svg'));
    const svg = fs.readFileSync(svgFile, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    // Two panels (loss, accuracy; a constant lr gets none), each with a train and a dashed validation curve.
    expect(svg.match(/<text[^>]*>loss<\/text>/g)).toHaveLength(1);
    expect(svg.match(/<text[^>]*>accuracy<\/text>/g)).toHaveLength(1);
    expect(svg).not.toMatch(/>lr</);
    expect(svg.match(/stroke="#1f77b4" stroke-width="2"\/>/g)!.length).toBeGreaterThanOrEqual(2);
    expect(svg.match(/stroke="#ff7f0e" stroke-width="2" stroke-dasharray/g)!.length).toBeGreaterThanOrEqual(2);
    expect(svg.match(/<circle/g)).toHaveLength(12);
    const png = fs.readFileSync(h.plot(tmpfile('curves.png')));
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([840, 300]);
  });
});

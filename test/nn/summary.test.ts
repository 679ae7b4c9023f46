import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

const { nn } = dt;

// Stand-ins for the conv/pool layers of another branch: right shapes and parameters, zeros out,
// and their summary arithmetic registered through the public registry as those layers will.
class TestConv2d extends nn.Module {
  weight: dt.Tensor;
  bias: dt.Tensor;
  constructor(readonly inC: number, readonly outC: number, readonly k: number, readonly padding = 0) {
    super();
    this.weight = nn.Parameter(dt.zeros([outC, inC, k, k]));
    this.bias = nn.Parameter(dt.zeros([outC]));
  }
  forward(x: dt.Tensor): dt.Tensor {
    const [n, , h, w] = x.shape;
    return dt.zeros([n, this.outC, h + 2 * this.padding - this.k + 1, w + 2 * this.padding - this.k + 1]);
  }
}
class TestMaxPool2d extends nn.Module {
  constructor(readonly k: number) {
    super();
  }
  forward(x: dt.Tensor): dt.Tensor {
    const [n, c, h, w] = x.shape;
    return dt.zeros([n, c, Math.floor(h / this.k), Math.floor(w / this.k)]);
  }
}
class TestGlobalAvgPool extends nn.Module {
  forward(x: dt.Tensor): dt.Tensor {
    return x.mean([2, 3]);
  }
}
dt.registerSummaryRule('TestConv2d', {
  macs: (m: any, _inputs, out: any) => out.numel() * m.inC * m.k * m.k,
  receptiveField: (m: any) => ({ kernel: m.k }),
});
dt.registerSummaryRule('TestMaxPool2d', { receptiveField: (m: any) => ({ kernel: m.k, stride: m.k }) });
dt.registerSummaryRule('TestGlobalAvgPool', { receptiveField: () => 'global' });

describe('dt.summary', () => {
  it('does the same hand computation with the real Conv2d, MaxPool2d and AdaptiveAvgPool2d layers', () => {
    const model = new nn.Sequential(
      new nn.Conv2d(3, 128, 3, { padding: 1 }), new nn.ReLU(),
      new nn.Conv2d(128, 64, 3, { padding: 1 }), new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(64, 4, 3, { padding: 1 }), new nn.ReLU(),
      new nn.AdaptiveAvgPool2d(1), new nn.Flatten(),
      new nn.Linear(4, 3),
    );
    const s = dt.summary(model, [2, 3, 32, 32]);
    expect(s.totalParams).toBe(3584 + 73792 + 2308 + 15);
    expect(s.layers.map((l) => l.params)).toEqual([3584, 0, 73792, 0, 0, 2308, 0, 0, 0, 15]);
    expect(s.layers.map((l) => l.receptiveField)).toEqual([3, 3, 5, 5, 6, 10, 10, 32, 32, 32]);
    expect(s.layers.map((l) => l.macs)).toEqual([
      2 * 128 * 32 * 32 * 3 * 9, 0, 2 * 64 * 32 * 32 * 128 * 9, 0, 0, 2 * 4 * 16 * 16 * 64 * 9, 0, 0, 0, 2 * 3 * 4,
    ]);
  });

  it('counts transposed conv, batch norm and recurrent MACs by hand', () => {
    const up = dt.summary(new nn.Sequential(new nn.ConvTranspose2d(8, 4, 2, { stride: 2 }), new nn.BatchNorm2d(4)), [1, 8, 5, 5]);
    expect(up.layers[0].outputShape).toEqual([1, 4, 10, 10]);
    expect(up.layers[0].macs).toBe(8 * 5 * 5 * 4 * 2 * 2); // each input scattered to 4 channels x 2x2
    expect(up.layers[0].params).toBe(8 * 4 * 2 * 2 + 4);
    expect(up.layers[1].macs).toBe(4 * 10 * 10);
    const lstm = new nn.LSTM(10, 20, { numLayers: 2, bidirectional: true });
    const r = dt.summary(lstm, [7, 3, 10]); // T=7, N=3
    // layer 0: 2 directions x 21 steps x 4 gates x 20 x (10 + 20); layer 1: inputs are 40 wide
    expect(r.layers[0].macs).toBe(2 * 21 * 4 * 20 * (10 + 20) + 2 * 21 * 4 * 20 * (40 + 20));
    expect(r.totalParams).toBe(2 * (4 * 20 * 10 + 4 * 20 * 20 + 2 * 4 * 20) + 2 * (4 * 20 * 40 + 4 * 20 * 20 + 2 * 4 * 20));
  });

  it("gets the course's hand computation right: conv 128 → conv 64 → pool → conv 4 → GAP → linear 3", () => {
    const model = new nn.Sequential(
      new TestConv2d(3, 128, 3, 1), new nn.ReLU(),
      new TestConv2d(128, 64, 3, 1), new nn.ReLU(),
      new TestMaxPool2d(2),
      new TestConv2d(64, 4, 3, 1), new nn.ReLU(),
      new TestGlobalAvgPool(),
      new nn.Linear(4, 3),
    );
    const s = dt.summary(model, [2, 3, 32, 32]);
    expect(s.totalParams).toBe(79699);
    expect(s.layers.map((l) => l.params)).toEqual([3584, 0, 73792, 0, 0, 2308, 0, 0, 15]);
    expect(s.layers.map((l) => l.outputShape)).toEqual([
      [2, 128, 32, 32], [2, 128, 32, 32], [2, 64, 32, 32], [2, 64, 32, 32], [2, 64, 16, 16],
      [2, 4, 16, 16], [2, 4, 16, 16], [2, 4], [2, 3],
    ]);
    expect(s.layers.map((l) => l.receptiveField)).toEqual([3, 3, 5, 5, 6, 10, 10, 32, 32]);
    const macs = [2 * 128 * 32 * 32 * 3 * 9, 0, 2 * 64 * 32 * 32 * 128 * 9, 0, 0, 2 * 4 * 16 * 16 * 64 * 9, 0, 0, 2 * 3 * 4];
    expect(s.layers.map((l) => l.macs)).toEqual(macs);
    expect(s.macs).toBe(macs.reduce((a, b) => a + b));
    expect(s.flops).toBe(2 * s.macs);
    expect(s.layers[0].activationBytes).toBe(2 * 128 * 32 * 32 * 4);
    expect(s.paramBytes).toBe(79699 * 4);
    const text = String(s);
    expect(text).toContain('Total params: 79,699 (311.32 KB)');
    expect(text).toMatch(/^0 \(TestConv2d\) +\[2, 128, 32, 32\] +3,584 +7,077,888 +1.00 MB +3$/m);
  });

  it('summarises an MLP: names, shapes, parameters, MACs, activations', () => {
    const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
    model.at(0).requiresGrad_(false);
    const s = model.summary([32, 784]);
    expect(s.layers).toEqual([
      { name: '0', type: 'Linear', outputShape: [32, 128], params: 100480, trainable: false, macs: 32 * 128 * 784, flops: 2 * 32 * 128 * 784, activationBytes: 32 * 128 * 4, receptiveField: null },
      { name: '1', type: 'ReLU', outputShape: [32, 128], params: 0, trainable: true, macs: 0, flops: 0, activationBytes: 32 * 128 * 4, receptiveField: null },
      { name: '2', type: 'Linear', outputShape: [32, 10], params: 1290, trainable: true, macs: 32 * 10 * 128, flops: 2 * 32 * 10 * 128, activationBytes: 32 * 10 * 4, receptiveField: null },
    ]);
    expect(s).toMatchObject({ totalParams: 101770, trainableParams: 1290, frozenParams: 100480, paramBytes: 101770 * 4 });
    expect(s.activationBytes).toBe((2 * 32 * 128 + 32 * 10) * 4);
    expect(JSON.parse(JSON.stringify(s)).layers.length).toBe(3);
    expect(String(s)).toContain('Non-trainable params: 100,480');
    expect(String(s)).toContain('100,480 (frozen)');
  });

  it('leaves the model as it was: modes, forwards, buffers, no live tensors', () => {
    class Net extends nn.Module {
      fc = new nn.Linear(4, 4);
      scale = nn.Parameter(dt.ones([4]));
      forward(x: dt.Tensor): dt.Tensor {
        return this.fc.forward(this.fc.forward(x)).mul(this.scale);
      }
    }
    const net = new Net();
    net.fc.train(true);
    const before = dt.memory().numTensors;
    const s = dt.summary(net, [5, 4]);
    expect(dt.memory().numTensors).toBe(before);
    expect(net.training).toBe(true);
    expect(Object.getOwnPropertyNames(net.fc)).not.toContain('forward');
    // The shared layer appears once per call with its parameters counted once; the model owns
    // `scale` directly, so it has a row of its own.
    expect(s.layers.map((l) => [l.name, l.params])).toEqual([['fc', 20], ['fc', 0], ['(model)', 4]]);
    expect(s.totalParams).toBe(24);
    expect(s.macs).toBe(2 * 5 * 4 * 4);
  });

  it('treats Flatten of spatial dims as global for the receptive field', () => {
    const model = new nn.Sequential(new TestConv2d(1, 2, 5), new nn.Flatten(), new nn.Linear(2 * 4 * 4, 3));
    const s = dt.summary(model, [1, 1, 8, 8]);
    expect(s.layers.map((l) => l.receptiveField)).toEqual([5, 8, 8]);
  });

  it('counts the MACs and receptive field of the real conv and pooling layers', () => {
    // The course's CNN: 28 -> 26 -> 24 -> 12 (Keras: 320 + 9248 + 589952 + 1290 parameters).
    const model = new nn.Sequential(
      new nn.Conv2d(1, 32, 3), new nn.ReLU(), new nn.Conv2d(32, 32, 3), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(32 * 12 * 12, 128), new nn.ReLU(), new nn.Linear(128, 10));
    const s = dt.summary(model, [1, 1, 28, 28]);
    expect(s.layers.map((l) => l.macs)).toEqual([26 * 26 * 32 * 9, 0, 24 * 24 * 32 * 32 * 9, 0, 0, 0, 4608 * 128, 0, 1280]);
    expect(s.layers.map((l) => l.receptiveField)).toEqual([3, 3, 5, 5, 6, 28, 28, 28, 28]);
    expect(s.totalParams).toBe(600810);
    const up = dt.summary(new nn.Sequential(new nn.ConvTranspose2d(8, 4, 2, { stride: 2 }), new nn.AdaptiveAvgPool2d(1)), [2, 8, 5, 5]);
    expect(up.layers[0].macs).toBe(2 * 8 * 5 * 5 * 4 * 2 * 2);
    expect(up.layers[1].receptiveField).toBe(5);
  });

  it('rejects bad arguments', () => {
    expect(() => dt.summary({} as any, [1, 2])).toThrow(/an nn.Module/);
    expect(() => dt.summary(new nn.Linear(2, 2), [1, 0])).toThrow(/positive integers/);
    expect(() => dt.summary(new nn.Linear(2, 2), [1, 3])).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
  });
});

// The conv-family modules: PyTorch names, shapes, default initialisation, and a small CNN
// (conv, batch norm, pooling, dropout, upsampling, transposed conv) that trains.
import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { flat, gen } from './fixtures';

const { nn, F } = dt;

describe('Conv2d and ConvTranspose2d modules', () => {
  it('have PyTorch parameter names, shapes and default init bounds (1/sqrt(fanIn))', () => {
    dt.manualSeed(1);
    const conv = new nn.Conv2d(16, 32, 3, { padding: 1, groups: 2 });
    expect(conv.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([['weight', [32, 8, 3, 3]], ['bias', [32]]]);
    const bound = 1 / Math.sqrt(8 * 9);
    for (const p of [conv.weight, conv.bias!]) {
      const v = flat(p);
      expect(Math.max(...v)).toBeLessThanOrEqual(bound);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(-bound);
      expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(bound * 0.9);
    }
    const up = new nn.ConvTranspose2d(8, 4, [4, 2], { stride: 2, padding: 1, bias: false });
    expect(up.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([['weight', [8, 4, 4, 2]]]);
    expect(Math.max(...flat(up.weight).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(4 * 8));
    expect(new nn.Conv2d(3, 8, 3, { padding: 'same' }).forward(gen([1, 3, 7, 5], 1)).shape).toEqual([1, 8, 7, 5]);
  });

  it('ConvTranspose2d picks the outputPadding for an outputSize', () => {
    const up = new nn.ConvTranspose2d(2, 2, 3, { stride: 2, padding: 1 });
    const x = gen([1, 2, 4, 4], 2);
    expect(up.forward(x).shape).toEqual([1, 2, 7, 7]);
    expect(up.forward(x, [8, 8]).shape).toEqual([1, 2, 8, 8]);
    expect(() => up.forward(x, [9, 9])).toThrow(/output size between 7 and 8/);
  });

  it('Conv2d paddingMode pads before a valid convolution', () => {
    const conv = new nn.Conv2d(1, 1, 3, { padding: 1, paddingMode: 'replicate', bias: false });
    const x = gen([1, 1, 4, 4], 4);
    const ref = F.conv2d(F.pad(x, [1, 1, 1, 1], 'replicate'), conv.weight);
    expect(flat(conv.forward(x))).toEqual(flat(ref));
  });
});

describe('a small CNN', () => {
  it('trains on a toy task and round-trips its state dict', () => {
    dt.manualSeed(0);
    const net = new nn.Sequential(
      new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 8, 3, { padding: 1, groups: 8 }), new nn.ConvTranspose2d(8, 4, 2, { stride: 2 }), new nn.ReLU(),
      new nn.Upsample({ scaleFactor: 0.5, mode: 'bilinear' }), new nn.Dropout(0.1), new nn.AdaptiveAvgPool2d(1),
      new nn.Flatten(), new nn.Linear(4, 2),
    );
    expect(Object.keys(net.stateDict())).toEqual([
      '0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked',
      '4.weight', '4.bias', '5.weight', '5.bias', '11.weight', '11.bias',
    ]);
    // Class 1 images are brighter in the top half.
    const x = dt.randn([16, 1, 8, 8]);
    const top = dt.cat([dt.ones([8, 1, 4, 8]), dt.zeros([8, 1, 4, 8])], 2).mul(2);
    const xs = dt.cat([x.narrow(0, 0, 8), x.narrow(0, 8, 8).add(top)], 0);
    const target = dt.cat([dt.zeros([8, 2]).add(dt.tensor([1, 0])), dt.zeros([8, 2]).add(dt.tensor([0, 1]))], 0);
    const params = net.parameters();
    let first = 0, last = 0;
    for (let step = 0; step < 30; step++) {
      const loss = dt.tidy(() => {
        const l = net.forward(xs).logSoftmax(1).mul(target).sum(1).mean().neg();
        net.zeroGrad();
        l.backward();
        dt.noGrad(() => params.forEach((p) => p.sub_(p.grad!.mul(1))));
        return l.item() as number;
      });
      if (step === 0) first = loss;
      last = loss;
    }
    expect(last).toBeLessThan(first * 0.2);
    const copy = new nn.Sequential(
      new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 8, 3, { padding: 1, groups: 8 }), new nn.ConvTranspose2d(8, 4, 2, { stride: 2 }), new nn.ReLU(),
      new nn.Upsample({ scaleFactor: 0.5, mode: 'bilinear' }), new nn.Dropout(0.1), new nn.AdaptiveAvgPool2d(1),
      new nn.Flatten(), new nn.Linear(4, 2),
    );
    copy.loadStateDict(net.stateDict());
    net.eval();
    copy.eval();
    expect(flat(copy.forward(xs))).toEqual(flat(net.forward(xs)));
  });
});

import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

const { nn } = dt;

class Net extends nn.Module {
  features = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
  head = new nn.Linear(3, 2, { bias: false });
  constructor() {
    super();
    this.registerBuffer('steps', dt.zeros([1]));
  }
  forward(x: dt.Tensor): dt.Tensor {
    return this.head.forward(this.features.forward(x));
  }
}

describe('nn.Module', () => {
  it('discovers parameters, buffers and children in registration order with PyTorch names', () => {
    const net = new Net();
    // As torch's state_dict: a module's own parameters, then its own buffers, then each child's.
    expect(Object.keys(net.stateDict())).toEqual([
      'steps', 'features.0.weight', 'features.0.bias', 'features.2.weight', 'features.2.bias', 'head.weight',
    ]);
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'features.0.weight', 'features.0.bias', 'features.2.weight', 'features.2.bias', 'head.weight',
    ]);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['steps']);
    expect(net.namedChildren().map(([n]) => n)).toEqual(['features', 'head']);
    expect(net.namedModules().map(([n]) => n)).toEqual(['', 'features', 'features.0', 'features.1', 'features.2', 'head']);
    expect(net.features.at(0).constructor.name).toBe('Linear');
  });

  it('initialises Linear like PyTorch: U(-1/sqrt(in), 1/sqrt(in))', () => {
    dt.manualSeed(5);
    const l = new nn.Linear(400, 300);
    const bound = 1 / Math.sqrt(400);
    for (const t of [l.weight, l.bias!]) {
      const v = t.dataSync() as Float32Array;
      expect(Math.max(...v)).toBeLessThanOrEqual(bound);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(-bound);
      expect(Math.max(...v)).toBeGreaterThan(bound * 0.98);
    }
    expect(l.weight.shape).toEqual([300, 400]);
  });

  it('round-trips a state dict and reports bad keys and shapes without writing', () => {
    const a = new Net(), b = new Net();
    b.loadStateDict(a.stateDict());
    expect(b.head.weight.toArray()).toEqual(a.head.weight.toArray());
    const before = b.head.weight.toArray();
    const sd = { ...a.stateDict() };
    sd['head.weight'] = dt.zeros([5, 5]);
    expect(() => b.loadStateDict(sd)).toThrow(/head.weight of shape \[2, 3\]/);
    expect(b.head.weight.toArray()).toEqual(before);
    const partial = { ...a.stateDict(), extra: dt.zeros([1]) } as Record<string, dt.Tensor>;
    delete partial['steps'];
    expect(() => b.loadStateDict(partial)).toThrow(/missing steps; unexpected extra/);
    expect(b.loadStateDict(partial, { strict: false })).toEqual({ missingKeys: ['steps'], unexpectedKeys: ['extra'] });
  });

  it('trains end to end, freezes with requiresGrad_(false), and switches train/eval', () => {
    dt.manualSeed(2);
    const net = new Net();
    const x = dt.randn([16, 4]), y = dt.randn([16, 2]);
    net.features.requiresGrad_(false);
    const loss = net.forward(x).sub(y).square().mean();
    loss.backward();
    expect(net.features.at(0).weight.grad).toBeNull();
    expect(net.head.weight.grad).not.toBeNull();
    net.zeroGrad();
    expect(net.head.weight.grad).toBeNull();
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.features.at(1).training).toBe(true);
  });

  it('keeps parameters out of tidy and converts dtype with to()', () => {
    const net = dt.tidy(() => new Net());
    expect(net.head.weight.isDisposed).toBe(false);
    net.to('float64');
    expect(net.parameters().every((p) => p.dtype === 'float64' && p.requiresGrad)).toBe(true);
    expect(net.forward(dt.randn([2, 4], { dtype: 'float64' })).dtype).toBe('float64');
  });

  it('casts only floating-point tensors with to(dtype), as PyTorch', () => {
    class Counter extends nn.Module {
      lin = new nn.Linear(2, 2);
      constructor() {
        super();
        this.registerBuffer('steps', dt.tensor(3, { dtype: 'int64' }));
      }
      forward(x: dt.Tensor): dt.Tensor {
        return this.lin.forward(x);
      }
    }
    const m = new Counter().to('float64');
    expect(m.lin.weight.dtype).toBe('float64');
    expect(m.buffers()[0].dtype).toBe('int64');
    expect(m.buffers()[0].item()).toBe(3);
  });

  it('applies the initialisers with the right statistics', () => {
    dt.manualSeed(9);
    const w = dt.empty([256, 512]);
    nn.init.xavierUniform_(w);
    const a = Math.sqrt(6 / (256 + 512));
    expect(w.max().item()).toBeLessThanOrEqual(a);
    expect(Math.abs((w.std().item() as number) - a / Math.sqrt(3))).toBeLessThan(0.01 * a);
    nn.init.kaimingNormal_(w, { nonlinearity: 'relu' });
    expect(Math.abs((w.std().item() as number) - Math.sqrt(2 / 512))).toBeLessThan(0.002);
    const q = dt.empty([4, 6]);
    nn.init.orthogonal_(q);
    const gram = q.matmul(q.t()).toArray() as number[][];
    gram.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - (i === j ? 1 : 0))).toBeLessThan(1e-5)));
  });
});

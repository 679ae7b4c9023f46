import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { expectClose, fixture, maxAbsDiff, T, weightedLoss } from './helpers';

const { nn, F } = dt;
type DType = 'float32' | 'float64';

function buildModule(c: any, dtype: DType): any {
  const opts = { numLayers: c.numLayers, bidirectional: c.bidirectional, batchFirst: c.batchFirst, bias: c.bias };
  const m =
    c.kind === 'lstm' ? new nn.LSTM(c.inputSize, c.hiddenSize, opts)
    : c.kind === 'gru' ? new nn.GRU(c.inputSize, c.hiddenSize, opts)
    : new nn.RNN(c.inputSize, c.hiddenSize, { ...opts, nonlinearity: c.nonlinearity });
  if (dtype === 'float64') m.to('float64');
  const sd: Record<string, dt.Tensor> = {};
  for (const [k, v] of Object.entries(c.params)) sd[k] = T(v as any, { dtype });
  m.loadStateDict(sd);
  return m;
}

function label(c: any): string {
  const parts = [`${c.kind}${c.kind === 'rnn' ? `(${c.nonlinearity})` : ''}`, `layers=${c.numLayers}`, `H=${c.hiddenSize}`];
  if (c.bidirectional) parts.push('bidirectional');
  if (c.batchFirst) parts.push('batchFirst');
  if (c.h0) parts.push('h0');
  if (c.lengths) parts.push(`lengths=[${c.lengths}]`);
  if (!c.bias) parts.push('no bias');
  return parts.join(' ');
}

function runCase(c: any, dtype: DType, atol: number, rtol: number): void {
  const m = buildModule(c, dtype);
  const x = T(c.x, { dtype, requiresGrad: true });
  const h0 = c.h0 ? T(c.h0, { dtype, requiresGrad: true }) : null;
  const c0 = c.c0 ? T(c.c0, { dtype, requiresGrad: true }) : null;
  const opts = { lengths: c.lengths };
  let outs: dt.Tensor[];
  if (c.kind === 'lstm') {
    const [out, [hN, cN]] = m.forward(x, h0 ? [h0, c0] : null, opts);
    outs = [out, hN, cN];
  } else {
    const [out, hN] = m.forward(x, h0, opts);
    outs = [out, hN];
  }
  expectClose(outs[0], c.out, 'output', atol, rtol);
  expectClose(outs[1], c.hN, 'h_n', atol, rtol);
  if (c.kind === 'lstm') expectClose(outs[2], c.cN, 'c_n', atol, rtol);
  // Without grad mode nothing is saved and the kernel works in its own scratch: the same values.
  const inference = dt.noGrad(() => {
    if (c.kind === 'lstm') {
      const [out, [hN, cN]] = m.forward(x, h0 ? [h0, c0] : null, opts);
      return [out, hN, cN];
    }
    const [out, hN] = m.forward(x, h0, opts);
    return [out, hN];
  });
  inference.forEach((t, i) => expect(Array.from(t.dataSync()), `no-grad output ${i}`).toEqual(Array.from(outs[i].dataSync())));
  weightedLoss(outs, c.lossWeights, dtype).backward();
  expectClose(x.grad, c.dx, 'input gradient', atol, rtol);
  if (h0) expectClose(h0.grad, c.dh0, 'h0 gradient', atol, rtol);
  if (c0) expectClose(c0.grad, c.dc0, 'c0 gradient', atol, rtol);
  for (const [name, p] of m.namedParameters()) expectClose(p.grad, c.grads[name], `${name} gradient`, atol, rtol);
}

describe('LSTM / GRU / RNN against PyTorch', () => {
  for (const c of fixture.recurrent) {
    it(`${label(c)} (float32)`, () => runCase(c, 'float32', 2e-5, 2e-4));
    it(`${label(c)} (float64)`, () => runCase(c, 'float64', 1e-6, 1e-6));
  }
});

describe('LSTMCell / GRUCell / RNNCell against PyTorch', () => {
  for (const c of fixture.cells) {
    const name = `${c.kind}Cell${c.kind === 'rnn' ? `(${c.nonlinearity})` : ''} H=${c.hiddenSize}${c.h ? ' with state' : ''}${c.bias ? '' : ' no bias'}${c.unbatched ? ' unbatched' : ''}`;
    it(name, () => {
      const m =
        c.kind === 'lstm' ? new nn.LSTMCell(c.inputSize, c.hiddenSize, { bias: c.bias })
        : c.kind === 'gru' ? new nn.GRUCell(c.inputSize, c.hiddenSize, { bias: c.bias })
        : new nn.RNNCell(c.inputSize, c.hiddenSize, { bias: c.bias, nonlinearity: c.nonlinearity });
      const sd: Record<string, dt.Tensor> = {};
      for (const [k, v] of Object.entries(c.params)) sd[k] = T(v as any);
      m.loadStateDict(sd);
      const x = T(c.x, { requiresGrad: true });
      const h = c.h ? T(c.h, { requiresGrad: true }) : null;
      const cc = c.c ? T(c.c, { requiresGrad: true }) : null;
      const outs: dt.Tensor[] = c.kind === 'lstm' ? (m as any).forward(x, h ? [h, cc] : null) : [(m as any).forward(x, h)];
      outs.forEach((o, i) => expectClose(o, c.outs[i], `output ${i}`));
      weightedLoss(outs, c.lossWeights).backward();
      expectClose(x.grad, c.dx, 'input gradient');
      if (h) expectClose(h.grad, c.dh, 'h gradient');
      if (cc) expectClose(cc.grad, c.dc, 'c gradient');
      for (const [n, p] of m.namedParameters()) expectClose(p.grad, c.grads[n], `${n} gradient`);
    });
  }
});

describe('recurrent gradcheck (float64)', () => {
  const params = (mode: 'lstm' | 'gru' | 'rnn', I: number, H: number, layers: number, D: number, bias: boolean) => {
    const G = mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
    const out: dt.Tensor[] = [];
    for (let l = 0; l < layers; l++)
      for (let d = 0; d < D; d++) {
        const inSize = l === 0 ? I : H * D;
        out.push(dt.randn([G * H, inSize], { dtype: 'float64' }).mul(0.5).detach().requiresGrad_());
        out.push(dt.randn([G * H, H], { dtype: 'float64' }).mul(0.5).detach().requiresGrad_());
        if (bias) {
          out.push(dt.randn([G * H], { dtype: 'float64' }).mul(0.5).detach().requiresGrad_());
          out.push(dt.randn([G * H], { dtype: 'float64' }).mul(0.5).detach().requiresGrad_());
        }
      }
    return out;
  };
  const cases: [string, 'lstm' | 'gru' | 'rnn', any][] = [
    ['lstm 2 layers bidirectional, lengths, h0/c0', 'lstm', { layers: 2, D: 2, lengths: [3, 1], h0: true }],
    ['lstm batchFirst, no bias', 'lstm', { layers: 1, D: 1, batchFirst: true, bias: false }],
    ['gru 2 layers bidirectional, lengths, h0', 'gru', { layers: 2, D: 2, lengths: [2, 3], h0: true }],
    ['rnn tanh bidirectional, h0', 'rnn', { layers: 1, D: 2, h0: true }],
    ['rnn relu 2 layers, lengths', 'rnn', { layers: 2, D: 1, lengths: [3, 2], nonlinearity: 'relu' }],
  ];
  for (const [name, mode, o] of cases)
    it(name, () => {
      dt.manualSeed(7);
      const T_ = 3, N = 2, I = 2, H = 3, D = o.D, L = o.layers, bias = o.bias ?? true;
      const x = dt.randn(o.batchFirst ? [N, T_, I] : [T_, N, I], { dtype: 'float64', requiresGrad: true });
      const h0 = o.h0 ? dt.randn([L * D, N, H], { dtype: 'float64', requiresGrad: true }) : null;
      const c0 = o.h0 && mode === 'lstm' ? dt.randn([L * D, N, H], { dtype: 'float64', requiresGrad: true }) : null;
      const ps = params(mode, I, H, L, D, bias);
      const inputs = [x, ...(h0 ? [h0] : []), ...(c0 ? [c0] : []), ...ps];
      const opts = { numLayers: L, bidirectional: D === 2, batchFirst: o.batchFirst, bias, lengths: o.lengths, nonlinearity: o.nonlinearity };
      const fn = (...ts: dt.Tensor[]) => {
        const xi = ts[0];
        let k = 1;
        const h = h0 ? ts[k++] : null;
        const c = c0 ? ts[k++] : null;
        const p = ts.slice(k);
        if (mode === 'lstm') {
          const [out, [hN, cN]] = F.lstm(xi, h ? [h, c!] : null, p, opts);
          return dt.cat([out.flatten(), hN.flatten(), cN.flatten()]);
        }
        const [out, hN] = mode === 'gru' ? F.gru(xi, h, p, opts) : F.rnn(xi, h, p, opts);
        return dt.cat([out.flatten(), hN.flatten()]);
      };
      expect(dt.autograd.gradcheck(fn, inputs, { atol: 1e-6, rtol: 1e-4 })).toBe(true);
    });
});

describe('fused gate kernels: every SIMD path against scalar', () => {
  const paths = dt.cpuInfo().supportedPaths as ('scalar' | 'avx2' | 'avx512' | 'neon')[];
  const run = (mode: 'lstm' | 'gru' | 'rnnTanh' | 'rnnRelu') => {
    dt.manualSeed(11);
    // H = 37: full vectors on every ISA plus a tail; lengths exercise the padded rows.
    const T_ = 6, N = 5, I = 7, H = 37;
    const m = mode === 'lstm' ? new nn.LSTM(I, H, { bidirectional: true })
      : mode === 'gru' ? new nn.GRU(I, H, { bidirectional: true })
      : new nn.RNN(I, H, { bidirectional: true, nonlinearity: mode === 'rnnRelu' ? 'relu' : 'tanh' });
    const x = dt.randn([T_, N, I]).mul(2).detach().requiresGrad_();
    const res = m.forward(x, null, { lengths: [6, 3, 1, 6, 4] }) as any;
    const out: dt.Tensor = res[0];
    const hN: dt.Tensor = mode === 'lstm' ? res[1][0] : res[1];
    out.mul(dt.randn(out.shape)).sum().add(hN.mul(dt.randn(hN.shape)).sum()).backward();
    return [out, hN, x.grad!, ...m.parameters().map((p: dt.Tensor) => p.grad!)];
  };
  for (const mode of ['lstm', 'gru', 'rnnTanh', 'rnnRelu'] as const)
    it(`${mode}: ${paths.join(', ')} agree`, () => {
      const initial = dt.cpuInfo().path as any;
      try {
        dt.cpu.setPath('scalar');
        const ref = run(mode);
        for (const p of paths) {
          dt.cpu.setPath(p);
          const got = run(mode);
          got.forEach((t, i) => expect(maxAbsDiff(t, ref[i]), `${p}, tensor ${i}`).toBeLessThan(2e-5));
        }
      } finally {
        dt.cpu.setPath(initial);
      }
    });
});

describe('recurrent behaviour', () => {
  it('the course shape example: (4, 3, 6) → LSTM(50, all steps) → LSTM(30, last step) → Linear(3) + softmax', () => {
    const lstm1 = new nn.LSTM(6, 50, { batchFirst: true });
    const lstm2 = new nn.LSTM(50, 30, { batchFirst: true });
    const head = new nn.Linear(30, 3);
    const x = dt.randn([4, 3, 6]);
    const [seq] = lstm1.forward(x);
    expect(seq.shape).toEqual([4, 3, 50]);
    const [seq2, [h2]] = lstm2.forward(seq);
    // return_sequences=False: the last step, which is also h_n of the last layer.
    const last = seq2.select(1, -1);
    expect(maxAbsDiff(last, h2.select(0, -1))).toBe(0);
    const probs = dt.softmax(head.forward(last), -1);
    expect(probs.shape).toEqual([4, 3]);
    // return_sequences=True and a per-step (TimeDistributed) head: Linear takes (N, T, F) as is.
    const perStep = dt.softmax(head.forward(seq2), -1);
    expect(perStep.shape).toEqual([4, 3, 3]);
    const sums = perStep.sum(-1).dataSync();
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
  });

  it('a time-distributed Linear equals the Linear applied step by step, gradients included', () => {
    dt.manualSeed(3);
    const head = new nn.Linear(5, 2);
    const y = dt.randn([3, 4, 5], { requiresGrad: true });
    const all = head.forward(y);
    expect(all.shape).toEqual([3, 4, 2]);
    for (let t = 0; t < 4; t++) expect(maxAbsDiff(all.select(1, t), head.forward(y.select(1, t)))).toBeLessThan(1e-6);
    all.sum().backward();
    const gw = head.weight.grad!.clone();
    head.zeroGrad();
    let s = head.forward(y.select(1, 0)).sum();
    for (let t = 1; t < 4; t++) s = s.add(head.forward(y.select(1, t)).sum());
    s.backward();
    expect(maxAbsDiff(gw, head.weight.grad!)).toBeLessThan(1e-5);
  });

  it('padded steps neither change the outputs nor receive gradient', () => {
    dt.manualSeed(5);
    const lstm = new nn.LSTM(3, 4, { batchFirst: true, bidirectional: true });
    const a = dt.randn([2, 5, 3]);
    const b = a.clone();
    // Change only the padding of row 1 (length 2).
    const pad = b.select(0, 1).narrow(0, 2, 3);
    dt.noGrad(() => pad.fill_(100));
    const xa = a.detach().requiresGrad_(), xb = b.detach().requiresGrad_();
    const [ya, [ha]] = lstm.forward(xa, { lengths: [5, 2] });
    const [yb, [hb]] = lstm.forward(xb, { lengths: [5, 2] });
    expect(maxAbsDiff(ya, yb)).toBe(0);
    expect(maxAbsDiff(ha, hb)).toBe(0);
    expect(ya.select(0, 1).narrow(0, 2, 3).abs().max().item()).toBe(0);
    ya.sum().add(ha.sum()).backward();
    expect(xa.grad!.select(0, 1).narrow(0, 2, 3).abs().max().item()).toBe(0);
    expect(xa.grad!.select(0, 1).narrow(0, 0, 2).abs().max().item()).toBeGreaterThan(0);
  });

  it('h_n alone drives backward (many-to-one), and retainGraph runs it twice', () => {
    dt.manualSeed(9);
    const gru = new nn.GRU(3, 4);
    const x = dt.randn([6, 2, 3], { requiresGrad: true });
    const [, h] = gru.forward(x);
    const loss = h.sum();
    loss.backward(undefined, { retainGraph: true });
    const g1 = x.grad!.clone();
    expect(g1.abs().sum().item()).toBeGreaterThan(0);
    loss.backward();
    expect(maxAbsDiff(x.grad!, g1.mul(2))).toBeLessThan(1e-6);
  });

  it('dropout between layers only in training mode', () => {
    dt.manualSeed(2);
    const lstm = new nn.LSTM(3, 8, { numLayers: 2, dropout: 0.5 });
    const ref = new nn.LSTM(3, 8, { numLayers: 2 });
    ref.loadStateDict(lstm.stateDict());
    const x = dt.randn([4, 2, 3]);
    lstm.eval();
    expect(maxAbsDiff(lstm.forward(x)[0], ref.forward(x)[0])).toBe(0);
    lstm.train();
    expect(maxAbsDiff(lstm.forward(x)[0], ref.forward(x)[0])).toBeGreaterThan(1e-4);
  });

  it('unbatched input (T, I) with an unbatched state', () => {
    dt.manualSeed(4);
    const lstm = new nn.LSTM(3, 4, { numLayers: 2 });
    const x = dt.randn([5, 3]);
    const h0 = dt.randn([2, 4]), c0 = dt.randn([2, 4]);
    const [y, [h, c]] = lstm.forward(x, [h0, c0]);
    expect(y.shape).toEqual([5, 4]);
    expect(h.shape).toEqual([2, 4]);
    const [yb, [hb, cb]] = lstm.forward(x.unsqueeze(1), [h0.unsqueeze(1), c0.unsqueeze(1)]);
    expect(maxAbsDiff(y, yb.squeeze(1))).toBe(0);
    expect(maxAbsDiff(h, hb.squeeze(1))).toBe(0);
    expect(maxAbsDiff(c, cb.squeeze(1))).toBe(0);
  });

  it('initialises every parameter from U(-1/sqrt(H), 1/sqrt(H)) with PyTorch names and shapes', () => {
    const gru = new nn.GRU(10, 25, { numLayers: 2, bidirectional: true });
    const sd = gru.stateDict();
    expect(Object.keys(sd).slice(0, 8)).toEqual([
      'weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0',
      'weight_ih_l0_reverse', 'weight_hh_l0_reverse', 'bias_ih_l0_reverse', 'bias_hh_l0_reverse',
    ]);
    expect(sd['weight_ih_l1'].shape).toEqual([75, 50]);
    expect(sd['weight_hh_l1_reverse'].shape).toEqual([75, 25]);
    const bound = 1 / 5;
    for (const p of gru.parameters()) {
      expect(p.abs().max().item()).toBeLessThanOrEqual(bound);
      expect(p.abs().max().item()).toBeGreaterThan(bound * 0.9);
    }
  });

  it('a decoder loop with LSTMCell matches nn.LSTM step for step', () => {
    dt.manualSeed(12);
    const lstm = new nn.LSTM(3, 5);
    const cell = new nn.LSTMCell(3, 5);
    cell.loadStateDict({ weight_ih: lstm.weight_ih_l0, weight_hh: lstm.weight_hh_l0, bias_ih: lstm.bias_ih_l0, bias_hh: lstm.bias_hh_l0 });
    const x = dt.randn([4, 2, 3]);
    const [y] = lstm.forward(x);
    let state: [dt.Tensor, dt.Tensor] | null = null;
    for (let t = 0; t < 4; t++) {
      state = cell.forward(x.select(0, t), state);
      expect(maxAbsDiff(state[0], y.select(0, t))).toBeLessThan(1e-6);
    }
  });

  it('without grad mode nothing is saved for backward', () => {
    const lstm = new nn.LSTM(4, 8, { numLayers: 2, bidirectional: true });
    const x = dt.randn([5, 3, 4]);
    const before = dt.memory().numTensors;
    dt.noGrad(() => dt.tidy(() => lstm.forward(x)[0].sum().item()));
    expect(dt.memory().numTensors).toBe(before);
    const out = dt.noGrad(() => lstm.forward(x)[0]);
    expect(out.requiresGrad).toBe(false);
  });
});

describe('recurrent errors', () => {
  const lstm = new nn.LSTM(3, 4, { numLayers: 2 });
  const expectErr = (fn: () => unknown, code: string, re: RegExp) => {
    try {
      fn();
    } catch (e: any) {
      expect(e).toBeInstanceOf(dt.DendriteError);
      expect(e.code).toBe(code);
      expect(e.message).toMatch(re);
      return;
    }
    expect.fail('expected an error');
  };
  it('rejects bad inputs, states, lengths and parameters with a DendriteError', () => {
    expectErr(() => lstm.forward(dt.randn([2, 3, 4, 3])), 'ERR_SHAPE', /lstm: expected an input of shape \[T, N, inputSize\]/);
    expectErr(() => lstm.forward(dt.randn([5, 2, 7])), 'ERR_SHAPE', /weight_ih_l0 of shape \[16, 7\]/);
    expectErr(() => lstm.forward(dt.randn([5, 2, 3], { dtype: 'float64' })), 'ERR_DTYPE', /float64/);
    expectErr(() => lstm.forward(dt.ones([5, 2, 3], { dtype: 'int32' })), 'ERR_DTYPE', /float32 or float64 input/);
    expectErr(() => lstm.forward(dt.randn([5, 2, 3]), [dt.zeros([1, 2, 4]), dt.zeros([2, 2, 4])]), 'ERR_SHAPE', /h0 of shape \[2, 2, 4\]/);
    expectErr(() => lstm.forward(dt.randn([5, 2, 3]), [dt.zeros([2, 2, 4])] as any), 'ERR_ARGUMENT', /\[h0, c0\]/);
    expectErr(() => lstm.forward(dt.randn([5, 2, 3]), { lengths: [5, 6] }), 'ERR_INDEX', /lengths in \[0, 5\]/);
    expectErr(() => lstm.forward(dt.randn([5, 2, 3]), { lengths: [5] }), 'ERR_SHAPE', /2 lengths/);
    expectErr(() => lstm.forward(dt.randn([5, 2, 3]), { lengths: dt.tensor([9, 1], { dtype: 'int64' }) }), 'ERR_INDEX', /lengths in \[0, 5\]/);
    expectErr(() => F.gru(dt.randn([5, 2, 3]), null, [dt.randn([12, 3])]), 'ERR_ARGUMENT', /parameter tensors/);
    expectErr(() => new nn.RNN(3, 4, { nonlinearity: 'sigmoid' as any }), 'ERR_ARGUMENT', /nonlinearity 'tanh' or 'relu'/);
    expectErr(() => new nn.LSTM(3, 0), 'ERR_ARGUMENT', /hiddenSize >= 1/);
    expectErr(() => new nn.GRU(3, 4, { dropout: 2 }), 'ERR_ARGUMENT', /dropout probability/);
    expectErr(() => new nn.LSTMCell(3, 4).forward(dt.randn([2, 5])), 'ERR_SHAPE', /lstmCell: expected weight_ih of shape \[16, 5\]/);
    const disposed = dt.randn([5, 2, 3]);
    disposed.dispose();
    expectErr(() => lstm.forward(disposed), 'ERR_DISPOSED', /disposed/);
  });
});

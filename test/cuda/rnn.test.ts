// The recurrent family on CUDA against the CPU (itself tested against PyTorch in test/rnn): the
// same module on both devices (one state dict), outputs, h_n, c_n and every gradient (input,
// h0, c0, each weight and bias) for LSTM, GRU and the tanh/relu RNN over layers, directions,
// batchFirst, initial states, variable lengths and unbatched input; the cells; embedding,
// scaledDotProductAttention, MultiheadAttention and AdditiveAttention with their masks.
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { describeCuda, expectClose, randomTensor } from './helpers';

const { nn, F } = dt;
type Kind = 'lstm' | 'gru' | 'rnnTanh' | 'rnnRelu';

interface SeqCase {
  kind: Kind;
  T: number;
  N: number;
  I: number;
  H: number;
  layers?: number;
  bidirectional?: boolean;
  batchFirst?: boolean;
  bias?: boolean;
  h0?: boolean;
  lengths?: number[];
  lengthsTensor?: 'int32' | 'int64';  // pass the lengths as a CPU tensor of this dtype
  unbatched?: boolean;
  /** Which outputs (0 output, 1 h_n, 2 c_n) the loss uses (default all): absent dy / dh_n / dc_n. */
  loss?: number[];
}

function makeModule(c: SeqCase): any {
  const opts = { numLayers: c.layers ?? 1, bidirectional: c.bidirectional, batchFirst: c.batchFirst, bias: c.bias ?? true };
  if (c.kind === 'lstm') return new nn.LSTM(c.I, c.H, opts);
  if (c.kind === 'gru') return new nn.GRU(c.I, c.H, opts);
  return new nn.RNN(c.I, c.H, { ...opts, nonlinearity: c.kind === 'rnnRelu' ? 'relu' : 'tanh' });
}

function label(c: SeqCase): string {
  const parts = [c.kind, `T${c.T} N${c.N} I${c.I} H${c.H}`, `layers=${c.layers ?? 1}`];
  if (c.bidirectional) parts.push('bidirectional');
  if (c.batchFirst) parts.push('batchFirst');
  if (c.bias === false) parts.push('no bias');
  if (c.h0) parts.push('h0');
  if (c.lengths) parts.push(`lengths=[${c.lengths}]${c.lengthsTensor ? ` (${c.lengthsTensor} tensor)` : ''}`);
  if (c.unbatched) parts.push('unbatched');
  if (c.loss) parts.push(`loss on outputs [${c.loss}]`);
  return parts.join(' ');
}

/** A leaf on `device` holding base's values, requiring grad. */
function leaf(base: dt.Tensor, device: 'cpu' | 'cuda'): dt.Tensor {
  const t = device === 'cuda' ? base.cuda() : dt.tensor(base);
  return t.requiresGrad_();
}

/** sum_i sum(outs_i * weights_i): every output reaches the backward with a distinct gradient. */
function weightedLoss(outs: dt.Tensor[], weights: dt.Tensor[]): dt.Tensor {
  let loss: dt.Tensor | null = null;
  outs.forEach((o, i) => {
    const term = o.mul(weights[i]).sum();
    loss = loss ? loss.add(term) : term;
  });
  return loss!;
}

/** Runs one case on a module (inputs on `device`) and returns outputs then gradients, with names. */
function runSequence(c: SeqCase, m: any, base: { x: dt.Tensor; h0: dt.Tensor | null; c0: dt.Tensor | null; w: dt.Tensor[] }, device: 'cpu' | 'cuda'): [string, dt.Tensor][] {
  const x = leaf(base.x, device);
  const h0 = base.h0 ? leaf(base.h0, device) : null;
  const c0 = base.c0 ? leaf(base.c0, device) : null;
  let lengths: number[] | dt.Tensor | undefined = c.lengths;
  if (c.lengths && c.lengthsTensor) lengths = dt.tensor(c.lengths, { dtype: c.lengthsTensor });
  const opts = { lengths };
  let outs: dt.Tensor[];
  if (c.kind === 'lstm') {
    const [out, [hN, cN]] = m.forward(x, h0 ? [h0, c0] : null, opts);
    outs = [out, hN, cN];
  } else {
    const [out, hN] = m.forward(x, h0, opts);
    outs = [out, hN];
  }
  const used = (c.loss ?? [0, 1, 2]).filter((i) => i < outs.length);
  const weights = used.map((i) => (device === 'cuda' ? base.w[i].cuda() : base.w[i]));
  weightedLoss(used.map((i) => outs[i]), weights).backward();
  const named: [string, dt.Tensor][] = [['output', outs[0]], ['h_n', outs[1]]];
  if (c.kind === 'lstm') named.push(['c_n', outs[2]]);
  named.push(['input gradient', x.grad!]);
  if (h0) named.push(['h0 gradient', h0.grad!]);
  if (c0) named.push(['c0 gradient', c0.grad!]);
  for (const [n, p] of m.namedParameters() as [string, dt.Tensor][]) named.push([`${n} gradient`, p.grad!]);
  return named;
}

function compareSequence(c: SeqCase, rtol = 1e-4, atol = 1e-4, seed = 1): void {
  dt.manualSeed(seed);
  const cpu = makeModule(c);
  const gpu = makeModule(c);
  gpu.loadStateDict(cpu.stateDict());
  gpu.to('cuda');
  for (const p of gpu.parameters()) expect(p.device).toBe('cuda');
  const D = c.bidirectional ? 2 : 1, L = c.layers ?? 1;
  const xShape = c.unbatched ? [c.T, c.I] : c.batchFirst ? [c.N, c.T, c.I] : [c.T, c.N, c.I];
  const stateShape = c.unbatched ? [L * D, c.H] : [L * D, c.N, c.H];
  const outShape = c.unbatched ? [c.T, D * c.H] : c.batchFirst ? [c.N, c.T, D * c.H] : [c.T, c.N, D * c.H];
  const base = {
    x: randomTensor(xShape, 'float32', -2, 2, seed + 1),
    h0: c.h0 ? randomTensor(stateShape, 'float32', -1, 1, seed + 2) : null,
    c0: c.h0 && c.kind === 'lstm' ? randomTensor(stateShape, 'float32', -1, 1, seed + 3) : null,
    w: [randomTensor(outShape, 'float32', -1, 1, seed + 4), randomTensor(stateShape, 'float32', -1, 1, seed + 5), randomTensor(stateShape, 'float32', -1, 1, seed + 6)],
  };
  const want = runSequence(c, cpu, base, 'cpu');
  const got = runSequence(c, gpu, base, 'cuda');
  expect(got.map(([n]) => n)).toEqual(want.map(([n]) => n));
  got.forEach(([name, t], i) => expectClose(t, want[i][1], rtol, atol, `${label(c)}: ${name}`));
}

const KINDS: Kind[] = ['lstm', 'gru', 'rnnTanh', 'rnnRelu'];

describeCuda('cuda LSTM / GRU / RNN against the cpu', () => {
  for (const kind of KINDS) {
    it(`${kind}: one layer, with and without bias and initial state`, () => {
      compareSequence({ kind, T: 5, N: 3, I: 4, H: 7 });
      compareSequence({ kind, T: 5, N: 3, I: 4, H: 7, h0: true, bias: false }, 1e-4, 1e-4, 2);
      compareSequence({ kind, T: 1, N: 1, I: 3, H: 1, h0: true }, 1e-4, 1e-4, 3);
    });

    it(`${kind}: two layers, bidirectional, initial states, variable lengths`, () => {
      compareSequence({ kind, T: 6, N: 5, I: 7, H: 37, layers: 2, bidirectional: true, h0: true, lengths: [6, 3, 1, 6, 4] });
      compareSequence({ kind, T: 6, N: 5, I: 7, H: 37, layers: 2, bidirectional: true, lengths: [6, 0, 2, 5, 6] }, 1e-4, 1e-4, 4);
    });

    it(`${kind}: batchFirst, lengths as int32 / int64 cpu tensors, unbatched input`, () => {
      compareSequence({ kind, T: 4, N: 3, I: 5, H: 9, batchFirst: true, h0: true, lengths: [4, 2, 3], lengthsTensor: 'int64' });
      compareSequence({ kind, T: 4, N: 3, I: 5, H: 9, bidirectional: true, lengths: [1, 4, 2], lengthsTensor: 'int32' }, 1e-4, 1e-4, 5);
      compareSequence({ kind, T: 6, N: 1, I: 5, H: 11, layers: 2, bidirectional: true, h0: true, unbatched: true }, 1e-4, 1e-4, 6);
      compareSequence({ kind, T: 6, N: 1, I: 5, H: 11, unbatched: true }, 1e-4, 1e-4, 7);
    });
  }

  it('sizes across the SGEMM tile edges: T 20, N 33, I 65, H 130', () => {
    for (const kind of ['lstm', 'gru', 'rnnTanh'] as Kind[])
      compareSequence({ kind, T: 20, N: 33, I: 65, H: 130, bidirectional: true, h0: true, lengths: Array.from({ length: 33 }, (_, i) => 20 - (i % 20)) }, 2e-4, 2e-4, 8);
    // relu's kink: a pre-activation within rounding of 0 may take the other branch on the other
    // device, so fewer steps here keep that chance small.
    compareSequence({ kind: 'rnnRelu', T: 4, N: 33, I: 65, H: 130, h0: true, lengths: Array.from({ length: 33 }, (_, i) => 4 - (i % 4)) }, 2e-4, 2e-4, 8);
  });

  it('a loss on h_n (and c_n) alone, and on the output alone', () => {
    for (const kind of KINDS) {
      compareSequence({ kind, T: 5, N: 3, I: 4, H: 6, bidirectional: true, layers: 2, lengths: [5, 2, 4], loss: [1, 2] }, 1e-4, 1e-4, 15);
      compareSequence({ kind, T: 5, N: 3, I: 4, H: 6, h0: true, loss: [0] }, 1e-4, 1e-4, 16);
      if (kind === 'lstm') compareSequence({ kind, T: 5, N: 3, I: 4, H: 6, h0: true, loss: [2] }, 1e-4, 1e-4, 17);
    }
  });

  it('empty sequences and a zero input size', () => {
    for (const kind of KINDS) {
      compareSequence({ kind, T: 0, N: 3, I: 4, H: 5, h0: true }, 1e-5, 1e-6, 9);
      compareSequence({ kind, T: 3, N: 2, I: 0, H: 5, h0: true }, 1e-4, 1e-4, 10);
    }
  });

  it('inference (no grad) gives the outputs of the training forward', () => {
    for (const kind of KINDS) {
      dt.manualSeed(12);
      const m = makeModule({ kind, T: 5, N: 4, I: 6, H: 10 });
      m.to('cuda');
      const x = randomTensor([5, 4, 6], 'float32', -2, 2, 13).cuda();
      const train = m.forward(x, null, { lengths: [5, 2, 4, 1] });
      const infer = dt.noGrad(() => m.forward(x, null, { lengths: [5, 2, 4, 1] }));
      expectClose(infer[0], train[0], 1e-6, 1e-7, `${kind} output`);
      const hT = kind === 'lstm' ? train[1][0] : train[1], hI = kind === 'lstm' ? infer[1][0] : infer[1];
      expectClose(hI, hT, 1e-6, 1e-7, `${kind} h_n`);
    }
  });

  it('dropout between layers runs on the device in training', () => {
    dt.manualSeed(14);
    const m = new nn.LSTM(6, 8, { numLayers: 3, dropout: 0.5 });
    m.to('cuda');
    const x = randomTensor([5, 4, 6]).cuda().requiresGrad_();
    const [out, [hN]] = m.forward(x);
    expect(out.device).toBe('cuda');
    out.sum().add(hN.sum()).backward();
    expect(x.grad!.device).toBe('cuda');
    for (const v of x.grad!.dataSync()) expect(Number.isFinite(v)).toBe(true);
  });

  it('refuses float64 on cuda, mixed devices and out-of-range device lengths with DendriteErrors', () => {
    const m = new nn.GRU(3, 4);
    m.to('float64');
    m.to('cuda');
    const x64 = dt.randn([2, 2, 3], { dtype: 'float64' }).cuda();
    expect(() => m.forward(x64)).toThrow(/float32 on cuda/);
    const g = new nn.LSTM(3, 4);
    g.to('cuda');
    expect(() => g.forward(dt.randn([2, 2, 3]))).toThrow(/device/);
    const x = dt.randn([2, 2, 3]).cuda();
    expect(() => g.forward(x, null, { lengths: dt.tensor([2, 3], { dtype: 'int32', device: 'cuda' }) })).toThrow(/lengths in \[0, 2\]/);
    expect(() => g.forward(x, null, { lengths: [2, 3] })).toThrow(/lengths in \[0, 2\]/);
  });
});

// ---- cells ------------------------------------------------------------------------------------

describeCuda('cuda LSTMCell / GRUCell / RNNCell against the cpu', () => {
  const cells: [string, () => any][] = [
    ['LSTMCell', () => new nn.LSTMCell(5, 9)],
    ['LSTMCell no bias', () => new nn.LSTMCell(5, 9, { bias: false })],
    ['GRUCell', () => new nn.GRUCell(5, 9)],
    ['GRUCell no bias', () => new nn.GRUCell(5, 9, { bias: false })],
    ['RNNCell tanh', () => new nn.RNNCell(5, 9)],
    ['RNNCell relu', () => new nn.RNNCell(5, 9, { nonlinearity: 'relu' })],
  ];
  for (const [name, make] of cells)
    for (const [N, withState] of [[4, true], [4, false], [0, true], [-1, true], [-1, false]] as [number, boolean][])
      it(`${name} ${N < 0 ? 'unbatched' : `N=${N}`}${withState ? ' with state' : ''}`, () => {
        dt.manualSeed(21);
        const cpu = make();
        const gpu = make();
        gpu.loadStateDict(cpu.stateDict());
        gpu.to('cuda');
        const lstm = name.startsWith('LSTM');
        const xShape = N < 0 ? [5] : [N, 5], sShape = N < 0 ? [9] : [N, 9];
        const bx = randomTensor(xShape, 'float32', -2, 2, 22), bh = randomTensor(sShape, 'float32', -1, 1, 23), bc = randomTensor(sShape, 'float32', -1, 1, 24);
        const wh = randomTensor(sShape, 'float32', -1, 1, 25), wc = randomTensor(sShape, 'float32', -1, 1, 26);
        const run = (m: any, device: 'cpu' | 'cuda'): [string, dt.Tensor][] => {
          const x = leaf(bx, device), h = withState ? leaf(bh, device) : null, c = withState && lstm ? leaf(bc, device) : null;
          const outs: dt.Tensor[] = lstm ? m.forward(x, h ? [h, c] : null) : [m.forward(x, h)];
          const ws = [wh, wc].map((w) => (device === 'cuda' ? w.cuda() : w));
          weightedLoss(outs, ws.slice(0, outs.length)).backward();
          const named: [string, dt.Tensor][] = outs.map((o, i) => [`output ${i}`, o]);
          named.push(['input gradient', x.grad!]);
          if (h) named.push(['h gradient', h.grad!]);
          if (c) named.push(['c gradient', c.grad!]);
          for (const [n, p] of m.namedParameters() as [string, dt.Tensor][]) named.push([`${n} gradient`, p.grad!]);
          return named;
        };
        const want = run(cpu, 'cpu'), got = run(gpu, 'cuda');
        expect(got.map(([n]) => n)).toEqual(want.map(([n]) => n));
        got.forEach(([n, t], i) => expectClose(t, want[i][1], 1e-4, 1e-4, `${name}: ${n}`));
      });
});

// ---- embedding and attention ------------------------------------------------------------------

/** The gradients of `leaves` (and of every parameter of `modules`), after a weighted loss. */
function gradsOf(outs: dt.Tensor[], weights: dt.Tensor[], leaves: dt.Tensor[], modules: any[] = []): dt.Tensor[] {
  weightedLoss(outs, weights).backward();
  const gs = leaves.map((t) => t.grad!);
  for (const m of modules) for (const p of m.parameters() as dt.Tensor[]) gs.push(p.grad!);
  return gs;
}

function compareAll(got: dt.Tensor[], want: dt.Tensor[], what: string, rtol = 1e-4, atol = 1e-5): void {
  expect(got.length).toBe(want.length);
  got.forEach((t, i) => expectClose(t, want[i], rtol, atol, `${what} [${i}]`));
}

describeCuda('cuda Embedding against the cpu', () => {
  it('lookup, repeated indices summed in backward, padding row without gradient', () => {
    for (const dtype of ['int32', 'int64'] as const) {
      dt.manualSeed(31);
      const cpu = new nn.Embedding(20, 8, { paddingIdx: 3 });
      const gpu = new nn.Embedding(20, 8, { paddingIdx: 3 });
      gpu.loadStateDict(cpu.stateDict());
      gpu.to('cuda');
      const idx = dt.tensor([[1, 3, 5, 1, 19], [0, 3, 7, 7, 7], [2, 4, 6, 8, 1], [3, 3, 3, 0, 10]], { dtype });
      const w = randomTensor([4, 5, 8], 'float32', -1, 1, 32);
      const outC = cpu.forward(idx), outG = gpu.forward(idx.cuda());
      expectClose(outG, outC, 0, 0, `embedding ${dtype} output`);
      const gC = gradsOf([outC], [w], [], [cpu]), gG = gradsOf([outG], [w.cuda()], [], [gpu]);
      compareAll(gG, gC, `embedding ${dtype} weight gradient`, 1e-6, 1e-6);
    }
  });

  it('maxNorm renormalises the looked-up rows in place', () => {
    dt.manualSeed(33);
    const cpu = new nn.Embedding(10, 6, { maxNorm: 1.5 });
    const gpu = new nn.Embedding(10, 6, { maxNorm: 1.5 });
    gpu.loadStateDict(cpu.stateDict());
    gpu.to('cuda');
    const idx = dt.tensor([[1, 2, 2], [9, 0, 1]], { dtype: 'int64' });
    expectClose(gpu.forward(idx.cuda()), cpu.forward(idx), 1e-6, 1e-6, 'maxNorm output');
    expectClose(gpu.weight, cpu.weight, 1e-6, 1e-6, 'maxNorm weight after');
  });
});

describeCuda('cuda scaledDotProductAttention against the cpu', () => {
  const cases: [string, number[], number[], number[], (dev: 'cpu' | 'cuda') => Record<string, unknown>][] = [
    ['plain', [2, 3, 5, 8], [2, 3, 7, 8], [2, 3, 7, 6], () => ({})],
    ['broadcast batch, scale', [2, 3, 5, 8], [3, 7, 8], [3, 7, 6], () => ({ scale: 0.3 })],
    ['isCausal', [4, 6, 8], [4, 6, 8], [4, 6, 8], () => ({ isCausal: true })],
    ['isCausal, L != S', [2, 5, 4], [2, 9, 4], [2, 9, 3], () => ({ isCausal: true })],
    ['bool mask', [2, 5, 8], [2, 7, 8], [2, 7, 6], (dev) => {
      const m = randomTensor([5, 7], 'bool', 0, 1, 41);
      const keepFirst = dt.tensor(Array.from({ length: 35 }, (_, i) => i % 7 === 0), { shape: [5, 7] });
      const mask = m.logicalOr(keepFirst);  // every query keeps one key: no all-masked row
      return { attnMask: dev === 'cuda' ? mask.cuda() : mask };
    }],
    ['float mask', [2, 5, 8], [2, 7, 8], [2, 7, 6], (dev) => {
      const mask = randomTensor([2, 5, 7], 'float32', -2, 0, 42);
      return { attnMask: dev === 'cuda' ? mask.cuda() : mask };
    }],
    ['unbatched', [5, 8], [7, 8], [7, 6], () => ({})],
  ];
  for (const [name, qs, ks, vs, opts] of cases)
    it(name, () => {
      const bq = randomTensor(qs, 'float32', -1, 1, 43), bk = randomTensor(ks, 'float32', -1, 1, 44), bv = randomTensor(vs, 'float32', -1, 1, 45);
      const run = (dev: 'cpu' | 'cuda') => {
        const q = leaf(bq, dev), k = leaf(bk, dev), v = leaf(bv, dev);
        const out = F.scaledDotProductAttention(q, k, v, opts(dev) as any);
        const w = randomTensor(out.shape, 'float32', -1, 1, 46);
        return [out, ...gradsOf([out], [dev === 'cuda' ? w.cuda() : w], [q, k, v])];
      };
      compareAll(run('cuda'), run('cpu'), `sdpa ${name}`);
    });
});

describeCuda('cuda MultiheadAttention / AdditiveAttention against the cpu', () => {
  interface MhaCase {
    name: string;
    E: number;
    heads: number;
    kdim?: number;
    vdim?: number;
    batchFirst?: boolean;
    bias?: boolean;
    self?: boolean;
    unbatched?: boolean;
    keyPadding?: boolean;
    attnMask?: 'bool' | 'float';
    isCausal?: boolean;
    average?: boolean;
  }
  const cases: MhaCase[] = [
    { name: 'self-attention', E: 16, heads: 4, self: true },
    { name: 'cross, kdim / vdim, key padding mask', E: 16, heads: 2, kdim: 10, vdim: 6, keyPadding: true },
    { name: 'batchFirst, bool attnMask, per-head weights', E: 12, heads: 3, batchFirst: true, attnMask: 'bool', average: false },
    { name: 'float attnMask, no bias', E: 8, heads: 2, attnMask: 'float', bias: false },
    { name: 'isCausal self-attention', E: 8, heads: 2, self: true, isCausal: true },
    { name: 'unbatched', E: 8, heads: 4, unbatched: true },
  ];
  for (const c of cases)
    it(`MultiheadAttention: ${c.name}`, () => {
      dt.manualSeed(51);
      const opts = { kdim: c.kdim, vdim: c.vdim, batchFirst: c.batchFirst, bias: c.bias };
      const cpu = new nn.MultiheadAttention(c.E, c.heads, opts);
      const gpu = new nn.MultiheadAttention(c.E, c.heads, opts);
      gpu.loadStateDict(cpu.stateDict());
      gpu.to('cuda');
      cpu.eval();
      gpu.eval();
      const L = 5, S = c.self ? 5 : 7, N = 3;
      const shape = (len: number, f: number) => (c.unbatched ? [len, f] : c.batchFirst ? [N, len, f] : [len, N, f]);
      const bq = randomTensor(shape(L, c.E), 'float32', -1, 1, 52);
      const bk = randomTensor(shape(S, c.kdim ?? c.E), 'float32', -1, 1, 53);
      const bv = randomTensor(shape(S, c.vdim ?? c.E), 'float32', -1, 1, 54);
      const kpm = dt.tensor(Array.from({ length: N * S }, (_, i) => i % S >= S - 1 - (Math.floor(i / S) % 3)), { shape: [N, S] });
      const boolMask = dt.tensor(Array.from({ length: L * S }, (_, i) => i % S > (Math.floor(i / S) + 2)), { shape: [L, S] });
      const floatMask = randomTensor([L, S], 'float32', -1, 0, 55);
      const run = (m: any, dev: 'cpu' | 'cuda') => {
        const mv = (t: dt.Tensor) => (dev === 'cuda' ? t.cuda() : t);
        const q = leaf(bq, dev);
        const k = c.self ? q : leaf(bk, dev), v = c.self ? q : leaf(bv, dev);
        const [out, weights] = m.forward(q, k, v, {
          keyPaddingMask: c.keyPadding ? mv(kpm) : null,
          attnMask: c.attnMask === 'bool' ? mv(boolMask) : c.attnMask === 'float' ? mv(floatMask) : null,
          isCausal: c.isCausal,
          averageAttnWeights: c.average,
        });
        const wo = randomTensor(out.shape, 'float32', -1, 1, 56), ww = randomTensor(weights.shape, 'float32', -1, 1, 57);
        const leaves = c.self ? [q] : [q, k, v];
        return [out, weights, ...gradsOf([out, weights], [mv(wo), mv(ww)], leaves, [m])];
      };
      compareAll(run(gpu, 'cuda'), run(cpu, 'cpu'), `mha ${c.name}`);
    });

  it('AdditiveAttention with lengths', () => {
    dt.manualSeed(61);
    const cpu = new nn.AdditiveAttention(4, 6, 8);
    const gpu = new nn.AdditiveAttention(4, 6, 8);
    gpu.loadStateDict(cpu.stateDict());
    gpu.to('cuda');
    const bq = randomTensor([3, 2, 4], 'float32', -1, 1, 62), bk = randomTensor([3, 5, 6], 'float32', -1, 1, 63), bv = randomTensor([3, 5, 2], 'float32', -1, 1, 64);
    const run = (m: any, dev: 'cpu' | 'cuda') => {
      const q = leaf(bq, dev), k = leaf(bk, dev), v = leaf(bv, dev);
      const [ctx, w] = m.forward(q, k, v, { lengths: [5, 2, 3] });
      const wc = randomTensor(ctx.shape, 'float32', -1, 1, 65), ww = randomTensor(w.shape, 'float32', -1, 1, 66);
      const mv = (t: dt.Tensor) => (dev === 'cuda' ? t.cuda() : t);
      return [ctx, w, ...gradsOf([ctx, w], [mv(wc), mv(ww)], [q, k, v], [m])];
    };
    compareAll(run(gpu, 'cuda'), run(cpu, 'cpu'), 'additive attention');
  });
});

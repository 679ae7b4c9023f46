// Seq2seq with attention: reverse sequences of digits.
//
//   node examples/seq2seq_attention.mjs
//
// Encoder: Embedding -> bidirectional LSTM over the source (batch first). Decoder: an LSTMCell
// fed the previous target token and the last attention context; additive (Bahdanau) attention
// of its state over the encoder outputs; a Linear over [state, context] predicts the next digit.
// Teacher forcing while training, greedy decoding to measure accuracy. Adam is written out in a
// few lines here (the optimizers live in dt.optim).
import * as dt from '../dist/index.mjs';

const { nn, F } = dt;
const DIGITS = 10, BOS = 10, VOCAB = 11, LEN = 8, EMB = 16, ENC = 48, DEC = 64, BATCH = 64;

let seed = 7;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** [source (n, LEN), target (n, LEN) = source reversed, decoder input (n, LEN) = BOS + target[:-1]] */
function makeBatch(n) {
  const src = new Int32Array(n * LEN), tgt = new Int32Array(n * LEN), dec = new Int32Array(n * LEN);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < LEN; i++) src[b * LEN + i] = Math.floor(random() * DIGITS);
    for (let i = 0; i < LEN; i++) tgt[b * LEN + i] = src[b * LEN + LEN - 1 - i];
    dec[b * LEN] = BOS;
    for (let i = 1; i < LEN; i++) dec[b * LEN + i] = tgt[b * LEN + i - 1];
  }
  const t = (a) => dt.tensor(a, { shape: [n, LEN] });
  return [t(src), t(tgt), t(dec)];
}

class Seq2Seq extends nn.Module {
  srcEmbed = new nn.Embedding(VOCAB, EMB);
  encoder = new nn.LSTM(EMB, ENC, { batchFirst: true, bidirectional: true });
  tgtEmbed = new nn.Embedding(VOCAB, EMB);
  decoder = new nn.LSTMCell(EMB + 2 * ENC, DEC);
  attention = new nn.AdditiveAttention(DEC, 2 * ENC, DEC);
  out = new nn.Linear(DEC + 2 * ENC, VOCAB);

  encode(src) {
    const [memory] = this.encoder.forward(this.srcEmbed.forward(src)); // (n, LEN, 2·ENC)
    return memory;
  }

  /** One decoder step: returns [logits (n, VOCAB), state, context]. */
  step(token, state, context, memory) {
    const input = dt.cat([this.tgtEmbed.forward(token), context], 1);
    const [h, c] = this.decoder.forward(input, state);
    const [ctx] = this.attention.forward(h, memory, memory);
    return [this.out.forward(dt.cat([h, ctx], 1)), [h, c], ctx];
  }

  /** Teacher-forced logits (n, LEN, VOCAB). */
  forward(src, decIn) {
    const memory = this.encode(src);
    const n = src.shape[0];
    let state = null, context = dt.zeros([n, 2 * ENC]);
    const logits = [];
    for (let t = 0; t < LEN; t++) {
      let l;
      [l, state, context] = this.step(decIn.select(1, t), state, context, memory);
      logits.push(l);
    }
    return dt.stack(logits, 1);
  }

  /** Greedy decoding (n, LEN). */
  generate(src) {
    const memory = this.encode(src);
    const n = src.shape[0];
    let state = null, context = dt.zeros([n, 2 * ENC]);
    let token = dt.full([n], BOS, { dtype: 'int32' });
    const outs = [];
    for (let t = 0; t < LEN; t++) {
      let l;
      [l, state, context] = this.step(token, state, context, memory);
      token = l.argmax(1);
      outs.push(token);
    }
    return dt.stack(outs, 1);
  }
}

function adam(params, { lr = 3e-3, betas = [0.9, 0.999], eps = 1e-8 } = {}) {
  const m = params.map((p) => dt.keep(dt.zerosLike(p))), v = params.map((p) => dt.keep(dt.zerosLike(p)));
  let t = 0;
  return () => dt.noGrad(() => dt.tidy(() => {
    t++;
    const c1 = 1 - betas[0] ** t, c2 = 1 - betas[1] ** t;
    params.forEach((p, i) => {
      m[i].mul_(betas[0]).add_(p.grad, { alpha: 1 - betas[0] });
      v[i].mul_(betas[1]).add_(p.grad.square(), { alpha: 1 - betas[1] });
      p.sub_(m[i].div(c1).div(v[i].div(c2).sqrt().add(eps)).mul(lr));
    });
  }));
}

dt.manualSeed(0);
const model = new Seq2Seq();
const step = adam(model.parameters());
const [testSrc, testTgt] = makeBatch(500);
const evaluate = () => dt.tidy(() => dt.noGrad(() => {
  model.eval();
  const pred = model.generate(testSrc);
  model.train();
  const tokens = pred.eq(testTgt).float().mean().item();
  const sequences = pred.eq(testTgt).all(1).float().mean().item();
  return [tokens, sequences];
}));

const start = Date.now();
// DENDRITE_SMOKE=1 (the examples smoke test) runs a few steps only.
const STEPS = process.env.DENDRITE_SMOKE ? 3 : 250;
for (let it = 1; it <= STEPS; it++) {
  const loss = dt.tidy(() => {
    const [src, tgt, decIn] = makeBatch(BATCH);
    const logits = model.forward(src, decIn);
    const loss = F.logSoftmax(logits, 2).gather(2, tgt.unsqueeze(2)).mean().neg();
    loss.backward();
    step();
    model.zeroGrad();
    return loss.item();
  });
  if (it % 50 === 0 || it === 1) {
    const [tok, seqAcc] = evaluate();
    console.log(`step ${String(it).padStart(3)}  loss ${loss.toFixed(4)}  digits right ${(tok * 100).toFixed(1)}%  sequences right ${(seqAcc * 100).toFixed(1)}%`);
  }
}
const [tok, seqAcc] = evaluate();
console.log(`trained in ${((Date.now() - start) / 1000).toFixed(1)} s: ${(tok * 100).toFixed(1)}% of digits and ${(seqAcc * 100).toFixed(1)}% of sequences reversed correctly`);
const [src] = makeBatch(1);
const pred = dt.noGrad(() => model.generate(src));
console.log(`example: ${src.toArray()[0].join('')} -> ${pred.toArray()[0].join('')}`);

// Attention modules: nn.MultiheadAttention with PyTorch's parameters (in_proj_weight,
// in_proj_bias, out_proj.weight, out_proj.bias; q/k/v_proj_weight when kdim/vdim differ) and
// forward, and nn.AdditiveAttention (Bahdanau et al. 2015, "Neural Machine Translation by
// Jointly Learning to Align and Translate", eq. 6: score = vᵀ tanh(W_q q + W_k k)).
import { describe, fail, fmtShape } from '../errors';
import { Tensor } from '../tensor';
import type { DType } from '../dtype';
import { Module, Parameter } from './module';
import { Linear } from './layers';
import { xavierUniform_, zeros_ } from './init';
import { arange, empty, tensor } from '../ops/creation';
import { softmax } from '../ops/activation';
import { where } from '../ops/elementwise';
import { isFloat } from '../dtype';
import { dropout } from '../ops/norm';
import { checkTensor } from '../ops/helpers';

export interface MultiheadAttentionOptions {
  dropout?: number;
  bias?: boolean;
  kdim?: number;
  vdim?: number;
  batchFirst?: boolean;
  dtype?: DType;
}

export interface MultiheadForwardOptions {
  /** (N, S): true (or -inf) marks keys to ignore. */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights (default true). */
  needWeights?: boolean;
  /** (L, S) or (N·numHeads, L, S): true (or -inf) marks pairs that may not attend. */
  attnMask?: Tensor | null;
  /** Weights averaged over heads (N, L, S) (default) or per head (N, numHeads, L, S). */
  averageAttnWeights?: boolean;
  /** A causal mask (query i attends to keys j <= i) when no attnMask is given. */
  isCausal?: boolean;
}

/** An additive mask (0 / -inf) from a bool mask where true means "masked out", or a float one. */
function additiveMask(mask: Tensor, dtype: DType, op: string, what: string): Tensor {
  checkTensor(mask, op, what);
  if (mask.dtype === 'bool') return where(mask, -Infinity, tensor(0, { dtype, device: mask.device }));
  if (!isFloat(mask.dtype)) fail('ERR_DTYPE', op, `a bool or floating-point ${what}`, mask.dtype);
  return mask;
}

export class MultiheadAttention extends Module {
  in_proj_weight: Tensor | null = null;
  q_proj_weight: Tensor | null = null;
  k_proj_weight: Tensor | null = null;
  v_proj_weight: Tensor | null = null;
  in_proj_bias: Tensor | null = null;
  out_proj: Linear;
  readonly kdim: number;
  readonly vdim: number;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;

  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    const op = 'MultiheadAttention';
    if (!Number.isInteger(embedDim) || embedDim <= 0) fail('ERR_ARGUMENT', op, 'a positive integer embedDim', describe(embedDim));
    if (!Number.isInteger(numHeads) || numHeads <= 0 || embedDim % numHeads !== 0)
      fail('ERR_ARGUMENT', op, `numHeads dividing embedDim ${embedDim}`, describe(numHeads));
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    this.headDim = embedDim / numHeads;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) fail('ERR_ARGUMENT', op, 'a dropout probability in [0, 1]', describe(options.dropout));
    this.batchFirst = options.batchFirst ?? false;
    const dtype = options.dtype;
    if (this.kdim === embedDim && this.vdim === embedDim) {
      this.in_proj_weight = Parameter(empty([3 * embedDim, embedDim], { dtype }));
    } else {
      this.q_proj_weight = Parameter(empty([embedDim, embedDim], { dtype }));
      this.k_proj_weight = Parameter(empty([embedDim, this.kdim], { dtype }));
      this.v_proj_weight = Parameter(empty([embedDim, this.vdim], { dtype }));
    }
    if (options.bias ?? true) this.in_proj_bias = Parameter(empty([3 * embedDim], { dtype }));
    this.out_proj = new Linear(embedDim, embedDim, { bias: options.bias ?? true, dtype });
    this.resetParameters();
  }

  /** PyTorch's _reset_parameters: Xavier-uniform projections, zero biases (out_proj.weight keeps Linear's init). */
  resetParameters(): void {
    if (this.in_proj_weight) xavierUniform_(this.in_proj_weight);
    else for (const w of [this.q_proj_weight!, this.k_proj_weight!, this.v_proj_weight!]) xavierUniform_(w);
    if (this.in_proj_bias) {
      zeros_(this.in_proj_bias);
      zeros_(this.out_proj.bias!);
    }
  }

  private project(x: Tensor, which: 0 | 1 | 2): Tensor {
    const E = this.embedDim;
    const w = this.in_proj_weight ? this.in_proj_weight.narrow(0, which * E, E) : [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight][which]!;
    const y = x.matmul(w.t());
    return this.in_proj_bias ? y.add(this.in_proj_bias.narrow(0, which * E, E)) : y;
  }

  /**
   * forward(query (L, N, E), key (S, N, kdim), value (S, N, vdim), options) → [output (L, N, E),
   * weights | null]; (N, L, E) etc. with batchFirst; unbatched (L, E) inputs too.
   */
  forward(query: Tensor, key: Tensor, value: Tensor, options: MultiheadForwardOptions = {}): [Tensor, Tensor | null] {
    const op = 'MultiheadAttention';
    checkTensor(query, op, 'query');
    checkTensor(key, op, 'key');
    checkTensor(value, op, 'value');
    const batched = query.ndim === 3;
    if (!batched && query.ndim !== 2) fail('ERR_SHAPE', op, 'a query of shape [L, N, E] (or unbatched [L, E])', fmtShape(query.shape));
    if (key.ndim !== query.ndim || value.ndim !== query.ndim)
      fail('ERR_SHAPE', op, `key and value of rank ${query.ndim} like the query`, `${fmtShape(key.shape)} and ${fmtShape(value.shape)}`);
    let q = query, k = key, v = value;
    let kpm = options.keyPaddingMask ?? null;
    if (!batched) {
      q = q.unsqueeze(1);
      k = k.unsqueeze(1);
      v = v.unsqueeze(1);
      if (kpm) kpm = kpm.unsqueeze(0);
    } else if (this.batchFirst) {
      q = q.transpose(0, 1);
      k = k.transpose(0, 1);
      v = v.transpose(0, 1);
    }
    const [L, N, E] = q.shape;
    const S = k.shape[0];
    const Hh = this.numHeads, hd = this.headDim;
    if (E !== this.embedDim) fail('ERR_SHAPE', op, `a query with embedDim ${this.embedDim} features`, fmtShape(query.shape));
    if (k.shape[1] !== N || v.shape[1] !== N || v.shape[0] !== S || k.shape[2] !== this.kdim || v.shape[2] !== this.vdim)
      fail('ERR_SHAPE', op, `key [S, ${N}, ${this.kdim}] and value [S, ${N}, ${this.vdim}]`, `${fmtShape(k.shape)} and ${fmtShape(v.shape)}`);

    // (L, N, E) → (N·heads, L, headDim), head h of batch row n at n·heads + h, as PyTorch.
    const heads = (t: Tensor, len: number) => t.reshape([len, N * Hh, hd]).transpose(0, 1);
    const qh = heads(this.project(q, 0).mul(1 / Math.sqrt(hd)), L);
    const kh = heads(this.project(k, 1), S);
    const vh = heads(this.project(v, 2), S);

    let mask: Tensor | null = null;
    let attnMask = options.attnMask ?? null;
    if (!attnMask && options.isCausal) {
      const device = q.device;
      const i = arange(L, undefined, 1, { device }).unsqueeze(1), j = arange(S, undefined, 1, { device }).unsqueeze(0);
      attnMask = j.gt(i);
    }
    if (attnMask) {
      const ok2 = attnMask.ndim === 2 && attnMask.shape[0] === L && attnMask.shape[1] === S;
      const ok3 = attnMask.ndim === 3 && attnMask.shape[0] === N * Hh && attnMask.shape[1] === L && attnMask.shape[2] === S;
      if (!ok2 && !ok3) fail('ERR_SHAPE', op, `attnMask of shape [${L}, ${S}] or [${N * Hh}, ${L}, ${S}]`, fmtShape(attnMask.shape));
      mask = additiveMask(attnMask, q.dtype, op, 'attnMask');
    }
    if (kpm) {
      if (kpm.ndim !== 2 || kpm.shape[0] !== N || kpm.shape[1] !== S) fail('ERR_SHAPE', op, `keyPaddingMask of shape [${N}, ${S}]`, fmtShape(kpm.shape));
      const m = additiveMask(kpm, q.dtype, op, 'keyPaddingMask').reshape([N, 1, 1, S]).expand([N, Hh, 1, S]).reshape([N * Hh, 1, S]);
      mask = mask ? mask.add(m) : m;
    }
    let scores = qh.matmul(kh.transpose(-2, -1));
    if (mask) scores = scores.add(mask);
    let weights = softmax(scores, -1);
    if (this.training && this.dropout > 0) weights = dropout(weights, this.dropout);
    const ctx = weights.matmul(vh).transpose(0, 1).reshape([L, N, E]);
    let out = this.out_proj.forward(ctx);
    if (!batched) out = out.squeeze(1);
    else if (this.batchFirst) out = out.transpose(0, 1);
    if (options.needWeights === false) return [out, null];
    let w = weights.reshape([N, Hh, L, S]);
    if (options.averageAttnWeights ?? true) w = w.mean(1);
    if (!batched) w = w.squeeze(0);
    return [out, w];
  }

  override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}${this.batchFirst ? ', batchFirst=true' : ''}`;
  }
}

export interface AdditiveAttentionOptions {
  dropout?: number;
  dtype?: DType;
}

/**
 * nn.AdditiveAttention(querySize, keySize, hiddenSize): Bahdanau's scores vᵀ tanh(W_q q + W_k k),
 * softmax over the keys, and the weighted sum of the values.
 */
export class AdditiveAttention extends Module {
  W_q: Linear;
  W_k: Linear;
  w_v: Linear;
  readonly dropout: number;
  constructor(readonly querySize: number, readonly keySize: number, readonly hiddenSize: number, options: AdditiveAttentionOptions = {}) {
    super();
    this.W_q = new Linear(querySize, hiddenSize, { bias: false, dtype: options.dtype });
    this.W_k = new Linear(keySize, hiddenSize, { bias: false, dtype: options.dtype });
    this.w_v = new Linear(hiddenSize, 1, { bias: false, dtype: options.dtype });
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) fail('ERR_ARGUMENT', 'AdditiveAttention', 'a dropout probability in [0, 1]', describe(options.dropout));
  }

  /**
   * forward(query (N, Lq, querySize) or (N, querySize), keys (N, S, keySize), values (N, S, Dv),
   * { keyPaddingMask (N, S) bool, true = ignore; or lengths: valid keys per row }) →
   * [context (N, Lq, Dv) or (N, Dv), weights (N, Lq, S) or (N, S)].
   */
  forward(query: Tensor, keys: Tensor, values: Tensor, options: { keyPaddingMask?: Tensor | null; lengths?: number[] | null } = {}): [Tensor, Tensor] {
    const op = 'AdditiveAttention';
    checkTensor(query, op, 'query');
    checkTensor(keys, op, 'keys');
    checkTensor(values, op, 'values');
    const single = query.ndim === 2;
    const q = single ? query.unsqueeze(1) : query;
    if (q.ndim !== 3 || keys.ndim !== 3 || values.ndim !== 3)
      fail('ERR_SHAPE', op, 'query [N, Lq, querySize] (or [N, querySize]), keys [N, S, keySize], values [N, S, Dv]',
        `${fmtShape(query.shape)}, ${fmtShape(keys.shape)}, ${fmtShape(values.shape)}`);
    const [N, , ] = q.shape;
    const S = keys.shape[1];
    if (keys.shape[0] !== N || values.shape[0] !== N || values.shape[1] !== S)
      fail('ERR_SHAPE', op, `keys and values of batch ${N} and one length`, `${fmtShape(keys.shape)} and ${fmtShape(values.shape)}`);
    // (N, Lq, 1, h) + (N, 1, S, h) → tanh → (N, Lq, S, 1) → (N, Lq, S)
    const features = this.W_q.forward(q).unsqueeze(2).add(this.W_k.forward(keys).unsqueeze(1)).tanh();
    let scores = this.w_v.forward(features).squeeze(-1);
    let ignore = options.keyPaddingMask ?? null;
    if (!ignore && options.lengths) {
      if (!Array.isArray(options.lengths) || options.lengths.length !== N) fail('ERR_SHAPE', op, `${N} lengths`, describe(options.lengths));
      const device = scores.device;
      ignore = arange(S, undefined, 1, { device }).unsqueeze(0).ge(tensor(options.lengths, { dtype: 'int64', device }).unsqueeze(1));
    }
    if (ignore) {
      if (ignore.dtype !== 'bool' || ignore.ndim !== 2 || ignore.shape[0] !== N || ignore.shape[1] !== S)
        fail('ERR_SHAPE', op, `a bool keyPaddingMask of shape [${N}, ${S}]`, `${ignore.dtype} ${fmtShape(ignore.shape)}`);
      scores = where(ignore.unsqueeze(1), -Infinity, scores);
    }
    const weights = softmax(scores, -1);
    const used = this.training && this.dropout > 0 ? dropout(weights, this.dropout) : weights;
    const context = used.matmul(values);
    return single ? [context.squeeze(1), weights.squeeze(1)] : [context, weights];
  }
}

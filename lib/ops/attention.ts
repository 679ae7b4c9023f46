// Scaled dot-product attention (PyTorch 2 semantics), composed from matmul and the fused softmax:
// softmax(q·kᵀ·scale + mask)·v. A bool mask keeps positions where it is true; a float mask is added.
import { describe, fail, fmtShape } from '../errors';
import { isFloat } from '../dtype';
import { Tensor } from '../tensor';
import type { Device } from '../storage';
import { arange } from './creation';
import { checkTensor } from './helpers';
import { softmax } from './activation';
import { where } from './elementwise';
import { dropout } from './norm';

export interface AttentionOptions {
  /** Bool (true = attend) or float (added to the scores), broadcastable to (..., L, S). */
  attnMask?: Tensor | null;
  /** Dropout on the attention weights (applied whenever > 0, as PyTorch's functional form). */
  dropoutP?: number;
  /** Lower-triangular mask: query i attends to keys j <= i. Not with attnMask. */
  isCausal?: boolean;
  /** Default 1 / sqrt(E). */
  scale?: number | null;
}

/** A bool (L, S) tensor on `device`, true where key j <= query i. */
export function causalMask(L: number, S: number, device: Device = 'cpu'): Tensor {
  const i = arange(L, undefined, 1, { device }).unsqueeze(1), j = arange(S, undefined, 1, { device }).unsqueeze(0);
  const m = i.ge(j);
  i.dispose();
  j.dispose();
  return m;
}

/** Scores after masking: a bool mask becomes -inf where false; a float mask is added. */
export function applyMask(scores: Tensor, mask: Tensor, op: string, keepWhereTrue: boolean): Tensor {
  checkTensor(mask, op, 'mask');
  if (mask.dtype === 'bool') return keepWhereTrue ? where(mask, scores, -Infinity) : where(mask, -Infinity, scores);
  if (!isFloat(mask.dtype)) fail('ERR_DTYPE', op, 'a bool or floating-point mask', mask.dtype);
  return scores.add(mask);
}

/** [output, weights]: the attention and its softmax weights (before dropout). */
export function attentionWithWeights(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): [Tensor, Tensor] {
  const op = 'scaledDotProductAttention';
  checkTensor(q, op, 'query');
  checkTensor(k, op, 'key');
  checkTensor(v, op, 'value');
  for (const [t, name] of [[q, 'query'], [k, 'key'], [v, 'value']] as const) {
    if (t.ndim < 2) fail('ERR_SHAPE', op, `a ${name} of at least 2 dims (..., length, features)`, fmtShape(t.shape));
    if (!isFloat(t.dtype)) fail('ERR_DTYPE', op, `a floating-point ${name}`, t.dtype);
  }
  const E = q.shape[q.ndim - 1], L = q.shape[q.ndim - 2];
  const S = k.shape[k.ndim - 2];
  if (k.shape[k.ndim - 1] !== E) fail('ERR_SHAPE', op, `a key with the query's feature size ${E}`, fmtShape(k.shape));
  if (v.shape[v.ndim - 2] !== S) fail('ERR_SHAPE', op, `a value with the key's length ${S}`, fmtShape(v.shape));
  const p = options.dropoutP ?? 0;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('ERR_ARGUMENT', op, 'dropoutP in [0, 1]', describe(p));
  if (options.isCausal && options.attnMask) fail('ERR_ARGUMENT', op, 'either attnMask or isCausal', 'both');
  const scale = options.scale ?? 1 / Math.sqrt(E);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) fail('ERR_ARGUMENT', op, 'a finite scale', describe(scale));
  let scores = q.matmul(k.transpose(-2, -1)).mul(scale);
  if (options.isCausal) {
    scores = where(causalMask(L, S, q.device), scores, -Infinity);
  } else if (options.attnMask) {
    scores = applyMask(scores, options.attnMask, op, true);
  }
  const weights = softmax(scores, -1);
  const dropped = p > 0 ? dropout(weights, p) : weights;
  return [dropped.matmul(v), weights];
}

/**
 * F.scaledDotProductAttention(q, k, v, { attnMask, dropoutP, isCausal, scale }): q (..., L, E),
 * k (..., S, E), v (..., S, Ev) → (..., L, Ev); batch dims broadcast.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  return attentionWithWeights(q, k, v, options)[0];
}

// batchNorm on the native kernel (batch statistics in training, running ones in eval), and
// dropout composed from the native Bernoulli draw (the Philox generator, so dt.manualSeed
// makes it reproducible; the mask is drawn on the input's device, and the CUDA generator reads
// the same Philox stream, so one seed gives one mask on both devices).
import type { StorageHandle } from '../storage';
import { describe, fail, fmtShape } from '../errors';
import { isFloat } from '../dtype';
import { Tensor, contiguousCopy } from '../tensor';
import { record, noGrad } from '../autograd/node';
import { beginLayouts, native } from '../native';
import { checkTensor } from './helpers';
import { bernoulliLike } from './creation';
import { mul } from './elementwise';

declare module '../native' {
  interface NativeAddon {
    batchNorm(training: boolean, momentum: number, eps: number, y: StorageHandle, saveMean: StorageHandle, saveInvstd: StorageHandle,
      x: StorageHandle, weight?: StorageHandle, bias?: StorageHandle, runningMean?: StorageHandle, runningVar?: StorageHandle): void;
    batchNormBackward(training: boolean, gy: StorageHandle, x: StorageHandle, saveMean: StorageHandle, saveInvstd: StorageHandle,
      weight?: StorageHandle, gx?: StorageHandle, gw?: StorageHandle, gb?: StorageHandle): void;
  }
}

export interface BatchNormOptions {
  /** Use (and update) batch statistics; else normalise with the running ones. Default false, as F.batch_norm. */
  training?: boolean;
  /** Weight of the new batch statistic in the running average (default 0.1). */
  momentum?: number;
  eps?: number;
}

function channelTensor(op: string, t: Tensor | null | undefined, what: string, C: number, dtype: string): Tensor | null {
  if (t === null || t === undefined) return null;
  checkTensor(t, op, what);
  if (t.ndim !== 1 || t.shape[0] !== C) fail('ERR_SHAPE', op, `${what} of shape [${C}] (one per channel)`, fmtShape(t.shape));
  if (t.dtype !== dtype) fail('ERR_DTYPE', op, `${what} of the input's dtype ${dtype}`, t.dtype);
  return t;
}

/**
 * Batch normalisation of x [N, C, *] per channel: (x - mean) / sqrt(var + eps) * weight + bias.
 * In training, mean and (biased) var come from the batch and runningMean / runningVar (when
 * given) are updated in place with `momentum`, the variance unbiased, as PyTorch.
 * `batchNorm(x, rm, rv, options)` also works without weight and bias.
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null,
  weight?: Tensor | null | BatchNormOptions, bias?: Tensor | null, options?: BatchNormOptions): Tensor {
  const op = 'batchNorm';
  if (weight !== null && weight !== undefined && !(weight instanceof Tensor)) {
    if (typeof weight !== 'object' || bias !== undefined || options !== undefined) fail('ERR_ARGUMENT', op, 'a Tensor weight, null, or an options object', describe(weight));
    options = weight;
    weight = null;
  }
  const o = options ?? {};
  checkTensor(x, op);
  if (x.ndim < 2) fail('ERR_SHAPE', op, 'input of shape [N, C, *]', fmtShape(x.shape));
  if (!isFloat(x.dtype)) fail('ERR_DTYPE', op, 'a float32 or float64 input', x.dtype);
  const C = x.shape[1];
  const w = channelTensor(op, weight as Tensor | null | undefined, 'weight', C, x.dtype);
  const b = channelTensor(op, bias, 'bias', C, x.dtype);
  const rm = channelTensor(op, runningMean, 'runningMean', C, x.dtype);
  const rv = channelTensor(op, runningVar, 'runningVar', C, x.dtype);
  const training = o.training ?? false;
  const momentum = o.momentum ?? 0.1, eps = o.eps ?? 1e-5;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) fail('ERR_ARGUMENT', op, 'momentum in [0, 1]', describe(momentum));
  if (typeof eps !== 'number' || !(eps >= 0)) fail('ERR_ARGUMENT', op, 'eps >= 0', describe(eps));
  if (!training && (rm === null || rv === null)) fail('ERR_ARGUMENT', op, 'runningMean and runningVar in eval mode (training: false)', 'null');
  if ((rm === null) !== (rv === null)) fail('ERR_ARGUMENT', op, 'both runningMean and runningVar, or neither', 'one of them');
  for (const [t, name] of [[rm, 'runningMean'], [rv, 'runningVar']] as const)
    if (t !== null && !t.isContiguous()) fail('ERR_ARGUMENT', op, `a contiguous ${name} (it is updated in place)`, 'a strided view');
  const M = x.numel() / Math.max(C, 1);
  if (training && M <= 1) fail('ERR_SHAPE', op, 'more than 1 value per channel when training', `input of shape ${fmtShape(x.shape)}`);
  const xc = x.isContiguous() ? x : contiguousCopy(x);
  const wc = w && !w.isContiguous() ? contiguousCopy(w) : w;
  const bc = b && !b.isContiguous() ? contiguousCopy(b) : b;
  const y = Tensor.empty(x.shape.slice(), x.dtype, x.device);
  const saveMean = Tensor.empty([C], x.dtype, x.device), saveInvstd = Tensor.empty([C], x.dtype, x.device);
  beginLayouts();
  for (const t of [y, saveMean, saveInvstd, xc, wc, bc, rm, rv]) if (t) t.putLayout();
  native.batchNorm(training, momentum, eps, y.storage.buffer, saveMean.storage.buffer, saveInvstd.storage.buffer, xc.storage.buffer,
    wc?.storage.buffer, bc?.storage.buffer, rm?.storage.buffer, rv?.storage.buffer);
  if (bc !== b) bc?.dispose();
  const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  return record(y, op, inputs, (g) => {
    const gc = g.isContiguous() ? g : contiguousCopy(g);
    const gx = x.requiresGrad ? Tensor.empty(x.shape.slice(), x.dtype, x.device) : null;
    const gw = w?.requiresGrad ? Tensor.empty([C], x.dtype, x.device) : null;
    const gb = b?.requiresGrad ? Tensor.empty([C], x.dtype, x.device) : null;
    beginLayouts();
    for (const t of [gc, xc, saveMean, saveInvstd, wc, gx, gw, gb]) if (t) t.putLayout();
    native.batchNormBackward(training, gc.storage.buffer, xc.storage.buffer, saveMean.storage.buffer, saveInvstd.storage.buffer,
      wc?.storage.buffer, gx?.storage.buffer, gw?.storage.buffer, gb?.storage.buffer);
    if (gc !== g) gc.dispose();
    return [gx, ...(w ? [gw] : []), ...(b ? [gb] : [])];
  });
}

export interface DropoutOptions {
  p?: number;
  /** Off (false): dropout is the identity. Default true, as F.dropout. */
  training?: boolean;
}

/**
 * Zeroes each element with probability p and scales the rest by 1 / (1 - p) (inverted
 * dropout), when training. `dropout(x, 0.2)` or `dropout(x, { p, training })`.
 */
export function dropout(x: Tensor, p: number | DropoutOptions = 0.5, options: DropoutOptions = {}): Tensor {
  const o = typeof p === 'number' ? { ...options, p } : { ...p, ...options };
  const prob = o.p ?? 0.5;
  checkTensor(x, 'dropout');
  if (typeof prob !== 'number' || !(prob >= 0 && prob <= 1)) fail('ERR_ARGUMENT', 'dropout', 'p in [0, 1]', describe(prob));
  if (!isFloat(x.dtype)) fail('ERR_DTYPE', 'dropout', 'a float32 or float64 input', x.dtype);
  if (!(o.training ?? true) || prob === 0) return x;
  const mask = noGrad(() => {
    const keep = bernoulliLike(x, 1 - prob);
    return prob === 1 ? keep : keep.mul_(1 / (1 - prob));
  });
  const out = mul(x, mask);
  if (!out.requiresGrad) mask.dispose();
  return out;
}

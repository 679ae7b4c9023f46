// embedding: a row lookup whose backward is an index-add (repeated indices sum), with PyTorch's
// paddingIdx (that row gets no gradient) and maxNorm (looked-up rows renormalised in place).
// On CUDA the backward is its own kernel (native/cuda/norm/embedding.cu): the indices are sorted
// on the device and each run of equal indices summed in position order, so the gradient is
// deterministic and equal to the CPU's (indexAdd on CUDA uses atomics); maxNorm also runs there
// without reading the indices back.
import type { StorageHandle } from '../storage';
import { describe, fail, fmtShape } from '../errors';
import { isFloat } from '../dtype';
import { Tensor, contiguousCopy, contiguousStrides } from '../tensor';
import { noGrad, record } from '../autograd/node';
import { beginLayouts, native } from '../native';
import { tensor } from './creation';
import { checkTensor, zerosRaw } from './helpers';

declare module '../native' {
  interface NativeAddon {
    embeddingBackward(paddingIdx: number, gw: StorageHandle, indices: StorageHandle, gy: StorageHandle): void;
    embeddingRenorm(maxNorm: number, normType: number, weight: StorageHandle, indices: StorageHandle): void;
  }
}

export interface EmbeddingOptions {
  /** Row that receives no gradient (negative counts from the end). */
  paddingIdx?: number | null;
  /** Rows looked up with a larger normType-norm are rescaled, in place, to this norm first. */
  maxNorm?: number | null;
  normType?: number;
}

export function normalizePaddingIdx(paddingIdx: number | null | undefined, numEmbeddings: number, op: string): number | null {
  if (paddingIdx === undefined || paddingIdx === null) return null;
  if (!Number.isInteger(paddingIdx) || paddingIdx < -numEmbeddings || paddingIdx >= numEmbeddings)
    fail('ERR_INDEX', op, `paddingIdx in [${-numEmbeddings}, ${numEmbeddings - 1}]`, describe(paddingIdx));
  return paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
}

/** Rescales, in place, the rows of weight named in idx whose norm exceeds maxNorm (torch.embedding_renorm_). */
function renorm(weight: Tensor, idx: Tensor, maxNorm: number, normType: number): void {
  if (weight.device === 'cuda') {
    if (idx.device !== weight.device) fail('ERR_DEVICE', 'embedding', `indices on ${weight.device}, as the weight`, idx.device);
    if (!weight.isContiguous()) fail('ERR_ARGUMENT', 'embedding', 'a contiguous weight with maxNorm (it is renormalised in place)', 'a strided view');
    beginLayouts();
    weight.putLayout();
    idx.putLayout();
    native.embeddingRenorm(maxNorm, normType, weight.storage.buffer, idx.storage.buffer);
    return;
  }
  const values = idx.dataSync();
  const rows = new Set<number>();
  for (let i = 0; i < values.length; i++) rows.add(Number(values[i]));
  const unique = tensor(Int32Array.from(rows), { device: weight.device });
  noGrad(() => {
    const selected = weight.indexSelect(0, unique);
    const norms = selected.abs().pow(normType).sum(1, true).pow(1 / normType);
    // scale - 1 where the norm is too large, 0 elsewhere; the rows get selected * (scale - 1) added.
    const factor = norms.gt(maxNorm).float().to(weight.dtype).mul(norms.add(1e-7).reciprocal().mul(maxNorm).sub(1));
    const delta = selected.mul(factor);
    beginLayouts();
    weight.putLayout();
    unique.putLayout();
    delta.putLayout();
    native.indexAdd(0, weight.storage.buffer, unique.storage.buffer, delta.storage.buffer);
    for (const t of [selected, norms, factor, delta]) t.dispose();
  });
  unique.dispose();
}

/**
 * F.embedding(input, weight, { paddingIdx, maxNorm, normType }): weight's rows at the int32/int64
 * indices of `input` (any shape), giving input.shape + [embeddingDim].
 */
export function embedding(input: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  const op = 'embedding';
  checkTensor(input, op);
  checkTensor(weight, op, 'weight');
  if (input.dtype !== 'int32' && input.dtype !== 'int64') fail('ERR_DTYPE', op, 'int32 or int64 indices', input.dtype);
  if (weight.ndim !== 2) fail('ERR_SHAPE', op, 'a weight of shape [numEmbeddings, embeddingDim]', fmtShape(weight.shape));
  if (!isFloat(weight.dtype)) fail('ERR_DTYPE', op, 'a floating-point weight', weight.dtype);
  const [V, E] = weight.shape;
  const pad = normalizePaddingIdx(options.paddingIdx, V, op);
  const flatIdx = input.isContiguous() ? input : contiguousCopy(input);
  const idx = Tensor.view(flatIdx, [input.numel()], [1], flatIdx.offset);
  if (flatIdx !== input) flatIdx.dispose();
  if (options.maxNorm !== undefined && options.maxNorm !== null) {
    if (!(options.maxNorm > 0)) fail('ERR_ARGUMENT', op, 'maxNorm > 0', describe(options.maxNorm));
    renorm(weight, idx, options.maxNorm, options.normType ?? 2);
  }
  const rows = Tensor.empty([idx.numel(), E], weight.dtype, weight.device);
  beginLayouts();
  rows.putLayout();
  weight.putLayout();
  idx.putLayout();
  native.indexSelect(0, rows.storage.buffer, weight.storage.buffer, idx.storage.buffer);
  const outShape = [...input.shape, E];
  const out = Tensor.view(rows, outShape, contiguousStrides(outShape), 0);
  rows.dispose();
  return record(out, op, [weight], (g) => {
    if (weight.device === 'cuda') return [embeddingBackwardOnDevice(g, idx, V, E, pad)];
    const gw = zerosRaw([V, E], g.dtype, weight.device);
    const gc = g.isContiguous() ? g : contiguousCopy(g);
    const g2 = Tensor.view(gc, [idx.numel(), E], [E, 1], gc.offset);
    beginLayouts();
    gw.putLayout();
    idx.putLayout();
    g2.putLayout();
    native.indexAdd(0, gw.storage.buffer, idx.storage.buffer, g2.storage.buffer);
    g2.dispose();
    if (gc !== g) gc.dispose();
    if (pad !== null) {
      const row = Tensor.view(gw, [E], [1], pad * E);
      beginLayouts();
      row.putLayout();
      native.fill(0, row.storage.buffer);
      row.dispose();
    }
    return [gw];
  });
}

/** The CUDA backward: gw [V, E] from g (input.shape + [E]) through the flat indices. */
function embeddingBackwardOnDevice(g: Tensor, idx: Tensor, V: number, E: number, pad: number | null): Tensor {
  const gw = Tensor.empty([V, E], g.dtype, g.device);
  const gc = g.isContiguous() ? g : contiguousCopy(g);
  const g2 = Tensor.view(gc, [idx.numel(), E], [E, 1], gc.offset);
  try {
    beginLayouts();
    gw.putLayout();
    idx.putLayout();
    g2.putLayout();
    native.embeddingBackward(pad ?? -1, gw.storage.buffer, idx.storage.buffer, g2.storage.buffer);
  } finally {
    g2.dispose();
    if (gc !== g) gc.dispose();
  }
  return gw;
}

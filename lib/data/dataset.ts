// Dataset, TensorDataset, Subset, randomSplit (torch.utils.data). A dataset maps an index to a
// sample; one that can also cut a whole batch at once (getBatch, torch's __getitems__) lets the
// DataLoader build a batch with one indexSelect per tensor instead of one op per sample.
import { describe, fail, fmtShape } from '../errors';
import { Tensor } from '../tensor';
import { tensor } from '../ops/creation';
import { indexSelect } from '../ops/indexing';
import { select } from '../ops/shape';
import { noGrad } from '../autograd/node';
import { Generator } from './generator';

export abstract class Dataset<T = unknown> {
  /** The sample at `index` (0 <= index < length). */
  abstract getItem(index: number): T;
  abstract get length(): number;
  /** A whole collated batch, when the dataset can cut one faster than per-sample getItem. */
  getBatch?(indices: readonly number[]): T;

  checkIndex(index: number, op: string): number {
    const n = this.length;
    if (!Number.isInteger(index) || index < -n || index >= n) fail('ERR_INDEX', op, `an index in [${-n}, ${n - 1}]`, describe(index));
    return index < 0 ? index + n : index;
  }
}

/** int64 index tensor for a batch (numbers checked against `n`). */
export function indexTensor(indices: readonly number[], n: number, op: string): Tensor {
  const idx = new BigInt64Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (!Number.isInteger(v) || v < 0 || v >= n) fail('ERR_INDEX', op, `indices in [0, ${n - 1}]`, describe(v));
    idx[i] = BigInt(v);
  }
  return tensor(idx);
}

/** Samples are the i-th rows of each tensor: `[x[i], y[i]]`. All tensors share their first dim. */
export class TensorDataset extends Dataset<Tensor[]> {
  readonly tensors: Tensor[];
  constructor(...tensors: Tensor[]) {
    super();
    if (tensors.length === 0) fail('ERR_ARGUMENT', 'TensorDataset', 'at least one tensor', 'none');
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor)) fail('ERR_ARGUMENT', 'TensorDataset', `a Tensor at position ${i}`, describe(t));
      if (t.ndim === 0) fail('ERR_SHAPE', 'TensorDataset', 'tensors with a first (sample) dim', '0-d tensor');
      if (t.shape[0] !== tensors[0].shape[0])
        fail('ERR_SHAPE', 'TensorDataset', `tensors of ${tensors[0].shape[0]} samples (first dim)`, `${fmtShape(t.shape)} at position ${i}`);
    });
    this.tensors = tensors;
  }
  get length(): number {
    return this.tensors[0].shape[0];
  }
  getItem(index: number): Tensor[] {
    const i = this.checkIndex(index, 'TensorDataset.getItem');
    return noGrad(() => this.tensors.map((t) => select(t, 0, i)));
  }
  override getBatch(indices: readonly number[]): Tensor[] {
    const idx = indexTensor(indices, this.length, 'TensorDataset.getBatch');
    const out = noGrad(() => this.tensors.map((t) => indexSelect(t, 0, idx)));
    idx.dispose();
    return out;
  }
}

/** The samples of `dataset` at `indices`. */
export class Subset<T> extends Dataset<T> {
  constructor(readonly dataset: Dataset<T>, readonly indices: readonly number[]) {
    super();
    for (const i of indices) dataset.checkIndex(i, 'Subset');
    if (dataset.getBatch) this.getBatch = (batch: readonly number[]) => dataset.getBatch!(batch.map((i) => this.indices[this.checkIndex(i, 'Subset.getBatch')]));
  }
  get length(): number {
    return this.indices.length;
  }
  getItem(index: number): T {
    return this.dataset.getItem(this.indices[this.checkIndex(index, 'Subset.getItem')]);
  }
}

/**
 * Splits a dataset into non-overlapping random subsets of the given lengths (counts, or
 * fractions summing to 1: the remainder goes round-robin to the first subsets, as PyTorch).
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: number[], options: { generator?: Generator; seed?: number } = {}): Subset<T>[] {
  const n = dataset.length;
  let counts = lengths.slice();
  const total = counts.reduce((a, b) => a + b, 0);
  if (counts.every((v) => v >= 0 && v <= 1) && Math.abs(total - 1) < 1e-9 && total !== n) {
    counts = lengths.map((f) => Math.floor(n * f));
    let rest = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % counts.length, rest--) counts[i]++;
  } else if (total !== n || counts.some((c) => !Number.isInteger(c) || c < 0))
    fail('ERR_ARGUMENT', 'randomSplit', `non-negative lengths summing to ${n} (or fractions summing to 1)`, `[${lengths.join(', ')}]`);
  const gen = options.generator ?? new Generator(options.seed);
  const perm = gen.permutation(n);
  const out: Subset<T>[] = [];
  let pos = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, perm.slice(pos, pos + c)));
    pos += c;
  }
  return out;
}

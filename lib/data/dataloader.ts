// DataLoader (torch.utils.data.DataLoader): batches of a dataset, shuffled per epoch by a
// generator of its own, iterable both with `for...of` and `for await...of`.
//
// Shuffling: each pass over the loader draws one dt.randperm from the loader's Generator, so a
// seed fixes the order of every epoch, and the global generator (model init, dropout) is never
// moved by it. The async iterator prefetches: it starts preparing batch i+1 before it hands out
// batch i, so a dataset whose getItem/getBatch is asynchronous (files, decoding) loads while the
// caller trains on the current batch.
import { describe, fail } from '../errors';
import { Tensor } from '../tensor';
import { tensor } from '../ops/creation';
import { stack } from '../ops/join';
import { noGrad } from '../autograd/node';
import { Dataset } from './dataset';
import { Generator } from './generator';

export type Collate<T, B> = (samples: T[]) => B;

export interface DataLoaderOptions<T = any, B = any> {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** A new random order every pass (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** The generator that orders the samples (default: a new one, seeded by `seed`). */
  generator?: Generator;
  /** Seed of the loader's own generator (default: drawn from the global generator). */
  seed?: number | bigint;
  /** Turns a list of samples into a batch (default: defaultCollate). */
  collate?: Collate<T, B>;
  /** Prepare the next batch while the current one is in use (async iteration; default true). */
  prefetch?: boolean;
}

/**
 * Stacks samples the way PyTorch's default_collate does: tensors are stacked along a new first
 * dim; numbers become a tensor (int64 when all are integers, else float32); booleans a bool
 * tensor; arrays and plain objects are collated position by position / key by key.
 */
export function defaultCollate(samples: any[]): any {
  if (!Array.isArray(samples) || samples.length === 0) fail('ERR_ARGUMENT', 'defaultCollate', 'a non-empty array of samples', describe(samples));
  const first = samples[0];
  if (first instanceof Tensor) return noGrad(() => stack(samples as Tensor[], 0));
  if (typeof first === 'number') {
    const allInt = samples.every((v) => Number.isInteger(v));
    return allInt ? tensor(BigInt64Array.from(samples, (v: number) => BigInt(v))) : tensor(Float32Array.from(samples));
  }
  if (typeof first === 'boolean') return tensor(samples as boolean[]);
  if (typeof first === 'string') return samples.slice();
  if (Array.isArray(first)) {
    for (const s of samples)
      if (!Array.isArray(s) || s.length !== first.length)
        fail('ERR_ARGUMENT', 'defaultCollate', `samples that are arrays of ${first.length} elements`, describe(s));
    return first.map((_, i) => defaultCollate(samples.map((s) => s[i])));
  }
  if (first !== null && typeof first === 'object') {
    const out: Record<string, any> = {};
    for (const k of Object.keys(first)) out[k] = defaultCollate(samples.map((s) => s[k]));
    return out;
  }
  return fail('ERR_ARGUMENT', 'defaultCollate', 'tensors, numbers, booleans, strings, arrays or objects', describe(first));
}

export class DataLoader<T = any, B = any> implements Iterable<B>, AsyncIterable<B> {
  readonly dataset: Dataset<T>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator;
  readonly prefetch: boolean;
  private readonly collate: Collate<T, B> | null;

  constructor(dataset: Dataset<T>, options: DataLoaderOptions<T, B> = {}) {
    if (dataset === null || typeof dataset !== 'object' || typeof (dataset as any).getItem !== 'function')
      fail('ERR_ARGUMENT', 'DataLoader', 'a Dataset (an object with getItem and length)', describe(dataset));
    const bs = options.batchSize ?? 1;
    if (!Number.isInteger(bs) || bs < 1) fail('ERR_ARGUMENT', 'DataLoader', 'a positive integer batchSize', describe(bs));
    if (options.collate !== undefined && typeof options.collate !== 'function')
      fail('ERR_ARGUMENT', 'DataLoader', 'a collate function', describe(options.collate));
    this.dataset = dataset;
    this.batchSize = bs;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.generator = options.generator ?? new Generator(options.seed);
    this.prefetch = options.prefetch ?? true;
    this.collate = options.collate ?? null;
  }

  /** Batches per pass. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * True when every batch is built fresh by the loader (default collate), so a consumer such as
   * dt.fit may dispose it once used.
   */
  get ownsBatches(): boolean {
    return this.collate === null;
  }

  /** The sample order of one pass (draws a permutation when shuffling). */
  sampleOrder(): number[] {
    const n = this.dataset.length;
    return this.shuffle ? this.generator.permutation(n) : Array.from({ length: n }, (_, i) => i);
  }

  /** The index lists of one pass, one per batch. */
  batchIndices(): number[][] {
    const order = this.sampleOrder();
    const out: number[][] = [];
    for (let i = 0; i < order.length; i += this.batchSize) {
      const b = order.slice(i, i + this.batchSize);
      if (b.length < this.batchSize && this.dropLast) break;
      out.push(b);
    }
    return out;
  }

  /** Builds the batch for `indices` (a Promise when the dataset answers asynchronously). */
  fetch(indices: readonly number[]): B | Promise<B> {
    const ds = this.dataset;
    if (this.collate === null && typeof ds.getBatch === 'function') return ds.getBatch(indices) as unknown as B;
    const samples = indices.map((i) => ds.getItem(i));
    const collate = this.collate ?? (defaultCollate as Collate<T, B>);
    if (samples.some((s) => s instanceof Promise)) return Promise.all(samples).then((s) => collate(s));
    return collate(samples);
  }

  *[Symbol.iterator](): Iterator<B> {
    for (const indices of this.batchIndices()) {
      const b = this.fetch(indices);
      if (b instanceof Promise) fail('ERR_ARGUMENT', 'DataLoader', 'a synchronous dataset for for...of (use for await...of)', 'a Promise from getItem');
      yield b;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<B> {
    const batches = this.batchIndices();
    if (batches.length === 0) return;
    let next: B | Promise<B> | null = this.fetch(batches[0]);
    try {
      for (let i = 0; i < batches.length; i++) {
        const current: B = await next!;
        next = null;
        if (this.prefetch && i + 1 < batches.length) {
          next = this.fetch(batches[i + 1]);
          // A batch that is never awaited (the consumer broke out) must not surface as an
          // unhandled rejection.
          if (next instanceof Promise) next.catch(() => undefined);
        }
        yield current;
        if (!this.prefetch && i + 1 < batches.length) next = this.fetch(batches[i + 1]);
      }
    } finally {
      // The consumer stopped early: free the batch prepared for it, when it is ours to free.
      if (next !== null && this.ownsBatches) {
        const pending = next;
        next = null;
        Promise.resolve(pending).then(disposeBatch, () => undefined);
      }
    }
  }
}

/** Disposes every tensor in a batch (arrays and plain objects, nested). */
export function disposeBatch(batch: unknown): void {
  if (batch instanceof Tensor) batch.dispose();
  else if (Array.isArray(batch)) batch.forEach(disposeBatch);
  else if (batch !== null && typeof batch === 'object' && Object.getPrototypeOf(batch) === Object.prototype)
    Object.values(batch).forEach(disposeBatch);
}

// nn.Embedding: a learnable lookup table, PyTorch's options and initialisation (N(0, 1), the
// paddingIdx row zero).
import { describe, fail, fmtShape } from '../errors';
import { Tensor } from '../tensor';
import type { DType } from '../dtype';
import { noGrad } from '../autograd/node';
import { Module, Parameter } from './module';
import { normal_ } from './init';
import { empty } from '../ops/creation';
import { embedding, normalizePaddingIdx } from '../ops/embedding';

export interface EmbeddingModuleOptions {
  paddingIdx?: number | null;
  maxNorm?: number | null;
  normType?: number;
  dtype?: DType;
}

export class Embedding extends Module {
  weight: Tensor;
  readonly paddingIdx: number | null;
  readonly maxNorm: number | null;
  readonly normType: number;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingModuleOptions = {}) {
    super();
    for (const [n, v] of [['numEmbeddings', numEmbeddings], ['embeddingDim', embeddingDim]] as const)
      if (!Number.isInteger(v) || v < 0) fail('ERR_ARGUMENT', 'Embedding', `a non-negative integer ${n}`, describe(v));
    this.paddingIdx = normalizePaddingIdx(options.paddingIdx, numEmbeddings, 'Embedding');
    this.maxNorm = options.maxNorm ?? null;
    this.normType = options.normType ?? 2;
    this.weight = Parameter(empty([numEmbeddings, embeddingDim], { dtype: options.dtype }));
    this.resetParameters();
  }

  resetParameters(): void {
    normal_(this.weight);
    this.zeroPaddingRow();
  }

  private zeroPaddingRow(): void {
    if (this.paddingIdx === null) return;
    noGrad(() => {
      const row = this.weight.select(0, this.paddingIdx!);
      row.fill_(0);
      row.dispose();
    });
  }

  /** input: int32/int64 indices of any shape → input.shape + [embeddingDim]. */
  forward(input: Tensor): Tensor {
    return embedding(input, this.weight, { paddingIdx: this.paddingIdx, maxNorm: this.maxNorm, normType: this.normType });
  }

  /** An Embedding over a copy of `embeddings` (frozen unless freeze: false), as from_pretrained. */
  static fromPretrained(embeddings: Tensor, options: EmbeddingModuleOptions & { freeze?: boolean } = {}): Embedding {
    if (!(embeddings instanceof Tensor) || embeddings.ndim !== 2)
      fail('ERR_SHAPE', 'Embedding.fromPretrained', 'a 2-D tensor of embeddings', embeddings instanceof Tensor ? fmtShape(embeddings.shape) : describe(embeddings));
    const [V, E] = embeddings.shape;
    const m = new Embedding(V, E, { ...options, dtype: embeddings.dtype });
    noGrad(() => m.weight.copy_(embeddings));
    m.weight.requiresGrad = !(options.freeze ?? true);
    return m;
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, paddingIdx=${this.paddingIdx}`;
    if (this.maxNorm !== null) s += `, maxNorm=${this.maxNorm}`;
    return s;
  }
}

// Recurrent modules with PyTorch's options, parameter names and layouts (weight_ih_l0,
// weight_hh_l0_reverse, ...; gate order i,f,g,o for LSTM and r,z,n for GRU) and initialisation
// U(-1/sqrt(hidden), 1/sqrt(hidden)), so a PyTorch state dict loads unchanged.
//
// Keras mapping: `return_sequences=True` is `output` (every step); `return_sequences=False` is
// the last step, `output.select(1, -1)` with batchFirst (or h_n[-1] for a unidirectional net);
// `TimeDistributed(Dense)` is a Linear applied to the (N, T, F) output directly.
import { describe, fail } from '../errors';
import { Tensor } from '../tensor';
import type { DType } from '../dtype';
import { Module, Parameter } from './module';
import { uniform_ } from './init';
import { empty } from '../ops/creation';
import * as R from '../ops/rnn';

export interface RNNBaseOptions {
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  dropout?: number;
  bidirectional?: boolean;
  dtype?: DType;
}

export interface RecurrentForwardOptions {
  /** Valid steps per batch row (padded steps neither update the state nor reach the output). */
  lengths?: number[] | Tensor | null;
}

function checkSize(v: unknown, what: string, op: string, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail('ERR_ARGUMENT', op, `an integer ${what} >= ${min}`, describe(v));
  return v;
}

/** True when a forward argument in the state position is really the options object. */
function isOptions(v: unknown): v is RecurrentForwardOptions {
  return v !== null && typeof v === 'object' && !(v instanceof Tensor) && !Array.isArray(v);
}

abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;

  constructor(protected readonly mode: R.RnnMode, readonly inputSize: number, readonly hiddenSize: number, options: RNNBaseOptions) {
    super();
    const op = this.constructor.name;
    checkSize(inputSize, 'inputSize', op, 0);
    checkSize(hiddenSize, 'hiddenSize', op);
    this.numLayers = checkSize(options.numLayers ?? 1, 'numLayers', op);
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.bidirectional = options.bidirectional ?? false;
    const p = options.dropout ?? 0;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('ERR_ARGUMENT', op, 'a dropout probability in [0, 1]', describe(p));
    this.dropout = p;
    const G = R.gateCount(mode);
    const D = this.bidirectional ? 2 : 1;
    for (let l = 0; l < this.numLayers; l++)
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const inSize = l === 0 ? inputSize : hiddenSize * D;
        const self = this as any;
        self[`weight_ih${sfx}`] = Parameter(empty([G * hiddenSize, inSize], { dtype: options.dtype }));
        self[`weight_hh${sfx}`] = Parameter(empty([G * hiddenSize, hiddenSize], { dtype: options.dtype }));
        if (this.bias) {
          self[`bias_ih${sfx}`] = Parameter(empty([G * hiddenSize], { dtype: options.dtype }));
          self[`bias_hh${sfx}`] = Parameter(empty([G * hiddenSize], { dtype: options.dtype }));
        }
      }
    this.resetParameters();
  }

  /** PyTorch's default: every parameter from U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)). */
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters(false)) uniform_(p, -bound, bound);
  }

  /** The parameters in PyTorch's _flat_weights order, the `params` argument of F.lstm / F.gru / F.rnn. */
  get flatWeights(): Tensor[] {
    return this.parameters(false);
  }

  protected options(options: RecurrentForwardOptions): R.ElmanOptions {
    return {
      numLayers: this.numLayers, bias: this.bias, batchFirst: this.batchFirst, bidirectional: this.bidirectional,
      dropout: this.dropout, training: this.training, lengths: options.lengths ?? null,
      nonlinearity: this.mode === 'rnnRelu' ? 'relu' : 'tanh',
    };
  }

  override extraRepr(): string {
    const parts = [`${this.inputSize}, ${this.hiddenSize}`];
    if (this.numLayers !== 1) parts.push(`numLayers=${this.numLayers}`);
    if (this.mode === 'rnnRelu') parts.push(`nonlinearity='relu'`);
    if (!this.bias) parts.push('bias=false');
    if (this.batchFirst) parts.push('batchFirst=true');
    if (this.dropout) parts.push(`dropout=${this.dropout}`);
    if (this.bidirectional) parts.push('bidirectional=true');
    return parts.join(', ');
  }
}

/**
 * nn.LSTM(inputSize, hiddenSize, { numLayers, bias, batchFirst, dropout, bidirectional }).
 * forward(x, [h0, c0]?, { lengths }?) → [output, [h_n, c_n]]; output (T, N, D·H) or (N, T, D·H)
 * with batchFirst, h_n and c_n (numLayers·D, N, H).
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNBaseOptions = {}) {
    super('lstm', inputSize, hiddenSize, options);
  }
  forward(x: Tensor, hx?: R.LstmState | null | RecurrentForwardOptions, options: RecurrentForwardOptions = {}): [Tensor, R.LstmState] {
    if (isOptions(hx)) return R.lstm(x, null, this.flatWeights, this.options(hx));
    return R.lstm(x, hx ?? null, this.flatWeights, this.options(options));
  }
}

/** nn.GRU(inputSize, hiddenSize, options): forward(x, h0?, { lengths }?) → [output, h_n]. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNBaseOptions = {}) {
    super('gru', inputSize, hiddenSize, options);
  }
  forward(x: Tensor, hx?: Tensor | null | RecurrentForwardOptions, options: RecurrentForwardOptions = {}): [Tensor, Tensor] {
    if (isOptions(hx)) return R.gru(x, null, this.flatWeights, this.options(hx));
    return R.gru(x, hx ?? null, this.flatWeights, this.options(options));
  }
}

export interface ElmanRNNOptions extends RNNBaseOptions {
  nonlinearity?: 'tanh' | 'relu';
}

/** nn.RNN(inputSize, hiddenSize, { nonlinearity: 'tanh' | 'relu', ... }): forward(x, h0?) → [output, h_n]. */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, options: ElmanRNNOptions = {}) {
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') fail('ERR_ARGUMENT', 'RNN', "nonlinearity 'tanh' or 'relu'", describe(nl));
    super(nl === 'relu' ? 'rnnRelu' : 'rnnTanh', inputSize, hiddenSize, options);
    this.nonlinearity = nl;
  }
  forward(x: Tensor, hx?: Tensor | null | RecurrentForwardOptions, options: RecurrentForwardOptions = {}): [Tensor, Tensor] {
    if (isOptions(hx)) return R.rnn(x, null, this.flatWeights, this.options(hx));
    return R.rnn(x, hx ?? null, this.flatWeights, this.options(options));
  }
}

// ---- cells ---------------------------------------------------------------------------------

abstract class RNNCellBase extends Module {
  weight_ih: Tensor;
  weight_hh: Tensor;
  bias_ih: Tensor | null;
  bias_hh: Tensor | null;
  constructor(readonly inputSize: number, readonly hiddenSize: number, gates: number, options: { bias?: boolean; dtype?: DType }) {
    super();
    const op = this.constructor.name;
    checkSize(inputSize, 'inputSize', op, 0);
    checkSize(hiddenSize, 'hiddenSize', op);
    this.weight_ih = Parameter(empty([gates * hiddenSize, inputSize], { dtype: options.dtype }));
    this.weight_hh = Parameter(empty([gates * hiddenSize, hiddenSize], { dtype: options.dtype }));
    const bias = options.bias ?? true;
    this.bias_ih = bias ? Parameter(empty([gates * hiddenSize], { dtype: options.dtype })) : null;
    this.bias_hh = bias ? Parameter(empty([gates * hiddenSize], { dtype: options.dtype })) : null;
    this.resetParameters();
  }
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters(false)) uniform_(p, -bound, bound);
  }
  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias_ih ? '' : ', bias=false'}`;
  }
}

/** nn.LSTMCell(inputSize, hiddenSize, { bias }): forward(x (N, I) or (I), [h, c]?) → [h', c']. */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: { bias?: boolean; dtype?: DType } = {}) {
    super(inputSize, hiddenSize, 4, options);
  }
  forward(x: Tensor, hx?: R.LstmState | null): R.LstmState {
    return R.lstmCell(x, hx, this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh);
  }
}

/** nn.GRUCell(inputSize, hiddenSize, { bias }): forward(x, h?) → h'. */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: { bias?: boolean; dtype?: DType } = {}) {
    super(inputSize, hiddenSize, 3, options);
  }
  forward(x: Tensor, hx?: Tensor | null): Tensor {
    return R.gruCell(x, hx, this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh);
  }
}

/** nn.RNNCell(inputSize, hiddenSize, { bias, nonlinearity }): forward(x, h?) → h'. */
export class RNNCell extends RNNCellBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, options: { bias?: boolean; nonlinearity?: 'tanh' | 'relu'; dtype?: DType } = {}) {
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') fail('ERR_ARGUMENT', 'RNNCell', "nonlinearity 'tanh' or 'relu'", describe(nl));
    super(inputSize, hiddenSize, 1, options);
    this.nonlinearity = nl;
  }
  forward(x: Tensor, hx?: Tensor | null): Tensor {
    return R.rnnCell(x, hx, this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh, { nonlinearity: this.nonlinearity });
  }
}

// Basic layers: Linear, Identity, Flatten, Unflatten and the activation modules, with
// PyTorch's parameter names, shapes and default initialisation.
import { fail } from '../errors';
import { Tensor } from '../tensor';
import { Module, Parameter } from './module';
import { kaimingUniform_, uniform_, calculateFans } from './init';
import { empty } from '../ops/creation';
import * as A from '../ops/activation';
import type { DType } from '../dtype';

export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: { bias?: boolean; dtype?: DType } = {}) {
    super();
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const)
      if (!Number.isInteger(v) || v < 0) fail('ERR_ARGUMENT', 'Linear', `a non-negative integer ${n}`, String(v));
    this.weight = Parameter(empty([outFeatures, inFeatures], { dtype: options.dtype }));
    this.bias = options.bias === false ? null : Parameter(empty([outFeatures], { dtype: options.dtype }));
    this.resetParameters();
  }
  /** PyTorch's default: kaiming_uniform(a=sqrt(5)) for the weight, U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for the bias. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const fanIn = this.inFeatures > 0 ? calculateFans(this.weight)[0] : 0;
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }
  forward(x: Tensor): Tensor {
    const y = x.matmul(this.weight.t());
    return this.bias ? y.add(this.bias) : y;
  }
  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}

export class Unflatten extends Module {
  constructor(readonly dim: number, readonly unflattenedSize: number[]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.unflatten(this.dim, this.unflattenedSize);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return A.relu(x);
  }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.leakyRelu(x, this.negativeSlope);
  }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return A.sigmoid(x);
  }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return A.tanh(x);
  }
}
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.gelu(x, { approximate: this.approximate });
  }
}
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return A.silu(x);
  }
}
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.elu(x, this.alpha);
  }
}
export class Softplus extends Module {
  constructor(readonly beta = 1, readonly threshold = 20) {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.softplus(x, { beta: this.beta, threshold: this.threshold });
  }
}
export class Hardtanh extends Module {
  constructor(readonly minVal = -1, readonly maxVal = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.hardtanh(x, this.minVal, this.maxVal);
  }
}
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.softmax(x, this.dim);
  }
}
export class LogSoftmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.logSoftmax(x, this.dim);
  }
}

// dt.summary(model, inputShape): runs one forward pass on zeros of inputShape (batch included),
// under noGrad and in eval mode (so no running statistic moves), with every sub-module's
// forward wrapped to observe what it returns. Each leaf module call (and each module that owns
// parameters directly) becomes a row: name, type, output shape, parameters, MACs, FLOPs (2 ×
// MACs), activation bytes and receptive field. Layer families teach it their arithmetic through
// registerSummaryRule(className, rule); Linear, Flatten and the activations are registered here.
//
// The receptive field is tracked along the order in which layers run (exact for chains such as
// Sequential models; for branching models it follows the execution order): a layer with kernel
// k, stride s and dilation d grows it by (k - 1)·d·jump and multiplies the jump by s; a global
// layer (Flatten of spatial dims, global pooling) makes it the whole input. It is null for inputs
// without spatial dims (ndim <= 2).
import { describe, fail } from '../errors';
import { ITEMSIZE, type DType } from '../dtype';
import { Tensor, tidy } from '../tensor';
import { noGrad } from '../autograd/node';
import { zeros } from '../ops/creation';
import { Module } from '../nn/module';

export type PerDim = number | number[];

export interface LayerRule {
  /** Multiply-accumulates of one call. */
  macs?(module: Module, inputs: unknown[], output: unknown): number;
  /**
   * How outputs map to input positions along the spatial dims: a kernel (with stride and
   * dilation, default 1), or 'global' when every output sees the whole input. Leave it out for
   * layers that act per position (activations, Linear on features).
   */
  receptiveField?(module: Module, inputs: unknown[], output: unknown): { kernel: PerDim; stride?: PerDim; dilation?: PerDim } | 'global' | null;
}

const rules = new Map<string, LayerRule>();

/** Registers (or replaces) the summary arithmetic of a layer class, by class name. */
export function registerSummaryRule(className: string, rule: LayerRule): void {
  if (typeof className !== 'string' || className === '') fail('ERR_ARGUMENT', 'registerSummaryRule', 'a class name', describe(className));
  if (rule === null || typeof rule !== 'object') fail('ERR_ARGUMENT', 'registerSummaryRule', 'a rule { macs?, receptiveField? }', describe(rule));
  rules.set(className, rule);
}

/** The rule of m's class, or of its nearest registered base class. */
function ruleFor(m: Module): LayerRule | undefined {
  for (let proto = Object.getPrototypeOf(m); proto && proto !== Module.prototype; proto = Object.getPrototypeOf(proto)) {
    const r = rules.get(proto.constructor.name);
    if (r) return r;
  }
  return undefined;
}

export interface LayerSummary {
  name: string;
  type: string;
  /** The output's shape; for several outputs (e.g. RNNs), the list of their shapes. */
  outputShape: number[] | number[][];
  params: number;
  /** Whether every parameter of the layer trains (true for layers without parameters). */
  trainable: boolean;
  macs: number;
  flops: number;
  activationBytes: number;
  /** Input positions (per spatial dim) one output element depends on; null without spatial dims. */
  receptiveField: number | number[] | null;
}

export class ModelSummary {
  constructor(
    readonly model: string,
    readonly inputShape: number[] | number[][],
    readonly layers: LayerSummary[],
    readonly totalParams: number,
    readonly trainableParams: number,
    readonly frozenParams: number,
    readonly paramBytes: number,
    readonly macs: number,
    readonly flops: number,
    readonly activationBytes: number,
  ) {}

  /** A Keras-like table with the totals below it. */
  toString(): string {
    const head = ['Layer (type)', 'Output Shape', 'Param #', 'MACs', 'Activations', 'RF'];
    const rows = this.layers.map((l) => [
      `${l.name} (${l.type})`,
      shapeText(l.outputShape),
      count(l.params) + (l.params > 0 && !l.trainable ? ' (frozen)' : ''),
      count(l.macs),
      bytes(l.activationBytes),
      l.receptiveField === null ? '-' : Array.isArray(l.receptiveField) ? l.receptiveField.join('x') : String(l.receptiveField),
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('   ').trimEnd();
    const total = widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1);
    const out = [
      `Model: "${this.model}"`,
      '_'.repeat(total),
      line(head),
      '='.repeat(total),
      ...rows.map(line),
      '='.repeat(total),
      `Total params: ${count(this.totalParams)} (${bytes(this.paramBytes)})`,
      `Trainable params: ${count(this.trainableParams)}`,
      `Non-trainable params: ${count(this.frozenParams)}`,
      `Forward MACs: ${count(this.macs)} (FLOPs: ${count(this.flops)})`,
      `Activation memory: ${bytes(this.activationBytes)} for input ${shapeText(this.inputShape)}`,
      '_'.repeat(total),
    ];
    return out.join('\n');
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

const count = (n: number): string => n.toLocaleString('en-US');
const shapeText = (s: number[] | number[][]): string =>
  s.length > 0 && Array.isArray(s[0]) ? (s as number[][]).map((x) => `[${x.join(', ')}]`).join(', ') : `[${(s as number[]).join(', ')}]`;
function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n, u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(2)} ${units[u]}`;
}

/** Every tensor in a module's output (arrays nested, as RNNs return). */
function tensorsIn(v: unknown, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) for (const x of v) tensorsIn(x, out);
  return out;
}

export interface SummaryOptions {
  /** dtype of the zero input (default float32; int64 for models that start with an embedding). */
  dtype?: DType;
}

function checkShape(s: unknown): number[] {
  if (!Array.isArray(s) || s.length === 0 || !s.every((d) => Number.isInteger(d) && d > 0))
    fail('ERR_SHAPE', 'summary', 'an input shape of positive integers, batch first (e.g. [1, 3, 32, 32])', describe(s));
  return s as number[];
}

/**
 * Runs `model` once on zeros of `inputShape` (or of each shape, for several inputs) and returns
 * its layers, parameter counts and forward cost. `console.log(summary)` prints the table.
 */
export function summary(model: Module, inputShape: number[] | number[][], options: SummaryOptions = {}): ModelSummary {
  if (!(model instanceof Module)) fail('ERR_ARGUMENT', 'summary', 'an nn.Module', describe(model));
  const shapes = Array.isArray(inputShape) && Array.isArray(inputShape[0]) ? (inputShape as number[][]).map(checkShape) : [checkShape(inputShape)];
  const first = shapes[0];
  const spatial = first.length > 2 ? first.slice(2) : null;
  let rf = spatial ? spatial.map(() => 1) : null;
  let jump = spatial ? spatial.map(() => 1) : null;
  const perDim = (v: PerDim | undefined, dflt: number): number[] => {
    const n = spatial!.length;
    if (v === undefined) return new Array(n).fill(dflt);
    return Array.isArray(v) ? v : new Array(n).fill(v);
  };

  const named = model.namedModules();
  const names = new Map<Module, string>(named.map(([n, m]) => [m, n]));
  const layers: LayerSummary[] = [];
  const counted = new Set<Module>();
  const seen = new Set<Tensor>();
  const training = named.map(([, m]) => m.training);
  const patched: [Module, PropertyDescriptor | undefined][] = [];

  const onCall = (m: Module, inputs: unknown[], output: unknown) => {
    const isLeaf = m.namedChildren().length === 0;
    const own = m.parameters(false);
    if (!isLeaf && own.length === 0) return;
    const rule = ruleFor(m);
    const params = counted.has(m) ? 0 : own.reduce((a, p) => a + p.numel(), 0);
    counted.add(m);
    const outs = tensorsIn(output);
    let activationBytes = 0;
    for (const t of outs) {
      if (seen.has(t)) continue;
      seen.add(t);
      activationBytes += t.numel() * ITEMSIZE[t.dtype];
    }
    if (rf && jump && spatial) {
      const r = rule?.receptiveField?.(m, inputs, output) ?? null;
      if (r === 'global') rf = rf.map((v, d) => Math.max(v, spatial[d]));
      else if (r !== null) {
        const k = perDim(r.kernel, 1), s = perDim(r.stride, 1), dil = perDim(r.dilation, 1);
        rf = rf.map((v, d) => v + (k[d] - 1) * dil[d] * jump![d]);
        jump = jump.map((j, d) => j * s[d]);
      }
    }
    const macs = rule?.macs?.(m, inputs, output) ?? 0;
    layers.push({
      name: names.get(m) || '(model)',
      type: m.constructor.name,
      outputShape: outs.length === 1 && output instanceof Tensor ? outs[0].shape.slice() : outs.map((t) => t.shape.slice()),
      params,
      trainable: own.every((p) => p.requiresGrad),
      macs,
      flops: 2 * macs,
      activationBytes,
      // After a transposed conv the step between outputs is a fraction of an input pixel, so the
      // field can be fractional in between; a field covers whole input pixels.
      receptiveField: rf === null ? null : rf.every((v) => v === rf![0]) ? Math.ceil(rf[0] - 1e-9) : rf.map((v) => Math.ceil(v - 1e-9)),
    });
  };

  try {
    for (const [, m] of named) {
      patched.push([m, Object.getOwnPropertyDescriptor(m, 'forward')]);
      const original = m.forward;
      Object.defineProperty(m, 'forward', {
        configurable: true,
        writable: true,
        enumerable: false,
        value: function (this: Module, ...args: unknown[]) {
          const out = original.apply(this, args);
          onCall(m, args, out);
          return out;
        },
      });
    }
    model.eval();
    // tidy frees the input, the outputs and every intermediate of the pass.
    tidy(() =>
      noGrad(() => {
        model.forward(...shapes.map((s) => zeros(s, { dtype: options.dtype ?? 'float32' })));
      }),
    );
  } finally {
    for (const [m, desc] of patched) {
      if (desc) Object.defineProperty(m, 'forward', desc);
      else delete (m as any).forward;
    }
    named.forEach(([, m], i) => (m.training = training[i]));
  }

  let total = 0, trainable = 0, paramBytes = 0;
  for (const p of model.parameters()) {
    total += p.numel();
    if (p.requiresGrad) trainable += p.numel();
    paramBytes += p.numel() * ITEMSIZE[p.dtype];
  }
  const macs = layers.reduce((a, l) => a + l.macs, 0);
  return new ModelSummary(
    model.constructor.name,
    shapes.length === 1 ? shapes[0] : shapes,
    layers,
    total,
    trainable,
    total - trainable,
    paramBytes,
    macs,
    2 * macs,
    layers.reduce((a, l) => a + l.activationBytes, 0),
  );
}

// ---- rules of the layers in lib/nn/layers.ts ---------------------------------------------

const outNumel = (output: unknown): number => tensorsIn(output).reduce((a, t) => a + t.numel(), 0);

registerSummaryRule('Linear', {
  // Each output element is a dot product over inFeatures (the bias add is not a MAC).
  macs: (m, _inputs, output) => outNumel(output) * (m as any).inFeatures,
});
registerSummaryRule('Flatten', {
  receptiveField: (m, inputs) => {
    const x = inputs[0];
    if (!(x instanceof Tensor) || x.ndim <= 2) return null;
    const start = (m as any).startDim < 0 ? (m as any).startDim + x.ndim : (m as any).startDim;
    const end = (m as any).endDim < 0 ? (m as any).endDim + x.ndim : (m as any).endDim;
    // Merging a spatial dim with the channels makes every later feature see the whole input.
    return start <= 1 && end >= 2 ? 'global' : null;
  },
});
for (const name of ['Identity', 'Unflatten', 'ReLU', 'LeakyReLU', 'Sigmoid', 'Tanh', 'GELU', 'SiLU', 'ELU', 'Softplus', 'Hardtanh', 'Softmax', 'LogSoftmax'])
  registerSummaryRule(name, { macs: () => 0 });

declare module '../nn/module' {
  interface Module {
    /** dt.summary(this, inputShape, options). */
    summary(inputShape: number[] | number[][], options?: SummaryOptions): ModelSummary;
  }
}
(Module.prototype as any).summary = function (this: Module, inputShape: number[] | number[][], options?: SummaryOptions) {
  return summary(this, inputShape, options);
};

// dt.fit, dt.evaluate, dt.predict: the training loop a course writes by hand, once.
//
// Each step runs inside tidy(): the forward graph, the loss and every temporary are freed when
// the step ends, so memory stays flat across epochs (parameters are kept by nn.Parameter and
// gradients by the autograd engine; optimizer state must be kept by the optimizer). Batches a
// DataLoader built itself (default collate) are disposed after their step.
import { describe, fail } from '../errors';
import { Tensor, tidy } from '../tensor';
import { noGrad } from '../autograd/node';
import { cat } from '../ops/join';
import { DataLoader, disposeBatch } from '../data/dataloader';
import { Dataset, TensorDataset } from '../data/dataset';
import { History } from './history';
import { resolveMetric, type Metric, type MetricSpec } from './metrics';
import { EpochProgress, resolveVerbosity, type OutputStream, type Verbosity } from './progress';
import { SchedulerStep, type Callback, type TrainContext } from './callbacks';
import { valKey } from './plot';
import { parseDevice } from '../device';
import type { Device } from '../storage';

export type LossFn = (pred: Tensor, target: Tensor) => Tensor;
export type LossSpec = LossFn | { forward(pred: Tensor, target: Tensor): Tensor } | string;
export type Model = { forward(x: any): any; train?(mode?: boolean): unknown; eval?(): unknown; training?: boolean } | ((x: any) => any);

export interface Optimizer {
  step(): unknown;
  zeroGrad(options?: { setToNone?: boolean }): unknown;
  paramGroups?: { lr: number; [k: string]: unknown }[];
}

/** Validation data: a DataLoader (or any iterable of [x, y] batches), or tensors [x, y]. */
export type EvalData = Iterable<any> | AsyncIterable<any> | [Tensor, Tensor];

export interface FitOptions {
  optimizer: Optimizer;
  loss: LossSpec;
  epochs?: number;
  metrics?: MetricSpec[];
  validation?: EvalData;
  callbacks?: Callback[];
  /** A PyTorch-style LR scheduler, stepped after each epoch (ReduceLROnPlateau gets valLoss; OneCycleLR is stepped per batch). */
  scheduler?: { step(...args: any[]): unknown };
  /** When to step the scheduler: 'epoch' or 'step' (default: 'step' for OneCycleLR, else 'epoch'). */
  schedulerInterval?: 'epoch' | 'step';
  /** 'auto' (default: a bar on a TTY, one line per epoch otherwise), 'bar', 'lines', 'silent', or Keras's 0/1/2. */
  verbose?: Verbosity;
  /** Where progress goes (default process.stdout). */
  stream?: OutputStream;
  /** Stop each epoch after this many steps (quick runs, smoke tests). */
  stepsPerEpoch?: number;
  /** Start counting epochs here (resuming). */
  initialEpoch?: number;
  /** Batch size for validation given as tensors (default 256). */
  validationBatchSize?: number;
  /** Where batches are moved before the step (default: the device of the model's first parameter). */
  device?: Device;
}

export interface EvaluateOptions {
  loss?: LossSpec;
  metrics?: MetricSpec[];
  /** Stop after this many batches. */
  steps?: number;
  batchSize?: number;
  /** Where batches are moved (default: the device of the model's first parameter). */
  device?: Device;
}

// ---- helpers -----------------------------------------------------------------------------

const LOSS_ALIASES: Record<string, string> = {
  mse: 'mseLoss', mseloss: 'mseLoss', l1: 'l1Loss', mae: 'l1Loss', l1loss: 'l1Loss', crossentropy: 'crossEntropy',
  nll: 'nllLoss', nllloss: 'nllLoss', bce: 'binaryCrossEntropy', binarycrossentropy: 'binaryCrossEntropy',
  bcewithlogits: 'binaryCrossEntropyWithLogits', binarycrossentropywithlogits: 'binaryCrossEntropyWithLogits',
  smoothl1: 'smoothL1Loss', huber: 'huberLoss', kldiv: 'klDiv',
};

/** A loss function from a function, a loss module, or a name of dt.nn.functional ('crossEntropy', 'mse', ...). */
export function resolveLoss(spec: LossSpec, op: string): LossFn {
  if (typeof spec === 'function') return spec;
  if (spec !== null && typeof spec === 'object' && typeof (spec as any).forward === 'function') return (p, t) => (spec as any).forward(p, t);
  if (typeof spec === 'string') {
    const name = LOSS_ALIASES[spec.replace(/[_-]/g, '').toLowerCase()] ?? spec;
    // Looked up when called: the losses live in dt.nn.functional, filled by their own module.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const F = require('../index').F as Record<string, unknown>;
    const fn = F[name];
    if (typeof fn !== 'function') fail('ERR_ARGUMENT', op, `a loss function, a loss module or the name of one in dt.nn.functional`, `${JSON.stringify(spec)} (no F.${name} in this build)`);
    return fn as LossFn;
  }
  return fail('ERR_ARGUMENT', op, 'a loss function (pred, target) => Tensor, a loss module or a name', describe(spec));
}

/**
 * The device batches go to: options.device when given, else the device of the model's first
 * parameter (so `model.to('cuda')` is all a training loop needs), else the CPU.
 */
function deviceOf(model: Model, asked: Device | undefined, op: string): Device {
  if (asked !== undefined) return parseDevice(asked, op);
  const params = typeof model === 'object' && model !== null && typeof (model as any).parameters === 'function' ? (model as any).parameters() : [];
  return params.length > 0 && params[0] instanceof Tensor ? params[0].device : 'cpu';
}

/** x (a tensor, or arrays/objects of tensors) on `device`; tensors already there are returned as they are. */
function onDevice(x: any, device: Device): any {
  if (x instanceof Tensor) return x.device === device ? x : x.to(device);
  if (Array.isArray(x)) return x.map((v) => onDevice(v, device));
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype)
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, onDevice(v, device)]));
  return x;
}

function forwardOf(model: Model, op: string): (x: any) => any {
  if (typeof model === 'function') return model;
  if (model !== null && typeof model === 'object' && typeof model.forward === 'function') return (x) => model.forward(x);
  return fail('ERR_ARGUMENT', op, 'a Module or a function x => prediction', describe(model));
}

/** [input, target] of a batch: an array [x, y, ...] or an object { x, y } / { input, target }. */
function splitBatch(batch: any, op: string): [any, any] {
  if (Array.isArray(batch) && batch.length >= 2) return [batch[0], batch[1]];
  if (batch !== null && typeof batch === 'object' && !(batch instanceof Tensor)) {
    const x = batch.x ?? batch.input ?? batch.inputs;
    const y = batch.y ?? batch.target ?? batch.targets ?? batch.label ?? batch.labels;
    if (x !== undefined && y !== undefined) return [x, y];
  }
  return fail('ERR_ARGUMENT', op, 'batches [input, target] (or { x, y })', describe(batch));
}

function batchSizeOf(x: any): number {
  if (x instanceof Tensor) return x.ndim > 0 ? x.shape[0] : 1;
  if (Array.isArray(x) && x.length > 0) return batchSizeOf(x[0]);
  return 1;
}

function asIterable(data: EvalData, batchSize: number, op: string): Iterable<any> | AsyncIterable<any> {
  if (Array.isArray(data) && data.length === 2 && data[0] instanceof Tensor && data[1] instanceof Tensor)
    return new DataLoader(new TensorDataset(data[0], data[1]), { batchSize });
  if (data instanceof Dataset) return new DataLoader(data, { batchSize });
  if (data !== null && typeof data === 'object' && (Symbol.asyncIterator in data || Symbol.iterator in data)) return data as Iterable<any>;
  return fail('ERR_ARGUMENT', op, 'a DataLoader, an iterable of batches or tensors [x, y]', describe(data));
}

function ownsBatches(data: unknown): boolean {
  return data instanceof DataLoader && data.ownsBatches;
}

function setMode(model: Model, training: boolean): boolean | undefined {
  if (typeof model !== 'object' || model === null) return undefined;
  const before = model.training;
  if (training && typeof model.train === 'function') model.train(true);
  else if (!training && typeof model.eval === 'function') model.eval();
  return before;
}
function restoreMode(model: Model, before: boolean | undefined): void {
  if (before === undefined || typeof model !== 'object' || model === null || typeof model.train !== 'function') return;
  model.train(before);
}

async function* batchesOf(data: Iterable<any> | AsyncIterable<any>): AsyncGenerator<any> {
  if (Symbol.asyncIterator in data) yield* data as AsyncIterable<any>;
  else yield* data as Iterable<any>;
}

function metricLogs(metrics: Metric[], into: Record<string, number>, prefix = ''): void {
  for (const m of metrics) if (m.scalar !== false) into[prefix ? valKey(m.name) : m.name] = m.result();
}

// ---- fit ---------------------------------------------------------------------------------

/**
 * Trains `model` on the batches of `trainLoader` for `epochs` epochs and returns the History:
 * per epoch the mean loss and metrics over the epoch's samples, the same on `validation`
 * (keys valLoss, valAccuracy, ...) and the learning rate (lr) when the optimizer has one.
 */
export async function fit(model: Model, trainLoader: Iterable<any> | AsyncIterable<any>, options: FitOptions): Promise<History> {
  if (options === null || typeof options !== 'object') fail('ERR_ARGUMENT', 'fit', 'an options object { optimizer, loss, ... }', describe(options));
  const forward = forwardOf(model, 'fit');
  const optimizer = options.optimizer;
  if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.step !== 'function' || typeof optimizer.zeroGrad !== 'function')
    fail('ERR_ARGUMENT', 'fit', 'an optimizer with step() and zeroGrad()', describe(optimizer));
  const lossFn = resolveLoss(options.loss, 'fit');
  const epochs = options.epochs ?? 1;
  const initialEpoch = options.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 0) fail('ERR_ARGUMENT', 'fit', 'a non-negative integer epochs', describe(options.epochs));
  if (trainLoader === null || typeof trainLoader !== 'object' || !(Symbol.asyncIterator in trainLoader || Symbol.iterator in trainLoader))
    fail('ERR_ARGUMENT', 'fit', 'a DataLoader or an iterable of [input, target] batches', describe(trainLoader));
  const specs = options.metrics ?? [];
  const metrics = specs.map(resolveMetric);
  const callbacks = [...(options.callbacks ?? [])];
  if (options.scheduler) callbacks.push(new SchedulerStep(options.scheduler, { interval: options.schedulerInterval }));
  const validation = options.validation === undefined ? null : asIterable(options.validation, options.validationBatchSize ?? 256, 'fit');
  const stream = options.stream ?? process.stdout;
  const mode = resolveVerbosity(options.verbose, stream);
  const stepsPerEpoch = options.stepsPerEpoch ?? null;
  const loaderSteps = trainLoader instanceof DataLoader ? trainLoader.length : null;
  const steps = stepsPerEpoch !== null && loaderSteps !== null ? Math.min(stepsPerEpoch, loaderSteps) : stepsPerEpoch ?? loaderSteps;
  const freeBatches = ownsBatches(trainLoader);
  const device = deviceOf(model, options.device, 'fit');

  const history = new History();
  history.params = { epochs, steps, batchSize: trainLoader instanceof DataLoader ? trainLoader.batchSize : undefined, metrics: metrics.map((m) => m.name) };
  const ctx: TrainContext = { model, optimizer, history, stopTraining: false, epochs };
  const before = typeof model === 'object' ? model.training : undefined;
  for (const cb of callbacks) await cb.onTrainBegin?.(ctx);

  for (let e = initialEpoch; e < epochs && !ctx.stopTraining; e++) {
    const epoch = e + 1;
    setMode(model, true);
    for (const m of metrics) m.reset();
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch, ctx);
    const progress = new EpochProgress(stream, mode, epoch, epochs, steps);
    let lossSum = 0, samples = 0, step = 0;
    const batchLogs: Record<string, number> = {};
    for await (const batch of batchesOf(trainLoader)) {
      const [x, y] = splitBatch(batch, 'fit');
      const n = batchSizeOf(x);
      let lossValue: number;
      try {
        lossValue = tidy(() => {
          optimizer.zeroGrad();
          const xd = onDevice(x, device), yd = onDevice(y, device);
          const pred = forward(xd);
          const loss = lossFn(pred, yd);
          if (!(loss instanceof Tensor) || loss.numel() !== 1) fail('ERR_SHAPE', 'fit', 'a loss that is one number (a 0-d tensor)', describe(loss));
          loss.backward();
          optimizer.step();
          noGrad(() => {
            for (const m of metrics) m.update(pred, yd);
          });
          return Number(loss.item());
        });
      } finally {
        if (freeBatches) disposeBatch(batch);
      }
      lossSum += lossValue * n;
      samples += n;
      step++;
      batchLogs.loss = lossSum / samples;
      metricLogs(metrics, batchLogs);
      for (const cb of callbacks) await cb.onBatchEnd?.(step, batchLogs, ctx);
      progress.update(step, samples, batchLogs);
      if (stepsPerEpoch !== null && step >= stepsPerEpoch) break;
    }
    const logs: Record<string, number> = { loss: samples > 0 ? lossSum / samples : NaN };
    metricLogs(metrics, logs);
    if (validation !== null) {
      const v = await evaluate(model, validation, { device, loss: lossFn, metrics: specs.map((s) => (typeof s === 'object' ? cloneMetric(s) : s)) });
      for (const [k, val] of Object.entries(v)) if (typeof val === 'number') logs[valKey(k)] = val;
    }
    const lr = optimizer.paramGroups?.[0]?.lr;
    for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs, ctx);
    if (typeof lr === 'number') logs.lr = lr;
    history.record(epoch, logs);
    progress.finish(step, samples, logs);
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(ctx);
  if (typeof model === 'object') restoreMode(model, before);
  return history;
}

/** A fresh metric of the same kind as m for validation (its own counts), when it can be made. */
function cloneMetric(m: Metric): Metric {
  const fresh = Object.create(Object.getPrototypeOf(m));
  Object.assign(fresh, m);
  for (const [k, v] of Object.entries(m)) if (ArrayBuffer.isView(v)) (fresh as any)[k] = (v as Float64Array).slice();
  fresh.reset();
  return fresh;
}

// ---- evaluate / predict ------------------------------------------------------------------

/**
 * The mean loss (when `loss` is given) and metrics of `model` over `data`, in eval mode without
 * gradients: `{ loss, accuracy, ... }` (a confusion matrix comes back as rows of counts).
 */
export async function evaluate(model: Model, data: EvalData, options: EvaluateOptions = {}): Promise<Record<string, any>> {
  const forward = forwardOf(model, 'evaluate');
  const lossFn = options.loss === undefined ? null : resolveLoss(options.loss, 'evaluate');
  const metrics = (options.metrics ?? []).map(resolveMetric);
  for (const m of metrics) m.reset();
  const iterable = asIterable(data, options.batchSize ?? 256, 'evaluate');
  const freeBatches = ownsBatches(iterable);
  const device = deviceOf(model, options.device, 'evaluate');
  const before = setMode(model, false);
  let lossSum = 0, samples = 0, step = 0;
  try {
    for await (const batch of batchesOf(iterable)) {
      const [x, y] = splitBatch(batch, 'evaluate');
      const n = batchSizeOf(x);
      try {
        lossSum += noGrad(() =>
          tidy(() => {
            const xd = onDevice(x, device), yd = onDevice(y, device);
            const pred = forward(xd);
            for (const m of metrics) m.update(pred, yd);
            return lossFn ? Number(lossFn(pred, yd).item()) * n : 0;
          }),
        );
      } finally {
        if (freeBatches) disposeBatch(batch);
      }
      samples += n;
      if (options.steps !== undefined && ++step >= options.steps) break;
    }
  } finally {
    restoreMode(model, before);
  }
  const out: Record<string, any> = {};
  if (lossFn) out.loss = samples > 0 ? lossSum / samples : NaN;
  for (const m of metrics) out[m.name] = m.result();
  return out;
}

/**
 * The model's outputs for every sample of `data`, concatenated along the first dim: `data` is
 * an input tensor (cut into batches of batchSize), a DataLoader / iterable of batches ([x, y]
 * or x) or a Dataset. Eval mode, no gradients.
 */
export async function predict(model: Model, data: Tensor | Iterable<any> | AsyncIterable<any> | Dataset<any>, options: { batchSize?: number; device?: Device } = {}): Promise<Tensor> {
  const forward = forwardOf(model, 'predict');
  const device = deviceOf(model, options.device, 'predict');
  const batchSize = options.batchSize ?? 256;
  let iterable: Iterable<any> | AsyncIterable<any>;
  if (data instanceof Tensor) {
    data.assertLive('predict');
    const n = data.shape[0];
    iterable = (function* () {
      for (let i = 0; i < n; i += batchSize) yield data.narrow(0, i, Math.min(batchSize, n - i));
    })();
  } else iterable = asIterable(data as EvalData, batchSize, 'predict');
  const freeBatches = data instanceof Tensor || ownsBatches(iterable);
  const before = setMode(model, false);
  const outputs: Tensor[] = [];
  try {
    for await (const batch of batchesOf(iterable)) {
      const x = batch instanceof Tensor ? batch : Array.isArray(batch) ? batch[0] : splitBatch(batch, 'predict')[0];
      try {
        outputs.push(noGrad(() => tidy(() => forward(onDevice(x, device)))));
      } finally {
        if (freeBatches) disposeBatch(batch);
      }
    }
  } finally {
    restoreMode(model, before);
  }
  if (outputs.length === 0) fail('ERR_ARGUMENT', 'predict', 'at least one sample', 'empty data');
  if (outputs.length === 1) return outputs[0];
  const out = noGrad(() => cat(outputs, 0));
  for (const o of outputs) o.dispose();
  return out;
}

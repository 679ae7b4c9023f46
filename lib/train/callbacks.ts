// Callbacks of dt.fit (Keras's callback protocol with camelCase hooks): plain objects with any
// of the hooks below; each hook may return a Promise, which fit awaits. Setting
// `ctx.stopTraining = true` ends training after the current epoch.
import * as fs from 'fs';
import { describe, fail } from '../errors';
import { Tensor, keep } from '../tensor';
import { noGrad } from '../autograd/node';
import { defaultMode, type History } from './history';

export interface TrainContext {
  model: any;
  optimizer: any;
  history: History;
  /** Set by a callback to end training after this epoch. */
  stopTraining: boolean;
  /** Epochs of the run (fit's `epochs`). */
  epochs: number;
}

export interface Callback {
  onTrainBegin?(ctx: TrainContext): unknown;
  onEpochBegin?(epoch: number, ctx: TrainContext): unknown;
  onBatchEnd?(step: number, logs: Record<string, number>, ctx: TrainContext): unknown;
  onEpochEnd?(epoch: number, logs: Record<string, number>, ctx: TrainContext): unknown;
  onTrainEnd?(ctx: TrainContext): unknown;
}

type Mode = 'min' | 'max' | 'auto';

function monitored(logs: Record<string, number>, monitor: string, op: string): number {
  const v = logs[monitor];
  if (typeof v !== 'number')
    fail('ERR_ARGUMENT', op, `a monitored key among ${Object.keys(logs).join(', ')} (valLoss needs fit's validation)`, JSON.stringify(monitor));
  return v;
}

function improves(mode: 'min' | 'max', value: number, best: number, minDelta: number): boolean {
  if (Number.isNaN(value)) return false;
  return mode === 'min' ? value < best - minDelta : value > best + minDelta;
}

export interface EarlyStoppingOptions {
  monitor?: string;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  mode?: Mode;
  /** Stop unless the monitored value beats this one. */
  baseline?: number;
  /** Put back the weights of the best epoch when training ends (default false). */
  restoreBestWeights?: boolean;
}

/** Stops training when `monitor` (default 'valLoss') has not improved for `patience` epochs. */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly patience: number;
  readonly minDelta: number;
  readonly mode: 'min' | 'max';
  readonly restoreBestWeights: boolean;
  best = NaN;
  bestEpoch = 0;
  wait = 0;
  /** The epoch after which training stopped (0 when it ran to the end). */
  stoppedEpoch = 0;
  private bestWeights: Record<string, Tensor> | null = null;
  private readonly baseline?: number;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? 'valLoss';
    this.patience = options.patience ?? 0;
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.mode = !options.mode || options.mode === 'auto' ? defaultMode(this.monitor) : options.mode;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    this.baseline = options.baseline;
    if (!Number.isInteger(this.patience) || this.patience < 0) fail('ERR_ARGUMENT', 'EarlyStopping', 'a non-negative integer patience', describe(options.patience));
  }

  onTrainBegin(): void {
    this.best = this.baseline ?? (this.mode === 'min' ? Infinity : -Infinity);
    this.bestEpoch = 0;
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.dropWeights();
  }

  onEpochEnd(epoch: number, logs: Record<string, number>, ctx: TrainContext): void {
    const v = monitored(logs, this.monitor, 'EarlyStopping');
    if (improves(this.mode, v, this.best, this.minDelta)) {
      this.best = v;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights) this.snapshot(ctx.model);
      return;
    }
    this.wait++;
    if (this.wait > this.patience) {
      this.stoppedEpoch = epoch;
      ctx.stopTraining = true;
    }
  }

  onTrainEnd(ctx: TrainContext): void {
    if (this.restoreBestWeights && this.bestWeights !== null) {
      ctx.model.loadStateDict(this.bestWeights);
      this.dropWeights();
    }
  }

  private snapshot(model: any): void {
    if (typeof model?.stateDict !== 'function') fail('ERR_ARGUMENT', 'EarlyStopping', 'a Module (restoreBestWeights needs stateDict)', describe(model));
    this.dropWeights();
    this.bestWeights = noGrad(() => Object.fromEntries(Object.entries(model.stateDict() as Record<string, Tensor>).map(([k, t]) => [k, keep(t.clone())])));
  }
  private dropWeights(): void {
    if (this.bestWeights) for (const t of Object.values(this.bestWeights)) t.dispose();
    this.bestWeights = null;
  }
}

export type Saver = (stateDict: Record<string, Tensor>, path: string) => unknown;

/** dt.save from lib/io, once that module is part of the build; null before. */
function defaultSaver(): Saver | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const io = require('../io');
    return typeof io.save === 'function' ? io.save : null;
  } catch {
    return null;
  }
}

export interface ModelCheckpointOptions {
  /** File to write; `{epoch}` is replaced by the epoch number. */
  path: string;
  monitor?: string;
  mode?: Mode;
  /** Write only when the monitored value improves (default true: "checkpoint-best"). */
  saveBestOnly?: boolean;
  /** (stateDict, path) => void | Promise (default dt.save, safetensors). */
  saver?: Saver;
  /** Print a line for each save (default false). */
  verbose?: boolean;
  log?: (line: string) => void;
}

/** Saves the model's state dict after epochs that improve `monitor` (or after every epoch). */
export class ModelCheckpoint implements Callback {
  readonly path: string;
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly saveBestOnly: boolean;
  best = NaN;
  /** Paths written, in order. */
  readonly saved: string[] = [];
  private readonly saver: Saver | null;
  private readonly verbose: boolean;
  private readonly log: (line: string) => void;

  constructor(options: ModelCheckpointOptions) {
    if (options === null || typeof options !== 'object' || typeof options.path !== 'string')
      fail('ERR_ARGUMENT', 'ModelCheckpoint', 'options with a path', describe(options));
    this.path = options.path;
    this.monitor = options.monitor ?? 'valLoss';
    this.mode = !options.mode || options.mode === 'auto' ? defaultMode(this.monitor) : options.mode;
    this.saveBestOnly = options.saveBestOnly ?? true;
    this.saver = options.saver ?? defaultSaver();
    this.verbose = options.verbose ?? false;
    this.log = options.log ?? ((l) => console.log(l));
  }

  onTrainBegin(): void {
    if (this.saver === null)
      fail('ERR_NOT_IMPLEMENTED', 'ModelCheckpoint', 'a saver: dt.save (lib/io) or options.saver', 'neither in this build');
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  async onEpochEnd(epoch: number, logs: Record<string, number>, ctx: TrainContext): Promise<void> {
    let write = !this.saveBestOnly;
    if (this.saveBestOnly) {
      const v = monitored(logs, this.monitor, 'ModelCheckpoint');
      if (improves(this.mode, v, this.best, 0)) {
        if (this.verbose) this.log(`ModelCheckpoint: ${this.monitor} improved from ${this.best} to ${v}, saving`);
        this.best = v;
        write = true;
      }
    }
    if (!write) return;
    const file = this.path.replace(/\{epoch\}/g, String(epoch));
    await this.saver!(ctx.model.stateDict(), file);
    this.saved.push(file);
    if (this.verbose && !this.saveBestOnly) this.log(`ModelCheckpoint: saved ${file}`);
  }
}

/** Sets every param group's lr to schedule(epoch, lr) before each epoch (Keras's LearningRateScheduler). */
export class LearningRateScheduler implements Callback {
  constructor(private readonly schedule: (epoch: number, lr: number) => number) {
    if (typeof schedule !== 'function') fail('ERR_ARGUMENT', 'LearningRateScheduler', 'a function (epoch, lr) => lr', describe(schedule));
  }
  onEpochBegin(epoch: number, ctx: TrainContext): void {
    const groups = ctx.optimizer?.paramGroups;
    if (!Array.isArray(groups) || groups.length === 0) fail('ERR_ARGUMENT', 'LearningRateScheduler', 'an optimizer with paramGroups', describe(ctx.optimizer));
    for (const g of groups) {
      const lr = this.schedule(epoch, g.lr);
      if (!(typeof lr === 'number' && Number.isFinite(lr) && lr >= 0)) fail('ERR_ARGUMENT', 'LearningRateScheduler', 'a non-negative learning rate from the schedule', describe(lr));
      g.lr = lr;
    }
  }
}

/**
 * Steps a PyTorch-style LR scheduler (dt.optim.lrScheduler.*): after each epoch, or after each
 * batch with interval 'step' (the default for OneCycleLR, which is defined per batch).
 * ReduceLROnPlateau (or any scheduler when `monitor` is given) gets the monitored value.
 */
export class SchedulerStep implements Callback {
  private readonly monitor: string | null;
  readonly interval: 'epoch' | 'step';
  constructor(readonly scheduler: { step(...args: any[]): unknown }, options: { monitor?: string; interval?: 'epoch' | 'step' } = {}) {
    if (scheduler === null || typeof scheduler !== 'object' || typeof scheduler.step !== 'function')
      fail('ERR_ARGUMENT', 'scheduler', 'an LR scheduler with step()', describe(scheduler));
    const kind = scheduler.constructor?.name;
    this.monitor = options.monitor ?? (kind === 'ReduceLROnPlateau' ? 'valLoss' : null);
    this.interval = options.interval ?? (kind === 'OneCycleLR' ? 'step' : 'epoch');
    if (this.interval !== 'epoch' && this.interval !== 'step') fail('ERR_ARGUMENT', 'scheduler', "interval 'epoch' or 'step'", describe(options.interval));
  }
  private stepWith(logs: Record<string, number>): unknown {
    if (this.monitor === null) return this.scheduler.step();
    const key = this.monitor in logs ? this.monitor : this.monitor === 'valLoss' ? 'loss' : this.monitor;
    return this.scheduler.step(monitored(logs, key, 'scheduler'));
  }
  onBatchEnd(_step: number, logs: Record<string, number>): unknown {
    return this.interval === 'step' ? this.stepWith(logs) : undefined;
  }
  onEpochEnd(_epoch: number, logs: Record<string, number>): unknown {
    return this.interval === 'epoch' ? this.stepWith(logs) : undefined;
  }
}

/** Appends one CSV row per epoch (epoch and every logged number) to `path`. */
export class CSVLogger implements Callback {
  private keys: string[] | null = null;
  constructor(readonly path: string, private readonly options: { append?: boolean; separator?: string } = {}) {
    if (typeof path !== 'string' || path === '') fail('ERR_ARGUMENT', 'CSVLogger', 'a file path', describe(path));
  }
  onTrainBegin(): void {
    this.keys = null;
    const appendTo = this.options.append && fs.existsSync(this.path) && fs.statSync(this.path).size > 0;
    if (appendTo) {
      const first = fs.readFileSync(this.path, 'utf8').split('\n')[0];
      this.keys = first.split(this.options.separator ?? ',').slice(1);
    } else fs.writeFileSync(this.path, '');
  }
  onEpochEnd(epoch: number, logs: Record<string, number>): void {
    const sep = this.options.separator ?? ',';
    if (this.keys === null) {
      this.keys = Object.keys(logs).filter((k) => typeof logs[k] === 'number');
      fs.appendFileSync(this.path, ['epoch', ...this.keys].join(sep) + '\n');
    }
    fs.appendFileSync(this.path, [epoch, ...this.keys.map((k) => (k in logs ? logs[k] : ''))].join(sep) + '\n');
  }
}

// Factory forms, Keras-style names in camelCase.
export const earlyStopping = (options?: EarlyStoppingOptions) => new EarlyStopping(options);
export const modelCheckpoint = (options: ModelCheckpointOptions) => new ModelCheckpoint(options);
export const learningRateScheduler = (schedule: (epoch: number, lr: number) => number) => new LearningRateScheduler(schedule);
export const csvLogger = (path: string, options?: { append?: boolean; separator?: string }) => new CSVLogger(path, options);

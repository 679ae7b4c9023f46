// Optimizer: parameter groups with per-group options, per-parameter state created on the first
// step, stateDict/loadStateDict in PyTorch's layout (parameters numbered in group order, state
// keys named as in PyTorch), and the call into the fused native kernels (native/cpu/optim), which
// update a parameter and all of its state in one pass. On CUDA, step() collects the updates of a
// group and runs them all in one multi-tensor kernel launch (native/cuda/optim).
import { describe, fail, fmtShape } from '../errors';
import { DTYPE_CODES, isFloat } from '../dtype';
import { Tensor, contiguousCopy, keep, transferRaw } from '../tensor';
import { enableGrad, noGrad } from '../autograd/node';
import { beginLayouts, native } from '../native';
import type { StorageHandle } from '../storage';
import { copyInto, fillRaw, sameShape } from '../ops/helpers';

/** One parameter group: its tensors and its options (every option of the optimizer is present). */
export type ParamGroup<O = Record<string, any>> = O & { params: Tensor[]; [extra: string]: any };
/** What the constructor and addParamGroup take: tensors plus any options to override. */
export type ParamGroupInput<O = Record<string, any>> = Partial<O> & { params: Iterable<Tensor> };
export type Params<O = Record<string, any>> = Iterable<Tensor> | Iterable<ParamGroupInput<O>>;

/** `{ state: { 0: { step, exp_avg, ... } }, paramGroups: [{ lr, ..., params: [0, 1] }] }`. */
export interface OptimizerStateDict {
  state: Record<number, Record<string, any>>;
  paramGroups: Record<string, any>[];
}

const KINDS: Record<string, number> = Object.fromEntries(native.optimKinds.map((n, i) => [n, i]));
const hyperBuffer = new Float64Array(16);
// Per kind: hyper-parameters and state tensors in the native layout (native/binding/optim.cc).
const HYPER_LEN: Record<string, number> = { sgd: 7, adam: 10, adamax: 6, nadam: 7, rmsprop: 7, adagrad: 4 };
const STATE_COUNT: Record<string, number> = { sgd: 1, adam: 3, adamax: 2, nadam: 2, rmsprop: 3, adagrad: 1 };

/** A CUDA update waiting for its group's one launch. */
interface PendingStep {
  kind: string;
  hyper: number[];
  param: Tensor;
  /** param, or a contiguous copy of it that is copied back after the launch. */
  target: Tensor;
  grad: Tensor;
  state: (Tensor | null)[];
  temps: Tensor[];
}
/** The updates of the group Optimizer.step is visiting (null outside a step). */
let pending: PendingStep[] | null = null;

function queueCudaStep(kind: string, hyper: readonly (number | boolean)[], param: Tensor, grad: Tensor, state: readonly (Tensor | null)[]): void {
  const op = `${kind}.step`;
  if (grad.device !== param.device) fail('ERR_DEVICE', op, `a gradient on ${param.device} like its parameter`, `one on ${grad.device}`);
  for (const s of state) {
    if (s === null) continue;
    s.assertLive(op);
    if (s.device !== param.device || s.dtype !== param.dtype || !s.isContiguous() || s.numel() !== param.numel())
      fail('ERR_ARGUMENT', op, `contiguous ${param.dtype} state of ${param.numel()} elements on ${param.device}`,
        `${s.dtype} ${fmtShape(s.shape)} on ${s.device}${s.isContiguous() ? '' : ' (strided)'}`);
  }
  const temps: Tensor[] = [];
  let entry: PendingStep;
  try {
    const target = param.isContiguous() ? param : contiguousCopy(param);
    if (target !== param) temps.push(target);
    const g = grad.isContiguous() && grad.dtype === param.dtype ? grad : contiguousCopy(grad, param.dtype);
    if (g !== grad) temps.push(g);
    entry = { kind, hyper: hyper.map(Number), param, target, grad: g, state: state.slice(), temps };
  } catch (e) {
    for (const t of temps) t.dispose();
    throw e;
  }
  if (pending !== null) pending.push(entry);
  else runCudaSteps([entry]);
}

/**
 * One native.optimStepMulti launch per (kind, dtype) — a group has one of each unless its
 * parameters mix float32 and float64 — then strided parameters get their updated copies back.
 */
function runCudaSteps(entries: PendingStep[]): void {
  try {
    const buckets = new Map<string, PendingStep[]>();
    for (const e of entries) {
      const key = `${e.kind}/${e.target.dtype}`;
      const list = buckets.get(key);
      if (list) list.push(e);
      else buckets.set(key, [e]);
    }
    for (const list of buckets.values()) {
      const { kind } = list[0];
      const op = `${kind}.step`;
      const hyperLen = HYPER_LEN[kind], per = 2 + STATE_COUNT[kind];
      const hyper = new Float64Array(list.length * hyperLen);
      const layout = new Float64Array(list.length * per * 2);
      const storages: (StorageHandle | undefined)[] = [];
      list.forEach((e, t) => {
        for (let k = 0; k < hyperLen; k++) hyper[t * hyperLen + k] = e.hyper[k] ?? 0;
        const operands = [e.target, e.grad, ...e.state];
        for (let j = 0; j < per; j++) {
          const x = operands[j] ?? null;
          if (x === null) {
            storages.push(undefined);
            continue;
          }
          x.assertLive(op);
          layout[2 * (t * per + j)] = x.offset;
          layout[2 * (t * per + j) + 1] = x.numel();
          storages.push(x.storage.buffer);
        }
      });
      native.optimStepMulti(KINDS[kind], DTYPE_CODES[list[0].target.dtype], hyper, layout, storages);
    }
    for (const e of entries) if (e.target !== e.param) copyInto(e.param, e.target);
  } finally {
    for (const e of entries) for (const t of e.temps) t.dispose();
  }
}

/**
 * Runs the fused native update `kind` on one parameter. `hyper` follows the layout documented in
 * native/binding/optim.cc; `state` lists the kind's state tensors in order (null where the
 * options leave one out). A strided parameter is updated through a contiguous copy. On CUDA the
 * update joins the group's one launch when called from step(), else it runs as a launch of one.
 */
export function fusedStep(kind: string, hyper: readonly (number | boolean)[], param: Tensor, grad: Tensor, state: readonly (Tensor | null)[]): void {
  const op = `${kind}.step`;
  grad.assertLive(op);
  if (!sameShape(grad.shape, param.shape)) fail('ERR_SHAPE', op, `a gradient of shape ${fmtShape(param.shape)}`, fmtShape(grad.shape));
  if (param.device !== 'cpu') {
    queueCudaStep(kind, hyper, param, grad, state);
    return;
  }
  for (let i = 0; i < hyper.length; i++) hyperBuffer[i] = Number(hyper[i]);
  const temps: Tensor[] = [];
  try {
    const target = param.isContiguous() ? param : contiguousCopy(param);
    if (target !== param) temps.push(target);
    const g = grad.isContiguous() && grad.dtype === param.dtype ? grad : contiguousCopy(grad, param.dtype);
    if (g !== grad) temps.push(g);
    beginLayouts();
    target.putLayout();
    g.putLayout();
    for (const s of state) if (s) s.putLayout();
    native.optimStep(KINDS[kind], hyperBuffer, target.storage.buffer, g.storage.buffer, ...state.map((s) => s?.storage.buffer));
    if (target !== param) copyInto(param, target);
  } finally {
    for (const t of temps) t.dispose();
  }
}

export function checkOption(op: string, name: string, v: unknown, lo: number, hi = Infinity, hiOpen = false): number {
  if (typeof v !== 'number' || !(v >= lo) || (hiOpen ? !(v < hi) : !(v <= hi)))
    fail('ERR_ARGUMENT', op, `${name} in [${lo}, ${hi}${hiOpen ? ')' : ']'}`, describe(v));
  return v;
}

export function checkBetas(op: string, betas: unknown): [number, number] {
  if (!Array.isArray(betas) || betas.length !== 2) fail('ERR_ARGUMENT', op, 'betas as [beta1, beta2]', describe(betas));
  checkOption(op, 'betas[0]', betas[0], 0, 1, true);
  checkOption(op, 'betas[1]', betas[1], 0, 1, true);
  return [betas[0], betas[1]];
}

export abstract class Optimizer<O extends Record<string, any> = Record<string, any>> {
  readonly defaults: O;
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state (tensors are kept out of tidy and owned by the optimizer). */
  readonly state = new Map<Tensor, Record<string, any>>();

  constructor(params: Params<O>, defaults: O) {
    this.defaults = defaults;
    const name = this.constructor.name;
    if (params instanceof Tensor || params === null || typeof (params as any)?.[Symbol.iterator] !== 'function')
      fail('ERR_ARGUMENT', name, 'an iterable of tensors or of parameter groups', describe(params));
    const list = [...(params as Iterable<any>)];
    if (list.length === 0) fail('ERR_ARGUMENT', name, 'a non-empty list of parameters', 'an empty list');
    const groups = list.every((p) => p instanceof Tensor) ? [{ params: list }] : list;
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a group of parameters with its own options (the rest from the defaults). */
  addParamGroup(group: ParamGroupInput<O>): void {
    const name = this.constructor.name;
    if (group === null || typeof group !== 'object' || !('params' in group))
      fail('ERR_ARGUMENT', `${name}.addParamGroup`, 'a parameter group { params, ...options }', describe(group));
    const raw = group.params as unknown;
    const params = raw instanceof Tensor ? [raw] : [...(raw as Iterable<Tensor>)];
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) for (const p of g.params) seen.add(p);
    for (const p of params) {
      if (!(p instanceof Tensor)) fail('ERR_ARGUMENT', name, 'parameters that are Tensors', describe(p));
      p.assertLive(name);
      if (!isFloat(p.dtype)) fail('ERR_DTYPE', name, 'floating-point parameters', p.dtype);
      if (!p.isLeaf) fail('ERR_ARGUMENT', name, 'leaf tensors to optimize', 'a tensor computed by an op (detach it or use a Parameter)');
      if (seen.has(p)) fail('ERR_ARGUMENT', name, 'each parameter in one group only', 'a parameter that appears twice');
      seen.add(p);
    }
    const options: Record<string, any> = {};
    for (const [k, v] of Object.entries(group)) if (k !== 'params' && v !== undefined) options[k] = v;
    const merged = { ...cloneOptions(this.defaults), ...cloneOptions(options), params } as ParamGroup<O>;
    if (typeof merged.lr !== 'number') fail('ERR_ARGUMENT', name, 'a learning rate (lr) for every parameter group', describe(merged.lr));
    this.validateGroup(merged);
    this.paramGroups.push(merged);
    this.initGroup(merged);
  }

  /** Clears the gradients of every optimized parameter: null (default, as PyTorch) or zeros. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = options.setToNone ?? true;
    for (const g of this.paramGroups)
      for (const p of g.params) {
        if (p.grad === null) continue;
        if (setToNone) {
          p.grad.dispose();
          p.grad = null;
        } else if (!p.grad.isDisposed) fillRaw(p.grad, 0);
      }
  }

  /**
   * One update of every parameter that has a gradient. `closure` (re-evaluates the model and
   * returns the loss) runs first with grad mode on; its result is returned.
   */
  step<T = unknown>(closure?: () => T): T | undefined {
    let loss: T | undefined;
    if (closure !== undefined) {
      if (typeof closure !== 'function') fail('ERR_ARGUMENT', `${this.constructor.name}.step`, 'a closure function', describe(closure));
      loss = enableGrad(closure);
    }
    noGrad(() => {
      for (const group of this.paramGroups) {
        // CUDA updates of this group are collected and run in one launch at its end (also when a
        // later parameter throws: the ones before it are stepped, as on the CPU).
        const outer = pending;
        const batch: PendingStep[] = [];
        pending = batch;
        try {
          for (const p of group.params) {
            if (p.grad === null) continue;
            let s = this.state.get(p);
            if (s === undefined) this.state.set(p, (s = {}));
            this.updateParameter(p, p.grad, group, s);
          }
        } finally {
          pending = outer;
          if (batch.length > 0) runCudaSteps(batch);
        }
      }
    });
    return loss;
  }

  /** Checks a merged group's options (throws ERR_ARGUMENT naming the bad one). */
  protected abstract validateGroup(group: ParamGroup<O>): void;
  /** Creates state that PyTorch creates at construction (Adagrad's sums). */
  protected initGroup(_group: ParamGroup<O>): void {}
  /** Updates p from grad with the group's options, creating state on first use. */
  protected abstract updateParameter(p: Tensor, grad: Tensor, group: ParamGroup<O>, state: Record<string, any>): void;

  /** A zero-filled state tensor like p (contiguous, p's dtype and device), owned by the optimizer. */
  protected stateTensor(p: Tensor, value = 0): Tensor {
    const t = Tensor.empty(p.shape.slice(), p.dtype, p.device);
    if (t.numel() > 0) fillRaw(t, value);
    return keep(t);
  }

  /**
   * PyTorch's layout: parameters numbered across groups in order; each group's options with
   * `params` as those numbers; state keyed by number. Tensors are the live state (not copies).
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...options } = g;
      const ids = params.map((p: Tensor) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return { ...cloneOptions(options), params: ids };
    });
    const state: Record<number, Record<string, any>> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, paramGroups };
  }

  /**
   * Restores options and state from stateDict() output (of this optimizer or of one built the
   * same way). State tensors are copied and converted to their parameter's dtype and device; a
   * one-element `step` or `mu_product` tensor (PyTorch stores those as tensors) becomes a number.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const op = `${this.constructor.name}.loadStateDict`;
    if (stateDict === null || typeof stateDict !== 'object' || !Array.isArray(stateDict.paramGroups) || typeof stateDict.state !== 'object')
      fail('ERR_ARGUMENT', op, 'an object { state, paramGroups }', describe(stateDict));
    const groups = stateDict.paramGroups;
    if (groups.length !== this.paramGroups.length)
      fail('ERR_ARGUMENT', op, `${this.paramGroups.length} parameter groups`, String(groups.length));
    const byId = new Map<number, Tensor>();
    groups.forEach((g, gi) => {
      const mine = this.paramGroups[gi].params;
      if (!Array.isArray(g.params) || g.params.length !== mine.length)
        fail('ERR_ARGUMENT', op, `group ${gi} with ${mine.length} parameters`, Array.isArray(g.params) ? String(g.params.length) : describe(g.params));
      g.params.forEach((id: unknown, k: number) => byId.set(Number(id), mine[k]));
    });
    // Build everything first so a bad entry leaves this optimizer untouched.
    const next = new Map<Tensor, Record<string, any>>();
    const created: Tensor[] = [];
    try {
      for (const [key, entry] of Object.entries(stateDict.state ?? {})) {
        const p = byId.get(Number(key));
        if (p === undefined) fail('ERR_ARGUMENT', op, 'state only for parameters in the groups', `state for parameter ${key}`);
        if (entry === null || typeof entry !== 'object') fail('ERR_ARGUMENT', op, `an object of state for parameter ${key}`, describe(entry));
        const s: Record<string, any> = {};
        for (const [name, v] of Object.entries(entry)) {
          if (v instanceof Tensor) {
            v.assertLive(op);
            if (SCALAR_STATE.has(name) && v.numel() === 1) s[name] = Number(v.item());
            else {
              if (!sameShape(v.shape, p.shape))
                fail('ERR_SHAPE', op, `state ${key}.${name} of shape ${fmtShape(p.shape)}`, fmtShape(v.shape));
              // On the parameter's device (a state dict saved from CPU training resumes on CUDA).
              let c = contiguousCopy(v, p.dtype);
              if (c.device !== p.device) {
                const moved = transferRaw(c, p.device);
                c.dispose();
                c = moved;
              }
              keep(c);
              created.push(c);
              s[name] = c;
            }
          } else s[name] = Array.isArray(v) ? v.slice() : v;
        }
        next.set(p, s);
      }
    } catch (e) {
      for (const t of created) t.dispose();
      throw e;
    }
    this.disposeState();
    for (const [p, s] of next) this.state.set(p, s);
    groups.forEach((g, gi) => {
      const target = this.paramGroups[gi] as Record<string, any>;
      for (const [k, v] of Object.entries(g)) if (k !== 'params') target[k] = Array.isArray(v) ? v.slice() : v;
    });
  }

  /** Frees every state tensor now (the optimizer starts over on its next step). */
  disposeState(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }

  toString(): string {
    const lines = this.paramGroups.map((g, i) => {
      const { params, ...options } = g;
      const opts = Object.entries(options).map(([k, v]) => `    ${k}: ${Array.isArray(v) ? `[${v.join(', ')}]` : v}`);
      return `Parameter Group ${i} (${params.length} tensors)\n${opts.join('\n')}`;
    });
    return `${this.constructor.name} (\n${lines.join('\n')}\n)`;
  }
}

const SCALAR_STATE = new Set(['step', 'mu_product']);

function cloneOptions(o: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(o)) out[k] = Array.isArray(v) ? v.slice() : v;
  return out;
}

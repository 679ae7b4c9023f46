// nn.Module: parameters, buffers and sub-modules are discovered from the module's own fields,
// in the order they were assigned (PyTorch's registration order), so a model is written as
// plain class fields with no bookkeeping. Parameters are tensors marked by nn.Parameter (layers
// do it); buffers (running statistics) are registered by name with registerBuffer. State-dict
// keys are PyTorch's dotted names: `features.0.weight`, `bn.running_mean`.
import { describe, fail, fmtShape } from '../errors';
import { isFloat, type DType } from '../dtype';
import { Tensor, keep } from '../tensor';
import { noGrad } from '../autograd/node';
import type { Device } from '../storage';

const parameterSet = new WeakSet<Tensor>();

/**
 * Marks a tensor as a module parameter (a leaf that requires grad unless told otherwise). It is
 * kept out of every tidy(): parameters live as long as their module.
 */
export function Parameter(t: Tensor, requiresGrad = true): Tensor {
  if (!(t instanceof Tensor)) fail('ERR_ARGUMENT', 'Parameter', 'a Tensor', describe(t));
  const p = t.isLeaf ? t : noGrad(() => t.detach());
  if (requiresGrad) p.requiresGrad_(true);
  parameterSet.add(p);
  return keep(p);
}

export function isParameter(t: unknown): t is Tensor {
  return t instanceof Tensor && parameterSet.has(t);
}

const INTERNAL = new Set(['training']);

export abstract class Module {
  training = true;
  /** Buffer names (non-persistent ones are left out of the state dict). */
  private readonly bufferNames = new Map<string, boolean>();

  abstract forward(...args: any[]): any;

  /** Registers `t` (or null) as a buffer: saved in the state dict, moved by to(), not trained. */
  registerBuffer(name: string, t: Tensor | null, options: { persistent?: boolean } = {}): void {
    if (typeof name !== 'string' || name === '' || name.includes('.'))
      fail('ERR_ARGUMENT', 'registerBuffer', 'a name without dots', describe(name));
    if (t !== null) keep(t);
    this.bufferNames.set(name, options.persistent ?? true);
    (this as any)[name] = t;
  }

  /** Own fields in assignment order, classified. */
  private ownEntries(): { params: [string, Tensor][]; buffers: [string, Tensor, boolean][]; children: [string, Module][] } {
    const params: [string, Tensor][] = [], buffers: [string, Tensor, boolean][] = [], children: [string, Module][] = [];
    for (const key of Object.keys(this)) {
      if (INTERNAL.has(key) || key === 'bufferNames') continue;
      const v = (this as any)[key];
      if (this.bufferNames.has(key)) {
        if (v instanceof Tensor) buffers.push([key, v, this.bufferNames.get(key)!]);
      } else if (v instanceof Module) children.push([key, v]);
      else if (isParameter(v)) params.push([key, v]);
    }
    return { params, buffers, children };
  }

  namedChildren(): [string, Module][] {
    return this.ownEntries().children;
  }
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }
  /** This module and every descendant, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  namedParameters(prefix = '', recurse = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const walk = (m: Module, pre: string) => {
      const { params, children } = m.ownEntries();
      for (const [n, p] of params) if (!seen.has(p)) { seen.add(p); out.push([pre + n, p]); }
      if (recurse) for (const [n, c] of children) walk(c, `${pre}${n}.`);
    };
    walk(this, prefix ? `${prefix}.` : '');
    return out;
  }
  parameters(recurse = true): Tensor[] {
    return this.namedParameters('', recurse).map(([, p]) => p);
  }

  namedBuffers(prefix = '', recurse = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const walk = (m: Module, pre: string) => {
      const { buffers, children } = m.ownEntries();
      for (const [n, b] of buffers) out.push([pre + n, b]);
      if (recurse) for (const [n, c] of children) walk(c, `${pre}${n}.`);
    };
    walk(this, prefix ? `${prefix}.` : '');
    return out;
  }
  buffers(recurse = true): Tensor[] {
    return this.namedBuffers('', recurse).map(([, b]) => b);
  }

  /** `{ 'features.0.weight': Tensor, ... }`: each module's parameters, then its persistent buffers, then its children. */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const walk = (m: Module, pre: string) => {
      const { params, buffers, children } = m.ownEntries();
      for (const [n, p] of params) out[pre + n] = p;
      for (const [n, b, persistent] of buffers) if (persistent) out[pre + n] = b;
      for (const [n, c] of children) walk(c, `${pre}${n}.`);
    };
    walk(this, '');
    return out;
  }

  /**
   * Copies values from `stateDict` into this module's tensors (dtype converted, shapes must
   * match). strict (default): missing or unexpected keys are an error; otherwise they are
   * returned. Nothing is written unless every key checks out.
   */
  loadStateDict(stateDict: Record<string, Tensor>, options: { strict?: boolean } = {}): { missingKeys: string[]; unexpectedKeys: string[] } {
    if (stateDict === null || typeof stateDict !== 'object') fail('ERR_ARGUMENT', 'loadStateDict', 'an object of tensors', describe(stateDict));
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in stateDict));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !(k in own));
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0))
      fail('ERR_ARGUMENT', 'loadStateDict', 'the keys of this model',
        [missingKeys.length ? `missing ${missingKeys.join(', ')}` : '', unexpectedKeys.length ? `unexpected ${unexpectedKeys.join(', ')}` : ''].filter(Boolean).join('; '));
    for (const [k, dst] of Object.entries(own)) {
      if (!(k in stateDict)) continue;
      const src = stateDict[k];
      if (!(src instanceof Tensor)) fail('ERR_ARGUMENT', 'loadStateDict', `a Tensor for ${k}`, describe(src));
      src.assertLive('loadStateDict');
      if (src.shape.length !== dst.shape.length || src.shape.some((s, i) => s !== dst.shape[i]))
        fail('ERR_SHAPE', 'loadStateDict', `${k} of shape ${fmtShape(dst.shape)}`, fmtShape(src.shape));
    }
    noGrad(() => {
      for (const [k, dst] of Object.entries(own)) if (k in stateDict) dst.copy_(stateDict[k]);
    });
    return { missingKeys, unexpectedKeys };
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Clears gradients: set to null (default, as PyTorch) or zero them in place. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) {
      if (p.grad === null) continue;
      if (options.setToNone ?? true) {
        p.grad.dispose();
        p.grad = null;
      } else noGrad(() => p.grad!.zero_());
    }
  }

  /** Freezes (false) or unfreezes every parameter: transfer learning, a GAN's discriminator. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Calls fn on every module, children first (as torch's apply). */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Converts parameters and buffers in place: a dtype ('float64') or a device ('cpu'). As in
   * PyTorch, a dtype applies to floating-point tensors only (an int64 num_batches_tracked stays int64).
   */
  to(target: DType | Device): this {
    const convert = (t: Tensor): Tensor => (target !== 'cuda' && target !== 'cpu' && !isFloat(t.dtype) ? t : t.to(target as any));
    for (const m of this.modules()) {
      for (const [name, p] of m.ownEntries().params) {
        const c = convert(p);
        if (c !== p) {
          const q = Parameter(c.detach(), p.requiresGrad);
          (m as any)[name] = q;
          p.dispose();
        }
      }
      for (const [name, b] of m.ownEntries().buffers) {
        const c = convert(b);
        if (c !== b) {
          (m as any)[name] = keep(c);
          b.dispose();
        }
      }
    }
    return this;
  }

  /** Frees every parameter and buffer now. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }

  /** Extra text for the repr, as torch's extra_repr. */
  extraRepr(): string {
    return '';
  }

  toString(): string {
    const children = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (children.length === 0) return `${head})`;
    const body = children.map(([n, c]) => `  (${n}): ${c.toString().split('\n').join('\n  ')}`).join('\n');
    return `${head}\n${body}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

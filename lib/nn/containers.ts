// Sequential, ModuleList, ModuleDict: children named '0', '1', ... (or by the given names).
import { describe, fail } from '../errors';
import { Module } from './module';

function checkModule(m: unknown, op: string): Module {
  if (!(m instanceof Module)) fail('ERR_ARGUMENT', op, 'a Module', describe(m));
  return m;
}

export class Sequential extends Module {
  /** new Sequential(a, b, c) or new Sequential({ conv: a, act: b }) for named children. */
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    if (modules.length === 1 && !(modules[0] instanceof Module) && typeof modules[0] === 'object') {
      for (const [name, m] of Object.entries(modules[0] as Record<string, Module>)) (this as any)[name] = checkModule(m, 'Sequential');
    } else {
      (modules as Module[]).forEach((m, i) => ((this as any)[String(i)] = checkModule(m, 'Sequential')));
    }
  }
  get length(): number {
    return this.namedChildren().length;
  }
  at(index: number): Module {
    const c = this.children();
    const i = index < 0 ? index + c.length : index;
    if (!(i >= 0 && i < c.length)) fail('ERR_INDEX', 'Sequential.at', `an index in [${-c.length}, ${c.length - 1}]`, String(index));
    return c[i];
  }
  append(m: Module): this {
    (this as any)[String(this.length)] = checkModule(m, 'Sequential.append');
    return this;
  }
  forward(x: any): any {
    for (const m of this.children()) x = m.forward(x);
    return x;
  }
  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }
}

export class ModuleList extends Module {
  constructor(modules: Module[] = []) {
    super();
    modules.forEach((m) => this.append(m));
  }
  get length(): number {
    return this.namedChildren().length;
  }
  at(index: number): Module {
    return Sequential.prototype.at.call(this, index);
  }
  append(m: Module): this {
    (this as any)[String(this.length)] = checkModule(m, 'ModuleList.append');
    return this;
  }
  forward(): never {
    return fail('ERR_NOT_IMPLEMENTED', 'ModuleList.forward', 'iteration over the list in the parent forward', 'a call');
  }
  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }
}

export class ModuleDict extends Module {
  constructor(modules: Record<string, Module> = {}) {
    super();
    for (const [k, m] of Object.entries(modules)) this.set(k, m);
  }
  get(key: string): Module | undefined {
    return this.namedChildren().find(([k]) => k === key)?.[1];
  }
  set(key: string, m: Module): this {
    if (key.includes('.')) fail('ERR_ARGUMENT', 'ModuleDict', 'a key without dots', key);
    (this as any)[key] = checkModule(m, 'ModuleDict');
    return this;
  }
  keys(): string[] {
    return this.namedChildren().map(([k]) => k);
  }
  forward(): never {
    return fail('ERR_NOT_IMPLEMENTED', 'ModuleDict.forward', 'lookups in the parent forward', 'a call');
  }
}

// The tape: each differentiable op that sees an input requiring grad records a Node holding
// its inputs and a backward closure (written next to the forward, in lib/ops/*). Grad mode is
// a global switch (noGrad / enableGrad), as torch.no_grad.
import type { Tensor } from '../tensor';

/** Returns one gradient per input (null where the input needs none), each of the input's shape. */
export type BackwardFn = (grad: Tensor) => (Tensor | null)[];

export class Node {
  /** Inputs of the op, null where the input does not require grad. Cleared when the graph is freed. */
  inputs: (Tensor | null)[];
  backwardFn: BackwardFn | null;
  constructor(readonly name: string, inputs: (Tensor | null)[], backwardFn: BackwardFn) {
    this.inputs = inputs;
    this.backwardFn = backwardFn;
  }
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with gradient recording off (like `with torch.no_grad()`). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs fn with gradient recording on, e.g. inside a noGrad block. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Attaches a backward to `out` when grad mode is on and some input requires grad.
 * Ops call it right after computing their forward; the closure may capture what it needs.
 */
export function record(out: Tensor, name: string, inputs: readonly Tensor[], backward: BackwardFn): Tensor {
  if (!gradEnabled) return out;
  let needed = false;
  for (let i = 0; i < inputs.length; i++) if (inputs[i].requiresGrad) needed = true;
  if (!needed) return out;
  return attach(out, name, inputs, backward);
}

/** True when an op over these operands must record (grad mode on and one requires grad). */
export function needsGrad(a: Tensor | null, b: Tensor | null = null): boolean {
  return gradEnabled && ((a !== null && a.requiresGrad) || (b !== null && b.requiresGrad));
}

function attach(out: Tensor, name: string, inputs: readonly Tensor[], backward: BackwardFn): Tensor {
  out.requiresGrad = true;
  out.gradFn = new Node(name, inputs.map((t) => (t.requiresGrad ? t : null)), backward);
  return out;
}

// Shared by test/cuda/pool_norm and misc_ops: one autograd graph run on CPU leaves and on their
// CUDA copies, outputs and leaf gradients compared.
import { expect } from 'vitest';
import * as dt from '../../dist/index.js';
import { expectClose, randomTensor, values } from './helpers';

export interface GraphTolerances {
  rtol?: number;
  atol?: number;
  /** Gradients (default: the output tolerances). */
  gradRtol?: number;
  gradAtol?: number;
  /** Seed of the upstream gradients. */
  seed?: number;
}

const asArray = (r: dt.Tensor | dt.Tensor[]): dt.Tensor[] => (Array.isArray(r) ? r : [r]);

/** A CUDA leaf holding `t`'s values, requiring grad as `t` does. */
export function cudaLeaf(t: dt.Tensor): dt.Tensor {
  const c = t.detach().cuda();
  if (t.requiresGrad) c.requiresGrad_();
  return c;
}

/**
 * Runs fn on the CPU leaves `inputs` and on CUDA copies of them, backpropagates the same random
 * upstream gradient through every float output that requires grad, and compares every output
 * (integer ones exactly) and the gradient of every leaf that requires grad. Returns the CUDA
 * outputs and leaves for further checks.
 */
export function compareGraph(what: string, inputs: dt.Tensor[], fn: (...xs: dt.Tensor[]) => dt.Tensor | dt.Tensor[],
  tol: GraphTolerances = {}): { outputs: dt.Tensor[]; leaves: dt.Tensor[] } {
  const rtol = tol.rtol ?? 1e-6, atol = tol.atol ?? 1e-7;
  const gpuIn = inputs.map(cudaLeaf);
  const want = asArray(fn(...inputs)), got = asArray(fn(...gpuIn));
  expect(got.length, `${what}: outputs`).toBe(want.length);
  want.forEach((w, i) => {
    const exact = w.dtype === 'int64' || w.dtype === 'int32';
    expectClose(got[i], w, exact ? 0 : rtol, exact ? 0 : atol, `${what} output ${i}`);
  });
  const upstream = want.map((w, i) => (w.requiresGrad ? randomTensor(w.shape.slice(), w.dtype, -2, 2, (tol.seed ?? 11) + i) : null));
  const backward = (outs: dt.Tensor[], onGpu: boolean) => {
    const terms = outs.flatMap((o, i) => (upstream[i] ? [[o, onGpu ? upstream[i]!.cuda() : upstream[i]!] as const] : []));
    if (terms.length === 1) terms[0][0].backward(terms[0][1]);
    else if (terms.length > 1) terms.map(([o, g]) => o.mul(g).sum()).reduce((a, b) => a.add(b)).backward();
  };
  backward(want, false);
  backward(got, true);
  inputs.forEach((t, i) => {
    if (!t.requiresGrad) return;
    expect(gpuIn[i].grad, `${what}: grad of input ${i}`).not.toBeNull();
    expectClose(gpuIn[i].grad!, t.grad!, tol.gradRtol ?? rtol, tol.gradAtol ?? atol, `${what} grad ${i}`);
  });
  return { outputs: got, leaves: gpuIn };
}

/** Expects two CUDA tensors to hold bitwise the same values (NaN equal to NaN). */
export function expectIdentical(a: dt.Tensor, b: dt.Tensor, what: string): void {
  expect(a.shape, `${what}: shape`).toEqual(b.shape);
  const x = values(a), y = values(b);
  for (let i = 0; i < x.length; i++)
    if (!Object.is(x[i], y[i])) expect.fail(`${what}: element ${i} differs between runs: ${x[i]} vs ${y[i]}`);
}

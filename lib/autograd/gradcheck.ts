// gradcheck: analytic gradients from backward against central finite differences, in float64.
// Checks the vector-Jacobian product for random projections v of the output (two by default),
// which catches a wrong gradient with probability 1 while costing 2 evaluations per input element.
import { DendriteError, fail } from '../errors';
import { Tensor } from '../tensor';
import { noGrad } from './node';
import { backward } from './engine';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  projections?: number;
  /** Seed of the projection vectors (a private generator; dt.manualSeed's state is untouched). */
  seed?: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns true, or throws a DendriteError naming the input, element and both values. */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): boolean {
  const eps = options.eps ?? 1e-6, atol = options.atol ?? 1e-5, rtol = options.rtol ?? 1e-3;
  const rng = mulberry32(options.seed ?? 1234);
  for (const [i, x] of inputs.entries()) {
    if (!(x instanceof Tensor)) fail('ERR_ARGUMENT', 'gradcheck', 'Tensor inputs', typeof x);
    if (x.requiresGrad && x.dtype !== 'float64') fail('ERR_DTYPE', 'gradcheck', `float64 inputs (input ${i})`, x.dtype);
    if (x.requiresGrad && !x.isContiguous()) fail('ERR_ARGUMENT', 'gradcheck', `contiguous inputs (input ${i})`, 'a strided view');
  }
  // fn may return one of its inputs (an identity, or a view op that hands back its input):
  // that one is the caller's and must survive the check.
  const release = (t: Tensor) => {
    if (!inputs.includes(t)) t.dispose();
  };
  for (let p = 0; p < (options.projections ?? 2); p++) {
    const y0 = noGrad(() => fn(...inputs));
    const v = new Float64Array(y0.numel()).map(() => rng() * 2 - 1);
    const vt = Tensor.empty(y0.shape.slice(), 'float64');
    new Float64Array(vt.storage.hostBuffer, 0, v.length).set(v);
    release(y0);
    const project = (): number =>
      noGrad(() => {
        const y = fn(...inputs);
        const yv = (y.dtype === 'float64' ? y : y.to('float64')).dataSync() as Float64Array;
        let s = 0;
        for (let k = 0; k < yv.length; k++) s += yv[k] * v[k];
        release(y);
        return s;
      });
    for (const x of inputs) if (x.grad) { x.grad.dispose(); x.grad = null; }
    const y = fn(...inputs);
    backward(y, vt);
    release(y);
    vt.dispose();
    for (const [i, x] of inputs.entries()) {
      if (!x.requiresGrad) continue;
      // Perturb the storage in place (a private view: the storage is not marked exposed).
      const data = new Float64Array(x.storage.hostBuffer, x.offset * 8, x.numel());
      const analytic = x.grad ? (x.grad.dataSync() as Float64Array) : new Float64Array(data.length);
      for (let k = 0; k < data.length; k++) {
        const orig = data[k];
        data[k] = orig + eps;
        const fp = project();
        data[k] = orig - eps;
        const fm = project();
        data[k] = orig;
        const numeric = (fp - fm) / (2 * eps);
        const a = analytic[k];
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric)))
          throw new DendriteError(
            `gradcheck: expected analytic gradient ${numeric} (finite difference) for input ${i} element ${k}, got ${a}`,
            'ERR_ARGUMENT',
          );
      }
    }
    for (const x of inputs) if (x.grad) { x.grad.dispose(); x.grad = null; }
  }
  return true;
}

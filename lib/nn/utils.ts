// dt.nn.utils: gradient clipping with PyTorch's numerics (torch.nn.utils.clip_grad_norm_ /
// clip_grad_value_): the total norm is the norm of the per-parameter norms, the scale is
// maxNorm / (total + 1e-6) clamped to 1, all computed in the gradients' dtype.
import { describe, fail } from '../errors';
import { Tensor, tidy } from '../tensor';
import { noGrad } from '../autograd/node';
import { stack } from '../ops/join';
import { div } from '../ops/elementwise';
import { tensor } from '../ops/creation';

function gradsOf(parameters: Tensor | Iterable<Tensor>, op: string): Tensor[] {
  const list = parameters instanceof Tensor ? [parameters] : parameters && typeof (parameters as any)[Symbol.iterator] === 'function' ? [...parameters] : null;
  if (list === null) fail('ERR_ARGUMENT', op, 'a Tensor or an iterable of tensors', describe(parameters));
  const grads: Tensor[] = [];
  for (const p of list) {
    if (!(p instanceof Tensor)) fail('ERR_ARGUMENT', op, 'tensors', describe(p));
    if (p.grad !== null) grads.push(p.grad);
  }
  return grads;
}

function vectorNorm(g: Tensor, normType: number): Tensor {
  const a = g.abs();
  if (normType === Infinity) return a.max();
  if (normType === -Infinity) return a.min();
  if (normType === 0) return g.ne(0).sum().to(g.dtype);
  if (normType === 1) return a.sum();
  if (normType === 2) return a.square().sum().sqrt();
  return a.pow(normType).sum().pow(1 / normType);
}

/**
 * Scales the gradients of `parameters` in place so that their joint norm (of type normType,
 * Infinity for the max norm) is at most maxNorm. Returns the total norm before clipping (0-d).
 */
export function clipGradNorm_(
  parameters: Tensor | Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
  options: { errorIfNonfinite?: boolean } = {},
): Tensor {
  const op = 'clipGradNorm_';
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) fail('ERR_ARGUMENT', op, 'a number maxNorm', describe(maxNorm));
  if (typeof normType !== 'number' || Number.isNaN(normType)) fail('ERR_ARGUMENT', op, 'a number normType', describe(normType));
  const grads = gradsOf(parameters, op);
  if (grads.length === 0) return tensor(0);
  return tidy(() =>
    noGrad(() => {
      const norms = grads.map((g) => vectorNorm(g, normType));
      const stacked = stack(norms);
      const total = normType === Infinity ? stacked.max() : vectorNorm(stacked, normType);
      if (options.errorIfNonfinite && !Number.isFinite(Number(total.item())))
        fail('ERR_ARGUMENT', op, `a finite total norm of order ${normType} (errorIfNonfinite is set)`, String(total.item()));
      const scale = div(maxNorm, total.add(1e-6)).clamp(null, 1);
      for (const g of grads) g.mul_(scale);
      return total;
    }),
  );
}

/** Clamps every gradient of `parameters` to [-clipValue, clipValue] in place. */
export function clipGradValue_(parameters: Tensor | Iterable<Tensor>, clipValue: number): void {
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue)) fail('ERR_ARGUMENT', 'clipGradValue_', 'a number clipValue', describe(clipValue));
  const grads = gradsOf(parameters, 'clipGradValue_');
  noGrad(() => {
    for (const g of grads) g.clamp_(-clipValue, clipValue);
  });
}

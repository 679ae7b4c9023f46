// cat stack split chunk: one output allocation and one strided native copy per input; the
// pieces of split/chunk are views.
import { describe, fail, fmtShape } from '../errors';
import { promoteTypes } from '../dtype';
import { Tensor, normDim } from '../tensor';
import { record } from '../autograd/node';
import { checkInt, checkTensor, copyInto } from './helpers';
import { narrow, unsqueeze } from './shape';

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) fail('ERR_ARGUMENT', 'cat', 'a non-empty array of tensors', describe(tensors));
  tensors.forEach((t, i) => checkTensor(t, 'cat', `at position ${i}`));
  // PyTorch skips 1-d empty tensors in cat (legacy behaviour kept for compatibility).
  const parts = tensors.filter((t) => !(t.ndim === 1 && t.shape[0] === 0));
  if (parts.length === 0) return tensors[0].clone();
  const ref = parts[0];
  if (ref.ndim === 0) fail('ERR_SHAPE', 'cat', 'tensors with at least 1 dim', '0-d tensors');
  const d = normDim(dim, ref.ndim, 'cat');
  let size = 0;
  let dtype = ref.dtype;
  for (const t of parts) {
    if (t.ndim !== ref.ndim || t.shape.some((s: number, i: number) => i !== d && s !== ref.shape[i]))
      fail('ERR_SHAPE', 'cat', `tensors matching ${fmtShape(ref.shape)} except in dim ${d}`, fmtShape(t.shape));
    size += t.shape[d];
    dtype = promoteTypes(dtype, t.dtype);
  }
  for (const t of parts)
    if (t.device !== ref.device) fail('ERR_DEVICE', 'cat', `all tensors on one device, ${ref.device}`, `tensors on ${ref.device} and ${t.device}`);
  const shape = ref.shape.slice();
  shape[d] = size;
  const out = Tensor.empty(shape, dtype, ref.device);
  let pos = 0;
  const starts: number[] = [];
  for (const t of parts) {
    starts.push(pos);
    const regionShape = shape.slice();
    regionShape[d] = t.shape[d];
    const region = Tensor.view(out, regionShape, out.strides.slice(), out.offset + pos * out.strides[d]);
    copyInto(region, t);
    region.dispose();
    pos += t.shape[d];
  }
  return record(out, 'cat', parts, (g) => parts.map((t, i) => (t.requiresGrad ? narrow(g, d, starts[i], t.shape[d]).to(t.dtype) : null)));
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) fail('ERR_ARGUMENT', 'stack', 'a non-empty array of tensors', describe(tensors));
  const ref = checkTensor(tensors[0], 'stack');
  for (const t of tensors) {
    checkTensor(t, 'stack');
    if (t.ndim !== ref.ndim || t.shape.some((s: number, i: number) => s !== ref.shape[i]))
      fail('ERR_SHAPE', 'stack', `tensors of one shape ${fmtShape(ref.shape)}`, fmtShape(t.shape));
  }
  const d = normDim(dim, ref.ndim + 1, 'stack');
  const views = tensors.map((t) => unsqueeze(t, d));
  const out = cat(views, d);
  return out;
}

/** Splits into pieces of `splitSize` (the last may be smaller) or of the listed sizes; views. */
export function split(x: Tensor, splitSizeOrSections: number | number[], dim = 0): Tensor[] {
  checkTensor(x, 'split');
  const d = normDim(dim, x.ndim, 'split');
  const size = x.shape[d];
  const out: Tensor[] = [];
  if (Array.isArray(splitSizeOrSections)) {
    const total = splitSizeOrSections.reduce((a, b) => a + b, 0);
    if (total !== size || splitSizeOrSections.some((s) => !Number.isInteger(s) || s < 0))
      fail('ERR_SHAPE', 'split', `non-negative sizes summing to ${size}`, `[${splitSizeOrSections}]`);
    let pos = 0;
    for (const s of splitSizeOrSections) {
      out.push(narrow(x, d, pos, s));
      pos += s;
    }
    return out;
  }
  const step = checkInt(splitSizeOrSections, 'split', 'split size');
  if (step <= 0 && size > 0) fail('ERR_ARGUMENT', 'split', 'a positive split size', String(step));
  for (let pos = 0; pos < size; pos += step) out.push(narrow(x, d, pos, Math.min(step, size - pos)));
  if (out.length === 0) out.push(narrow(x, d, 0, 0));
  return out;
}

/** torch.chunk: `chunks` pieces of ceil(size / chunks) (fewer when it divides unevenly). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  checkTensor(x, 'chunk');
  checkInt(chunks, 'chunk', 'chunk count');
  if (chunks <= 0) fail('ERR_ARGUMENT', 'chunk', 'a positive number of chunks', String(chunks));
  const d = normDim(dim, x.ndim, 'chunk');
  const step = Math.max(1, Math.ceil(x.shape[d] / chunks));
  return split(x, step, d);
}

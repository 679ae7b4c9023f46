// pad: constant (negative amounts crop), reflect, replicate and circular padding, with
// PyTorch's pad-list order: [lastDimBefore, lastDimAfter, secondLastBefore, ...].
// Constant padding is one fill and one strided copy; the other modes gather rows with
// indexSelect (whose backward, indexAdd, sums the reused rows' gradients) on the CPU, and with
// the resampling kernel on CUDA (the same sums in the same order, deterministic).
import { describe, fail, fmtShape } from '../errors';
import { Tensor, contiguousCopy } from '../tensor';
import { record } from '../autograd/node';
import { checkTensor, copyInto, fillRaw } from './helpers';
import { tensor } from './creation';
import { indexSelect } from './indexing';
import { narrow } from './shape';
import { resampleOnDevice } from './interpolate';

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** pad(x, [left, right, top, bottom, ...], mode?, value?) or pad(x, padding, { mode, value }). */
export function pad(x: Tensor, padding: readonly number[], mode: PadMode | { mode?: PadMode; value?: number } = 'constant', value = 0): Tensor {
  const op = 'pad';
  checkTensor(x, op);
  if (typeof mode === 'object' && mode !== null) {
    value = mode.value ?? 0;
    mode = mode.mode ?? 'constant';
  }
  if (!['constant', 'reflect', 'replicate', 'circular'].includes(mode as string))
    fail('ERR_ARGUMENT', op, "mode 'constant', 'reflect', 'replicate' or 'circular'", describe(mode));
  if (!Array.isArray(padding) || padding.length % 2 !== 0 || !padding.every((v) => Number.isInteger(v)))
    fail('ERR_ARGUMENT', op, 'an even-length array of integer pad sizes', describe(padding));
  if (padding.length / 2 > x.ndim) fail('ERR_SHAPE', op, `at most ${x.ndim} (before, after) pairs for a ${x.ndim}-D input`, `${padding.length / 2}`);
  const pairs: [number, number, number][] = [];  // [dim, before, after]
  for (let i = 0; i < padding.length / 2; i++) pairs.push([x.ndim - 1 - i, padding[2 * i], padding[2 * i + 1]]);
  if (mode === 'constant') {
    let src = x;
    for (const [d, before, after] of pairs) {
      if (before >= 0 && after >= 0) continue;
      const cut0 = Math.max(-before, 0), cut1 = Math.max(-after, 0);
      if (cut0 + cut1 > src.shape[d]) fail('ERR_SHAPE', op, `negative padding that leaves dim ${d} non-negative`, `[${padding}] for ${fmtShape(x.shape)}`);
      src = narrow(src, d, cut0, src.shape[d] - cut0 - cut1);
    }
    const shape = src.shape.slice();
    let offset = 0;
    for (const [d, before, after] of pairs) shape[d] += Math.max(before, 0) + Math.max(after, 0);
    const out = Tensor.empty(shape, x.dtype, x.device);
    for (const [d, before] of pairs) offset += Math.max(before, 0) * out.strides[d];
    fillRaw(out, value);
    const region = Tensor.view(out, src.shape.slice(), out.strides.slice(), offset);
    copyInto(region, src);
    region.dispose();
    return record(out, op, [src], (g) => {
      let goff = g.offset;
      for (const [d, before] of pairs) goff += Math.max(before, 0) * g.strides[d];
      const view = Tensor.view(g, src.shape.slice(), g.strides.slice(), goff);
      const gx = contiguousCopy(view);
      view.dispose();
      return [gx];
    });
  }
  let y = x;
  for (const [d, before, after] of pairs) {
    const n = x.shape[d];
    if (before < 0 || after < 0) fail('ERR_ARGUMENT', op, `non-negative padding in mode '${mode}'`, `[${padding}]`);
    if (mode === 'reflect' && (before >= n || after >= n))
      fail('ERR_SHAPE', op, `reflect padding smaller than the dim it pads (dim ${d} of size ${n})`, `[${before}, ${after}]`);
    if (mode === 'circular' && (before > n || after > n))
      fail('ERR_SHAPE', op, `circular padding at most the size of the dim it pads (dim ${d} of size ${n})`, `[${before}, ${after}]`);
    if (mode === 'replicate' && n === 0 && before + after > 0) fail('ERR_SHAPE', op, `a non-empty dim ${d} to replicate`, fmtShape(x.shape));
    if (before === 0 && after === 0) continue;
    const idx: number[] = [];
    for (let i = -before; i < n + after; i++) {
      if (mode === 'reflect') idx.push(i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
      else if (mode === 'replicate') idx.push(Math.min(Math.max(i, 0), n - 1));
      else idx.push(((i % n) + n) % n);
    }
    y = y.device === 'cuda' ? resampleOnDevice(y, d, [idx], null, op) : indexSelect(y, d, tensor(idx, { dtype: 'int64' }));
  }
  return y === x ? x.clone() : y;
}

// The few tensor primitives the engine itself needs, kept off the ops' public surface.
import { Tensor, contiguousCopy } from '../tensor';
import { beginLayouts, BINARY, native } from '../native';
import { putBroadcast, fillRaw } from '../ops/helpers';

/** dst += src in place (src broadcast to dst's shape). */
export function addInto(dst: Tensor, src: Tensor): void {
  beginLayouts();
  dst.putLayout();
  dst.putLayout();
  putBroadcast(src, dst.shape);
  native.binary(BINARY.add, 1, 0, dst.storage.buffer, dst.storage.buffer, src.storage.buffer);
}

export const cloneTensor = (t: Tensor): Tensor => contiguousCopy(t);

export function onesLike(t: Tensor): Tensor {
  const o = Tensor.empty(t.shape.slice(), t.dtype, t.device);
  fillRaw(o, 1);
  return o;
}

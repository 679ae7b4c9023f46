// matmul with PyTorch's rank rules and batch broadcasting, on the native GEMM.
import { fail, fmtShape } from '../errors';
import { promoteTypes } from '../dtype';
import { Tensor, contiguousStrides } from '../tensor';
import { record } from '../autograd/node';
import { beginLayouts, native, putLayout } from '../native';
import { asDType, broadcastShapes, checkTensor, disposeAll } from './helpers';
import { sumToShape } from './reduce';

/** A matrix view GEMM can read directly: row- or column-major in its last two dims. */
function gemmReadable(t: Tensor): boolean {
  const n = t.ndim;
  const rows = t.shape[n - 2], cols = t.shape[n - 1];
  const rs = t.strides[n - 2], cs = t.strides[n - 1];
  return (cs === 1 || cols === 1) && (rs >= cols || rows === 1) || (rs === 1 || rows === 1) && (cs >= rows || cols === 1);
}

/** The batched kernel call: a [..., M, K] @ b [..., K, N] with batch dims broadcast. */
function matmulRaw(a: Tensor, b: Tensor): Tensor {
  const temps: Tensor[] = [];
  try {
    if (!gemmReadable(a)) temps.push((a = a.contiguous()));
    if (!gemmReadable(b)) temps.push((b = b.contiguous()));
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
    const M = a.shape[a.ndim - 2], K = a.shape[a.ndim - 1], N = b.shape[b.ndim - 1];
    const out = Tensor.empty([...batch, M, N], a.dtype, a.device);
    const layout = (t: Tensor, rows: number, cols: number) => {
      if (t.isDisposed) t.assertLive('matmul');
      const lead = batch.length - (t.ndim - 2);
      const strides = batch.map((s, i) => (i < lead || t.shape[i - lead] !== s ? 0 : t.strides[i - lead]));
      putLayout(t.dtype, t.storage.deviceCode, t.offset, [...batch, rows, cols], [...strides, t.strides[t.ndim - 2], t.strides[t.ndim - 1]]);
    };
    beginLayouts();
    out.putLayout();
    layout(a, M, K);
    layout(b, K, N);
    native.matmul(out.storage.buffer, a.storage.buffer, b.storage.buffer);
    return out;
  } finally {
    disposeAll(temps);
  }
}

export function matmul(x: Tensor, y: Tensor): Tensor {
  checkTensor(x, 'matmul');
  checkTensor(y, 'matmul', 'other');
  if (x.ndim === 0 || y.ndim === 0) fail('ERR_SHAPE', 'matmul', 'operands of at least 1 dim', `${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
  if (x.dtype === 'bool' || y.dtype === 'bool') fail('ERR_DTYPE', 'matmul', 'numeric operands', 'bool');
  const kx = x.shape[x.ndim - 1], ky = y.ndim === 1 ? y.shape[0] : y.shape[y.ndim - 2];
  if (kx !== ky) fail('ERR_SHAPE', 'matmul', `inner dims to match (${fmtShape(x.shape)} @ ${fmtShape(y.shape)})`, `${kx} vs ${ky}`);
  const dtype = promoteTypes(x.dtype, y.dtype);
  const temps: Tensor[] = [];
  let out: Tensor;
  try {
    // 1-D operands become a row (left) or a column (right) matrix, and that dim is dropped after.
    let a = asDType(x, dtype, temps), b = asDType(y, dtype, temps);
    if (a.ndim === 1) temps.push((a = Tensor.view(a, [1, a.shape[0]], [a.shape[0] * a.strides[0], a.strides[0]], a.offset)));
    if (b.ndim === 1) temps.push((b = Tensor.view(b, [b.shape[0], 1], [b.strides[0], b.shape[0] * b.strides[0]], b.offset)));
    const full = matmulRaw(a, b);
    const shape = full.shape.slice();
    if (y.ndim === 1) shape.splice(shape.length - 1, 1);
    if (x.ndim === 1) shape.splice(shape.length - (y.ndim === 1 ? 1 : 2), 1);
    if (shape.length === full.ndim) out = full;
    else {
      out = Tensor.view(full, shape, contiguousStrides(shape), 0);
      full.dispose();
    }
  } finally {
    disposeAll(temps);
  }
  return record(out, 'matmul', [x, y], (g) => {
    // dX = g @ Y^T, dY = X^T @ g, with 1-D operands lifted as in the forward and batch
    // broadcasting summed away.
    const xm = x.ndim === 1 ? x.reshape([1, x.shape[0]]) : x;
    const ym = y.ndim === 1 ? y.reshape([y.shape[0], 1]) : y;
    let gm = g;
    if (x.ndim === 1 && y.ndim === 1) gm = g.reshape([1, 1]);
    else if (x.ndim === 1) gm = g.unsqueeze(-2);
    else if (y.ndim === 1) gm = g.unsqueeze(-1);
    const gx = x.requiresGrad ? sumToShape(matmulRaw(gm, ym.transpose(-1, -2)), xm.shape).reshape(x.shape) : null;
    const gy = y.requiresGrad ? sumToShape(matmulRaw(xm.transpose(-1, -2), gm), ym.shape).reshape(y.shape) : null;
    return [gx, gy];
  });
}

export const mm = matmul;
export const bmm = matmul;

/** Inner product of two 1-D tensors. */
export function dot(x: Tensor, y: Tensor): Tensor {
  if (checkTensor(x, 'dot').ndim !== 1 || checkTensor(y, 'dot').ndim !== 1)
    fail('ERR_SHAPE', 'dot', 'two 1-D tensors', `${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
  return matmul(x, y);
}

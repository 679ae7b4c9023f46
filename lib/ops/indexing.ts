// indexSelect, gather, scatterAdd (and their adjoints): native kernels that validate every
// index before writing anything.
import { fail, fmtShape } from '../errors';
import { Tensor, contiguousCopy, normDim } from '../tensor';
import { record } from '../autograd/node';
import { beginLayouts, native } from '../native';
import { checkTensor, zerosRaw } from './helpers';

function checkIndex(index: Tensor, op: string): void {
  checkTensor(index, op, 'index');
  if (index.dtype !== 'int32' && index.dtype !== 'int64') fail('ERR_DTYPE', op, 'an int32 or int64 index', index.dtype);
}

export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor(x, 'indexSelect');
  checkIndex(index, 'indexSelect');
  if (index.ndim > 1) fail('ERR_SHAPE', 'indexSelect', 'a 1-D (or 0-d) index', fmtShape(index.shape));
  const d = normDim(dim, x.ndim, 'indexSelect');
  const shape = x.shape.slice();
  if (x.ndim > 0) shape[d] = index.numel();
  const out = Tensor.empty(shape, x.dtype, x.device);
  beginLayouts();
  out.putLayout();
  x.putLayout();
  index.putLayout();
  native.indexSelect(d, out.storage.buffer, x.storage.buffer, index.storage.buffer);
  return record(out, 'indexSelect', [x], (g) => {
    const gi = zerosRaw(x.shape.slice(), g.dtype, x.device);
    beginLayouts();
    gi.putLayout();
    index.putLayout();
    g.putLayout();
    native.indexAdd(d, gi.storage.buffer, index.storage.buffer, g.storage.buffer);
    return [gi];
  });
}

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor(x, 'gather');
  checkIndex(index, 'gather');
  const d = normDim(dim, x.ndim, 'gather');
  if (index.ndim !== x.ndim) fail('ERR_SHAPE', 'gather', `an index of rank ${x.ndim}`, fmtShape(index.shape));
  const out = Tensor.empty(index.shape.slice(), x.dtype, x.device);
  beginLayouts();
  out.putLayout();
  x.putLayout();
  index.putLayout();
  native.gather(d, out.storage.buffer, x.storage.buffer, index.storage.buffer);
  return record(out, 'gather', [x], (g) => [scatterAdd(zerosRaw(x.shape.slice(), g.dtype, x.device), d, index, g)]);
}

/** out = x.clone() with src added at index along dim (torch.scatter_add). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  checkTensor(x, 'scatterAdd');
  checkIndex(index, 'scatterAdd');
  checkTensor(src, 'scatterAdd', 'src');
  const d = normDim(dim, x.ndim, 'scatterAdd');
  if (src.dtype !== x.dtype) fail('ERR_DTYPE', 'scatterAdd', `src of dtype ${x.dtype}`, src.dtype);
  const out = contiguousCopy(x);
  beginLayouts();
  out.putLayout();
  index.putLayout();
  src.putLayout();
  native.scatterAdd(d, out.storage.buffer, index.storage.buffer, src.storage.buffer);
  return record(out, 'scatterAdd', [x, src], (g) => [x.requiresGrad ? g : null, src.requiresGrad ? gather(g, d, index) : null]);
}

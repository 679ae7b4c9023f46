// Creation, selection, indexing and dtype kernels: Cast, Fill, ZerosLike/OnesLike, Range,
// OneHot, Select, AddN, GatherV2, UnsortedSegmentSum, and the complex64 part accessors.
import type { DataType, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';
import { Tensor } from '../../../tensor';
import { beginLayouts, native } from '../../../native';
import { cast } from '../../../ops/shape';
import { full, arange } from '../../../ops/creation';
import { add, eq, where } from '../../../ops/elementwise';
import { indexSelect, gather } from '../../../ops/indexing';
import { zerosRaw } from '../../../ops/helpers';
import { dtypeOf } from '../backend';
import { finiteOrZero } from './binary';
import { kernel, numericKernel, attr } from './common';
import { runOnCpu } from '../fallback';

const NUMERIC = new Set<DataType>(['float32', 'int32', 'bool']);

export const miscKernels: KernelConfig[] = [
  numericKernel('Cast', ({ inputs, backend, attrs }) => {
    const info = inputs.x;
    const dtype = attr<DataType>(attrs, 'dtype');
    if (!NUMERIC.has(dtype)) return runOnCpu('Cast', { inputs, backend, attrs });
    let x = backend.viewOf(info);
    // Int32Array semantics for float -> int32: NaN and ±Infinity become 0, the rest truncate.
    if (dtype === 'int32' && x.dtype === 'float32') x = finiteOrZero(x);
    return backend.makeOutput(cast(x, dtypeOf(dtype)), info.shape, dtype);
  }),
  kernel('Fill', (args) => {
    const { backend, attrs } = args;
    const dtype = attr<DataType>(attrs, 'dtype') ?? 'float32';
    if (!NUMERIC.has(dtype)) return runOnCpu('Fill', args);
    const shape = attr<number[]>(attrs, 'shape');
    return backend.makeOutput(full(shape.slice(), Number(attr<number>(attrs, 'value')), { dtype: dtypeOf(dtype) }), shape, dtype);
  }),
  numericKernel('ZerosLike', ({ inputs, backend }) =>
    backend.makeOutput(full(inputs.x.shape.slice(), 0, { dtype: dtypeOf(inputs.x.dtype) }), inputs.x.shape, inputs.x.dtype)),
  numericKernel('OnesLike', ({ inputs, backend }) =>
    backend.makeOutput(full(inputs.x.shape.slice(), 1, { dtype: dtypeOf(inputs.x.dtype) }), inputs.x.shape, inputs.x.dtype)),
  kernel('Range', ({ backend, attrs }) => {
    const start = attr<number>(attrs, 'start'), stop = attr<number>(attrs, 'stop');
    let step = attr<number>(attrs, 'step');
    const dtype = (attr<DataType>(attrs, 'dtype') ?? 'float32') as 'float32' | 'int32';
    // tfjs's rangeImpl: |ceil((stop - start) / step)| values, counting down when stop < start and step is 1.
    const empty = start === stop || (start < stop && step < 0) || (stop < start && step > 1);
    const n = empty ? 0 : Math.abs(Math.ceil((stop - start) / step));
    if (stop < start && step === 1) step = -1;
    const out = Tensor.empty([n], dtypeOf(dtype));
    if (n > 0) {
      beginLayouts();
      out.putLayout();
      native.fillAffine(start, step, out.storage.buffer);
    }
    return backend.makeOutput(out, [n], dtype);
  }),
  kernel('LinSpace', ({ backend, attrs }) => {
    const start = attr<number>(attrs, 'start'), stop = attr<number>(attrs, 'stop'), num = attr<number>(attrs, 'num');
    const out = Tensor.empty([num], 'float32');
    if (num > 0) {
      beginLayouts();
      out.putLayout();
      native.fillAffine(start, num > 1 ? (stop - start) / (num - 1) : 0, out.storage.buffer);
    }
    return backend.makeOutput(out, [num], 'float32');
  }),
  numericKernel('OneHot', ({ inputs, backend, attrs }) => {
    const info = inputs.indices;
    const depth = attr<number>(attrs, 'depth');
    const dtype = attr<DataType>(attrs, 'dtype') ?? 'int32';
    const indices = backend.viewOf(info);
    const classes = arange(0, depth, 1, { dtype: indices.dtype === 'float32' ? 'float32' : 'int32' });
    const hot = eq(indices.unsqueeze(-1), classes);
    const on = full([], attr<number>(attrs, 'onValue')), off = full([], attr<number>(attrs, 'offValue'));
    const out = where(hot, on, off);
    return backend.makeOutput(out, [...info.shape, depth], dtype);
  }),
  numericKernel('Select', ({ inputs, backend }) => {
    const { condition, t, e } = inputs;
    let cond = backend.viewOf(condition);
    // A rank-1 condition picks whole rows of higher-rank t / e.
    if (condition.shape.length === 1 && t.shape.length > 1) cond = cond.reshape([condition.shape[0], ...t.shape.slice(1).map(() => 1)]);
    const outDType = backend_util.upcastType(t.dtype, e.dtype);
    const out = where(cond, backend.viewOf(t), backend.viewOf(e));
    return backend.makeOutput(out, t.shape, outDType);
  }),
  numericKernel('AddN', ({ inputs, backend }) => {
    const list = inputs as unknown as TensorInfo[];
    let acc = backend.viewOf(list[0]);
    for (let i = 1; i < list.length; i++) acc = add(acc, backend.viewOf(list[i]));
    return backend.makeOutput(acc, list[0].shape, list[0].dtype);
  }),
  numericKernel('GatherV2', ({ inputs, backend, attrs }) => {
    const { x, indices } = inputs;
    const axis = util.parseAxisParam(attr<number>(attrs, 'axis'), x.shape)[0];
    const batchDims = attr<number>(attrs, 'batchDims') ?? 0;
    const ids = backend.valuesOf(indices);
    const dim = x.shape[axis];
    for (let i = 0; i < ids.length; i++)
      if (!(ids[i] >= 0 && ids[i] <= dim - 1)) throw new Error(`GatherV2: the index value ${ids[i]} is not in [0, ${dim - 1}]`);
    const info = backend_util.segment_util.collectGatherOpShapeInfo(x as never, indices as never, axis, batchDims);
    const n = util.sizeFromShape(indices.shape) / info.batchSize;
    let idx = backend.viewOf(indices);
    if (idx.dtype !== 'int32') idx = cast(idx, 'int32');
    const x4 = backend.viewOf(x).reshape([info.batchSize, info.outerSize, info.dimSize, info.sliceSize]);
    let out: Tensor;
    if (info.batchSize === 1) {
      out = indexSelect(x4, 2, idx.reshape([n]));
    } else {
      // Per-batch indices, broadcast over the outer and slice dims (stride 0), for a dim-2 gather.
      const i4 = Tensor.view(idx.contiguous(), [info.batchSize, info.outerSize, n, info.sliceSize], [n, 0, 1, 0], idx.offset);
      out = gather(x4, 2, i4);
    }
    return backend.makeOutput(out, info.outputShape, x.dtype);
  }),
  numericKernel('UnsortedSegmentSum', (args) => {
    const { inputs, backend, attrs } = args;
    const { x, segmentIds } = inputs;
    const numSegments = attr<number>(attrs, 'numSegments');
    const ids = backend.valuesOf(segmentIds);
    // tfjs drops ids outside [0, numSegments); dendrite's indexAdd rejects them: let cpu handle those.
    for (let i = 0; i < ids.length; i++) if (!(ids[i] >= 0 && ids[i] < numSegments)) return runOnCpu('UnsortedSegmentSum', args);
    const m = ids.length;
    const rest = x.shape.slice(segmentIds.shape.length);
    const src = backend.viewOf(x).reshape([m, ...rest]);
    const out = zerosRaw([numSegments, ...rest], src.dtype);
    let index = backend.viewOf(segmentIds).reshape([m]);
    if (index.dtype !== 'int32') index = cast(index, 'int32');
    beginLayouts();
    out.putLayout();
    index.putLayout();
    src.putLayout();
    native.indexAdd(0, out.storage.buffer, index.storage.buffer, src.storage.buffer);
    return backend.makeOutput(out, [numSegments, ...rest], x.dtype);
  }),
  // complex64 tensors hold two float32 entries (see backend.ts); these kernels build and read them
  // without copying values.
  kernel('Complex', ({ inputs, backend }) => {
    const { real, imag } = inputs;
    const parts = {
      real: backend.makeOutput(backend.viewOf(real), real.shape, 'float32'),
      imag: backend.makeOutput(backend.viewOf(imag), imag.shape, 'float32'),
    };
    const dataId = {};
    backend.data.set(dataId, { dtype: 'complex64', refCount: 1, tensor: null, strings: null, complex: parts });
    return { dataId, shape: real.shape.slice(), dtype: 'complex64' };
  }),
  kernel('Real', ({ inputs, backend }) => {
    const part = backend.data.get(inputs.input.dataId).complex!.real;
    const shape = inputs.input.shape;
    return backend.makeOutput(backend.viewOf({ dataId: part.dataId, shape, dtype: 'float32' }), shape, 'float32');
  }),
  kernel('Imag', ({ inputs, backend }) => {
    const part = backend.data.get(inputs.input.dataId).complex!.imag;
    const shape = inputs.input.shape;
    return backend.makeOutput(backend.viewOf({ dataId: part.dataId, shape, dtype: 'float32' }), shape, 'float32');
  }),
];

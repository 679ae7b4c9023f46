// Layout kernels. Reshape, ExpandDims and Identity share the input's data id; Slice, Unpack and
// SplitV pieces that are contiguous in memory become views of the input's storage; the rest
// are one strided native copy each (Transpose, Tile and strided slices read their input through
// a strided or stride-0 view).
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util, slice_util, util } from '@tensorflow/tfjs-core';
import { Tensor, contiguousStrides } from '../../../tensor';
import { copyInto } from '../../../ops/helpers';
import { contiguous } from '../../../ops/shape';
import { cat, stack } from '../../../ops/join';
import { full } from '../../../ops/creation';
import type { DendriteBackend } from '../backend';
import { dtypeOf } from '../backend';
import { kernel, numericKernel, attr } from './common';
import { runOnCpu } from '../fallback';

function reshapeInfo(backend: DendriteBackend, x: TensorInfo, shape: number[]): TensorInfo {
  return backend.forward(x, util.inferFromImplicitShape(shape, util.sizeFromShape(x.shape)));
}

/** x[begin : begin + size], zero-copy when the region is contiguous. */
function sliceInfo(backend: DendriteBackend, info: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const x = backend.viewOf(info);
  const strides = contiguousStrides(info.shape);
  let offset = x.offset;
  for (let i = 0; i < begin.length; i++) offset += begin[i] * strides[i];
  const region = Tensor.view(x, size.slice(), strides, util.sizeFromShape(size) === 0 ? x.offset : offset);
  return backend.makeOutput(region, size, info.dtype);
}

/** x sliced with positive strides: a strided view over x's storage. */
function stridedView(x: Tensor, begin: number[], strides: number[], shape: number[]): Tensor {
  const base = contiguousStrides(x.shape);
  let offset = x.offset;
  for (let i = 0; i < begin.length; i++) offset += begin[i] * base[i];
  const viewStrides = base.map((s, i) => s * (strides[i] ?? 1));
  return Tensor.view(x, shape, viewStrides, util.sizeFromShape(shape) === 0 ? x.offset : offset);
}

export const shapeKernels: KernelConfig[] = [
  kernel('Reshape', ({ inputs, backend, attrs }) => reshapeInfo(backend, inputs.x, attr<number[]>(attrs, 'shape'))),
  kernel('Identity', ({ inputs, backend }) => backend.forward(inputs.x)),
  kernel('ExpandDims', ({ inputs, backend, attrs }) => {
    const x = inputs.input;
    const rank = x.shape.length;
    let dim = attr<number>(attrs, 'dim');
    util.assert(dim <= rank && dim >= -(rank + 1), () => `Axis must be in the interval [${-(rank + 1)}, ${rank}]`);
    if (dim < 0) dim += rank + 1;
    const shape = x.shape.slice();
    shape.splice(dim, 0, 1);
    return backend.forward(x, shape);
  }),
  numericKernel('Transpose', ({ inputs, backend, attrs }) => {
    const perm = attr<number[]>(attrs, 'perm');
    const out = contiguous(backend.viewOf(inputs.x).permute(perm));
    return backend.makeOutput(out, out.shape, inputs.x.dtype);
  }),
  numericKernel('Slice', ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    const [begin, size] = slice_util.parseSliceParams(x as never, attr<number[]>(attrs, 'begin'), attr<number[]>(attrs, 'size'));
    slice_util.assertParamsValid(x as never, begin, size);
    return sliceInfo(backend, x, begin, size);
  }),
  numericKernel('StridedSlice', ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    const a = attrs as Record<string, never>;
    const info = slice_util.sliceInfo(x.shape, a.begin, a.end, a.strides, a.beginMask, a.endMask, a.ellipsisMask,
      a.newAxisMask, a.shrinkAxisMask);
    if (info.isIdentity) return reshapeInfo(backend, x, info.finalShape);
    if (info.sliceDim0 || info.isSimpleSlice) {
      const size = slice_util.computeOutShape(info.begin, info.end, info.strides);
      const sliced = sliceInfo(backend, x, info.begin, size);
      const out = backend.forward(sliced, info.finalShape);
      backend.disposeIntermediateTensorInfo(sliced);
      return out;
    }
    // dendrite views have non-negative strides: a reversing slice runs on the cpu kernel.
    if (info.strides.some((st) => st < 0)) return runOnCpu('StridedSlice', { inputs, backend, attrs });
    const view = stridedView(backend.viewOf(x), info.begin, info.strides, info.finalShapeSparse);
    return backend.makeOutput(contiguous(view), info.finalShape, x.dtype);
  }),
  numericKernel('Concat', ({ inputs, backend, attrs }) => {
    const list = inputs as unknown as TensorInfo[];
    const axis = util.parseAxisParam(attr<number>(attrs, 'axis'), list[0].shape)[0];
    backend_util.assertParamsConsistent(list.map((t) => t.shape), axis);
    const outShape = backend_util.computeOutShape(list.map((t) => t.shape), axis);
    const parts = list.filter((t) => util.sizeFromShape(t.shape) > 0);
    if (parts.length === 0) return backend.makeOutput(full(outShape, 0, { dtype: dtypeOf(list[0].dtype) }), outShape, list[0].dtype);
    if (parts.length === 1) return backend.forward(parts[0], outShape);
    return backend.makeOutput(cat(parts.map((t) => backend.viewOf(t)), axis), outShape, list[0].dtype);
  }),
  numericKernel('Pack', ({ inputs, backend, attrs }) => {
    const list = inputs as unknown as TensorInfo[];
    let axis = attr<number>(attrs, 'axis');
    if (axis < 0) axis += list[0].shape.length + 1;
    for (const t of list) {
      util.assertShapesMatch(list[0].shape, t.shape, 'All tensors passed to stack must have matching shapes');
      util.assert(t.dtype === list[0].dtype, () => 'All tensors passed to stack must have matching dtypes');
    }
    const out = stack(list.map((t) => backend.viewOf(t)), axis);
    return backend.makeOutput(out, out.shape, list[0].dtype);
  }),
  numericKernel('Unpack', ({ inputs, backend, attrs }) => {
    const value = inputs.value;
    let axis = attr<number>(attrs, 'axis');
    if (axis < 0) axis += value.shape.length;
    const x = backend.viewOf(value);
    const outShape = value.shape.filter((_, i) => i !== axis);
    const outs: TensorInfo[] = [];
    for (let i = 0; i < value.shape[axis]; i++) outs.push(backend.makeOutput(x.select(axis, i), outShape, value.dtype));
    return outs;
  }),
  numericKernel('SplitV', ({ inputs, backend, attrs }) => {
    const info = inputs.x;
    const axis = util.parseAxisParam(attr<number>(attrs, 'axis'), info.shape)[0];
    const sizes = backend_util.prepareSplitSize(info as never, attr<number | number[]>(attrs, 'numOrSizeSplits'), axis);
    const x = backend.viewOf(info);
    let start = 0;
    return sizes.map((s) => {
      const piece = x.narrow(axis, start, s);
      start += s;
      return backend.makeOutput(piece, piece.shape, info.dtype);
    });
  }),
  numericKernel('Tile', ({ inputs, backend, attrs }) => {
    const info = inputs.x;
    const reps = attr<number[]>(attrs, 'reps');
    const x = backend.viewOf(info);
    // [r0, d0, r1, d1, ...] over x with stride 0 on the repeat dims, copied once.
    const shape: number[] = [], strides: number[] = [];
    info.shape.forEach((d, i) => {
      shape.push(reps[i], d);
      strides.push(0, x.strides[i]);
    });
    const outShape = info.shape.map((d, i) => d * reps[i]);
    const out = contiguous(Tensor.view(x, shape, strides, x.offset));
    return backend.makeOutput(out, outShape, info.dtype);
  }),
  numericKernel('PadV2', ({ inputs, backend, attrs }) => {
    const info = inputs.x;
    const paddings = attr<[number, number][]>(attrs, 'paddings');
    const value = attr<number>(attrs, 'constantValue') ?? 0;
    const outShape = paddings.map((p, i) => p[0] + info.shape[i] + p[1]);
    const out = full(outShape, value, { dtype: dtypeOf(info.dtype) });
    if (util.sizeFromShape(info.shape) > 0) {
      const strides = contiguousStrides(outShape);
      const offset = paddings.reduce((acc, p, i) => acc + p[0] * strides[i], 0);
      copyInto(Tensor.view(out, info.shape.slice(), strides, offset), backend.viewOf(info));
    }
    return backend.makeOutput(out, outShape, info.dtype);
  }),
];

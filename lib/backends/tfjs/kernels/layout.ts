// NHWC <-> NCHW for the conv-family kernels. tfjs hands images over channels-last; dendrite's
// conv, pooling and batch-norm kernels work on NCHW planes. Each direction is one strided native
// copy, and both directions are remembered on the tfjs tensor's entry (backend.ts `twins`):
//   - an NHWC input that a kernel needs as NCHW is transposed once and the NCHW copy kept with
//     the entry, so every later kernel reading the same tensor (the forward conv, then its filter
//     gradient; a max pool, then its gradient) gets it without another transpose;
//   - a kernel's NCHW result is transposed to NHWC for tfjs, and the NCHW original is kept as
//     the output's twin, so a conv/pool that follows reads it as is.
// When C == 1 or H*W == 1 both layouts are the same bytes: views, no copies, nothing kept.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { Tensor, contiguousStrides, keep } from '../../../tensor';
import { contiguous } from '../../../ops/shape';
import type { DendriteBackend } from '../backend';

/** Counters for tests and benchmarks: transposes done, and twins reused instead. */
export const layoutStats = { transposes: 0, reused: 0 };

function twin(backend: DendriteBackend, info: TensorInfo, key: string, make: () => Tensor): Tensor {
  const entry = backend.data.get(info.dataId);
  const full = `${key}:${info.shape.join(',')}`;
  const cached = entry.twins?.get(full);
  if (cached !== undefined) {
    layoutStats.reused++;
    return cached;
  }
  const t = keep(make());
  layoutStats.transposes++;
  (entry.twins ??= new Map()).set(full, t);
  return t;
}

/** Reinterprets `t`'s contiguous data under `shape` (a view, no copy). */
function relabel(t: Tensor, shape: number[]): Tensor {
  return Tensor.view(t, shape, contiguousStrides(shape), t.offset);
}

/** The NCHW version of a 4-D NHWC tfjs tensor (float32). */
export function nchwOf(backend: DendriteBackend, info: TensorInfo): Tensor {
  const [N, H, W, C] = info.shape;
  const x = backend.viewOf(info);
  if (C === 1 || H * W === 1) return relabel(x, [N, C, H, W]);
  return twin(backend, info, 'nchw', () => contiguous(x.permute([0, 3, 1, 2])));
}

/** A 4-D tensor in NCHW: transposed from NHWC, or viewed as is when the data format is NCHW. */
export function imageOf(backend: DendriteBackend, info: TensorInfo, channelsLast: boolean): Tensor {
  return channelsLast ? nchwOf(backend, info) : backend.viewOf(info);
}

/** Registers the NCHW result `y` as a tfjs tensor: NHWC (y kept as its NCHW twin) or as is. */
export function outputImage(backend: DendriteBackend, y: Tensor, channelsLast: boolean): TensorInfo {
  if (!channelsLast) return backend.makeOutput(y, y.shape, 'float32');
  const [N, C, H, W] = y.shape;
  const shape = [N, H, W, C];
  if (C === 1 || H * W === 1) return backend.makeOutput(y, shape, 'float32');
  const info = backend.makeOutput(contiguous(y.permute([0, 2, 3, 1])), shape, 'float32');
  layoutStats.transposes++;
  const yc = y.isContiguous() ? y : contiguous(y);
  backend.data.get(info.dataId).twins = new Map([[`nchw:${shape.join(',')}`, keep(yc)]]);
  return info;
}

/** A tfjs conv filter [fH, fW, inC, outC] as dendrite's [outC, inC, fH, fW]. */
export function convFilterOf(backend: DendriteBackend, info: TensorInfo): Tensor {
  const w = backend.viewOf(info);
  return twin(backend, info, 'oihw', () => contiguous(w.permute([3, 2, 0, 1])));
}

/** A tfjs depthwise filter [fH, fW, inC, mult] as dendrite's grouped [inC * mult, 1, fH, fW]. */
export function depthwiseFilterOf(backend: DendriteBackend, info: TensorInfo): Tensor {
  const [fH, fW, C, M] = info.shape;
  const w = backend.viewOf(info);
  return twin(backend, info, 'dw', () => contiguous(w.permute([2, 3, 0, 1])).reshape([C * M, 1, fH, fW]));
}

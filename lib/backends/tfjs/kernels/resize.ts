// ResizeBilinear, ResizeNearestNeighbor and their gradients, on NHWC images as they come (no
// layout change: each spatial dim is resized on its own, one dim at a time). The source rows
// and weights follow tfjs's kernels (alignCorners, halfPixelCenters, the legacy top-left
// mapping), computed once per call in JS. Forward: dendrite's indexSelect (a native gather of
// rows) and lerp a + (b - a) * f, as tfjs computes it. Gradients: the transpose of each dim's
// interpolation matrix [newSize, size] times dy (SGEMM); tfjs's gradient kernels use the
// mapping without half-pixel centres whatever the attribute says, and so do these.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { Tensor } from '../../../tensor';
import { tensor } from '../../../ops/creation';
import { indexSelect } from '../../../ops/indexing';
import { add, mul, sub } from '../../../ops/elementwise';
import { matmul } from '../../../ops/linalg';
import { cast } from '../../../ops/shape';
import type { DendriteBackend } from '../backend';
import { numericKernel, attr } from './common';

interface Taps {
  i0: number[];
  i1: number[];
  frac: number[];
}

function ratio(inSize: number, outSize: number, alignCorners: boolean): number {
  return alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
}

function bilinearTaps(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): Taps {
  const s = ratio(inSize, outSize, alignCorners);
  const taps: Taps = { i0: [], i1: [], frac: [] };
  for (let o = 0; o < outSize; o++) {
    const src = halfPixelCenters ? s * (o + 0.5) - 0.5 : s * o;
    const lo = Math.max(0, Math.floor(src));
    taps.i0.push(lo);
    taps.i1.push(Math.min(inSize - 1, Math.ceil(src)));
    taps.frac.push(src - lo);
  }
  return taps;
}

function nearestTaps(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number[] {
  const s = ratio(inSize, outSize, alignCorners);
  const idx: number[] = [];
  for (let o = 0; o < outSize; o++) {
    const src = halfPixelCenters ? s * (o + 0.5) : s * o;
    let i = Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src));
    if (halfPixelCenters) i = Math.max(0, i);
    idx.push(i);
  }
  return idx;
}

const index = (idx: number[]): Tensor => tensor(idx, { dtype: 'int64' });

/** x [B, H, W, C] with dim 1 or 2 resized by `taps`. */
function lerpDim(x: Tensor, dim: number, t: Taps): Tensor {
  const a = indexSelect(x, dim, index(t.i0)), b = indexSelect(x, dim, index(t.i1));
  const f = tensor(t.frac, { dtype: 'float32', shape: dim === 1 ? [t.frac.length, 1, 1] : [t.frac.length, 1] });
  return add(a, mul(sub(b, a), f));
}

/** Interpolation matrix [outSize, inSize] of one dim (row o holds output o's weights). */
function matrixOf(inSize: number, outSize: number, rows: (o: number, m: Float32Array) => void): Tensor {
  const m = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) rows(o, m.subarray(o * inSize, (o + 1) * inSize));
  return tensor(m, { dtype: 'float32', shape: [outSize, inSize] });
}

/** dx [B, H, W, C] = adjoint of resizing dims 1 and 2 by the matrices Rh [newH, H], Rw [newW, W], applied to dy [B, newH, newW, C]. */
function adjoint(dy: Tensor, Rh: Tensor, Rw: Tensor): Tensor {
  const [B, newH, newW, C] = dy.shape;
  const H = Rh.shape[1], W = Rw.shape[1];
  // Along H: [B, newH, newW*C] -> Rh^T @ -> [B, H, newW*C].
  const gh = matmul(Rh.transpose(0, 1), dy.reshape([B, newH, newW * C]));
  // Along W: [B*H, newW, C] -> Rw^T @ -> [B*H, W, C].
  const gw = matmul(Rw.transpose(0, 1), gh.reshape([B * H, newW, C]));
  return gw.reshape([B, H, W, C]);
}

function floatView(backend: DendriteBackend, info: TensorInfo): Tensor {
  const t = backend.viewOf(info);
  return t.dtype === 'float32' ? t : cast(t, 'float32');
}

export const resizeKernels: KernelConfig[] = [
  numericKernel('ResizeBilinear', ({ inputs, backend, attrs }) => {
    const [newH, newW] = attr<[number, number]>(attrs, 'size');
    const align = attr<boolean>(attrs, 'alignCorners') ?? false, half = attr<boolean>(attrs, 'halfPixelCenters') ?? false;
    const [, H, W] = inputs.images.shape;
    let y = floatView(backend, inputs.images);
    y = lerpDim(y, 2, bilinearTaps(W, newW, align, half));
    y = lerpDim(y, 1, bilinearTaps(H, newH, align, half));
    return backend.makeOutput(y, y.shape, 'float32');
  }),
  numericKernel('ResizeNearestNeighbor', ({ inputs, backend, attrs }) => {
    const [newH, newW] = attr<[number, number]>(attrs, 'size');
    const align = attr<boolean>(attrs, 'alignCorners') ?? false, half = attr<boolean>(attrs, 'halfPixelCenters') ?? false;
    const [, H, W] = inputs.images.shape;
    let y = backend.viewOf(inputs.images);
    y = indexSelect(y, 2, index(nearestTaps(W, newW, align, half)));
    y = indexSelect(y, 1, index(nearestTaps(H, newH, align, half)));
    return backend.makeOutput(y, y.shape, inputs.images.dtype);
  }),
  numericKernel('ResizeBilinearGrad', ({ inputs, backend, attrs }) => {
    const align = attr<boolean>(attrs, 'alignCorners') ?? false;
    const [, H, W] = inputs.images.shape, [, newH, newW] = inputs.dy.shape;
    const bilinear = (n: number, newN: number) => {
      const t = bilinearTaps(n, newN, align, false);
      return matrixOf(n, newN, (o, row) => {
        row[t.i0[o]] += 1 - t.frac[o];
        row[t.i1[o]] += t.frac[o];
      });
    };
    const dx = adjoint(floatView(backend, inputs.dy), bilinear(H, newH), bilinear(W, newW));
    return backend.makeOutput(dx, inputs.images.shape, 'float32');
  }),
  numericKernel('ResizeNearestNeighborGrad', ({ inputs, backend, attrs }) => {
    const align = attr<boolean>(attrs, 'alignCorners') ?? false;
    const [, H, W] = inputs.images.shape, [, newH, newW] = inputs.dy.shape;
    const nearest = (n: number, newN: number) => {
      const idx = nearestTaps(n, newN, align, false);
      return matrixOf(n, newN, (o, row) => {
        row[idx[o]] = 1;
      });
    };
    const dx = adjoint(floatView(backend, inputs.dy), nearest(H, newH), nearest(W, newW));
    return backend.makeOutput(dx, inputs.images.shape, 'float32');
  }),
];

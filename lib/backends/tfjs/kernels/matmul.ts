// BatchMatMul and _FusedMatMul. Single matrices in float32 go straight to dendrite's SGEMM on
// the stored buffers (transposes folded into the GEMM, bias and relu/sigmoid fused into its
// epilogue); batches and the other activations compose dendrite's batched matmul and
// elementwise kernels.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { broadcast_util, util } from '@tensorflow/tfjs-core';
import { Tensor } from '../../../tensor';
import { native, UNARY } from '../../../native';
import { floatUnaryRaw } from '../../../ops/helpers';
import { matmul } from '../../../ops/linalg';
import { cast } from '../../../ops/shape';
import { add, gt, mul, where } from '../../../ops/elementwise';
import { GEMM_ACTIVATIONS } from '../../../ops/blas';
import type { DendriteBackend } from '../backend';
import { numericKernel, attr, type KernelArgs } from './common';

export type Activation = 'linear' | 'relu' | 'prelu' | 'elu' | 'relu6' | 'leakyrelu' | 'sigmoid';

const EPILOGUE: Partial<Record<Activation, number>> = {
  linear: GEMM_ACTIVATIONS.none, relu: GEMM_ACTIVATIONS.relu, sigmoid: GEMM_ACTIVATIONS.sigmoid,
};

/** tfjs's shape rules for (batched) matmul: the output shape, or a thrown error as the cpu kernel gives. */
function outShapeOf(a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): number[] {
  const ar = a.shape.length, br = b.shape.length;
  const innerA = transA ? a.shape[ar - 2] : a.shape[ar - 1], innerB = transB ? b.shape[br - 1] : b.shape[br - 2];
  const outerA = transA ? a.shape[ar - 1] : a.shape[ar - 2], outerB = transB ? b.shape[br - 2] : b.shape[br - 1];
  const batch = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  util.assert(innerA === innerB && ar >= 2 && br >= 2, () => `Error in matMul: inner shapes (${innerA}) and (${innerB}) of Tensors ` +
    `with shapes ${a.shape} and ${b.shape} and transposeA=${transA} and transposeB=${transB} must match.`);
  return [...batch, outerA, outerB];
}

/** out[M, N] = act(op(A) op(B) + bias) in one SGEMM call, or null when the case does not fit. */
function sgemmPath(backend: DendriteBackend, aInfo: TensorInfo, bInfo: TensorInfo, transA: boolean, transB: boolean,
  biasInfo: TensorInfo | null, act: Activation): TensorInfo | null {
  if (aInfo.dtype !== 'float32' || bInfo.dtype !== 'float32') return null;
  const ar = aInfo.shape.length, br = bInfo.shape.length;
  if (ar < 2 || br < 2) return null;
  const batchA = util.sizeFromShape(aInfo.shape.slice(0, -2)), batchB = util.sizeFromShape(bInfo.shape.slice(0, -2));
  if (batchA !== 1 || batchB !== 1) return null;
  const epilogue = EPILOGUE[act];
  if (epilogue === undefined) return null;
  const M = transA ? aInfo.shape[ar - 1] : aInfo.shape[ar - 2];
  const K = transA ? aInfo.shape[ar - 2] : aInfo.shape[ar - 1];
  const N = transB ? bInfo.shape[br - 2] : bInfo.shape[br - 1];
  let biasKind = 0;
  if (biasInfo !== null) {
    if (biasInfo.dtype !== 'float32') return null;
    const size = util.sizeFromShape(biasInfo.shape);
    const bs = biasInfo.shape;
    // Per-column bias: [N] or [1, N] (or [1, ..., N]); per-row: [M, 1].
    if (size === N && bs[bs.length - 1] === N) biasKind = 2;
    else if (size === M && bs.length >= 2 && bs[bs.length - 1] === 1 && bs[bs.length - 2] === M) biasKind = 1;
    else return null;
  }
  const outShape = outShapeOf(aInfo, bInfo, transA, transB);
  const out = Tensor.empty([M * N], 'float32');
  if (M * N > 0) {
    const C = new Float32Array(out.storage.hostBuffer, 0, M * N);
    const A = backend.valuesOf(aInfo) as Float32Array, B = backend.valuesOf(bInfo) as Float32Array;
    const bias = biasInfo !== null ? (backend.valuesOf(biasInfo) as Float32Array) : undefined;
    native.sgemm(transA, transB, M, N, K, 1, 0, Math.max(1, transA ? M : K), Math.max(1, transB ? K : N), Math.max(1, N),
      A, B, C, biasKind, epilogue, bias);
  }
  return backend.makeOutput(out, outShape, 'float32');
}

function batchMatMul(backend: DendriteBackend, aInfo: TensorInfo, bInfo: TensorInfo, transA: boolean, transB: boolean): Tensor {
  outShapeOf(aInfo, bInfo, transA, transB);
  let a = backend.viewOf(aInfo), b = backend.viewOf(bInfo);
  if (a.dtype !== 'float32') a = cast(a, 'float32');
  if (b.dtype !== 'float32') b = cast(b, 'float32');
  if (transA) a = a.transpose(-1, -2);
  if (transB) b = b.transpose(-1, -2);
  return matmul(a, b);
}

/** tfjs's fused activations on y; `alpha` (prelu weights) broadcasts against y. */
export function activate(y: Tensor, act: Activation, alpha: Tensor | null, leakyreluAlpha: number | undefined): Tensor {
  switch (act) {
    case 'linear': return y;
    case 'relu': return floatUnaryRaw(UNARY.relu, y);
    case 'relu6': return floatUnaryRaw(UNARY.clamp, y, 0, 6);
    case 'elu': return floatUnaryRaw(UNARY.elu, y, 1);
    case 'sigmoid': return floatUnaryRaw(UNARY.sigmoid, y);
    case 'leakyrelu': return floatUnaryRaw(UNARY.leakyRelu, y, leakyreluAlpha ?? 0.2);
    case 'prelu': return where(gt(y, 0), y, mul(y, alpha!));
    default: throw new Error(`dendrite: unknown fused activation ${act as string}`);
  }
}

function applyActivation(y: Tensor, act: Activation, args: KernelArgs): Tensor {
  const alpha = act === 'prelu' ? args.backend.viewOf(args.inputs.preluActivationWeights) : null;
  return activate(y, act, alpha, attr<number>(args.attrs, 'leakyreluAlpha'));
}

export const matmulKernels: KernelConfig[] = [
  numericKernel('BatchMatMul', ({ inputs, backend, attrs }) => {
    const transA = attr<boolean>(attrs, 'transposeA') ?? false, transB = attr<boolean>(attrs, 'transposeB') ?? false;
    const fast = sgemmPath(backend, inputs.a, inputs.b, transA, transB, null, 'linear');
    if (fast !== null && inputs.a.dtype === 'float32') return fast;
    const out = batchMatMul(backend, inputs.a, inputs.b, transA, transB);
    return backend.makeOutput(out, out.shape, inputs.a.dtype);
  }),
  numericKernel('_FusedMatMul', (args) => {
    const { inputs, backend, attrs } = args;
    const transA = attr<boolean>(attrs, 'transposeA') ?? false, transB = attr<boolean>(attrs, 'transposeB') ?? false;
    const act = (attr<Activation>(attrs, 'activation') ?? 'linear');
    const bias = inputs.bias ?? null;
    const fast = sgemmPath(backend, inputs.a, inputs.b, transA, transB, bias, act);
    if (fast !== null) return fast;
    let y = batchMatMul(backend, inputs.a, inputs.b, transA, transB);
    if (bias !== null) y = add(y, cast(backend.viewOf(bias), 'float32'));
    y = applyActivation(y, act, args);
    return backend.makeOutput(y, y.shape, 'float32');
  }),
];

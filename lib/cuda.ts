// dt.cuda: the CUDA device from JS. Works in every build: without the CUDA backend, or on a
// machine without a GPU, isAvailable() is false, deviceCount() 0 and memory() all zeros.
import { fail } from './errors';
import { native } from './native';
import { cudaAvailable, cudaInfo, requireCuda } from './device';
import { Tensor } from './tensor';
import { GEMM_ACTIVATIONS, type SgemmOptions } from './ops/blas';

export interface CudaMemory {
  /** Bytes in live blocks of the caching allocator (sizes rounded to its buckets). */
  allocated: number;
  /** Bytes held from cudaMalloc: live blocks plus the cache. */
  reserved: number;
  /** The highest `allocated` so far. */
  peak: number;
  /** Live blocks, and cudaMalloc calls so far (flat in a steady loop: the cache serves it). */
  liveBlocks: number;
  cudaMallocs: number;
}

function deviceBuffer(t: Tensor, what: string): Tensor {
  if (!(t instanceof Tensor)) fail('ERR_ARGUMENT', 'cuda.sgemm', `a Tensor ${what}`, typeof t);
  t.assertLive('cuda.sgemm');
  if (t.device !== 'cuda' || t.dtype !== 'float32' || t.offset !== 0 || !t.isContiguous())
    fail('ERR_ARGUMENT', 'cuda.sgemm', `${what}: a contiguous float32 CUDA tensor at offset 0`, `${t.dtype} on ${t.device}`);
  return t;
}

export const cuda = {
  /** A CUDA backend was built in and a GPU is usable. */
  isAvailable: (): boolean => cudaAvailable(),
  deviceCount: (): number => (cudaInfo().compiled ? cudaInfo().deviceCount : 0),
  /**
   * The device's name as the CUDA runtime reports it ('' when none is usable). The CPU emulation of
   * the CUDA backend (`npm run build:cuda-emu`) calls itself "dendrite CUDA emulator (CPU)".
   */
  deviceName: (): string => (cudaAvailable() ? cudaInfo().deviceName ?? '' : ''),
  /** Why isAvailable() is false ('' when it is true). */
  unavailableReason: (): string => (cudaAvailable() ? '' : cudaInfo().reason),
  memory(): CudaMemory {
    if (!cudaAvailable()) return { allocated: 0, reserved: 0, peak: 0, liveBlocks: 0, cudaMallocs: 0 };
    return native.cudaMemory();
  },
  /** Gives the cached (free) blocks back to the driver. */
  emptyCache(): void {
    if (cudaAvailable()) native.cudaEmptyCache();
  },
  /** Waits for every kernel queued so far. */
  synchronize(): void {
    requireCuda('cuda.synchronize');
    native.cudaSynchronize();
  },
  /**
   * dt.linalg.sgemm on CUDA tensors used as flat row-major buffers (contiguous float32 at offset
   * 0): C = act(alpha op(A) op(B) + beta C + bias) in place. Asynchronous like every kernel.
   */
  sgemm(M: number, N: number, K: number, A: Tensor, B: Tensor, C: Tensor, options: SgemmOptions & { biasTensor?: Tensor } = {}): Tensor {
    requireCuda('cuda.sgemm');
    const transA = options.transA ?? false, transB = options.transB ?? false;
    const lda = options.lda ?? Math.max(1, transA ? M : K);
    const ldb = options.ldb ?? Math.max(1, transB ? K : N);
    const ldc = options.ldc ?? Math.max(1, N);
    const act = options.activation ?? 'none';
    if (!(act in GEMM_ACTIVATIONS)) fail('ERR_ARGUMENT', 'cuda.sgemm', `an activation in ${Object.keys(GEMM_ACTIVATIONS).join(', ')}`, String(act));
    const bias = options.biasTensor ? deviceBuffer(options.biasTensor, 'bias') : undefined;
    const biasKind = bias ? (options.biasPer === 'row' ? 1 : 2) : 0;
    native.cudaSgemm(transA, transB, M, N, K, options.alpha ?? 1, options.beta ?? 0, lda, ldb, ldc,
      deviceBuffer(A, 'A').storage.buffer, deviceBuffer(B, 'B').storage.buffer, deviceBuffer(C, 'C').storage.buffer,
      biasKind, GEMM_ACTIVATIONS[act], bias?.storage.buffer);
    return C;
  },
};

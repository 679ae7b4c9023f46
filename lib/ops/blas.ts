// dt.linalg: the BLAS-style SGEMM on plain Float32Arrays, for tests and for code that manages
// its own buffers. Row-major, like cblas_sgemm(CblasRowMajor, ...).
import { fail } from '../errors';
import { native } from '../native';

export type GemmActivation = 'none' | 'relu' | 'sigmoid' | 'tanh' | 'gelu' | 'geluTanh';
/** Codes shared with native/cpu/gemm/gemm.h (GemmActivation). */
export const GEMM_ACTIVATIONS: Record<GemmActivation, number> = {
  none: 0, relu: 1, sigmoid: 2, tanh: 3, gelu: 4, geluTanh: 5,
};

export interface SgemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  /** Leading dimensions (row strides of the stored matrices); default: packed. */
  lda?: number;
  ldb?: number;
  ldc?: number;
  /** Fused epilogue: C = act(C + bias), bias per row (M entries) or per column (N entries). */
  bias?: Float32Array;
  biasPer?: 'row' | 'col';
  activation?: GemmActivation;
  /**
   * Pack one operand ahead into the micro-kernel's layout (sgemm_pack_a / sgemm_pack_b) and
   * multiply through the prepacked-operand path, as the recurrent layers do with W_hh.
   */
  prepack?: 'a' | 'b';
}

function dim(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x7fffffff)
    fail('ERR_ARGUMENT', 'sgemm', `${what} a non-negative int32`, String(v));
  return v as number;
}

/**
 * C = act(alpha * op(A) @ op(B) + beta * C + bias) in place, op(A) M x K, op(B) K x N, C M x N,
 * all row-major with leading dimensions; beta = 0 overwrites C (NaN in C ignored), as BLAS.
 * Returns C.
 */
export function sgemm(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
  options: SgemmOptions = {}): Float32Array {
  M = dim(M, 'M'); N = dim(N, 'N'); K = dim(K, 'K');
  const transA = options.transA ?? false, transB = options.transB ?? false;
  const lda = dim(options.lda ?? Math.max(1, transA ? M : K), 'lda');
  const ldb = dim(options.ldb ?? Math.max(1, transB ? K : N), 'ldb');
  const ldc = dim(options.ldc ?? Math.max(1, N), 'ldc');
  const alpha = options.alpha ?? 1, beta = options.beta ?? 0;
  const act = options.activation ?? 'none';
  if (!(act in GEMM_ACTIVATIONS)) fail('ERR_ARGUMENT', 'sgemm', `an activation in ${Object.keys(GEMM_ACTIVATIONS).join(', ')}`, String(act));
  const biasKind = options.bias ? (options.biasPer === 'row' ? 1 : 2) : 0;
  if (options.biasPer !== undefined && options.biasPer !== 'row' && options.biasPer !== 'col')
    fail('ERR_ARGUMENT', 'sgemm', "biasPer 'row' or 'col'", String(options.biasPer));
  if (options.prepack !== undefined && options.prepack !== 'a' && options.prepack !== 'b')
    fail('ERR_ARGUMENT', 'sgemm', "prepack 'a' or 'b'", String(options.prepack));
  const prepack = options.prepack === 'a' ? 1 : options.prepack === 'b' ? 2 : 0;
  native.sgemm(transA, transB, M, N, K, alpha, beta, lda, ldb, ldc, A, B, C, biasKind, GEMM_ACTIVATIONS[act], options.bias, prepack);
  return C;
}

/** This CPU's measured float32 FMA peak in GFLOP/s on the active SIMD path, with `threads` threads. */
export function fmaPeak(threads = 1, seconds = 0.2): number {
  return native.fmaPeak(threads, seconds);
}

// dtypes: strings in the API, small integer codes across the N-API boundary
// (must match native/core/dtype.h), and PyTorch's type promotion.
import { fail } from './errors';

export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'bool';

export const float32: DType = 'float32';
export const float64: DType = 'float64';
export const int32: DType = 'int32';
export const int64: DType = 'int64';
export const uint8: DType = 'uint8';
export const bool: DType = 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'int64', 'uint8', 'bool'];
export const DTYPE_CODES: Record<DType, number> = { float32: 0, float64: 1, int32: 2, int64: 3, uint8: 4, bool: 5 };
export const ITEMSIZE: Record<DType, number> = { float32: 4, float64: 8, int32: 4, int64: 8, uint8: 1, bool: 1 };

export type TypedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export const ARRAY_TYPES = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as const;

export function checkDType(d: unknown, op: string): DType {
  if (typeof d !== 'string' || !(d in DTYPE_CODES)) fail('ERR_DTYPE', op, `one of ${DTYPES.join(', ')}`, String(d));
  return d as DType;
}

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';
export const isInt = (d: DType): boolean => d === 'int32' || d === 'int64' || d === 'uint8';

// Category rank: bool < integer < float.
const category = (d: DType): number => (d === 'bool' ? 0 : isFloat(d) ? 2 : 1);
const INT_ORDER: DType[] = ['uint8', 'int32', 'int64'];

/** torch.result_type for two tensors. */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  const ca = category(a), cb = category(b);
  if (ca !== cb) return ca > cb ? a : b;
  if (ca === 2) return 'float64';
  return INT_ORDER.indexOf(a) > INT_ORDER.indexOf(b) ? a : b;
}

/**
 * torch.result_type for two tensors of `aDims` and `bDims` dims: a 0-d tensor beside a
 * dimensioned one takes part like a scalar, changing the result only when it is of a higher
 * category (float32 [n] + float64 0-d is float32; int32 [n] + float64 0-d is float64).
 */
export function promoteTensorTypes(a: DType, aDims: number, b: DType, bDims: number): DType {
  if ((aDims === 0) === (bDims === 0)) return promoteTypes(a, b);
  const [dimmed, zeroDim] = aDims === 0 ? [b, a] : [a, b];
  return category(zeroDim) > category(dimmed) ? zeroDim : dimmed;
}

/** torch.result_type for a tensor and a JS number (numbers do not widen within a category). */
export function promoteWithScalar(t: DType, s: number | boolean): DType {
  if (typeof s === 'boolean') return t;
  if (!Number.isInteger(s)) return isFloat(t) ? t : 'float32';
  return t === 'bool' ? 'int64' : t;
}

/** The dtype ops that only make sense in floating point compute in (ints/bools become float32). */
export const floatOf = (d: DType): DType => (isFloat(d) ? d : 'float32');

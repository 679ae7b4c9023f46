// DendriteError: every failure a caller can cause surfaces as one of these, with a code and a
// message naming the op, what it expected and what it got. Native errors arrive as the same
// class (the addon is handed this constructor at load time).

export type ErrorCode =
  | 'ERR_SHAPE'
  | 'ERR_DTYPE'
  | 'ERR_DEVICE'
  | 'ERR_INDEX'
  | 'ERR_ARGUMENT'
  | 'ERR_DISPOSED'
  | 'ERR_FORMAT'
  | 'ERR_OUT_OF_MEMORY'
  | 'ERR_CUDA_OOM'
  | 'ERR_NOT_IMPLEMENTED'
  | 'ERR_INTERNAL';

export class DendriteError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode = 'ERR_ARGUMENT') {
    super(message);
    this.name = 'DendriteError';
    this.code = code;
  }
}

/** The one message builder: `op: expected X, got Y`. */
export function fail(code: ErrorCode, op: string, expected: string, got: string): never {
  throw new DendriteError(`${op}: expected ${expected}, got ${got}`, code);
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}

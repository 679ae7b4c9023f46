// Storage: a tensor's bytes. On the CPU an external ArrayBuffer over 64-byte-aligned native
// memory (zero-copy for reads). Views share a Storage; `dispose()` releases it once no live
// tensor refers to it. Released buffers that were never exposed to user code go to a small
// size-keyed cache so the next op of the same size skips the native allocation (a fresh
// ArrayBuffer costs ~1 µs, more than the op itself); exposed ones are freed at once, which
// detaches them, so a user's stale view reads as empty rather than as someone else's data.
import { native } from './native';

export type Device = 'cpu' | 'cuda';

const CACHE_LIMIT_BYTES = 64 * 1024 * 1024;
const CACHE_MAX_ITEM_BYTES = 4 * 1024 * 1024;
const cache = new Map<number, ArrayBuffer[]>();
let cachedBytes = 0;

export class Storage {
  readonly buffer: ArrayBuffer;
  readonly byteLength: number;
  readonly device: Device = 'cpu';
  /** Live (undisposed) tensors over this storage. */
  refs = 0;
  /** A TypedArray over the buffer was handed to user code. */
  exposed = false;
  released = false;

  constructor(byteLength: number) {
    this.byteLength = byteLength;
    const list = cache.get(byteLength);
    if (list !== undefined && list.length > 0) {
      this.buffer = list.pop()!;
      cachedBytes -= byteLength;
    } else {
      this.buffer = native.alloc(byteLength);
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    const n = this.byteLength;
    if (!this.exposed && n <= CACHE_MAX_ITEM_BYTES && cachedBytes + n <= CACHE_LIMIT_BYTES) {
      let list = cache.get(n);
      if (list === undefined) cache.set(n, (list = []));
      list.push(this.buffer);
      cachedBytes += n;
    } else {
      native.free(this.buffer);
    }
  }
}

/** Frees every cached buffer. */
export function emptyCache(): void {
  for (const list of cache.values()) for (const b of list) native.free(b);
  cache.clear();
  cachedBytes = 0;
}

export function cacheBytes(): number {
  return cachedBytes;
}

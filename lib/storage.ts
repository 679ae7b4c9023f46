// Storage: a tensor's bytes. On the CPU an external ArrayBuffer over 64-byte-aligned native
// memory (zero-copy for reads). Views share a Storage; `dispose()` releases it once no live
// tensor refers to it.
//
// Released storages that were never exposed to user code go to a small size-keyed cache and
// are handed out again whole (object and buffer), so an op on a recycled size allocates
// nothing: a fresh ArrayBuffer costs ~1 µs, more than a small op itself. Exposed storages are
// freed at once, which detaches the buffer, so a user's stale view reads as empty rather than
// as someone else's data. Storages dropped without dispose are freed by the GC (the native
// finalizer of the buffer); a FinalizationRegistry, registered once per fresh storage, keeps
// the live-tensor count right for them.
//
// A CUDA storage is an opaque native handle over device memory from the native caching
// allocator (native/cuda/cuda.h), so it skips this cache; dispose gives it back at once.
import { DEVICE_CODES, native } from './native';
import { fail } from './errors';

export type Device = 'cpu' | 'cuda';

/** An opaque handle to device memory (what the native calls take for a CUDA tensor). */
export interface CudaHandle {
  readonly __dendriteCudaStorage?: never;
}
/** What the native calls take: an ArrayBuffer on the CPU, a CudaHandle on CUDA. */
export type StorageHandle = ArrayBuffer | CudaHandle;

// Training loops allocate the same large activations every step; returning them to the OS and
// faulting fresh pages back in costs more than the ops (~1.5 ms per MiB on a loaded VM), so
// items up to a quarter of the cache are kept. dt.setCacheLimit() trades this for memory.
let cacheLimitBytes = 256 * 1024 * 1024;
let cacheMaxItemBytes = cacheLimitBytes / 4;
const cache = new Map<number, Storage[]>();
let cachedBytes = 0;

/** Live tensor bookkeeping shared by a storage and its finalizer. */
class RefCell {
  refs = 0;
  constructor(readonly cuda: boolean) {}
}

let liveTensors = 0;
let liveCudaTensors = 0;
const finalizers = new FinalizationRegistry<RefCell>((cell) => {
  liveTensors -= cell.refs;
  if (cell.cuda) liveCudaTensors -= cell.refs;
});

export class Storage {
  readonly buffer: StorageHandle;
  readonly byteLength: number;
  readonly device: Device;
  /** The device's code in the metadata channel (DEVICE_CODES). */
  readonly deviceCode: number;
  /** A TypedArray over the buffer was handed to user code. */
  exposed = false;
  private readonly cell: RefCell;

  private constructor(byteLength: number, device: Device) {
    this.byteLength = byteLength;
    this.device = device;
    this.deviceCode = DEVICE_CODES[device];
    this.buffer = device === 'cpu' ? native.alloc(byteLength) : native.cudaAlloc(byteLength);
    this.cell = new RefCell(device !== 'cpu');
    finalizers.register(this, this.cell);
  }

  /** A storage of `byteLength` bytes: a cached one when available, else a fresh allocation. */
  static allocate(byteLength: number, device: Device = 'cpu'): Storage {
    if (device !== 'cpu') return new Storage(byteLength, device);
    const list = cache.get(byteLength);
    if (list !== undefined && list.length > 0) {
      cachedBytes -= byteLength;
      return list.pop()!;
    }
    return new Storage(byteLength, 'cpu');
  }

  /** The bytes of a CPU storage, for code that reads or writes them in JS. */
  get hostBuffer(): ArrayBuffer {
    if (this.device !== 'cpu') fail('ERR_DEVICE', 'storage', 'a CPU tensor (copy it with .cpu() first)', `a ${this.device} tensor`);
    return this.buffer as ArrayBuffer;
  }

  /** Live (undisposed) tensors over this storage. */
  get refs(): number {
    return this.cell.refs;
  }

  addRef(): void {
    this.cell.refs++;
    liveTensors++;
    if (this.cell.cuda) liveCudaTensors++;
  }

  /** Drops one tensor's reference; the last one releases the storage. */
  dropRef(): void {
    liveTensors--;
    if (this.cell.cuda) liveCudaTensors--;
    if (--this.cell.refs === 0) this.release();
  }

  private release(): void {
    if (this.device !== 'cpu') {
      native.cudaFree(this.buffer);
      return;
    }
    const n = this.byteLength;
    if (!this.exposed && n <= cacheMaxItemBytes && cachedBytes + n <= cacheLimitBytes) {
      let list = cache.get(n);
      if (list === undefined) cache.set(n, (list = []));
      list.push(this);
      cachedBytes += n;
    } else {
      native.free(this.buffer as ArrayBuffer);
    }
  }
}

/** Sets the most bytes the storage cache keeps (0 disables it); frees what is over. */
export function setCacheLimit(bytes: number): void {
  cacheLimitBytes = Math.max(0, bytes);
  cacheMaxItemBytes = cacheLimitBytes / 4;
  if (cachedBytes > cacheLimitBytes) emptyCache();
}

/** Frees every cached storage. */
export function emptyCache(): void {
  for (const list of cache.values()) for (const s of list) native.free(s.buffer as ArrayBuffer);
  cache.clear();
  cachedBytes = 0;
}

export function cacheBytes(): number {
  return cachedBytes;
}

export function liveTensorCount(): number {
  return liveTensors;
}

export function liveCudaTensorCount(): number {
  return liveCudaTensors;
}

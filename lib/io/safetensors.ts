// Save and load in the safetensors format (https://github.com/huggingface/safetensors):
//   u64 little-endian N | N bytes of JSON header, space-padded to a multiple of 8 | data
// The header maps each tensor name to { dtype, shape, data_offsets: [begin, end] } (offsets into
// the data section) and may hold "__metadata__", a map of strings. Files are laid out as the
// reference writer lays them out (tensors ordered by dtype, widest first, then name; compact
// JSON), so the same tensors give the same bytes as PyTorch/Hugging Face tools.
//
// Objects that are not a flat { name: Tensor } map — checkpoints such as
// { model: model.stateDict(), optimizer: opt.stateDict(), epoch } — are stored as their tensors
// under dotted paths ('model.fc.weight', 'optimizer.state.0.exp_avg') plus the object's shape with
// every other value in the metadata entry "dendrite", so load() gives the same object back and
// any safetensors reader still sees plain named tensors.
//
// Reading trusts nothing in the file: the header size, JSON, dtypes, shapes and offsets are
// checked (offsets must tile the data section exactly, as the reference reader requires) before a
// byte of tensor data is read, and data is read straight into each tensor's storage with its
// exact length, so a corrupted, truncated or lying file is a DendriteError ERR_FORMAT, never an
// out-of-bounds read.
import * as fs from 'fs';
import * as os from 'os';
import * as pathModule from 'path';
import { describe, fail, fmtShape } from '../errors';
import { ITEMSIZE, type DType } from '../dtype';
import { Tensor, contiguousCopy, shapeNumel } from '../tensor';

const FILE_DTYPES: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', int64: 'I64', uint8: 'U8', bool: 'BOOL' };
const FROM_FILE: Record<string, DType> = { F32: 'float32', F64: 'float64', I32: 'int32', I64: 'int64', U8: 'uint8', BOOL: 'bool' };
// Half-precision files (common on the Hub) load as float32.
const WIDENED: Record<string, number> = { F16: 2, BF16: 2 };
// The reference writer's dtype order (its enum order); data is laid out widest-ranked first.
const DTYPE_RANK: Record<string, number> = { BOOL: 0, U8: 1, I32: 9, F32: 11, F64: 12, I64: 13 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const METADATA_KEY = 'dendrite';

export type Metadata = Record<string, string>;
export interface SaveOptions {
  /** Extra `__metadata__` entries (strings), e.g. { format: 'pt' }. */
  metadata?: Metadata;
}
export interface TensorInfo {
  dtype: string;
  shape: number[];
  dataOffsets: [number, number];
}
export interface Header {
  metadata: Metadata;
  tensors: Record<string, TensorInfo>;
  /** Byte offset of the data section in the file. */
  dataStart: number;
}

function formatError(op: string, file: string, expected: string, got: string): never {
  return fail('ERR_FORMAT', `${op}(${JSON.stringify(file)})`, expected, got);
}

function checkLittleEndian(op: string): void {
  if (os.endianness() !== 'LE') fail('ERR_NOT_IMPLEMENTED', op, 'a little-endian host', 'a big-endian one');
}

// ---- flattening ---------------------------------------------------------------------------

interface Flattened {
  tensors: [string, Tensor][];
  tree: unknown | null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** A flat { name: Tensor } map is saved as is; anything else as tensors plus a tree. */
function flatten(obj: unknown, op: string): Flattened {
  if (isPlainObject(obj) && Object.values(obj).every((v) => v instanceof Tensor)) return { tensors: Object.entries(obj) as [string, Tensor][], tree: null };
  if (!isPlainObject(obj) && !Array.isArray(obj) && !(obj instanceof Tensor))
    fail('ERR_ARGUMENT', op, 'a plain object or array of tensors and values (pass model.stateDict(), not the model)', describe(obj));
  const tensors: [string, Tensor][] = [];
  const names = new Set<string>();
  const walk = (v: unknown, path: string[], depth: number): unknown => {
    if (depth > 64) fail('ERR_ARGUMENT', op, 'an object nested at most 64 deep', 'a deeper one (a cycle?)');
    if (v instanceof Tensor) {
      const name = path.length ? path.join('.') : 'tensor';
      if (names.has(name)) fail('ERR_ARGUMENT', op, 'distinct dotted paths for the tensors', `two tensors at ${JSON.stringify(name)}`);
      names.add(name);
      tensors.push([name, v]);
      return { $tensor: name };
    }
    if (typeof v === 'number') return Number.isFinite(v) ? v : { $number: String(v) };
    if (typeof v === 'bigint') return { $bigint: v.toString() };
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (v === undefined) return null;
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, String(i)], depth + 1));
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, [...path, k], depth + 1);
      return out;
    }
    return fail('ERR_ARGUMENT', op, `tensors, numbers, strings, booleans, arrays and plain objects at ${path.join('.') || 'the top'}`, describe(v));
  };
  const tree = walk(obj, [], 0);
  return { tensors, tree };
}

function unflatten(tree: unknown, tensors: Record<string, Tensor>, op: string, file: string): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && typeof o.$tensor === 'string') {
        if (!(o.$tensor in tensors)) formatError(op, file, `a tensor named ${JSON.stringify(o.$tensor)} (listed in the metadata)`, 'none');
        return tensors[o.$tensor];
      }
      if (keys.length === 1 && typeof o.$number === 'string') return Number(o.$number);
      if (keys.length === 1 && typeof o.$bigint === 'string') return BigInt(o.$bigint);
      const out: Record<string, unknown> = {};
      for (const k of keys) out[k] = walk(o[k]);
      return out;
    }
    return v;
  };
  return walk(tree);
}

// ---- writing ------------------------------------------------------------------------------

interface Plan {
  header: Buffer;
  parts: { tensor: Tensor; bytes: number }[];
  temps: Tensor[];
}

function plan(obj: unknown, options: SaveOptions, op: string): Plan {
  checkLittleEndian(op);
  const { tensors, tree } = flatten(obj, op);
  const metadata: Metadata = {};
  if (options.metadata !== undefined) {
    if (!isPlainObject(options.metadata)) fail('ERR_ARGUMENT', op, 'metadata as an object of strings', describe(options.metadata));
    for (const [k, v] of Object.entries(options.metadata)) {
      if (typeof v !== 'string') fail('ERR_ARGUMENT', op, `a string for metadata ${JSON.stringify(k)}`, describe(v));
      metadata[k] = v;
    }
  }
  if (tree !== null) metadata[METADATA_KEY] = JSON.stringify({ version: 1, tree });
  for (const [name, t] of tensors) {
    if (name === '__metadata__') fail('ERR_ARGUMENT', op, 'tensor names other than __metadata__', name);
    t.assertLive(op);
  }
  const ordered = tensors.slice().sort(([an, a], [bn, b]) => DTYPE_RANK[FILE_DTYPES[b.dtype]] - DTYPE_RANK[FILE_DTYPES[a.dtype]] || (an < bn ? -1 : an > bn ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const parts: Plan['parts'] = [];
  const temps: Tensor[] = [];
  let offset = 0;
  for (const [name, t] of ordered) {
    const bytes = t.numel() * ITEMSIZE[t.dtype];
    header[name] = { dtype: FILE_DTYPES[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
    // A CUDA tensor is copied back to the host first (the file holds host bytes).
    const c = t.device !== 'cpu' ? t.to('cpu') : t.isContiguous() ? t : contiguousCopy(t);
    if (c !== t) temps.push(c);
    parts.push({ tensor: c, bytes });
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(json.length));
  return { header: Buffer.concat([head, json]), parts, temps };
}

const bytesOf = (t: Tensor, n: number): Uint8Array => new Uint8Array(t.storage.hostBuffer, t.offset * ITEMSIZE[t.dtype], n);

function tempPath(file: string): string {
  return pathModule.join(pathModule.dirname(file), `.${pathModule.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
}

/**
 * Writes `obj` (a { name: Tensor } state dict, or a checkpoint object) to `file` in the
 * safetensors format. The file is written under a temporary name and renamed into place, so a
 * failure never leaves a half-written file at `file`.
 */
export function saveSync(obj: unknown, file: string, options: SaveOptions = {}): void {
  const op = 'saveSync';
  if (typeof file !== 'string') fail('ERR_ARGUMENT', op, 'a file path', describe(file));
  const p = plan(obj, options, op);
  const tmp = tempPath(file);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, p.header);
      for (const part of p.parts) if (part.bytes > 0) fs.writeSync(fd, bytesOf(part.tensor, part.bytes));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  } finally {
    for (const t of p.temps) t.dispose();
  }
}

/** saveSync without blocking the event loop. Keep the tensors alive until the promise settles. */
export async function save(obj: unknown, file: string, options: SaveOptions = {}): Promise<void> {
  const op = 'save';
  if (typeof file !== 'string') fail('ERR_ARGUMENT', op, 'a file path', describe(file));
  const p = plan(obj, options, op);
  const tmp = tempPath(file);
  try {
    const handle = await fs.promises.open(tmp, 'w');
    try {
      await handle.write(p.header);
      for (const part of p.parts) {
        part.tensor.assertLive(op);
        if (part.bytes > 0) await handle.write(bytesOf(part.tensor, part.bytes));
      }
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  } finally {
    for (const t of p.temps) t.dispose();
  }
}

// ---- reading ------------------------------------------------------------------------------

function isSafeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Validates the header against the file size; returns it with offsets checked to tile the data. */
function parseHeader(op: string, file: string, prefix: Buffer, fileSize: number, headerBytes: Buffer): Header {
  const n = Number(prefix.readBigUInt64LE(0));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return formatError(op, file, 'a UTF-8 JSON header', 'invalid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return formatError(op, file, 'a JSON header', `unparsable JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json)) formatError(op, file, 'a JSON object header', Array.isArray(json) ? 'an array' : typeof json);
  const dataStart = 8 + n;
  const dataLen = fileSize - dataStart;
  const metadata: Metadata = {};
  const tensors: Record<string, TensorInfo> = {};
  const spans: [number, number, string][] = [];
  for (const [name, info] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(info)) formatError(op, file, '__metadata__ as an object of strings', describe(info));
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') formatError(op, file, `a string for __metadata__.${k}`, describe(v));
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (!isPlainObject(info)) formatError(op, file, `an object { dtype, shape, data_offsets } for ${where}`, describe(info));
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in FROM_FILE || dtype in WIDENED))
      fail(typeof dtype === 'string' ? 'ERR_DTYPE' : 'ERR_FORMAT', `${op}(${JSON.stringify(file)})`,
        `a dtype of F32, F64, I32, I64, U8, BOOL (or F16, BF16) for ${where}`, describe(dtype));
    if (!Array.isArray(shape) || shape.length > 16 || !shape.every(isSafeInt))
      formatError(op, file, `a shape of at most 16 non-negative integers for ${where}`, JSON.stringify(shape));
    let numel = 1;
    for (const d of shape) {
      numel *= d;
      if (numel > 2 ** 48) formatError(op, file, `fewer than 2^48 elements for ${where}`, fmtShape(shape));
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSafeInt) || offsets[0] > offsets[1])
      formatError(op, file, `data_offsets [begin, end] with 0 <= begin <= end for ${where}`, JSON.stringify(offsets));
    const itemsize = dtype in WIDENED ? WIDENED[dtype] : ITEMSIZE[FROM_FILE[dtype]];
    const [begin, end] = offsets as [number, number];
    if (end - begin !== numel * itemsize)
      formatError(op, file, `${numel * itemsize} bytes for ${where} (${dtype} ${fmtShape(shape)})`, `data_offsets [${begin}, ${end}]`);
    if (end > dataLen) formatError(op, file, `data_offsets inside the ${dataLen}-byte data section for ${where}`, `[${begin}, ${end}] (truncated file?)`);
    tensors[name] = { dtype, shape: shape.slice(), dataOffsets: [begin, end] };
    spans.push([begin, end, name]);
  }
  // The tensors must tile the data section: no overlaps, no holes, nothing after the last one.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cursor = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== cursor)
      formatError(op, file, `tensor data laid end to end (next at byte ${cursor})`, `${JSON.stringify(name)} at [${begin}, ${end}]`);
    cursor = end;
  }
  if (cursor !== dataLen) formatError(op, file, `a data section of ${cursor} bytes (as the header says)`, `${dataLen} bytes`);
  return { metadata, tensors, dataStart };
}

function checkPrefix(op: string, file: string, prefix: Buffer, got: number, fileSize: number): number {
  if (got < 8 || fileSize < 8) formatError(op, file, 'a safetensors file (at least 8 bytes)', `${fileSize} bytes`);
  const n = prefix.readBigUInt64LE(0);
  if (n > BigInt(fileSize - 8)) formatError(op, file, `a header length within the file (${fileSize - 8} bytes after the prefix)`, `${n} (truncated or not safetensors?)`);
  if (n > BigInt(MAX_HEADER_BYTES)) formatError(op, file, `a header of at most ${MAX_HEADER_BYTES} bytes`, `${n}`);
  return Number(n);
}

/** A tensor ready to receive `info`'s bytes, and where to put them. */
function allocate(info: TensorInfo): { tensor: Tensor; target: Uint8Array; staging: Uint8Array | null } {
  const widened = info.dtype in WIDENED;
  const tensor = Tensor.empty(info.shape.slice(), widened ? 'float32' : FROM_FILE[info.dtype]);
  const bytes = info.dataOffsets[1] - info.dataOffsets[0];
  const staging = widened ? new Uint8Array(bytes) : null;
  const target = staging ?? new Uint8Array(tensor.storage.hostBuffer, 0, bytes);
  return { tensor, target, staging };
}

/** Post-processing after the raw bytes arrived: widen halves, normalise bools to 0/1. */
function finish(info: TensorInfo, tensor: Tensor, staging: Uint8Array | null): void {
  const n = shapeNumel(info.shape);
  if (staging) {
    const out = new Float32Array(tensor.storage.hostBuffer, 0, n);
    const view = new DataView(staging.buffer, staging.byteOffset, staging.byteLength);
    const scratch = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < n; i++) {
      const h = view.getUint16(2 * i, true);
      if (info.dtype === 'BF16') {
        scratch.setUint32(0, h << 16, true);
        out[i] = scratch.getFloat32(0, true);
      } else out[i] = halfToFloat(h);
    }
  } else if (info.dtype === 'BOOL') {
    const b = new Uint8Array(tensor.storage.hostBuffer, 0, n);
    for (let i = 0; i < n; i++) if (b[i] > 1) b[i] = 1;
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function assemble(op: string, file: string, header: Header, tensors: Record<string, Tensor>): unknown {
  const packed = header.metadata[METADATA_KEY];
  if (packed === undefined) return tensors;
  let parsed: any;
  try {
    parsed = JSON.parse(packed);
  } catch {
    return formatError(op, file, `JSON in __metadata__.${METADATA_KEY}`, 'unparsable text');
  }
  if (!isPlainObject(parsed) || parsed.version !== 1 || !('tree' in parsed))
    formatError(op, file, `{ version: 1, tree } in __metadata__.${METADATA_KEY}`, describe(parsed));
  return unflatten(parsed.tree, tensors, op, file);
}

function readFully(fd: number, target: Uint8Array, position: number, op: string, file: string): void {
  let done = 0;
  while (done < target.length) {
    const n = fs.readSync(fd, target, done, target.length - done, position + done);
    if (n === 0) formatError(op, file, `${target.length} bytes at offset ${position}`, `end of file after ${done} (truncated?)`);
    done += n;
  }
}

/** The header of a safetensors file (metadata and tensor descriptions), without the data. */
export function readHeader(file: string): Header {
  const op = 'readHeader';
  const fd = fs.openSync(file, 'r');
  try {
    return readHeaderFd(fd, op, file);
  } finally {
    fs.closeSync(fd);
  }
}

function readHeaderFd(fd: number, op: string, file: string): Header {
  const size = fs.fstatSync(fd).size;
  const prefix = Buffer.alloc(8);
  const got = size >= 8 ? fs.readSync(fd, prefix, 0, 8, 0) : 0;
  const n = checkPrefix(op, file, prefix, got, size);
  const headerBytes = Buffer.alloc(n);
  readFully(fd, headerBytes, 8, op, file);
  return parseHeader(op, file, prefix, size, headerBytes);
}

/**
 * Reads a safetensors file: a { name: Tensor } object, or the object saved with save() when the
 * file holds one. F16/BF16 tensors load as float32.
 */
export function loadSync(file: string): any {
  const op = 'loadSync';
  if (typeof file !== 'string') fail('ERR_ARGUMENT', op, 'a file path', describe(file));
  checkLittleEndian(op);
  const fd = fs.openSync(file, 'r');
  const tensors: Record<string, Tensor> = {};
  try {
    const header = readHeaderFd(fd, op, file);
    for (const [name, info] of Object.entries(header.tensors)) {
      const { tensor, target, staging } = allocate(info);
      tensors[name] = tensor;
      readFully(fd, target, header.dataStart + info.dataOffsets[0], op, file);
      finish(info, tensor, staging);
    }
    return assemble(op, file, header, tensors);
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}

/** loadSync without blocking the event loop. */
export async function load(file: string): Promise<any> {
  const op = 'load';
  if (typeof file !== 'string') fail('ERR_ARGUMENT', op, 'a file path', describe(file));
  checkLittleEndian(op);
  const handle = await fs.promises.open(file, 'r');
  const tensors: Record<string, Tensor> = {};
  const readAll = async (target: Uint8Array, position: number) => {
    let done = 0;
    while (done < target.length) {
      const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
      if (bytesRead === 0) formatError(op, file, `${target.length} bytes at offset ${position}`, `end of file after ${done} (truncated?)`);
      done += bytesRead;
    }
  };
  try {
    const size = (await handle.stat()).size;
    const prefix = Buffer.alloc(8);
    const got = size >= 8 ? (await handle.read(prefix, 0, 8, 0)).bytesRead : 0;
    const n = checkPrefix(op, file, prefix, got, size);
    const headerBytes = Buffer.alloc(n);
    await readAll(headerBytes, 8);
    const header = parseHeader(op, file, prefix, size, headerBytes);
    for (const [name, info] of Object.entries(header.tensors)) {
      const { tensor, target, staging } = allocate(info);
      tensors[name] = tensor;
      await readAll(target, header.dataStart + info.dataOffsets[0]);
      finish(info, tensor, staging);
    }
    return assemble(op, file, header, tensors);
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  } finally {
    await handle.close();
  }
}

// File readers: IDX (the MNIST family's format; gzipped or raw) and CSV with numeric columns.
//
// IDX (LeCun et al., http://yann.lecun.com/exdb/mnist/): a 4-byte magic 0x00 0x00 <type> <ndim>,
// ndim big-endian uint32 dims, then the elements in row-major order, big-endian.
import * as fs from 'fs';
import * as zlib from 'zlib';
import { describe, fail } from '../errors';
import { Tensor } from '../tensor';
import { tensor } from '../ops/creation';
import type { DType } from '../dtype';

const IDX_TYPES: Record<number, { name: string; bytes: number; dtype: DType }> = {
  0x08: { name: 'uint8', bytes: 1, dtype: 'uint8' },
  0x09: { name: 'int8', bytes: 1, dtype: 'int32' },
  0x0b: { name: 'int16', bytes: 2, dtype: 'int32' },
  0x0c: { name: 'int32', bytes: 4, dtype: 'int32' },
  0x0d: { name: 'float32', bytes: 4, dtype: 'float32' },
  0x0e: { name: 'float64', bytes: 8, dtype: 'float64' },
};

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decodes IDX bytes (gzip is detected by its magic) into a tensor: uint8 stays uint8, int8/16/32
 * become int32, float32/64 keep their type.
 */
export function parseIdx(input: Uint8Array, name = 'IDX data'): Tensor {
  const bytes = isGzip(input) ? zlib.gunzipSync(input) : input;
  const op = 'readIdx';
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    fail('ERR_FORMAT', op, `${name} to start with the IDX magic 00 00 <type> <ndim>`, `${bytes.length < 4 ? 'fewer than 4 bytes' : Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}`);
  const type = IDX_TYPES[bytes[2]];
  if (type === undefined) fail('ERR_FORMAT', op, `an IDX type code 08/09/0b/0c/0d/0e in ${name}`, bytes[2].toString(16).padStart(2, '0'));
  const ndim = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) fail('ERR_FORMAT', op, `${headerBytes} header bytes for ${ndim} dims in ${name}`, `${bytes.length} bytes`);
  const shape: number[] = [];
  let n = 1;
  for (let d = 0; d < ndim; d++) {
    shape.push(view.getUint32(4 + 4 * d, false));
    n *= shape[d];
  }
  const need = headerBytes + n * type.bytes;
  if (bytes.length !== need)
    fail('ERR_FORMAT', op, `${need} bytes for ${type.name} [${shape.join(', ')}] in ${name}`, `${bytes.length} bytes (truncated or trailing data)`);
  const body = headerBytes;
  switch (bytes[2]) {
    case 0x08:
      return tensor(bytes.slice(body, need), { shape });
    case 0x09:
      return tensor(Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset + body, n)), { shape });
    case 0x0b: {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(body + 2 * i, false);
      return tensor(out, { shape });
    }
    case 0x0c: {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(body + 4 * i, false);
      return tensor(out, { shape });
    }
    case 0x0d: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(body + 4 * i, false);
      return tensor(out, { shape });
    }
    default: {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(body + 8 * i, false);
      return tensor(out, { shape });
    }
  }
}

export function readIdxSync(path: string): Tensor {
  if (typeof path !== 'string') fail('ERR_ARGUMENT', 'readIdx', 'a file path', describe(path));
  return parseIdx(fs.readFileSync(path), path);
}

export async function readIdx(path: string): Promise<Tensor> {
  if (typeof path !== 'string') fail('ERR_ARGUMENT', 'readIdx', 'a file path', describe(path));
  const raw = await fs.promises.readFile(path);
  const bytes = isGzip(raw) ? await new Promise<Buffer>((res, rej) => zlib.gunzip(raw, (e, b) => (e ? rej(e) : res(b)))) : raw;
  return parseIdx(bytes, path);
}

/** Encodes a uint8/int32/float32/float64 tensor as IDX bytes (gzipped when `gzip`). */
export function encodeIdx(t: Tensor, options: { gzip?: boolean } = {}): Buffer {
  const codes: Partial<Record<DType, number>> = { uint8: 0x08, int32: 0x0c, float32: 0x0d, float64: 0x0e };
  const code = codes[t.dtype];
  if (code === undefined) fail('ERR_DTYPE', 'encodeIdx', 'uint8, int32, float32 or float64', t.dtype);
  const size = IDX_TYPES[code].bytes;
  const n = t.numel();
  const header = 4 + 4 * t.ndim;
  const out = Buffer.alloc(header + n * size);
  out[2] = code;
  out[3] = t.ndim;
  t.shape.forEach((s, d) => out.writeUInt32BE(s, 4 + 4 * d));
  const data = t.dataSync();
  for (let i = 0; i < n; i++) {
    const v = Number(data[i]);
    const at = header + i * size;
    if (code === 0x08) out[at] = v;
    else if (code === 0x0c) out.writeInt32BE(v, at);
    else if (code === 0x0d) out.writeFloatBE(v, at);
    else out.writeDoubleBE(v, at);
  }
  return options.gzip ? zlib.gzipSync(out, { level: 9 }) : out;
}

// ---- CSV ---------------------------------------------------------------------------------

export interface CsvOptions {
  /** The first row names the columns: true, false, or 'auto' (default: a row with a non-number in it). */
  header?: boolean | 'auto';
  /** Field separator (default ','). */
  delimiter?: string;
  /** Keep only these columns (names, or indices), in this order. */
  columns?: (string | number)[];
  /** float32 (default) or float64. */
  dtype?: 'float32' | 'float64';
}

export interface CsvTable {
  /** Column names (from the header, else 'c0', 'c1', ...). */
  columns: string[];
  /** [rows, columns] */
  data: Tensor;
}

function splitCsvLine(line: string, delimiter: string): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  const out: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (line.startsWith(delimiter, i)) (out.push(cur), (cur = ''), (i += delimiter.length - 1));
    else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * Parses CSV text whose (selected) columns are numbers. Empty fields, 'NA' and 'NaN' read as
 * NaN; any other non-number is an ERR_FORMAT error naming the line and column.
 */
export function parseCsv(text: string, options: CsvOptions = {}): CsvTable {
  const delimiter = options.delimiter ?? ',';
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) fail('ERR_FORMAT', 'readCsv', 'at least one row', 'an empty file');
  const rows = lines.map((l) => splitCsvLine(l, delimiter).map((f) => f.trim()));
  const isNumber = (f: string) => f === '' || f === 'NA' || f === 'NaN' || Number.isFinite(Number(f));
  const header = options.header === undefined || options.header === 'auto' ? !rows[0].every(isNumber) : options.header;
  const width = rows[0].length;
  const names = header ? rows[0] : rows[0].map((_, i) => `c${i}`);
  const body = header ? rows.slice(1) : rows;
  const firstLine = header ? 2 : 1;
  const pick = (options.columns ?? names.map((_, i) => i)).map((c) => {
    const i = typeof c === 'number' ? c : names.indexOf(c);
    if (!Number.isInteger(i) || i < 0 || i >= width) fail('ERR_ARGUMENT', 'readCsv', `a column among ${names.join(', ')}`, describe(c));
    return i;
  });
  const out = options.dtype === 'float64' ? new Float64Array(body.length * pick.length) : new Float32Array(body.length * pick.length);
  body.forEach((row, r) => {
    if (row.length !== width) fail('ERR_FORMAT', 'readCsv', `${width} fields on line ${r + firstLine}`, `${row.length}`);
    pick.forEach((c, j) => {
      const f = row[c];
      const v = f === '' || f === 'NA' || f === 'NaN' ? NaN : Number(f);
      if (Number.isNaN(v) && !(f === '' || f === 'NA' || f === 'NaN'))
        fail('ERR_FORMAT', 'readCsv', `a number in column ${names[c]} on line ${r + firstLine}`, JSON.stringify(f));
      out[r * pick.length + j] = v;
    });
  });
  return { columns: pick.map((c) => names[c]), data: tensor(out, { shape: [body.length, pick.length] }) };
}

export function readCsvSync(path: string, options: CsvOptions = {}): CsvTable {
  if (typeof path !== 'string') fail('ERR_ARGUMENT', 'readCsv', 'a file path', describe(path));
  return parseCsv(fs.readFileSync(path, 'utf8'), options);
}

export async function readCsv(path: string, options: CsvOptions = {}): Promise<CsvTable> {
  if (typeof path !== 'string') fail('ERR_ARGUMENT', 'readCsv', 'a file path', describe(path));
  return parseCsv(await fs.promises.readFile(path, 'utf8'), options);
}

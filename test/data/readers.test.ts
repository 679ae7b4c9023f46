import { describe, expect, it } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import * as dt from '../../dist/index.js';

const { parseIdx, encodeIdx, parseCsv, readCsvSync, readIdx } = dt.data;

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dendrite-data-'));
}

describe('IDX reader', () => {
  // 00 00 08 03 | 2 2 3 | 12 bytes: the header and body of a uint8 [2, 2, 3] tensor.
  const uint8Bytes = Uint8Array.from([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255]);

  it('reads raw and gzipped uint8 files', async () => {
    const t = parseIdx(uint8Bytes);
    expect(t.dtype).toBe('uint8');
    expect(t.shape).toEqual([2, 2, 3]);
    expect(t.toArray()).toEqual([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 255]]]);
    const dir = tmpdir();
    const file = path.join(dir, 'x-idx3-ubyte.gz');
    fs.writeFileSync(file, zlib.gzipSync(uint8Bytes));
    expect(dt.data.readIdxSync(file).toArray()).toEqual(t.toArray());
    expect((await readIdx(file)).toArray()).toEqual(t.toArray());
  });

  it('reads big-endian int32, int16, int8 and float32 bodies', () => {
    const i32 = Uint8Array.from([0, 0, 0x0c, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0]);
    expect(parseIdx(i32).dtype).toBe('int32');
    expect(parseIdx(i32).toArray()).toEqual([-2, 256]);
    expect(parseIdx(Uint8Array.from([0, 0, 0x0b, 1, 0, 0, 0, 1, 0x80, 0x00])).toArray()).toEqual([-32768]);
    expect(parseIdx(Uint8Array.from([0, 0, 0x09, 1, 0, 0, 0, 2, 0xff, 0x7f])).toArray()).toEqual([-1, 127]);
    // 1.5f = 0x3fc00000
    expect(parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0])).toArray()).toEqual([1.5]);
  });

  it('rejects bad magic, unknown types and truncated files with ERR_FORMAT', () => {
    expect(() => parseIdx(Uint8Array.from([1, 2, 3, 4]))).toThrow(/readIdx: expected IDX data to start with the IDX magic.*got 01 02 03 04/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x07, 1, 0, 0, 0, 1, 0]))).toThrow(/IDX type code/);
    try {
      parseIdx(uint8Bytes.subarray(0, 20));
      expect.unreachable();
    } catch (e: any) {
      expect(e.code).toBe('ERR_FORMAT');
      expect(e.message).toMatch(/expected 28 bytes for uint8 \[2, 2, 3\] in IDX data, got 20 bytes/);
    }
  });

  it('round-trips through encodeIdx', () => {
    const t = dt.tensor([[1.25, -2], [3, 4.5]]);
    expect(parseIdx(encodeIdx(t)).toArray()).toEqual([[1.25, -2], [3, 4.5]]);
    expect(Array.from(encodeIdx(parseIdx(uint8Bytes)))).toEqual(Array.from(uint8Bytes));
    expect(parseIdx(encodeIdx(dt.tensor(Int32Array.from([7, -9])), { gzip: true })).toArray()).toEqual([7, -9]);
  });
});

describe('CSV reader', () => {
  it('reads numeric columns under a header, NA as NaN, a chosen subset of columns', () => {
    const text = 'area,rooms,"price"\n120,3,250000\n80.5,2,NA\n\n200,5,1e6\n';
    const t = parseCsv(text);
    expect(t.columns).toEqual(['area', 'rooms', 'price']);
    expect(t.data.shape).toEqual([3, 3]);
    const v = t.data.toArray();
    expect(v[0]).toEqual([120, 3, 250000]);
    expect(v[1][0]).toBeCloseTo(80.5);
    expect(Number.isNaN(v[1][2])).toBe(true);
    expect(v[2][2]).toBe(1e6);
    const sub = parseCsv(text, { columns: ['price', 'area'], dtype: 'float64' });
    expect(sub.columns).toEqual(['price', 'area']);
    expect(sub.data.dtype).toBe('float64');
    expect(sub.data.toArray()[0]).toEqual([250000, 120]);
  });

  it('treats an all-number first row as data, takes other delimiters, and names bad fields', () => {
    const t = parseCsv('1;2\n3;4', { delimiter: ';' });
    expect(t.columns).toEqual(['c0', 'c1']);
    expect(t.data.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(() => parseCsv('a,b\n1,2\n3,x\n')).toThrow(/readCsv: expected a number in column b on line 3, got "x"/);
    expect(() => parseCsv('a,b\n1,2,3\n')).toThrow(/expected 2 fields on line 2, got 3/);
  });

  it('builds a TensorDataset of features and targets from a file', () => {
    const dir = tmpdir();
    const file = path.join(dir, 'houses.csv');
    fs.writeFileSync(file, 'area,rooms,price\n100,2,10\n150,3,15\n');
    expect(readCsvSync(file).data.shape).toEqual([2, 3]);
    const ds = dt.data.datasets.csvDataset(file, { target: 'price' });
    expect(ds.featureNames).toEqual(['area', 'rooms']);
    expect(ds.tensors[0].toArray()).toEqual([[100, 2], [150, 3]]);
    expect(ds.tensors[1].toArray()).toEqual([[10], [15]]);
  });
});

describe('MNIST-family datasets', () => {
  const silent = { log: false as const };

  function fakeSplit(dir: string, split: string, n: number) {
    fs.mkdirSync(dir, { recursive: true });
    const imgs = dt.tensor(Uint8Array.from({ length: n * 28 * 28 }, (_, i) => i % 251), { shape: [n, 28, 28] });
    fs.writeFileSync(path.join(dir, `${split}-images-idx3-ubyte`), encodeIdx(imgs));
    fs.writeFileSync(path.join(dir, `${split}-labels-idx1-ubyte.gz`), encodeIdx(dt.tensor(Uint8Array.from({ length: n }, (_, i) => i % 10)), { gzip: true }));
  }

  it('looks in root first (also root/<name> and root/FashionMNIST/raw), and says so', () => {
    const root = tmpdir();
    fakeSplit(path.join(root, 'FashionMNIST', 'raw'), 'train', 12);
    const lines: string[] = [];
    const ds = dt.data.datasets.fashionMnist({ root, log: (l: string) => lines.push(l) });
    expect(ds.source).toBe('root');
    expect(ds.sourceDir).toBe(path.join(root, 'FashionMNIST', 'raw'));
    expect(ds.length).toBe(12);
    expect(lines).toEqual([`fashion-mnist: train split, 12 images from ${path.join(root, 'FashionMNIST', 'raw')} (root)`]);
    const [img, label] = ds.getItem(11);
    expect(img.shape).toEqual([1, 28, 28]);
    expect(img.dtype).toBe('uint8');
    expect(label).toBe(1);
    expect(ds.classes[9]).toBe('Ankle boot');
  });

  it('then $DENDRITE_DATA', () => {
    const env = tmpdir();
    fakeSplit(path.join(env, 'mnist'), 't10k', 3);
    const old = process.env.DENDRITE_DATA;
    process.env.DENDRITE_DATA = env;
    try {
      const ds = dt.data.datasets.mnist({ train: false, root: '/nonexistent', ...silent });
      expect(ds.source).toBe('DENDRITE_DATA');
      expect(ds.targets.toArray()).toEqual([0, 1, 2]);
    } finally {
      if (old === undefined) delete process.env.DENDRITE_DATA;
      else process.env.DENDRITE_DATA = old;
    }
  });

  it('falls back to the shipped subset: 300 train / 100 test images per class of the real set', () => {
    const train = dt.data.datasets.fashionMnist({ locations: ['subset'], ...silent });
    const test = dt.data.datasets.fashionMnist({ train: false, locations: ['subset'], ...silent });
    expect(train.source).toBe('subset');
    expect([train.length, test.length]).toEqual([3000, 1000]);
    expect(train.data.shape).toEqual([3000, 28, 28]);
    // The real set's first labels (the subset keeps the original order).
    expect((train.targets.toArray() as number[]).slice(0, 10)).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect((test.targets.toArray() as number[]).slice(0, 10)).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    const counts = new Array(10).fill(0);
    for (const c of train.targets.toArray() as number[]) counts[c]++;
    expect(counts).toEqual(new Array(10).fill(300));
    const system = '/usr/share/datasets/fashion-mnist';
    if (fs.existsSync(system)) {
      const full = dt.data.datasets.fashionMnist({ train: false, locations: ['system'], ...silent });
      expect(full.length).toBe(10000);
      expect(full.data.select(0, 0).toArray()).toEqual(test.data.select(0, 0).toArray());
    }
  });

  it('cuts transformed batches with getBatch and never downloads', () => {
    const T = dt.data.transforms;
    const ds = dt.data.datasets.fashionMnist({ locations: ['subset'], transform: T.toTensor(), ...silent });
    const [x, y] = ds.getBatch!([0, 5]);
    expect(x.shape).toEqual([2, 1, 28, 28]);
    expect(x.dtype).toBe('float32');
    expect(y.toArray()).toEqual([9, 2]);
    const one = ds.getItem(5)[0];
    expect(x.select(0, 1).toArray()).toEqual(one.toArray());
    expect(Math.max(...(x.dataSync() as Float32Array))).toBeLessThanOrEqual(1);
    expect(() => dt.data.datasets.mnist({ root: '/nonexistent', locations: ['root'], ...silent })).toThrow(
      /mnist: expected the train IDX files .* in one of: \/nonexistent.*nothing is downloaded/,
    );
  });
});

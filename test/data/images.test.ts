// PNG and JPEG files into tensors, and ImageFolder. The test images are encoded by the same
// libraries from known pixels; PNG must round-trip exactly, JPEG within its lossy error.
import { describe, expect, it } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import * as dt from '../../dist/index.js';

const W = 5, H = 3;
const rgba = new Uint8Array(W * H * 4);
for (let i = 0; i < W * H; i++) rgba.set([(i * 17) % 256, (i * 41 + 7) % 256, (i * 73 + 3) % 256, 200 + (i % 50)], 4 * i);

function pngBytes(): Buffer {
  const png = new PNG({ width: W, height: H });
  png.data = Buffer.from(rgba);
  return PNG.sync.write(png);
}

describe('image readers', () => {
  it('decodes a PNG to uint8 [C, H, W] exactly, in rgb, gray and rgba modes', () => {
    const rgb = dt.data.decodeImage(pngBytes());
    expect(rgb.dtype).toBe('uint8');
    expect(rgb.shape).toEqual([3, H, W]);
    const v = rgb.dataSync() as Uint8Array;
    for (let i = 0; i < W * H; i++) {
      expect(v[i]).toBe(rgba[4 * i]);
      expect(v[W * H + i]).toBe(rgba[4 * i + 1]);
      expect(v[2 * W * H + i]).toBe(rgba[4 * i + 2]);
    }
    const gray = dt.data.decodeImage(pngBytes(), { mode: 'gray' });
    expect(gray.shape).toEqual([1, H, W]);
    const g = gray.dataSync() as Uint8Array;
    // PIL's 'L': L = R * 299/1000 + G * 587/1000 + B * 114/1000
    for (let i = 0; i < W * H; i++)
      expect(g[i]).toBe(Math.round((rgba[4 * i] * 299 + rgba[4 * i + 1] * 587 + rgba[4 * i + 2] * 114) / 1000));
    const four = dt.data.decodeImage(pngBytes(), { mode: 'rgba' });
    expect(four.shape).toEqual([4, H, W]);
    expect((four.dataSync() as Uint8Array)[3 * W * H + 2]).toBe(rgba[4 * 2 + 3]);
  });

  it('decodes a JPEG within its compression error', () => {
    const smooth = new Uint8Array(16 * 16 * 4);
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 16; x++) smooth.set([x * 12, y * 12, 128, 255], 4 * (y * 16 + x));
    const bytes = jpeg.encode({ data: Buffer.from(smooth), width: 16, height: 16 }, 100).data;
    const img = dt.data.decodeImage(bytes);
    expect(img.shape).toEqual([3, 16, 16]);
    const v = img.dataSync() as Uint8Array;
    let worst = 0;
    for (let i = 0; i < 256; i++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(v[c * 256 + i] - smooth[4 * i + c]));
    expect(worst).toBeLessThanOrEqual(6);
  });

  it('reads files, and rejects unknown, truncated and corrupt data with ERR_FORMAT', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dendrite-img-'));
    const file = path.join(dir, 'a.png');
    fs.writeFileSync(file, pngBytes());
    expect((await dt.data.readImage(file)).shape).toEqual([3, H, W]);
    expect(dt.data.readImageSync(file, { mode: 'gray' }).shape).toEqual([1, H, W]);
    const code = (f: () => unknown) => { try { f(); } catch (e: any) { return e.code; } return 'no error'; };
    expect(code(() => dt.data.decodeImage(Buffer.from('GIF89a......')))).toBe('ERR_FORMAT');
    expect(code(() => dt.data.decodeImage(pngBytes().subarray(0, 40)))).toBe('ERR_FORMAT');
    const corrupt = Buffer.from(pngBytes());
    corrupt.fill(0xab, 40);
    expect(code(() => dt.data.decodeImage(corrupt))).toBe('ERR_FORMAT');
    expect(code(() => dt.data.decodeImage(Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01])))).toBe('ERR_FORMAT');
    expect(code(() => dt.data.decodeImage(pngBytes(), { mode: 'cmyk' as any }))).toBe('ERR_ARGUMENT');
  });

  it('loads an ImageFolder: classes from sorted sub-directories, labels, transforms, batches', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dendrite-folder-'));
    for (const [cls, n] of [['dog', 2], ['cat', 3]] as const) {
      fs.mkdirSync(path.join(root, cls));
      for (let i = 0; i < n; i++) fs.writeFileSync(path.join(root, cls, `${i}.png`), pngBytes());
    }
    fs.writeFileSync(path.join(root, 'cat', 'notes.txt'), 'not an image');
    const ds = new dt.data.datasets.ImageFolder(root, { transform: dt.data.transforms.toTensor() });
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(ds.length).toBe(5);
    expect(ds.samples.map(([, l]) => l)).toEqual([0, 0, 0, 1, 1]);
    const [x, y] = ds.getItem(3);
    expect(x.dtype).toBe('float32');
    expect(x.shape).toEqual([3, H, W]);
    expect(Math.abs((x.dataSync()[1] as number) - rgba[4] / 255)).toBeLessThan(1e-6);
    expect(y.item()).toBe(1);
    const loader = new dt.data.DataLoader(ds, { batchSize: 4 });
    const batches = [...loader] as [dt.Tensor, dt.Tensor][];
    expect(batches[0][0].shape).toEqual([4, 3, H, W]);
    expect(batches[1][1].toArray()).toEqual([1]);
    expect(() => ds.getItem(5)).toThrow(dt.DendriteError);
    expect(() => new dt.data.datasets.ImageFolder(path.join(root, 'missing'))).toThrow(dt.DendriteError);
  });
});

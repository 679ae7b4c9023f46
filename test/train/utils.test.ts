import { describe, expect, it } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import * as dt from '../../dist/index.js';

/** Splits PNG bytes into chunks and inflates the image data (filter bytes kept). */
function decodePng(bytes: Buffer) {
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: Record<string, Buffer[]> = {};
  for (let at = 8; at < bytes.length; ) {
    const len = bytes.readUInt32BE(at);
    const type = bytes.toString('ascii', at + 4, at + 8);
    (chunks[type] ??= []).push(bytes.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const ihdr = chunks.IHDR[0];
  return {
    width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4), bitDepth: ihdr[8], colorType: ihdr[9],
    raw: zlib.inflateSync(Buffer.concat(chunks.IDAT)), types: Object.keys(chunks),
  };
}

describe('dt.utils', () => {
  it('encodes PNG: signature, IHDR, scanlines with filter 0, IEND', () => {
    const png = dt.utils.encodePng(2, 2, 3, Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]));
    const d = decodePng(png);
    expect([d.width, d.height, d.bitDepth, d.colorType]).toEqual([2, 2, 8, 2]);
    expect(d.types).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(Array.from(d.raw)).toEqual([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 10, 20, 30]);
    // The IEND chunk's CRC is the well-known constant.
    expect(png.readUInt32BE(png.length - 4)).toBe(0xae426082);
    expect(() => dt.utils.encodePng(2, 2, 1, new Uint8Array(3))).toThrow(/encodePng: expected 4 bytes, got 3/);
  });

  it('tiles a batch into a padded grid and writes it as PNG', async () => {
    const batch = dt.tensor([[[[1, 0.5]]], [[[0, 0.25]]], [[[1, 1]]]]); // [3, 1, 1, 2]
    const grid = dt.utils.makeGrid(batch, { nrow: 2, padding: 1 });
    expect(grid.shape).toEqual([1, 5, 7]);
    expect(grid.toArray()[0]).toEqual([
      [0, 0, 0, 0, 0, 0, 0],
      [0, 1, 0.5, 0, 0, 0.25, 0],
      [0, 0, 0, 0, 0, 0, 0],
      [0, 1, 1, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0],
    ]);
    const norm = dt.utils.makeGrid(dt.tensor([[[[-1, 1]]]]), { normalize: true, padding: 0 });
    expect(norm.toArray()).toEqual([[[0, 1]]]);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dendrite-grid-')), 'samples.png');
    await dt.utils.saveImageGrid(batch, file, { nrow: 2, padding: 1 });
    const d = decodePng(fs.readFileSync(file));
    expect([d.width, d.height, d.colorType]).toEqual([7, 5, 0]);
    expect(Array.from(d.raw.subarray(8, 16))).toEqual([0, 0, 255, 128, 0, 0, 64, 0]);
  });
});

import { describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';

const T = dt.data.transforms;

// A 3x3 single-channel image 1..9 (CHW).
const img3 = () => dt.tensor([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]);
const close = (a: unknown[], b: unknown[]) => {
  const fa = a.flat(Infinity) as number[], fb = b.flat(Infinity) as number[];
  expect(fa.length).toBe(fb.length);
  fa.forEach((v, i) => expect(v).toBeCloseTo(fb[i], 5));
};

describe('deterministic transforms', () => {
  it('toTensor scales uint8 to [0, 1] and adds a channel dim to [H, W]', () => {
    const t = T.toTensor()(dt.tensor(Uint8Array.from([255, 0, 51, 102]), { shape: [2, 2] }));
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([1, 2, 2]);
    close(t.toArray(), [[[1, 0], [0.2, 0.4]]]);
  });

  it('normalize subtracts and divides per channel, on images and batches', () => {
    const x = dt.tensor([[[1, 3]], [[2, 6]]]); // [2, 1, 2]: two channels
    const n = T.normalize([1, 2], [2, 4]);
    expect(n(x).toArray()).toEqual([[[0, 1]], [[0, 1]]]);
    expect(n(x.unsqueeze(0)).shape).toEqual([1, 2, 1, 2]);
    expect(() => n(dt.zeros([3, 1, 1]))).toThrow(/normalize: expected 2 channels, got 3/);
    expect(() => T.normalize(0.5, 0.5)(dt.zeros([1, 2, 2], { dtype: 'uint8' }))).toThrow(/apply toTensor first/);
  });

  it('compose applies in order and frees intermediates', () => {
    const x = dt.tensor(Uint8Array.from([0, 255]), { shape: [1, 1, 2] });
    const before = dt.memory().numTensors;
    const out = T.compose([T.toTensor(), T.normalize(0.5, 0.5)])(x);
    expect(out.toArray()).toEqual([[[-1, 1]]]);
    expect(dt.memory().numTensors).toBe(before + 1);
  });

  it('resize is bilinear with half-pixel centres (F.interpolate, align_corners=False)', () => {
    const out = T.resize(4)(dt.tensor([[[0, 1], [2, 3]]]));
    const a = [0, 0.25, 0.75, 1];
    close(out.toArray(), [a.map((r) => a.map((c) => 2 * r + c))]);
    expect(T.resize([1, 1], { interpolation: 'nearest' })(img3()).toArray()).toEqual([[[5]]]);
  });

  it('centerCrop takes the middle', () => {
    expect(T.centerCrop(1)(img3()).toArray()).toEqual([[[5]]]);
    expect(T.centerCrop([3, 1])(img3()).toArray()).toEqual([[[2], [5], [8]]]);
  });

  it('warp fills outside positions by mode: constant, nearest, reflect, symmetric, wrap', () => {
    const row = dt.tensor([[[[1, 2, 3, 4, 5]]]]);
    const shiftRight2 = (mode: any) =>
      T.warp(row, 1, 5, (_n: number, i: number, j: number, at: Float64Array) => ((at[0] = i), (at[1] = j - 2)), { fillMode: mode, fill: -1 }).toArray()[0][0][0];
    expect(shiftRight2('constant')).toEqual([-1, -1, 1, 2, 3]);
    expect(shiftRight2('nearest')).toEqual([1, 1, 1, 2, 3]);
    expect(shiftRight2('reflect')).toEqual([3, 2, 1, 2, 3]);
    expect(shiftRight2('symmetric')).toEqual([2, 1, 1, 2, 3]);
    expect(shiftRight2('wrap')).toEqual([4, 5, 1, 2, 3]);
    expect(T.mapCoord(7, 5, 'reflect')).toBe(1);
    expect(T.mapCoord(5, 5, 'symmetric')).toBe(4);
  });
});

describe('random transforms', () => {
  it('flips with probability p (0 and 1 are exact), per image of a batch', () => {
    expect(T.randomHorizontalFlip(1)(img3()).toArray()).toEqual([[[3, 2, 1], [6, 5, 4], [9, 8, 7]]]);
    expect(T.randomVerticalFlip(1)(img3()).toArray()).toEqual([[[7, 8, 9], [4, 5, 6], [1, 2, 3]]]);
    expect(T.randomHorizontalFlip(0)(img3()).toArray()).toEqual(img3().toArray());
    const batch = img3().unsqueeze(0).expand([16, 1, 3, 3]).contiguous();
    const out = T.randomHorizontalFlip(0.5, { generator: new dt.Generator(1) })(batch).toArray() as number[][][][];
    const flipped = out.map((im) => im[0][0][0] === 3);
    out.forEach((im, n) => expect(im[0]).toEqual(flipped[n] ? [[3, 2, 1], [6, 5, 4], [9, 8, 7]] : [[1, 2, 3], [4, 5, 6], [7, 8, 9]]));
    expect(flipped.some(Boolean) && !flipped.every(Boolean)).toBe(true);
    // The same generator seed gives the same flips.
    expect(T.randomHorizontalFlip(0.5, { generator: new dt.Generator(1) })(batch).toArray()).toEqual(out);
  });

  it('rotates counter-clockwise about the centre (90 degrees is exact)', () => {
    const r = T.randomRotation([90, 90])(img3());
    expect(r.toArray()).toEqual([[[3, 6, 9], [2, 5, 8], [1, 4, 7]]]);
    expect(T.randomRotation([-90, -90])(img3()).toArray()).toEqual([[[7, 4, 1], [8, 5, 2], [9, 6, 3]]]);
    // A uint8 image stays uint8; 180 degrees on a 2x2 with a constant fill never needs it.
    const u8 = dt.tensor(Uint8Array.from([1, 2, 3, 4]), { shape: [1, 2, 2] });
    const r180 = T.randomRotation([180, 180])(u8);
    expect(r180.dtype).toBe('uint8');
    expect(r180.toArray()).toEqual([[[4, 3], [2, 1]]]);
    // (The cast back to uint8 converts values; it once wrote 0/1 as for bool.)
    expect(dt.tensor([4.4, 0.6, 255]).to('uint8').toArray()).toEqual([4, 0, 255]);
    // Seeded through the global generator too.
    dt.manualSeed(3);
    const a = T.randomRotation(30, { fillMode: 'reflect' })(dt.rand([2, 1, 8, 8]));
    dt.manualSeed(3);
    expect(T.randomRotation(30, { fillMode: 'reflect' })(dt.rand([2, 1, 8, 8])).toArray()).toEqual(a.toArray());
  });

  it('translates by whole pixels within the bounds and fills the rest', () => {
    const x = dt.arange(1, 26).reshape([1, 1, 5, 5]).to('float32');
    const gen = new dt.Generator(4);
    const out = T.randomTranslation(0.4, { generator: gen, fill: 0 })(x.expand([6, 1, 5, 5]).contiguous()).toArray() as number[][][][];
    const src = x.toArray()[0][0] as number[][];
    for (const im of out) {
      // Find the shift that explains the image.
      let found = false;
      for (let dy = -2; dy <= 2 && !found; dy++)
        for (let dx = -2; dx <= 2 && !found; dx++)
          found = im[0].every((row, i) => row.every((v, j) => v === (src[i - dy]?.[j - dx] ?? 0)));
      expect(found).toBe(true);
    }
  });

  it('crops random windows (after padding) of the requested size', () => {
    const x = img3();
    const seen = new Set<string>();
    const crop = T.randomCrop(2, { generator: new dt.Generator(0) });
    for (let k = 0; k < 20; k++) {
      const c = crop(x).toArray()[0] as number[][];
      expect([[[1, 2], [4, 5]], [[2, 3], [5, 6]], [[4, 5], [7, 8]], [[5, 6], [8, 9]]]).toContainEqual(c);
      seen.add(JSON.stringify(c));
    }
    expect(seen.size).toBe(4);
    const padded = T.randomCrop(3, { padding: 1, fillMode: 'constant', fill: 0, generator: new dt.Generator(2) })(x);
    expect(padded.shape).toEqual([1, 3, 3]);
    expect(() => T.randomCrop(4)(x)).toThrow(/randomCrop: expected an image of at least \[4, 4\]/);
  });

  it('randomResizedCrop with scale and ratio 1 is a plain resize; otherwise a region of the right size', () => {
    const x = dt.rand([2, 1, 6, 6]);
    const whole = T.randomResizedCrop(3, { scale: [1, 1], ratio: [1, 1] })(x);
    close(whole.toArray(), T.resize(3)(x).toArray());
    const out = T.randomResizedCrop([4, 5], { generator: new dt.Generator(8) })(dt.rand([3, 3, 10, 10]));
    expect(out.shape).toEqual([3, 3, 4, 5]);
  });

  it('colorJitter scales brightness by one factor per image within [1-b, 1+b], clamped to [0, 1]', () => {
    const x = dt.full([4, 1, 2, 2], 0.5);
    const out = T.colorJitter({ brightness: 0.4, generator: new dt.Generator(6) })(x).toArray() as number[][][][];
    const factors = out.map((im) => im[0][0][0] / 0.5);
    for (const [n, im] of out.entries()) {
      expect(im.flat(2).every((v) => Math.abs(v - im[0][0][0]) < 1e-7)).toBe(true);
      expect(factors[n]).toBeGreaterThanOrEqual(0.6);
      expect(factors[n]).toBeLessThanOrEqual(1.4);
    }
    expect(new Set(factors).size).toBe(4);
    const bright = T.colorJitter({ brightness: [3, 3] })(dt.full([1, 1, 1], 0.5));
    expect(bright.item()).toBe(1);
    const contrast = T.colorJitter({ contrast: [0, 0] })(dt.tensor([[[0.2, 0.6]]]));
    close(contrast.toArray(), [[[0.4, 0.4]]]);
  });

  it('validates arguments with clear messages', () => {
    expect(() => T.randomHorizontalFlip(2)).toThrow(/randomHorizontalFlip: expected a probability in \[0, 1\], got 2/);
    expect(() => T.randomRotation(10, { fillMode: 'mirror' as any })).toThrow(/fillMode 'constant', 'nearest', 'reflect', 'symmetric' or 'wrap'/);
    expect(() => T.toTensor()(dt.zeros([1, 1, 1, 1, 1]))).not.toThrow();
    expect(() => T.randomVerticalFlip()(dt.zeros([5]))).toThrow(/an image \[H, W\], \[C, H, W\] or a batch \[N, C, H, W\], got \[5\]/);
  });
});

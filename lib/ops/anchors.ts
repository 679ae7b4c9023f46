// Anchor boxes for a region proposal network (Ren et al. 2015, "Faster R-CNN", §3.1.1), as
// torchvision's AnchorGenerator: per feature map, sizes x aspect ratios zero-centred cell
// anchors (ratio major, size minor), repeated at every cell with the map's stride. Computed in
// float32 exactly as torchvision does (including round-half-to-even), so anchors match bit for bit.
import { describe, fail } from '../errors';
import { Tensor, transferRaw } from '../tensor';
import type { Device } from '../storage';

export interface AnchorGeneratorOptions {
  /** Anchor sizes (sqrt of the area, in image pixels) per feature map. Default [[128, 256, 512]]. */
  sizes?: readonly (readonly number[])[];
  /** Aspect ratios (height / width) per feature map. Default [[0.5, 1, 2]]. */
  aspectRatios?: readonly (readonly number[])[];
}

const f32 = Math.fround;

/** torch.round: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function checkLists(v: unknown, what: string): number[][] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((l) => Array.isArray(l) && l.length > 0 && l.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)))
    fail('ERR_ARGUMENT', 'AnchorGenerator', `${what} as a non-empty array of non-empty arrays of positive numbers (one per feature map)`, describe(v));
  return (v as number[][]).map((l) => l.slice());
}

function sizeOf(m: unknown, what: string): [number, number] {
  if (m instanceof Tensor) {
    if (m.ndim < 2) fail('ERR_SHAPE', 'AnchorGenerator', `${what} with at least 2 dims [..., H, W]`, `${m.ndim} dims`);
    return [m.shape[m.ndim - 2], m.shape[m.ndim - 1]];
  }
  if (Array.isArray(m) && m.length === 2 && m.every((v) => Number.isInteger(v) && v >= 0)) return [m[0], m[1]];
  return fail('ERR_ARGUMENT', 'AnchorGenerator', `${what} as a Tensor [..., H, W] or [H, W]`, describe(m));
}

export class AnchorGenerator {
  readonly sizes: number[][];
  readonly aspectRatios: number[][];
  /** Per feature map: (A, 4) zero-centred anchors, A = ratios x sizes. */
  readonly cellAnchors: Float32Array[];

  constructor(options: AnchorGeneratorOptions = {}) {
    this.sizes = checkLists(options.sizes ?? [[128, 256, 512]], 'sizes');
    const ratios = options.aspectRatios ?? [[0.5, 1, 2]];
    // One ratio list for every map, as torchvision, when a single list is given for several maps.
    this.aspectRatios = checkLists(ratios.length === 1 && this.sizes.length > 1 ? this.sizes.map(() => ratios[0]) : ratios, 'aspectRatios');
    if (this.aspectRatios.length !== this.sizes.length)
      fail('ERR_ARGUMENT', 'AnchorGenerator', `aspectRatios for each of the ${this.sizes.length} feature maps`, `${this.aspectRatios.length} lists`);
    this.cellAnchors = this.sizes.map((s, i) => AnchorGenerator.generateAnchors(s, this.aspectRatios[i]));
  }

  /** (ratios x sizes, 4) anchors centred on 0: [-w/2, -h/2, w/2, h/2] rounded, h/w = ratio. */
  static generateAnchors(scales: readonly number[], aspectRatios: readonly number[]): Float32Array {
    const out = new Float32Array(4 * scales.length * aspectRatios.length);
    let k = 0;
    for (const ratio of aspectRatios) {
      const hRatio = f32(Math.sqrt(f32(ratio)));
      const wRatio = f32(1 / hRatio);
      for (const scale of scales) {
        const ws = f32(wRatio * f32(scale)), hs = f32(hRatio * f32(scale));
        out[k++] = roundHalfEven(f32(-ws / 2));
        out[k++] = roundHalfEven(f32(-hs / 2));
        out[k++] = roundHalfEven(f32(ws / 2));
        out[k++] = roundHalfEven(f32(hs / 2));
      }
    }
    return out;
  }

  numAnchorsPerLocation(): number[] {
    return this.sizes.map((s, i) => s.length * this.aspectRatios[i].length);
  }

  /**
   * Anchors of one feature map of `gridSize` [h, w] cells, `stride` [sy, sx] pixels apart:
   * (h * w * A, 4), cell-major (row by row), anchor-minor; on `device` (built on the host, then
   * copied there: anchors depend on sizes only, one upload per call).
   */
  gridAnchors(level: number, gridSize: readonly [number, number], stride: readonly [number, number], device: Device = 'cpu'): Tensor {
    if (!Number.isInteger(level) || level < 0 || level >= this.cellAnchors.length)
      fail('ERR_INDEX', 'AnchorGenerator', `a feature-map level in [0, ${this.cellAnchors.length})`, describe(level));
    const base = this.cellAnchors[level];
    const a = base.length / 4;
    const [gh, gw] = gridSize, [sy, sx] = stride;
    const out = Tensor.empty([gh * gw * a, 4], 'float32');
    const dst = new Float32Array(out.storage.hostBuffer, 0, gh * gw * a * 4);
    let k = 0;
    for (let y = 0; y < gh; y++)
      for (let x = 0; x < gw; x++)
        for (let j = 0; j < a; j++) {
          dst[k++] = x * sx + base[4 * j];
          dst[k++] = y * sy + base[4 * j + 1];
          dst[k++] = x * sx + base[4 * j + 2];
          dst[k++] = y * sy + base[4 * j + 3];
        }
    return onDevice(out, device);
  }

  /**
   * Anchors for an image of `imageSize` ([H, W], or the image batch tensor [N, C, H, W]) and its
   * feature maps (tensors [..., h, w] or sizes [h, w]), concatenated over maps: (sum h w A, 4).
   * Each map's stride is floor(H / h), floor(W / w). (torchvision returns this tensor once per
   * image; anchors do not depend on the pixels, so here it is returned once.) The result lives
   * on the device of the feature maps (or of the image tensor) when those are tensors.
   */
  forward(imageSize: Tensor | readonly [number, number], featureMaps: readonly (Tensor | readonly [number, number])[]): Tensor {
    const [ih, iw] = sizeOf(imageSize, 'imageSize');
    if (!Array.isArray(featureMaps) || featureMaps.length !== this.sizes.length)
      fail('ERR_ARGUMENT', 'AnchorGenerator', `${this.sizes.length} feature maps (one per sizes entry)`, describe(featureMaps));
    const device = deviceOf(featureMaps, imageSize);
    const parts = featureMaps.map((m, level) => {
      const [gh, gw] = sizeOf(m, `featureMaps[${level}]`);
      if (gh === 0 || gw === 0) fail('ERR_SHAPE', 'AnchorGenerator', 'feature maps of at least 1 x 1', `${gh} x ${gw}`);
      return this.gridAnchors(level, [gh, gw], [Math.floor(ih / gh), Math.floor(iw / gw)]);
    });
    if (parts.length === 1) return onDevice(parts[0], device);
    const total = parts.reduce((n, p) => n + p.shape[0], 0);
    const out = Tensor.empty([total, 4], 'float32');
    const dst = new Float32Array(out.storage.hostBuffer, 0, total * 4);
    let off = 0;
    for (const p of parts) {
      dst.set(new Float32Array(p.storage.hostBuffer, 0, p.shape[0] * 4), off);
      off += p.shape[0] * 4;
      p.dispose();
    }
    return onDevice(out, device);
  }
}

/** The device of the first tensor among the feature maps, else of the image; 'cpu' for sizes only. */
function deviceOf(featureMaps: readonly unknown[], imageSize: unknown): Device {
  for (const m of featureMaps) if (m instanceof Tensor) return m.device;
  return imageSize instanceof Tensor ? imageSize.device : 'cpu';
}

/** t on `device` (t itself on the CPU; else a copy, and t is freed). */
function onDevice(t: Tensor, device: Device): Tensor {
  if (device === 'cpu') return t;
  try {
    return transferRaw(t, device);
  } finally {
    t.dispose();
  }
}

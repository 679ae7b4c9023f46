// Image transforms (torchvision.transforms, the augmentations a course lists), on CHW images or
// NCHW batches. Random transforms draw their parameters per image — from `generator` when one
// is given, else from the global generator (dt.manualSeed) — so a seed fixes every augmentation.
//
// The geometric ones share one primitive, `warp`: for every output pixel the source position is
// computed in TS (once per image, a few thousand points for a 28x28 image), mapped onto the
// image by the fill mode, and the pixels are fetched with one native gather (four for bilinear,
// weighted). Fill modes, for positions outside the image, row "a b c d":
//   constant   k k | a b c d | k k       (the `fill` value)
//   nearest    a a | a b c d | d d       (torchvision 'edge', numpy 'edge')
//   reflect    c b | a b c d | c b       (torchvision/numpy 'reflect': the edge is not repeated)
//   symmetric  b a | a b c d | d c       (numpy 'symmetric'; what Keras calls 'reflect')
//   wrap       c d | a b c d | a b
import { describe, fail, fmtShape } from '../errors';
import { Tensor, tidy } from '../tensor';
import { tensor, full } from '../ops/creation';
import { cat } from '../ops/join';
import { gather, indexSelect } from '../ops/indexing';
import { where } from '../ops/elementwise';
import { noGrad } from '../autograd/node';
import { isFloat } from '../dtype';
import { uniformDraws, type Generator } from './generator';

export type FillMode = 'constant' | 'nearest' | 'reflect' | 'symmetric' | 'wrap';
export type Interpolation = 'nearest' | 'bilinear';

/** A transform: a function of an image (CHW) or a batch (NCHW) marked as batch-capable. */
export interface Transform {
  (x: Tensor): Tensor;
  /** Works on NCHW batches as well as CHW images (the DataLoader then transforms whole batches). */
  batched?: boolean;
  /** A name for the repr. */
  transformName?: string;
}

export interface RandomOptions {
  generator?: Generator;
}
export interface FillOptions {
  fillMode?: FillMode | 'edge' | 'replicate';
  fill?: number;
}

function makeTransform(name: string, fn: (x: Tensor) => Tensor): Transform {
  const t = ((x: Tensor) => {
    if (!(x instanceof Tensor)) fail('ERR_ARGUMENT', `transforms.${name}`, 'a Tensor image (CHW) or batch (NCHW)', describe(x));
    x.assertLive(`transforms.${name}`);
    // tidy frees every intermediate; the result (and the caller's input) survive.
    return tidy(() => noGrad(() => fn(x)));
  }) as Transform;
  t.batched = true;
  t.transformName = name;
  return t;
}

/** Runs fn on x seen as NCHW ([H,W] and [C,H,W] get leading 1s) and gives the result x's rank back. */
function asBatch(x: Tensor, op: string, fn: (x4: Tensor) => Tensor): Tensor {
  if (x.ndim < 2 || x.ndim > 4) fail('ERR_SHAPE', `transforms.${op}`, 'an image [H, W], [C, H, W] or a batch [N, C, H, W]', fmtShape(x.shape));
  if (x.ndim === 4) return fn(x);
  const lead = 4 - x.ndim;
  const x4 = x.reshape([...new Array(lead).fill(1), ...x.shape]);
  const y4 = fn(x4);
  const y = y4.reshape(y4.shape.slice(lead));
  if (y4 !== x4) y4.dispose();
  x4.dispose();
  return y;
}

function pair(v: number | [number, number], op: string, what: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : fail('ERR_ARGUMENT', op, `${what} as a number or [h, w]`, describe(v));
  if (!p.every((s) => Number.isInteger(s) && s > 0)) fail('ERR_ARGUMENT', op, `positive integer ${what}`, `[${p.join(', ')}]`);
  return p;
}

function checkFillMode(mode: unknown, op: string): FillMode {
  if (mode === undefined) return 'constant';
  if (mode === 'edge' || mode === 'replicate') return 'nearest';
  if (mode === 'constant' || mode === 'nearest' || mode === 'reflect' || mode === 'symmetric' || mode === 'wrap') return mode;
  return fail('ERR_ARGUMENT', op, "fillMode 'constant', 'nearest', 'reflect', 'symmetric' or 'wrap'", describe(mode));
}

/** Maps an integer position onto [0, n) by the fill mode; -1 means "the fill value". */
export function mapCoord(i: number, n: number, mode: FillMode): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'constant':
      return -1;
    case 'nearest':
      return i < 0 ? 0 : n - 1;
    case 'reflect': {
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      let m = ((i % period) + period) % period;
      if (m >= n) m = period - m;
      return m;
    }
    case 'symmetric': {
      const period = 2 * n;
      let m = ((i % period) + period) % period;
      if (m >= n) m = period - 1 - m;
      return m;
    }
    case 'wrap':
      return ((i % n) + n) % n;
  }
}

export interface WarpOptions extends FillOptions {
  interpolation?: Interpolation;
}

/**
 * Resamples a batch x [N, C, H, W] onto an [outH, outW] grid: `source(n, i, j, at)` writes the
 * source position (row, column; pixel centres at integers) of output pixel (i, j) of image n
 * into at[0], at[1]. Positions outside the image follow the fill mode. Integer images come back
 * rounded, in their own dtype.
 */
export function warp(
  x: Tensor,
  outH: number,
  outW: number,
  source: (n: number, i: number, j: number, at: Float64Array) => void,
  options: WarpOptions = {},
): Tensor {
  const mode = checkFillMode(options.fillMode, 'warp');
  const fill = options.fill ?? 0;
  const interp = options.interpolation ?? 'nearest';
  if (interp !== 'nearest' && interp !== 'bilinear') fail('ERR_ARGUMENT', 'warp', "interpolation 'nearest' or 'bilinear'", describe(interp));
  const [N, C, H, W] = x.shape;
  const L = outH * outW;
  const taps = interp === 'nearest' ? 1 : 4;
  // One index row per image, repeated over channels (gather wants the index at full shape).
  const index = new Int32Array(N * C * taps * L);
  const weights = taps === 4 ? new Float32Array(N * 4 * L) : null;
  const at = new Float64Array(2);
  const sentinel = H * W;
  const flat = (r: number, c: number) => {
    const rr = mapCoord(r, H, mode), cc = mapCoord(c, W, mode);
    return rr < 0 || cc < 0 ? sentinel : rr * W + cc;
  };
  for (let n = 0; n < N; n++) {
    const base = n * C * taps * L;
    for (let i = 0; i < outH; i++)
      for (let j = 0; j < outW; j++) {
        source(n, i, j, at);
        const p = i * outW + j;
        if (taps === 1) index[base + p] = flat(Math.round(at[0]), Math.round(at[1]));
        else {
          const r0 = Math.floor(at[0]), c0 = Math.floor(at[1]);
          const fr = at[0] - r0, fc = at[1] - c0;
          index[base + p] = flat(r0, c0);
          index[base + L + p] = flat(r0, c0 + 1);
          index[base + 2 * L + p] = flat(r0 + 1, c0);
          index[base + 3 * L + p] = flat(r0 + 1, c0 + 1);
          const wb = n * 4 * L;
          weights![wb + p] = (1 - fr) * (1 - fc);
          weights![wb + L + p] = (1 - fr) * fc;
          weights![wb + 2 * L + p] = fr * (1 - fc);
          weights![wb + 3 * L + p] = fr * fc;
        }
      }
    for (let c = 1; c < C; c++) index.copyWithin(base + c * taps * L, base, base + taps * L);
  }
  const work = isFloat(x.dtype) ? x : x.to('float32');
  const flatX = work.reshape([N, C, H * W]);
  const fillCol = full([N, C, 1], fill, { dtype: work.dtype });
  const padded = cat([flatX, fillCol], 2);
  const idx = tensor(index, { shape: [N, C, taps * L] });
  let out: Tensor;
  if (weights === null) out = gather(padded, 2, idx).reshape([N, C, outH, outW]);
  else {
    const picked = gather(padded, 2, idx).reshape([N, C, 4, L]);
    const w = tensor(weights, { shape: [N, 1, 4, L] });
    const weighted = picked.mul(w.to(work.dtype));
    out = weighted.sum(2).reshape([N, C, outH, outW]);
    for (const t of [picked, w, weighted]) t.dispose();
  }
  for (const t of [flatX, fillCol, padded, idx]) t.dispose();
  if (work !== x) {
    work.dispose();
    const rounded = out.round();
    out.dispose();
    out = rounded.to(x.dtype);
    rounded.dispose();
  }
  return out;
}

// ---- deterministic transforms ------------------------------------------------------------

/** Applies the transforms in order; intermediate results are freed. */
export function compose(transforms: Transform[]): Transform {
  if (!Array.isArray(transforms) || transforms.some((t) => typeof t !== 'function'))
    fail('ERR_ARGUMENT', 'transforms.compose', 'an array of transforms', describe(transforms));
  const t = ((x: Tensor) => {
    let cur = x;
    for (const f of transforms) {
      const next = f(cur);
      if (cur !== x && next !== cur) cur.dispose();
      cur = next;
    }
    return cur;
  }) as Transform;
  t.batched = transforms.every((f) => f.batched === true);
  t.transformName = `compose(${transforms.map((f) => f.transformName ?? 'fn').join(', ')})`;
  return t;
}

/** uint8 pixels to float32 in [0, 1] (an [H, W] image gains a channel dim); float input is only cast. */
export function toTensor(options: { dtype?: 'float32' | 'float64' } = {}): Transform {
  const dtype = options.dtype ?? 'float32';
  return makeTransform('toTensor', (x) => {
    const cast = x.to(dtype);
    let out = cast;
    if (x.dtype === 'uint8') {
      out = cast.div(255);
      if (cast !== x) cast.dispose();
    } else if (cast === x) out = x.clone();
    if (out.ndim === 2) {
      const r = out.unsqueeze(0);
      return r;
    }
    return out;
  });
}

/** (x - mean[c]) / std[c] per channel; mean and std are numbers or one value per channel. */
export function normalize(mean: number | number[], std: number | number[]): Transform {
  const m = typeof mean === 'number' ? [mean] : mean;
  const s = typeof std === 'number' ? [std] : std;
  if (!Array.isArray(m) || !Array.isArray(s) || m.length !== s.length || m.length === 0)
    fail('ERR_ARGUMENT', 'transforms.normalize', 'mean and std with one value per channel', `${describe(mean)}, ${describe(std)}`);
  if (s.some((v) => !(v !== 0))) fail('ERR_ARGUMENT', 'transforms.normalize', 'non-zero std', `[${s.join(', ')}]`);
  return makeTransform('normalize', (x) =>
    asBatch(x, 'normalize', (x4) => {
      const C = x4.shape[1];
      if (m.length !== 1 && m.length !== C) fail('ERR_SHAPE', 'transforms.normalize', `${m.length} channels`, `${C} in ${fmtShape(x.shape)}`);
      if (!isFloat(x4.dtype)) fail('ERR_DTYPE', 'transforms.normalize', 'a float image (apply toTensor first)', x4.dtype);
      const mt = tensor(m, { dtype: x4.dtype }).reshape([1, m.length, 1, 1]);
      const st = tensor(s, { dtype: x4.dtype }).reshape([1, s.length, 1, 1]);
      const centred = x4.sub(mt);
      const out = centred.div(st);
      for (const t of [mt, st, centred]) t.dispose();
      return out;
    }),
  );
}

/** Resizes to [h, w] (bilinear by default, half-pixel centres as torchvision's antialias=False). */
export function resize(size: number | [number, number], options: { interpolation?: Interpolation } = {}): Transform {
  const [oh, ow] = pair(size, 'transforms.resize', 'size');
  return makeTransform('resize', (x) =>
    asBatch(x, 'resize', (x4) => {
      const [, , H, W] = x4.shape;
      return warp(x4, oh, ow, (_n, i, j, at) => {
        at[0] = (i + 0.5) * (H / oh) - 0.5;
        at[1] = (j + 0.5) * (W / ow) - 0.5;
      }, { interpolation: options.interpolation ?? 'bilinear', fillMode: 'nearest' });
    }),
  );
}

/** The central [h, w] region (padded with `fill` where the image is smaller). */
export function centerCrop(size: number | [number, number], options: FillOptions = {}): Transform {
  const [oh, ow] = pair(size, 'transforms.centerCrop', 'size');
  return makeTransform('centerCrop', (x) =>
    asBatch(x, 'centerCrop', (x4) => {
      const [, , H, W] = x4.shape;
      const top = Math.round((H - oh) / 2), left = Math.round((W - ow) / 2);
      return warp(x4, oh, ow, (_n, i, j, at) => ((at[0] = top + i), (at[1] = left + j)), options);
    }),
  );
}

// ---- random transforms -------------------------------------------------------------------

function checkProbability(p: number, op: string): number {
  if (!(p >= 0 && p <= 1)) fail('ERR_ARGUMENT', op, 'a probability in [0, 1]', describe(p));
  return p;
}

function randomFlip(name: string, dim: 2 | 3, p: number, options: RandomOptions): Transform {
  checkProbability(p, `transforms.${name}`);
  return makeTransform(name, (x) =>
    asBatch(x, name, (x4) => {
      const N = x4.shape[0], size = x4.shape[dim];
      const u = uniformDraws(N, options.generator);
      const flipMask = tensor(Array.from(u, (v) => v < p)).reshape([N, 1, 1, 1]);
      const reversed = tensor(Int32Array.from({ length: size }, (_, i) => size - 1 - i));
      const flipped = indexSelect(x4, dim, reversed);
      const out = where(flipMask, flipped, x4);
      for (const t of [flipMask, reversed, flipped]) t.dispose();
      return out;
    }),
  );
}

/** Mirrors each image left-right with probability p. */
export const randomHorizontalFlip = (p = 0.5, options: RandomOptions = {}): Transform => randomFlip('randomHorizontalFlip', 3, p, options);
/** Mirrors each image top-bottom with probability p. */
export const randomVerticalFlip = (p = 0.5, options: RandomOptions = {}): Transform => randomFlip('randomVerticalFlip', 2, p, options);

function range(v: number | [number, number], op: string, what: string, symmetric: boolean): [number, number] {
  if (typeof v === 'number') {
    if (!(v >= 0)) fail('ERR_ARGUMENT', op, `a non-negative ${what}`, describe(v));
    return symmetric ? [-v, v] : [v, v];
  }
  if (!Array.isArray(v) || v.length !== 2 || !(v[0] <= v[1])) fail('ERR_ARGUMENT', op, `${what} as a number or [min, max]`, describe(v));
  return [v[0], v[1]];
}

/**
 * Rotates each image by an angle drawn uniformly from [-degrees, degrees] (or [min, max]),
 * counter-clockwise for positive angles, about the image centre (torchvision's convention).
 */
export function randomRotation(degrees: number | [number, number], options: RandomOptions & WarpOptions & { center?: [number, number] } = {}): Transform {
  const [lo, hi] = range(degrees, 'transforms.randomRotation', 'degrees', true);
  checkFillMode(options.fillMode, 'transforms.randomRotation');
  return makeTransform('randomRotation', (x) =>
    asBatch(x, 'randomRotation', (x4) => {
      const [N, , H, W] = x4.shape;
      const u = uniformDraws(N, options.generator);
      const cos = new Float64Array(N), sin = new Float64Array(N);
      for (let n = 0; n < N; n++) {
        const a = ((lo + (hi - lo) * u[n]) * Math.PI) / 180;
        cos[n] = Math.cos(a);
        sin[n] = Math.sin(a);
      }
      const cx = options.center ? options.center[0] : (W - 1) / 2, cy = options.center ? options.center[1] : (H - 1) / 2;
      // Output pixel p takes the source pixel that the rotation carries onto p: R(-angle) (p - c) + c.
      return warp(x4, H, W, (n, i, j, at) => {
        const dx = j - cx, dy = i - cy;
        at[1] = cx + dx * cos[n] - dy * sin[n];
        at[0] = cy + dx * sin[n] + dy * cos[n];
      }, options);
    }),
  );
}

/**
 * Shifts each image by whole pixels drawn uniformly from [-fx*W, fx*W] horizontally and
 * [-fy*H, fy*H] vertically (`translate` = f or [fx, fy], fractions of the size, as
 * torchvision's RandomAffine(translate)).
 */
export function randomTranslation(translate: number | [number, number], options: RandomOptions & FillOptions = {}): Transform {
  const [fx, fy] = typeof translate === 'number' ? [translate, translate] : Array.isArray(translate) && translate.length === 2 ? translate : fail('ERR_ARGUMENT', 'transforms.randomTranslation', 'a fraction or [fx, fy]', describe(translate));
  if (!(fx >= 0 && fx <= 1 && fy >= 0 && fy <= 1)) fail('ERR_ARGUMENT', 'transforms.randomTranslation', 'fractions in [0, 1]', `[${fx}, ${fy}]`);
  checkFillMode(options.fillMode, 'transforms.randomTranslation');
  return makeTransform('randomTranslation', (x) =>
    asBatch(x, 'randomTranslation', (x4) => {
      const [N, , H, W] = x4.shape;
      const u = uniformDraws(2 * N, options.generator);
      const tx = new Int32Array(N), ty = new Int32Array(N);
      for (let n = 0; n < N; n++) {
        tx[n] = Math.round((2 * u[2 * n] - 1) * fx * W);
        ty[n] = Math.round((2 * u[2 * n + 1] - 1) * fy * H);
      }
      return warp(x4, H, W, (n, i, j, at) => ((at[0] = i - ty[n]), (at[1] = j - tx[n])), options);
    }),
  );
}

/**
 * A random [h, w] window of each image, after padding every side by `padding` (filled by the
 * fill mode, as torchvision's padding_mode). padIfNeeded pads images smaller than the window.
 */
export function randomCrop(size: number | [number, number], options: RandomOptions & FillOptions & { padding?: number; padIfNeeded?: boolean } = {}): Transform {
  const [oh, ow] = pair(size, 'transforms.randomCrop', 'size');
  const pad = options.padding ?? 0;
  if (!Number.isInteger(pad) || pad < 0) fail('ERR_ARGUMENT', 'transforms.randomCrop', 'a non-negative integer padding', describe(pad));
  checkFillMode(options.fillMode, 'transforms.randomCrop');
  return makeTransform('randomCrop', (x) =>
    asBatch(x, 'randomCrop', (x4) => {
      const [N, , H, W] = x4.shape;
      let padH = pad, padW = pad;
      if (options.padIfNeeded) {
        padH = Math.max(pad, Math.ceil((oh - H) / 2));
        padW = Math.max(pad, Math.ceil((ow - W) / 2));
      }
      const spanH = H + 2 * padH - oh, spanW = W + 2 * padW - ow;
      if (spanH < 0 || spanW < 0)
        fail('ERR_SHAPE', 'transforms.randomCrop', `an image of at least [${oh}, ${ow}] after padding`, `${fmtShape(x4.shape.slice(2))} with padding ${pad}`);
      const u = uniformDraws(2 * N, options.generator);
      const top = new Int32Array(N), left = new Int32Array(N);
      for (let n = 0; n < N; n++) {
        top[n] = Math.min(spanH, Math.floor(u[2 * n] * (spanH + 1))) - padH;
        left[n] = Math.min(spanW, Math.floor(u[2 * n + 1] * (spanW + 1))) - padW;
      }
      return warp(x4, oh, ow, (n, i, j, at) => ((at[0] = top[n] + i), (at[1] = left[n] + j)), options);
    }),
  );
}

/**
 * A random region of random area (scale) and aspect ratio (ratio), resized to `size`
 * (torchvision's RandomResizedCrop: ten tries at a region that fits, else the central crop
 * of the clamped ratio). Bilinear by default.
 */
export function randomResizedCrop(
  size: number | [number, number],
  options: RandomOptions & { scale?: [number, number]; ratio?: [number, number]; interpolation?: Interpolation } = {},
): Transform {
  const [oh, ow] = pair(size, 'transforms.randomResizedCrop', 'size');
  const scale = options.scale ?? [0.08, 1];
  const ratio = options.ratio ?? [3 / 4, 4 / 3];
  if (!(scale[0] > 0 && scale[0] <= scale[1])) fail('ERR_ARGUMENT', 'transforms.randomResizedCrop', 'a scale [min, max] with 0 < min <= max', describe(scale));
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) fail('ERR_ARGUMENT', 'transforms.randomResizedCrop', 'a ratio [min, max] with 0 < min <= max', describe(ratio));
  const TRIES = 10;
  const DRAWS = 2 * TRIES + 2;
  return makeTransform('randomResizedCrop', (x) =>
    asBatch(x, 'randomResizedCrop', (x4) => {
      const [N, , H, W] = x4.shape;
      // A fixed number of draws per image keeps the stream aligned however many tries succeed.
      const u = uniformDraws(DRAWS * N, options.generator);
      const box = new Float64Array(4 * N);
      const logLo = Math.log(ratio[0]), logHi = Math.log(ratio[1]);
      for (let n = 0; n < N; n++) {
        const d = n * DRAWS;
        let found = false;
        for (let t = 0; t < TRIES && !found; t++) {
          const area = H * W * (scale[0] + (scale[1] - scale[0]) * u[d + 2 * t]);
          const r = Math.exp(logLo + (logHi - logLo) * u[d + 2 * t + 1]);
          const w = Math.round(Math.sqrt(area * r)), h = Math.round(Math.sqrt(area / r));
          if (w > 0 && h > 0 && w <= W && h <= H) {
            box[4 * n] = Math.min(H - h, Math.floor(u[d + 2 * TRIES] * (H - h + 1)));
            box[4 * n + 1] = Math.min(W - w, Math.floor(u[d + 2 * TRIES + 1] * (W - w + 1)));
            box[4 * n + 2] = h;
            box[4 * n + 3] = w;
            found = true;
          }
        }
        if (!found) {
          const inRatio = W / H;
          let w = W, h = H;
          if (inRatio < ratio[0]) h = Math.round(W / ratio[0]);
          else if (inRatio > ratio[1]) w = Math.round(H * ratio[1]);
          box.set([Math.floor((H - h) / 2), Math.floor((W - w) / 2), h, w], 4 * n);
        }
      }
      return warp(x4, oh, ow, (n, i, j, at) => {
        at[0] = box[4 * n] + (i + 0.5) * (box[4 * n + 2] / oh) - 0.5;
        at[1] = box[4 * n + 1] + (j + 0.5) * (box[4 * n + 3] / ow) - 0.5;
      }, { interpolation: options.interpolation ?? 'bilinear', fillMode: 'nearest' });
    }),
  );
}

/**
 * Random brightness and contrast (torchvision's ColorJitter for those two): brightness b scales
 * pixels by a factor from [max(0, 1-b), 1+b]; contrast c blends each image with its mean grey
 * by a factor from [max(0, 1-c), 1+c]. Float images are clamped to [0, 1], uint8 to [0, 255].
 */
export function colorJitter(options: RandomOptions & { brightness?: number | [number, number]; contrast?: number | [number, number] } = {}): Transform {
  const factorRange = (v: number | [number, number] | undefined, what: string): [number, number] | null => {
    if (v === undefined || v === 0) return null;
    if (typeof v === 'number') {
      if (!(v >= 0)) fail('ERR_ARGUMENT', 'transforms.colorJitter', `a non-negative ${what}`, describe(v));
      return [Math.max(0, 1 - v), 1 + v];
    }
    return range(v, 'transforms.colorJitter', what, false);
  };
  const b = factorRange(options.brightness, 'brightness');
  const c = factorRange(options.contrast, 'contrast');
  return makeTransform('colorJitter', (x) =>
    asBatch(x, 'colorJitter', (x4) => {
      const N = x4.shape[0];
      const u = uniformDraws(2 * N, options.generator);
      const maxVal = isFloat(x4.dtype) ? 1 : 255;
      const dtype = isFloat(x4.dtype) ? x4.dtype : 'float32';
      const factors = (r: [number, number], k: number) =>
        tensor(Float64Array.from({ length: N }, (_, n) => r[0] + (r[1] - r[0]) * u[2 * n + k]), { shape: [N, 1, 1, 1] }).to(dtype);
      let cur = x4.to(dtype);
      if (b) cur = cur.mul(factors(b, 0)).clamp(0, maxVal);
      if (c) {
        // Grey level: ITU-R 601 luma for RGB, the channel mean otherwise.
        const grey = cur.shape[1] === 3
          ? cur.select(1, 0).mul(0.299).add(cur.select(1, 1).mul(0.587)).add(cur.select(1, 2).mul(0.114))
          : cur.mean(1);
        const m = grey.mean([1, 2]).reshape([N, 1, 1, 1]);
        cur = cur.sub(m).mul(factors(c, 1)).add(m).clamp(0, maxVal);
      }
      if (cur === x4) return x4.clone();
      return isFloat(x4.dtype) ? cur : cur.round().to(x4.dtype);
    }),
  );
}

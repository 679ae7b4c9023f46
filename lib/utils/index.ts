// dt.utils: image grids written as PNG (torchvision.utils.make_grid / save_image), for samples
// from a GAN or VAE, and the PNG encoder itself.
import * as fs from 'fs';
import { describe, fail, fmtShape } from '../errors';
import { Tensor } from '../tensor';
import { encodePng } from './png';
import { tensor } from '../ops/creation';

export { encodePng } from './png';

export interface GridOptions {
  /** Images per row (default 8). */
  nrow?: number;
  /** Pixels between images (default 2). */
  padding?: number;
  /** Value of the padding, in the images' range (default 0). */
  padValue?: number;
  /** Scale the whole tensor to [0, 1] by its min and max, or by valueRange (default false). */
  normalize?: boolean;
  valueRange?: [number, number];
}

/**
 * Tiles a batch [N, C, H, W] (C 1 or 3; [N, H, W] is greyscale) into one image: a float32 tensor
 * [C, rows*(H+p)+p, nrow*(W+p)+p] with values in [0, 1] (clamped).
 */
export function makeGrid(batch: Tensor, options: GridOptions = {}): Tensor {
  if (!(batch instanceof Tensor)) fail('ERR_ARGUMENT', 'makeGrid', 'a Tensor [N, C, H, W]', describe(batch));
  batch.assertLive('makeGrid');
  const shape = batch.ndim === 3 ? [batch.shape[0], 1, batch.shape[1], batch.shape[2]] : batch.shape;
  if (shape.length !== 4 || (shape[1] !== 1 && shape[1] !== 3)) fail('ERR_SHAPE', 'makeGrid', 'images [N, 1|3, H, W] or [N, H, W]', fmtShape(batch.shape));
  const [N, C, H, W] = shape;
  const nrow = Math.max(1, Math.min(options.nrow ?? 8, N));
  const pad = options.padding ?? 2;
  const rows = Math.ceil(N / nrow);
  const gh = rows * (H + pad) + pad, gw = nrow * (W + pad) + pad;
  const src = Float64Array.from(batch.dataSync(), Number);
  let lo = 0, hi = 1;
  if (options.valueRange) [lo, hi] = options.valueRange;
  else if (options.normalize) {
    lo = Infinity;
    hi = -Infinity;
    for (const v of src) if (Number.isFinite(v)) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
  } else if (batch.dtype === 'uint8') hi = 255;
  const scale = hi > lo ? 1 / (hi - lo) : 1;
  const out = new Float32Array(C * gh * gw).fill(Math.min(1, Math.max(0, ((options.padValue ?? 0) - lo) * scale)));
  for (let n = 0; n < N; n++) {
    const top = pad + Math.floor(n / nrow) * (H + pad), left = pad + (n % nrow) * (W + pad);
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const v = (src[((n * C + c) * H + y) * W + x] - lo) * scale;
          out[(c * gh + top + y) * gw + left + x] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
  }
  return tensor(out, { shape: [C, gh, gw] });
}

/** PNG bytes of an image [C, H, W] (C 1, 3 or 4) or [H, W] with values in [0, 1] (uint8: [0, 255]). */
export function imageToPng(image: Tensor): Buffer {
  if (!(image instanceof Tensor)) fail('ERR_ARGUMENT', 'imageToPng', 'a Tensor [C, H, W]', describe(image));
  const [C, H, W] = image.ndim === 2 ? [1, image.shape[0], image.shape[1]] : image.shape;
  if ((image.ndim !== 2 && image.ndim !== 3) || ![1, 3, 4].includes(C)) fail('ERR_SHAPE', 'imageToPng', 'an image [1|3|4, H, W] or [H, W]', fmtShape(image.shape));
  const data = image.dataSync();
  const k = image.dtype === 'uint8' ? 1 : 255;
  const px = new Uint8Array(H * W * C);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < H * W; i++) px[i * C + c] = Math.max(0, Math.min(255, Math.round(Number(data[c * H * W + i]) * k)));
  return encodePng(W, H, C as 1 | 3 | 4, px);
}

/** Writes a batch of images as one PNG grid (torchvision.utils.save_image). */
export function saveImageGridSync(batch: Tensor, file: string, options: GridOptions = {}): void {
  const grid = makeGrid(batch, options);
  try {
    fs.writeFileSync(file, imageToPng(grid));
  } finally {
    grid.dispose();
  }
}

export async function saveImageGrid(batch: Tensor, file: string, options: GridOptions = {}): Promise<void> {
  const grid = makeGrid(batch, options);
  let bytes: Buffer;
  try {
    bytes = imageToPng(grid);
  } finally {
    grid.dispose();
  }
  await fs.promises.writeFile(file, bytes);
}

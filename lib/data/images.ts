// Image files into tensors: PNG through pngjs and JPEG through jpeg-js (both maintained, pure-JS
// decoders from the npm registry; no native download), and ImageFolder, a dataset of one class
// per sub-directory as torchvision's. Images come out as uint8 [C, H, W] (NCHW once batched);
// transforms.toTensor() scales them to [0, 1].
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { DendriteError, describe, fail } from '../errors';
import { Tensor } from '../tensor';
import { tensor } from '../ops/creation';
import { Dataset } from './dataset';
import type { Transform } from './transforms';

export type ImageMode = 'rgb' | 'gray' | 'rgba';

export interface ImageOptions {
  /** Channels of the result: 3 (default), 1 (luma, as PIL's 'L') or 4. */
  mode?: ImageMode;
}

// Refuse decodes that would need more than this many pixels (a corrupt or hostile header).
const MAX_MEGAPIXELS = 100;

function rgbaToChw(rgba: Uint8Array, width: number, height: number, mode: ImageMode): Tensor {
  const hw = width * height;
  const channels = mode === 'gray' ? 1 : mode === 'rgba' ? 4 : 3;
  const out = new Uint8Array(channels * hw);
  for (let i = 0; i < hw; i++) {
    const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
    if (mode === 'gray') out[i] = Math.round((r * 299 + g * 587 + b * 114) / 1000);
    else {
      out[i] = r;
      out[hw + i] = g;
      out[2 * hw + i] = b;
      if (mode === 'rgba') out[3 * hw + i] = rgba[4 * i + 3];
    }
  }
  return tensor(out, { shape: [channels, height, width] });
}

/** Decodes PNG or JPEG bytes (recognised by their signature) to a uint8 [C, H, W] tensor. */
export function decodeImage(bytes: Uint8Array, options: ImageOptions = {}): Tensor {
  const mode = options.mode ?? 'rgb';
  if (mode !== 'rgb' && mode !== 'gray' && mode !== 'rgba') fail('ERR_ARGUMENT', 'decodeImage', "mode 'rgb', 'gray' or 'rgba'", describe(mode));
  if (!(bytes instanceof Uint8Array)) fail('ERR_ARGUMENT', 'decodeImage', 'a Uint8Array or Buffer', describe(bytes));
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isPng = buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47 && buf.readUInt32BE(4) === 0x0d0a1a0a;
  const isJpeg = buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  if (!isPng && !isJpeg) fail('ERR_FORMAT', 'decodeImage', 'a PNG or JPEG file', `${buf.length} bytes with another signature`);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    if (isPng) {
      const png = PNG.sync.read(buf);
      decoded = { width: png.width, height: png.height, data: png.data };
    } else {
      decoded = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
    }
  } catch (e) {
    if (e instanceof DendriteError) throw e;
    throw new DendriteError(`decodeImage: expected a valid ${isPng ? 'PNG' : 'JPEG'} file, got one that fails to decode (${(e as Error).message})`, 'ERR_FORMAT');
  }
  const { width, height, data } = decoded;
  if (!(width > 0 && height > 0) || data.length < 4 * width * height)
    fail('ERR_FORMAT', 'decodeImage', 'pixel data matching the image size', `${width}x${height} with ${data.length} bytes`);
  return rgbaToChw(data, width, height, mode);
}

export function readImageSync(file: string, options: ImageOptions = {}): Tensor {
  return decodeImage(fs.readFileSync(file), options);
}

export async function readImage(file: string, options: ImageOptions = {}): Promise<Tensor> {
  return decodeImage(await fs.promises.readFile(file), options);
}

export interface ImageFolderOptions extends ImageOptions {
  /** Applied to each uint8 [C, H, W] image (e.g. compose([toTensor(), normalize(...)])). */
  transform?: Transform;
  /** File extensions taken as images (lower case, with the dot). */
  extensions?: string[];
}

/**
 * torchvision's ImageFolder: root/<class>/<image>. Classes are the sub-directories in sorted
 * order (label = index); each item is [image, label] with label an int64 0-d tensor.
 */
export class ImageFolder extends Dataset<[Tensor, Tensor]> {
  readonly classes: string[];
  readonly samples: [string, number][];
  private readonly options: ImageFolderOptions;

  constructor(readonly root: string, options: ImageFolderOptions = {}) {
    super();
    this.options = options;
    const exts = new Set((options.extensions ?? ['.png', '.jpg', '.jpeg']).map((e) => e.toLowerCase()));
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(root, { withFileTypes: true });
    } catch {
      fail('ERR_ARGUMENT', 'ImageFolder', 'a readable directory', JSON.stringify(root));
    }
    this.classes = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    this.samples = [];
    this.classes.forEach((cls, label) => {
      for (const f of fs.readdirSync(path.join(root, cls)).sort())
        if (exts.has(path.extname(f).toLowerCase())) this.samples.push([path.join(root, cls, f), label]);
    });
    if (this.samples.length === 0) fail('ERR_ARGUMENT', 'ImageFolder', `images (${[...exts].join(', ')}) in class sub-directories of ${root}`, 'none');
  }

  get length(): number {
    return this.samples.length;
  }

  getItem(index: number): [Tensor, Tensor] {
    if (!Number.isInteger(index) || index < 0 || index >= this.samples.length)
      fail('ERR_INDEX', 'ImageFolder.getItem', `an index in [0, ${this.samples.length})`, String(index));
    const [file, label] = this.samples[index];
    const img = readImageSync(file, this.options);
    let x = img;
    if (this.options.transform) {
      x = this.options.transform(img);
      if (x !== img) img.dispose();
    }
    return [x, tensor(label, { dtype: 'int64' })];
  }
}

// Ready-made datasets: MNIST and Fashion-MNIST from IDX files found on this machine (never
// downloaded), and tables from CSV files.
//
// Where the MNIST family is looked for, in order (the first directory holding both files of
// the split wins, and `source` / the one-line log say which):
//   1. options.root                        (also root/<name>, root/<TorchvisionName>/raw)
//   2. $DENDRITE_DATA                       (same sub-directories)
//   3. /usr/share/datasets/<name>           (Debian: apt-get install dataset-fashion-mnist)
//   4. data/<name>-subset in this package   (Fashion-MNIST only: 3000 train + 1000 test
//                                            images of the real set, scripts/make_fashion_subset.mjs)
import * as fs from 'fs';
import * as path from 'path';
import { describe, fail } from '../errors';
import { Tensor, keep, tidy } from '../tensor';
import { noGrad } from '../autograd/node';
import { indexSelect } from '../ops/indexing';
import { select } from '../ops/shape';
import { Dataset, TensorDataset, indexTensor } from './dataset';
import { readIdxSync, readCsvSync, type CsvOptions } from './readers';
import { defaultCollate } from './dataloader';
import type { Transform } from './transforms';

export type DataSource = 'root' | 'DENDRITE_DATA' | 'system' | 'subset';

export interface MnistOptions {
  /** A directory to look in first. */
  root?: string;
  /** The training split (default) or the test split. */
  train?: boolean;
  /** Applied to each image: a uint8 tensor [1, 28, 28] (or to a uint8 batch [N, 1, 28, 28]). */
  transform?: Transform;
  /** Applied to each label (a number). */
  targetTransform?: (label: number) => any;
  /** The places to look, in order (default all: ['root', 'DENDRITE_DATA', 'system', 'subset']). */
  locations?: DataSource[];
  /** Where the one-line "loaded from" message goes (default console.log; false silences it). */
  log?: ((line: string) => void) | false;
}

const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const DIGIT_CLASSES = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'];

/** The package's own directory (dist/data/ or lib/data/ -> package root). */
function packageRoot(): string {
  return path.resolve(__dirname, '..', '..');
}

function findFile(dir: string, base: string): string | null {
  for (const name of [`${base}.gz`, base]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

interface Found {
  images: string;
  labels: string;
  source: DataSource;
  dir: string;
}

const ALL_LOCATIONS: DataSource[] = ['root', 'DENDRITE_DATA', 'system', 'subset'];

function locate(name: string, torchName: string, split: 'train' | 't10k', root: string | undefined, locations: DataSource[]): { found: Found | null; tried: string[] } {
  const tried: string[] = [];
  const candidates: [DataSource, string][] = [];
  const under = (base: string): string[] => [base, path.join(base, name), path.join(base, torchName, 'raw'), path.join(base, torchName)];
  if (root !== undefined) for (const d of under(root)) candidates.push(['root', d]);
  const env = process.env.DENDRITE_DATA;
  if (env) for (const d of under(env)) candidates.push(['DENDRITE_DATA', d]);
  candidates.push(['system', path.join('/usr/share/datasets', name)]);
  candidates.push(['subset', path.join(packageRoot(), 'data', `${name}-subset`)]);
  for (const [source, dir] of candidates) {
    if (!locations.includes(source)) continue;
    tried.push(dir);
    const images = findFile(dir, `${split}-images-idx3-ubyte`);
    const labels = findFile(dir, `${split}-labels-idx1-ubyte`);
    if (images && labels) return { found: { images, labels, source, dir }, tried };
  }
  return { found: null, tried };
}

/**
 * An MNIST-style image classification set held in memory: `data` uint8 [N, 28, 28], `targets`
 * int64 [N]. A sample is [image, label] with the image a uint8 [1, 28, 28] tensor passed through
 * `transform` (use transforms.toTensor() for floats in [0, 1]), the label a number.
 */
export class MnistDataset extends Dataset<[any, any]> {
  readonly data: Tensor;
  readonly targets: Tensor;
  readonly classes: string[];
  readonly train: boolean;
  /** Which location the files came from, and the directory. */
  readonly source: DataSource;
  readonly sourceDir: string;
  transform?: Transform;
  targetTransform?: (label: number) => any;
  private readonly labels: Int32Array;

  constructor(readonly name: string, torchName: string, classes: string[], options: MnistOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') fail('ERR_ARGUMENT', name, 'an options object', describe(options));
    const train = options.train ?? true;
    const split = train ? 'train' : 't10k';
    const locations = options.locations ?? ALL_LOCATIONS;
    if (!Array.isArray(locations) || locations.some((l) => !ALL_LOCATIONS.includes(l)))
      fail('ERR_ARGUMENT', name, `locations among ${ALL_LOCATIONS.join(', ')}`, describe(locations));
    const { found, tried } = locate(name, torchName, split, options.root, locations);
    if (found === null)
      fail('ERR_ARGUMENT', name, `the ${split} IDX files (${split}-images-idx3-ubyte[.gz], ${split}-labels-idx1-ubyte[.gz]) in one of: ${tried.join(', ')} (nothing is downloaded; set root or $DENDRITE_DATA)`, 'none found');
    const images = readIdxSync(found.images);
    const targets = readIdxSync(found.labels);
    if (images.ndim !== 3 || images.dtype !== 'uint8') fail('ERR_FORMAT', name, 'uint8 images [N, H, W]', `${images.dtype} [${images.shape}] in ${found.images}`);
    if (targets.ndim !== 1 || targets.shape[0] !== images.shape[0])
      fail('ERR_FORMAT', name, `${images.shape[0]} labels`, `[${targets.shape}] in ${found.labels}`);
    // The dataset owns its tensors for as long as it lives, whatever tidy() scope built it.
    this.data = keep(images);
    this.labels = Int32Array.from(targets.dataSync(), Number);
    this.targets = keep(targets.to('int64'));
    targets.dispose();
    this.classes = classes;
    this.train = train;
    this.source = found.source;
    this.sourceDir = found.dir;
    this.transform = options.transform;
    this.targetTransform = options.targetTransform;
    const what = { root: 'root', DENDRITE_DATA: '$DENDRITE_DATA', system: "the system's data set", subset: "the subset shipped with dendrite" }[found.source];
    const log = options.log === undefined ? console.log : options.log;
    if (log) log(`${name}: ${split === 'train' ? 'train' : 'test'} split, ${images.shape[0]} images from ${found.dir} (${what})`);
  }

  get length(): number {
    return this.data.shape[0];
  }

  getItem(index: number): [any, any] {
    const i = this.checkIndex(index, `${this.name}.getItem`);
    const img = noGrad(() => tidy(() => select(this.data, 0, i).unsqueeze(0)));
    const label = this.labels[i];
    let x: any = img;
    if (this.transform) {
      x = this.transform(img);
      if (x !== img) img.dispose();
    }
    return [x, this.targetTransform ? this.targetTransform(label) : label];
  }

  /** Cuts a batch with one indexSelect; batch-capable transforms then run on the whole batch. */
  override getBatch(indices: readonly number[]): [any, any] {
    if (this.targetTransform || (this.transform && this.transform.batched !== true))
      return defaultCollate(indices.map((i) => this.getItem(i))) as [any, any];
    const idx = indexTensor(indices, this.length, `${this.name}.getBatch`);
    const [images, labels] = noGrad(() => {
      const imgs = indexSelect(this.data, 0, idx);
      const batch = imgs.unsqueeze(1);
      imgs.dispose();
      return [batch, indexSelect(this.targets, 0, idx)];
    });
    idx.dispose();
    if (!this.transform) return [images, labels];
    const x = this.transform(images);
    if (x !== images) images.dispose();
    return [x, labels];
  }
}

/** Fashion-MNIST (Xiao et al. 2017): 60000 train / 10000 test greyscale 28x28 images, 10 classes. */
export function fashionMnist(options: MnistOptions = {}): MnistDataset {
  return new MnistDataset('fashion-mnist', 'FashionMNIST', FASHION_CLASSES, options);
}

/** MNIST handwritten digits (no copy ships with dendrite: root, $DENDRITE_DATA or /usr/share/datasets/mnist). */
export function mnist(options: MnistOptions = {}): MnistDataset {
  return new MnistDataset('mnist', 'MNIST', DIGIT_CLASSES, options);
}

export interface CsvDatasetOptions extends CsvOptions {
  /** The target column(s); the other (or the `features`) columns are the inputs. */
  target: string | string[];
  /** The input columns (default: every column but the targets). */
  features?: string[];
}

/** A TensorDataset [x [N, features], y [N, targets]] from a CSV file, with the column names. */
export function csvDataset(file: string, options: CsvDatasetOptions): TensorDataset & { featureNames: string[]; targetNames: string[] } {
  if (options === null || typeof options !== 'object' || options.target === undefined)
    fail('ERR_ARGUMENT', 'csvDataset', 'options with a target column', describe(options));
  const table = readCsvSync(file, { header: options.header, delimiter: options.delimiter, dtype: options.dtype });
  const targets = typeof options.target === 'string' ? [options.target] : options.target;
  for (const t of targets) if (!table.columns.includes(t)) fail('ERR_ARGUMENT', 'csvDataset', `a target among ${table.columns.join(', ')}`, JSON.stringify(t));
  const features = options.features ?? table.columns.filter((c) => !targets.includes(c));
  for (const f of features) if (!table.columns.includes(f)) fail('ERR_ARGUMENT', 'csvDataset', `a feature among ${table.columns.join(', ')}`, JSON.stringify(f));
  const cols = (names: string[]) => {
    const idx = indexTensor(names.map((n) => table.columns.indexOf(n)), table.columns.length, 'csvDataset');
    const out = indexSelect(table.data, 1, idx);
    idx.dispose();
    return out;
  };
  const ds = new TensorDataset(cols(features), cols(targets)) as TensorDataset & { featureNames: string[]; targetNames: string[] };
  table.data.dispose();
  ds.featureNames = features;
  ds.targetNames = targets;
  return ds;
}

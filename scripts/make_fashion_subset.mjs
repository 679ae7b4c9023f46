// Writes data/fashion-mnist-subset/: the first 300 training and the first 100 test images of
// each class of the real Fashion-MNIST (in their original order), as gzipped IDX files, so a
// fresh clone can run the demo, the examples and the tests with no download.
//
//   node scripts/make_fashion_subset.mjs [SOURCE_DIR]   (default /usr/share/datasets/fashion-mnist)
//
// Plain Node (node:zlib): the files it writes are what lib/data/readers.ts reads.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const source = process.argv[2] ?? process.env.DENDRITE_DATA ?? '/usr/share/datasets/fashion-mnist';
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'fashion-mnist-subset');
const PER_CLASS = { train: 300, t10k: 100 };

function readIdx(file) {
  let bytes = fs.readFileSync(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = zlib.gunzipSync(bytes);
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) throw new Error(`${file}: not a uint8 IDX file`);
  const ndim = bytes[3];
  const shape = Array.from({ length: ndim }, (_, d) => bytes.readUInt32BE(4 + 4 * d));
  return { shape, body: bytes.subarray(4 + 4 * ndim) };
}

function writeIdx(file, shape, body) {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = 0x08;
  header[3] = shape.length;
  shape.forEach((s, d) => header.writeUInt32BE(s, 4 + 4 * d));
  // mtime 0 in the gzip header keeps the output byte-for-byte reproducible.
  fs.writeFileSync(file, zlib.gzipSync(Buffer.concat([header, body]), { level: 9 }));
}

fs.mkdirSync(out, { recursive: true });
for (const split of ['train', 't10k']) {
  const find = (base) => [`${base}.gz`, base].map((n) => path.join(source, n)).find((p) => fs.existsSync(p));
  const imagesFile = find(`${split}-images-idx3-ubyte`), labelsFile = find(`${split}-labels-idx1-ubyte`);
  if (!imagesFile || !labelsFile) throw new Error(`no ${split} IDX files in ${source}`);
  const images = readIdx(imagesFile), labels = readIdx(labelsFile);
  const pixels = images.shape[1] * images.shape[2];
  const taken = new Array(10).fill(0);
  const picked = [];
  for (let i = 0; i < labels.shape[0]; i++) {
    const c = labels.body[i];
    if (taken[c] < PER_CLASS[split]) {
      taken[c]++;
      picked.push(i);
    }
  }
  const imgBody = Buffer.alloc(picked.length * pixels);
  picked.forEach((i, k) => images.body.copy(imgBody, k * pixels, i * pixels, (i + 1) * pixels));
  writeIdx(path.join(out, `${split}-images-idx3-ubyte.gz`), [picked.length, images.shape[1], images.shape[2]], imgBody);
  writeIdx(path.join(out, `${split}-labels-idx1-ubyte.gz`), [picked.length], Buffer.from(picked.map((i) => labels.body[i])));
  console.log(`${split}: ${picked.length} images (${PER_CLASS[split]} per class) from ${imagesFile}`);
}

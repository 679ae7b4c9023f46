// tfjs-layers models train on the `dendrite` backend with the losses of the `cpu` backend: the
// same weights, data and dropout seeds on both, a few optimizer steps each, losses compared
// step by step.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as dtTfjs from '../../dist/backends/tfjs/index.js';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as path from 'node:path';

/** The first `n` images (scaled to [0, 1]) and labels of the repo's Fashion-MNIST subset. */
function fashionBatch(n: number): { images: Float32Array; labels: number[] } {
  const dir = path.join(__dirname, '../../data/fashion-mnist-subset');
  const img = gunzipSync(readFileSync(path.join(dir, 'train-images-idx3-ubyte.gz')));
  const lab = gunzipSync(readFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz')));
  // The subset is in class order (300 per class): take images spread over the classes.
  const picks = Array.from({ length: n }, (_, i) => (i % 10) * 300 + Math.floor(i / 10));
  const images = new Float32Array(n * 784);
  picks.forEach((k, i) => {
    for (let j = 0; j < 784; j++) images[i * 784 + j] = img[16 + k * 784 + j] / 255;
  });
  return { images, labels: picks.map((k) => lab[8 + k]) };
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Spec {
  build: () => tf.LayersModel;
  x: () => tf.Tensor;
  y: () => tf.Tensor;
  optimizer: () => tf.Optimizer;
  loss: string;
}

/** Losses of `steps` trainOnBatch calls on `backend`, starting from `weights` (or the model's own init). */
async function train(backend: string, spec: Spec, weights: Float32Array[] | null, steps: number) {
  await tf.setBackend(backend);
  const model = spec.build();
  if (weights) model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
  const init = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  model.compile({ optimizer: spec.optimizer(), loss: spec.loss });
  const x = spec.x(), y = spec.y();
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(Number(await model.trainOnBatch(x, y)));
  const prediction = (model.predict(x) as tf.Tensor).dataSync().slice();
  tf.dispose([x, y]);
  model.dispose();
  return { losses, init, prediction };
}

async function compare(spec: Spec, steps = 5) {
  const cpu = await train('cpu', spec, null, steps);
  const dendrite = await train('dendrite', spec, cpu.init, steps);
  expect(tf.getBackend()).toBe('dendrite');
  for (let i = 0; i < steps; i++) expect(dendrite.losses[i]).toBeCloseTo(cpu.losses[i], 4);
  // Training moved the loss, and both backends agree on the trained model's outputs.
  expect(Math.abs(cpu.losses[steps - 1] - cpu.losses[0])).toBeGreaterThan(1e-4);
  let maxDiff = 0;
  for (let i = 0; i < cpu.prediction.length; i++) maxDiff = Math.max(maxDiff, Math.abs(cpu.prediction[i] - dendrite.prediction[i]));
  expect(maxDiff).toBeLessThan(1e-4);
  return { cpu, dendrite };
}

describe('tfjs-layers on the dendrite backend', () => {
  it('registers a backend named dendrite', () => {
    expect(tf.engine().registryFactory.dendrite).toBeDefined();
    expect(dtTfjs.fallbacks()).not.toContain('MatMul');
  });

  it('trains a Dense/Activation/Dropout MLP with the cpu backend\'s losses (SGD, cross-entropy)', async () => {
    const r = rng(1);
    const xs = Float32Array.from({ length: 64 * 20 }, () => r() * 2 - 1);
    const labels = Array.from({ length: 64 }, () => Math.floor(r() * 5));
    const { dendrite } = await compare({
      build: () => tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [20], units: 32, activation: 'relu' }),
          tf.layers.dropout({ rate: 0.25, seed: 7 }),
          tf.layers.dense({ units: 16 }),
          tf.layers.activation({ activation: 'tanh' }),
          tf.layers.dense({ units: 5, activation: 'softmax' }),
        ],
      }),
      x: () => tf.tensor2d(xs, [64, 20]),
      y: () => tf.oneHot(tf.tensor1d(labels, 'int32'), 5),
      optimizer: () => tf.train.sgd(0.5),
      loss: 'categoricalCrossentropy',
    });
    expect(dendrite.losses[4]).toBeLessThan(dendrite.losses[0]);
  });

  it('trains an MLP regression with Adam and sigmoid units', async () => {
    const r = rng(2);
    const xs = Float32Array.from({ length: 32 * 8 }, () => r() * 2 - 1);
    const ys = Float32Array.from({ length: 32 * 3 }, () => r());
    await compare({
      build: () => tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [8], units: 24, activation: 'sigmoid' }),
          tf.layers.dense({ units: 3 }),
        ],
      }),
      x: () => tf.tensor2d(xs, [32, 8]),
      y: () => tf.tensor2d(ys, [32, 3]),
      optimizer: () => tf.train.adam(0.05),
      loss: 'meanSquaredError',
    });
  });

  it('trains an Embedding model with the cpu backend\'s losses', async () => {
    const r = rng(3);
    const tokens = Array.from({ length: 16 * 6 }, () => Math.floor(r() * 30));
    const labels = Array.from({ length: 16 }, () => (r() < 0.5 ? 0 : 1));
    await compare({
      build: () => tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: 30, outputDim: 8, inputLength: 6 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 1, activation: 'sigmoid' }),
        ],
      }),
      x: () => tf.tensor2d(tokens, [16, 6], 'int32'),
      y: () => tf.tensor2d(labels, [16, 1]),
      optimizer: () => tf.train.rmsprop(0.05),
      loss: 'binaryCrossentropy',
    });
  });

  it('trains the Fashion-MNIST CNN (Conv2D-Conv2D-MaxPool-Dense-Dense) with the cpu backend\'s losses', async () => {
    // A small batch: the cpu backend's convolutions are plain JS loops (seconds per step).
    const { images, labels } = fashionBatch(4);
    const { dendrite } = await compare({
      build: () => tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
          tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 128, activation: 'relu' }),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
      x: () => tf.tensor4d(images, [4, 28, 28, 1]),
      y: () => tf.oneHot(tf.tensor1d(labels, 'int32'), 10),
      optimizer: () => tf.train.adam(1e-3),
      loss: 'categoricalCrossentropy',
    }, 3);
    expect(dendrite.losses[2]).toBeLessThan(dendrite.losses[0]);
  }, 120_000);

  it('trains a CNN with same padding, strides, depthwise/separable conv, average pooling and batch norm', async () => {
    const r = rng(5);
    const xs = Float32Array.from({ length: 6 * 12 * 12 * 3 }, () => r());
    const labels = Array.from({ length: 6 }, () => Math.floor(r() * 4));
    await compare({
      build: () => tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'elu' }),
          tf.layers.batchNormalization(),
          tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu' }),
          tf.layers.separableConv2d({ filters: 6, kernelSize: 2, padding: 'valid' }),
          tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' }),
          tf.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }),
          tf.layers.globalMaxPooling2d({}),
          tf.layers.dense({ units: 4, activation: 'softmax' }),
        ],
      }),
      x: () => tf.tensor4d(xs, [6, 12, 12, 3]),
      y: () => tf.oneHot(tf.tensor1d(labels, 'int32'), 4),
      optimizer: () => tf.train.sgd(0.1),
      loss: 'categoricalCrossentropy',
    });
  }, 60_000);

  it('trains an LSTM classifier with the cpu backend\'s losses', async () => {
    // Which of 3 channels has the largest sum over the sequence.
    const r = rng(6);
    const B = 16, T = 8, F = 3;
    const xs = Float32Array.from({ length: B * T * F }, () => r() * 2 - 1);
    const labels = Array.from({ length: B }, (_, b) => {
      const sums = [0, 0, 0];
      for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) sums[f] += xs[(b * T + t) * F + f];
      return sums.indexOf(Math.max(...sums));
    });
    const { dendrite } = await compare({
      build: () => tf.sequential({
        layers: [
          tf.layers.lstm({ inputShape: [T, F], units: 12 }),
          tf.layers.dense({ units: 3, activation: 'softmax' }),
        ],
      }),
      x: () => tf.tensor3d(xs, [B, T, F]),
      y: () => tf.oneHot(tf.tensor1d(labels, 'int32'), 3),
      optimizer: () => tf.train.adam(0.02),
      loss: 'categoricalCrossentropy',
    });
    expect(dendrite.losses[4]).toBeLessThan(dendrite.losses[0]);
  }, 60_000);

  it('ran every kernel of those models natively (no cpu fallback)', () => {
    expect(dtTfjs.fallbackStats()).toEqual({});
  });

  it('frees what it allocates, NCHW twins included: no data ids or native bytes left behind by a CNN', async () => {
    await tf.setBackend('dendrite');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2 }),
      ],
    });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const x = tf.randomNormal([4, 8, 8, 2]), y = tf.randomNormal([4, 2]);
    await model.trainOnBatch(x, y);
    const before = tf.memory().numTensors, idsBefore = tf.engine().backend.numDataIds();
    const bytesBefore = (tf.memory() as unknown as { numBytesInNative: number }).numBytesInNative;
    for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
    tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(idsBefore);
    expect((tf.memory() as unknown as { numBytesInNative: number }).numBytesInNative).toBeLessThanOrEqual(bytesBefore);
    tf.dispose([x, y]);
    model.dispose();
    model.optimizer.dispose();
  });

  it('frees what it allocates: no data ids left behind by a training loop', async () => {
    await tf.setBackend('dendrite');
    const before = tf.memory().numTensors, idsBefore = tf.engine().backend.numDataIds();
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu' }), tf.layers.dense({ units: 1 })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const x = tf.randomNormal([8, 4]), y = tf.randomNormal([8, 1]);
    for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
    tf.dispose([x, y]);
    model.dispose();
    model.optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(idsBefore);
  });
});

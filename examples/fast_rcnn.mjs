// A small Fast R-CNN (Girshick 2015) trained from scratch on synthetic images with coloured
// rectangles: a conv backbone (two conv + max-pool stages, stride 4) -> RoIAlign over anchor proposals -> a shared
// fully-connected layer -> two heads, class scores and box deltas. Training samples anchors by
// IoU with the ground truth (positives >= 0.5, background < 0.3) and minimises cross-entropy +
// smooth L1 on Faster R-CNN's encoded (dx, dy, dw, dh); inference decodes every anchor's deltas,
// clips, runs per-class NMS and reports the mean IoU of the top detection per rectangle.
//
//   node examples/fast_rcnn.mjs
import * as dt from '../dist/index.mjs';

const { nn, ops, F } = dt;
dt.manualSeed(0);

const SIZE = 32, STRIDE = 4, GRID = SIZE / STRIDE;
const CLASSES = ['red', 'green', 'blue']; // label 0 is background
const POOL = 4;
const BOX_WEIGHTS = [10, 10, 5, 5];

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const randint = (lo, hi) => lo + Math.floor(rand() * (hi - lo));

/** An image (3 x 32 x 32, noise) with 1-2 filled rectangles; the channel is the class. */
function makeImage() {
  const pixels = new Float32Array(3 * SIZE * SIZE).map(() => rand() * 0.3);
  const boxes = [], labels = [];
  const count = randint(1, 3);
  while (boxes.length < count) {
    const w = randint(6, 17), h = randint(6, 17);
    const x1 = randint(0, SIZE - w + 1), y1 = randint(0, SIZE - h + 1);
    const box = [x1, y1, x1 + w, y1 + h];
    if (boxes.some((b) => b[0] < box[2] && box[0] < b[2] && b[1] < box[3] && box[1] < b[3])) continue; // no overlaps
    const cls = randint(0, CLASSES.length);
    for (let y = y1; y < y1 + h; y++) for (let x = x1; x < x1 + w; x++) pixels[cls * SIZE * SIZE + y * SIZE + x] = 0.7 + rand() * 0.3;
    boxes.push(box);
    labels.push(cls + 1);
  }
  return { pixels, boxes, labels };
}

function batchOf(images) {
  const data = new Float32Array(images.length * 3 * SIZE * SIZE);
  images.forEach((im, i) => data.set(im.pixels, i * 3 * SIZE * SIZE));
  return dt.tensor(data, { shape: [images.length, 3, SIZE, SIZE] });
}

// 9 anchors per feature-map cell (3 sizes x 3 aspect ratios), as in the course.
const anchorGen = new ops.AnchorGenerator({ sizes: [[6, 10, 16]], aspectRatios: [[0.5, 1, 2]] });
const anchors = dt.keep(anchorGen.forward([SIZE, SIZE], [[GRID, GRID]]));
const anchorData = anchors.dataSync();
const numAnchors = anchors.shape[0];

class FastRCNN extends nn.Module {
  // Backbone: two 3x3 convolutions, each followed by 2x2 max pooling: a stride-4 feature map.
  backbone = new nn.Sequential(
    new nn.Conv2d(3, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  );
  fc = new nn.Linear(32 * POOL * POOL, 128);
  clsHead = new nn.Linear(128, CLASSES.length + 1);
  boxHead = new nn.Linear(128, 4);

  features(images) {
    return this.backbone.forward(images);
  }

  /** rois (K, 5) in image pixels -> [class logits (K, 4), box deltas (K, 4)]. */
  forward(images, rois) {
    const fmap = this.features(images);
    // Pool a context window 1.5x the proposal, so the head sees the rectangle's edges.
    const pooled = F.roiAlign(fmap, enlarge(rois, 1.5), POOL, { spatialScale: 1 / STRIDE, samplingRatio: 2, aligned: true });
    const h = this.fc.forward(pooled.flatten(1)).relu();
    return [this.clsHead.forward(h), this.boxHead.forward(h)];
  }
}

function enlarge(rois, factor) {
  const idx = rois.narrow(1, 0, 1), b = rois.narrow(1, 1, 4);
  const centre = b.narrow(1, 0, 2).add(b.narrow(1, 2, 2)).mul(0.5);
  const half = b.narrow(1, 2, 2).sub(b.narrow(1, 0, 2)).mul(0.5 * factor);
  return dt.cat([idx, centre.sub(half), centre.add(half)], 1);
}

/** Per image: anchors labelled by IoU with the ground truth, a sample of positives and negatives. */
function sampleRois(images, perImage = 32, positiveFraction = 0.25) {
  const rois = [], labels = [], targets = [], positives = [];
  images.forEach((im, i) => {
    const gt = dt.tensor(im.boxes);
    const [best, which] = ops.boxIou(anchors, gt).max(1);
    const iou = best.dataSync(), match = which.dataSync();
    const pos = [], neg = [];
    for (let a = 0; a < numAnchors; a++) (iou[a] >= 0.5 ? pos : iou[a] < 0.3 ? neg : []).push(a);
    const shuffle = (arr) => arr.map((v) => [rand(), v]).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
    const chosenPos = shuffle(pos).slice(0, Math.round(perImage * positiveFraction));
    const chosenNeg = shuffle(neg).slice(0, perImage - chosenPos.length);
    for (const a of [...chosenPos, ...chosenNeg]) {
      const isPos = chosenPos.includes(a);
      rois.push([i, ...anchorData.slice(4 * a, 4 * a + 4)]);
      labels.push(isPos ? im.labels[Number(match[a])] : 0);
      if (isPos) {
        positives.push(rois.length - 1);
        targets.push(im.boxes[Number(match[a])]);
      }
    }
  });
  const roiT = dt.tensor(rois);
  const posIdx = dt.tensor(positives, { dtype: 'int64' });
  const encoded = ops.encodeBoxes(dt.tensor(targets), roiT.narrow(1, 1, 4).indexSelect(0, posIdx), { weights: BOX_WEIGHTS });
  return { rois: roiT, labels: dt.tensor(labels, { dtype: 'int64' }), posIdx, targets: encoded };
}

const model = new FastRCNN();
const params = model.parameters();
const velocity = params.map((p) => dt.keep(dt.zerosLike(p)));

function trainStep(images, lr) {
  return dt.tidy(() => {
    const { rois, labels, posIdx, targets } = sampleRois(images);
    const [logits, deltas] = model.forward(batchOf(images), rois);
    const clsLoss = logits.logSoftmax(1).gather(1, labels.unsqueeze(1)).mean().neg();
    const boxLoss = F.smoothL1Loss(deltas.indexSelect(0, posIdx), targets, { beta: 1 / 9, reduction: 'sum' }).div(rois.shape[0]);
    const loss = clsLoss.add(boxLoss);
    loss.backward();
    // SGD with momentum 0.9, by hand.
    dt.noGrad(() => params.forEach((p, i) => {
      velocity[i].mul_(0.9).add_(p.grad);
      p.sub_(velocity[i].mul(lr));
    }));
    model.zeroGrad();
    return [clsLoss.item(), boxLoss.item()];
  });
}

/** Top detection per rectangle: decode all anchors, clip, per-class NMS, best IoU among the top k. */
function evaluate(images) {
  let iouSum = 0, hits = 0, total = 0, baseline = 0;
  dt.noGrad(() => dt.tidy(() => {
    for (const im of images) {
      const rois = dt.cat([dt.zeros([numAnchors, 1]), anchors], 1);
      const [logits, deltas] = model.forward(batchOf([im]), rois);
      const probs = logits.softmax(1);
      const [score, cls] = probs.narrow(1, 1, CLASSES.length).max(1);
      const boxes = ops.clipBoxes(ops.decodeBoxes(deltas, anchors, { weights: BOX_WEIGHTS }), [SIZE, SIZE]);
      const keep = ops.batchedNms(boxes, score, cls, 0.3).narrow(0, 0, Math.min(im.boxes.length, numAnchors));
      const detBoxes = boxes.indexSelect(0, keep), detCls = cls.indexSelect(0, keep).toArray();
      const iou = ops.boxIou(dt.tensor(im.boxes), detBoxes).toArray();
      const anchorIou = ops.boxIou(dt.tensor(im.boxes), anchors).max(1)[0].toArray();
      im.boxes.forEach((_, g) => {
        const j = iou[g].indexOf(Math.max(...iou[g]));
        iouSum += iou[g][j];
        if (iou[g][j] >= 0.5 && detCls[j] + 1 === im.labels[g]) hits++;
        baseline += anchorIou[g];
        total++;
      });
    }
  }));
  return { meanIou: iouSum / total, recall: hits / total, anchorIou: baseline / total };
}

const testImages = Array.from({ length: 60 }, makeImage);
const start = Date.now();
const before = evaluate(testImages);
console.log(`Fast R-CNN head on ${SIZE}x${SIZE} synthetic images, ${numAnchors} anchors (${anchorGen.numAnchorsPerLocation()[0]} per cell), ${params.reduce((n, p) => n + p.numel(), 0)} parameters`);
console.log(`before training: mean IoU ${before.meanIou.toFixed(3)}, detected ${(100 * before.recall).toFixed(0)}%`);
// DENDRITE_SMOKE=1 (the examples smoke test) runs a few steps only.
const STEPS = process.env.DENDRITE_SMOKE ? 5 : 600, BATCH = 8;
let running = null;
for (let step = 1; step <= STEPS; step++) {
  const lr = step < 450 ? 0.02 : 0.004;
  const [c, b] = trainStep(Array.from({ length: BATCH }, makeImage), lr);
  running = running ? [0.95 * running[0] + 0.05 * c, 0.95 * running[1] + 0.05 * b] : [c, b];
  if (step % 75 === 0 || step === 1)
    console.log(`step ${String(step).padStart(3)}  loss ${(running[0] + running[1]).toFixed(4)}  (cls ${running[0].toFixed(4)}, box ${running[1].toFixed(4)})`);
}
const after = evaluate(testImages);
console.log(`after training: mean IoU ${after.meanIou.toFixed(3)} of the top detection per rectangle (best anchor alone: ${after.anchorIou.toFixed(3)}), ` +
  `detected ${(100 * after.recall).toFixed(0)}% (IoU >= 0.5, right class), ${((Date.now() - start) / 1000).toFixed(1)} s`);

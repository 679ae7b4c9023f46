// A small U-Net (Ronneberger et al. 2015) on a synthetic segmentation task: 32×32 noisy images
// holding a few random circles and rectangles of random brightness; the target mask marks the
// circles only, so the network must tell shapes apart, not just find bright pixels. Two
// down-sampling stages (conv-BN-ReLU ×2, max pool), a bottleneck, and two up-sampling stages
// (transposed conv, concatenation with the encoder's skip features, conv-BN-ReLU ×2), then a
// 1×1 conv to one logit per pixel. Reports pixel accuracy and IoU on held-out images and
// writes a PNG of images, true masks and predicted masks.
//
//   npm run example -- unet [--steps N]
import * as dt from '../dist/index.mjs';
import { device, outPath, smoke } from './_common.mjs';
import { flag } from './_fashion.mjs';

const { nn, F } = dt;
const S = 32, BATCH = 16;
const STEPS = smoke ? 3 : Number(flag('steps', 400));

// A seeded generator for the data, so every run sees the same task.
let seed = 7;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** n images [n, 1, S, S] and masks [n, 1, S, S] (1 inside a circle). */
function makeSet(n) {
  const img = new Float32Array(n * S * S), mask = new Float32Array(n * S * S);
  for (let k = 0; k < n; k++) {
    const o = k * S * S;
    for (let i = 0; i < S * S; i++) img[o + i] = 0.1 * random();
    const shapes = 2 + Math.floor(random() * 3);
    for (let s = 0; s < shapes; s++) {
      const circle = random() < 0.5, v = 0.5 + 0.5 * random();
      const cy = 4 + random() * (S - 8), cx = 4 + random() * (S - 8);
      const r = 3 + random() * 5, h = 3 + random() * 6, w = 3 + random() * 6;
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++) {
          const inside = circle ? (y - cy) ** 2 + (x - cx) ** 2 <= r * r : Math.abs(y - cy) <= h && Math.abs(x - cx) <= w;
          if (!inside) continue;
          img[o + y * S + x] = v;
          mask[o + y * S + x] = circle ? 1 : 0; // a rectangle drawn later covers a circle
        }
    }
  }
  return [dt.tensor(img, { shape: [n, 1, S, S] }), dt.tensor(mask, { shape: [n, 1, S, S] })];
}

const block = (inC, outC) => new nn.Sequential(
  new nn.Conv2d(inC, outC, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(outC), new nn.ReLU(),
  new nn.Conv2d(outC, outC, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(outC), new nn.ReLU(),
);

class UNet extends nn.Module {
  enc1 = block(1, 16);
  enc2 = block(16, 32);
  bottleneck = block(32, 64);
  up2 = new nn.ConvTranspose2d(64, 32, 2, { stride: 2 });
  dec2 = block(64, 32);
  up1 = new nn.ConvTranspose2d(32, 16, 2, { stride: 2 });
  dec1 = block(32, 16);
  head = new nn.Conv2d(16, 1, 1);
  forward(x) {
    const e1 = this.enc1.forward(x); // 16 × 32 × 32
    const e2 = this.enc2.forward(F.maxPool2d(e1, 2)); // 32 × 16 × 16
    const b = this.bottleneck.forward(F.maxPool2d(e2, 2)); // 64 × 8 × 8
    const d2 = this.dec2.forward(dt.cat([this.up2.forward(b), e2], 1)); // skip: 32 + 32 channels
    const d1 = this.dec1.forward(dt.cat([this.up1.forward(d2), e1], 1)); // skip: 16 + 16 channels
    return this.head.forward(d1);
  }
}

/** Pixel accuracy and IoU of the circle masks. */
function scores(logits, mask) {
  return dt.tidy(() => {
    const pred = logits.gt(0).float();
    const inter = pred.mul(mask).sum().item();
    const union = pred.add(mask).gt(0).float().sum().item();
    return { accuracy: pred.eq(mask).float().mean().item(), iou: union > 0 ? inter / union : 1 };
  });
}

dt.manualSeed(0);
/** Tensors moved to the training device (the CPU originals freed). */
const onDevice = (ts) => ts.map((t) => {
  const d = t.to(device);
  if (d !== t) t.dispose();
  return d;
});
const [testX, testY] = onDevice(makeSet(smoke ? 16 : 128));
const model = new UNet();
const s = dt.summary(model, [1, 1, S, S]);
console.log(`U-Net: ${s.totalParams.toLocaleString('en-US')} parameters, ${(s.macs / 1e6).toFixed(1)} M MACs per ${S}×${S} image${device === 'cpu' ? '' : `, on ${device}`}`);
model.to(device);
const optimizer = new dt.optim.Adam(model.parameters(), { lr: 2e-3 });

const evaluate = () => {
  model.eval();
  const r = dt.noGrad(() => dt.tidy(() => scores(model.forward(testX), testY)));
  model.train();
  return r;
};
const before = evaluate();
console.log(`before training: pixel accuracy ${(before.accuracy * 100).toFixed(1)}%, IoU ${before.iou.toFixed(3)}`);
const started = performance.now();
let lossSum = 0, n = 0;
for (let step = 1; step <= STEPS; step++) {
  const [x, y] = onDevice(makeSet(BATCH));
  dt.tidy(() => {
    optimizer.zeroGrad();
    const loss = F.binaryCrossEntropyWithLogits(model.forward(x), y);
    loss.backward();
    optimizer.step();
    lossSum += loss.item(); n++;
  });
  x.dispose(); y.dispose();
  if (step % 100 === 0 || step === STEPS) {
    const r = evaluate();
    console.log(`step ${String(step).padStart(4)}  loss ${(lossSum / n).toFixed(4)}  test pixel accuracy ${(r.accuracy * 100).toFixed(1)}%  IoU ${r.iou.toFixed(3)}`);
    lossSum = n = 0;
  }
}
const after = evaluate();
console.log(`trained ${STEPS} steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`learned: circle masks at ${(after.accuracy * 100).toFixed(1)}% pixel accuracy, IoU ${after.iou.toFixed(3)} on ${testX.shape[0]} held-out images`);

model.eval();
const show = testX.narrow(0, 0, 8);
const pred = dt.noGrad(() => model.forward(show).sigmoid());
const file = outPath('unet_masks.png');
await dt.utils.saveImageGrid(dt.cat([show, testY.narrow(0, 0, 8), pred], 0).cpu(), file, { nrow: 8 });
console.log(`wrote ${file} (rows: images, true circle masks, predicted masks)`);

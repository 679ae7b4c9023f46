// What the examples share: smoke mode (DENDRITE_SMOKE=1 shrinks every run to a few steps, for
// CI), the output directory, and the optimizer and losses they train with.
//
// The optimizers (dt.optim) and losses (dt.nn.functional) come from their own part of dendrite;
// until a build has them, the small stand-ins below (plain SGD with momentum, the textbook
// losses written with tensor ops) keep the examples running.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as dt from '../dist/index.mjs';

export const smoke = process.env.DENDRITE_SMOKE === '1';

/**
 * Where the examples train: `--device cuda` (or DENDRITE_DEVICE=cuda) puts the model on the GPU;
 * dt.fit then moves each batch to the model's device. Default 'cpu'.
 */
export const device = (() => {
  const i = process.argv.indexOf('--device');
  return i >= 0 ? process.argv[i + 1] : process.env.DENDRITE_DEVICE ?? 'cpu';
})();

/** examples/output/ (or $DENDRITE_OUT), created on first use. */
export function outPath(name) {
  const dir = process.env.DENDRITE_OUT ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'output');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

class StandInSGD {
  constructor(params, { lr, momentum = 0 }) {
    this.params = params;
    this.paramGroups = [{ lr, momentum }];
    this.velocity = params.map(() => null);
  }
  zeroGrad() {
    for (const p of this.params) if (p.grad) { p.grad.dispose(); p.grad = null; }
  }
  step() {
    const { lr, momentum } = this.paramGroups[0];
    dt.noGrad(() => this.params.forEach((p, i) => {
      if (!p.grad) return;
      let d = p.grad;
      if (momentum > 0) {
        if (this.velocity[i] === null) this.velocity[i] = dt.keep(p.grad.clone());
        else this.velocity[i].mul_(momentum).add_(p.grad);
        d = this.velocity[i];
      }
      p.sub_(d.mul(lr));
    }));
  }
}

/** dt.optim.SGD when this build has it, else the stand-in. */
export function sgd(params, options) {
  return dt.optim?.SGD ? new dt.optim.SGD(params, options) : new StandInSGD(params, options);
}

const F = dt.nn.functional;
export const mseLoss = F.mseLoss ?? ((pred, target) => pred.sub(target).square().mean());
export const crossEntropy = F.crossEntropy ?? ((logits, target) => logits.logSoftmax(1).gather(1, target.reshape([-1, 1])).mean().neg());
/** max(x, 0) - x*y + log(1 + exp(-|x|)): the numerically stable form. */
export const bceWithLogits = F.binaryCrossEntropyWithLogits ??
  ((logits, target) => logits.relu().sub(logits.mul(target)).add(logits.abs().neg().exp().log1p()).mean());

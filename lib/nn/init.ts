// nn.init: in-place initialisers with PyTorch's formulas (fan computation, gains).
import { fail, fmtShape } from '../errors';
import { Tensor } from '../tensor';
import { noGrad } from '../autograd/node';
import { fillRandom } from '../ops/creation';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** torch.nn.init.calculate_gain. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu': return 3 / 4;
  }
  return fail('ERR_ARGUMENT', 'calculateGain', 'a known nonlinearity', String(nonlinearity));
}

/** (fanIn, fanOut) of a weight: dims 1 and 0 times the receptive field (dims 2...). */
export function calculateFans(t: Tensor): [number, number] {
  if (t.ndim < 2) fail('ERR_SHAPE', 'init', 'a tensor with at least 2 dims for fan computation', fmtShape(t.shape));
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

function inPlace(t: Tensor, fn: () => void): Tensor {
  noGrad(fn);
  return t;
}

export const uniform_ = (t: Tensor, a = 0, b = 1): Tensor => inPlace(t, () => fillRandom(t, 'uniform', a, b));
export const normal_ = (t: Tensor, mean = 0, std = 1): Tensor => inPlace(t, () => fillRandom(t, 'normal', mean, std));
export const constant_ = (t: Tensor, value: number): Tensor => inPlace(t, () => t.fill_(value));
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFans(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a);
}

export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

export interface KaimingOptions {
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const [fanIn, fanOut] = calculateFans(t);
  const fan = (o.mode ?? 'fanIn') === 'fanIn' ? fanIn : fanOut;
  return calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan);
}

export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform_(t, -bound, bound);
}

export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, options));
}

/** A (semi-)orthogonal matrix via Gram-Schmidt on a normal draw (rows or columns orthonormal). */
export function orthogonal_(t: Tensor, gain = 1): Tensor {
  if (t.ndim < 2) fail('ERR_SHAPE', 'orthogonal_', 'at least 2 dims', fmtShape(t.shape));
  const rows = t.shape[0], cols = t.numel() / rows;
  const n = Math.max(rows, cols), k = Math.min(rows, cols);
  const g = noGrad(() => fillRandom(Tensor.empty([k, n], 'float64'), 'normal', 0, 1));
  const a = Array.from(g.dataSync() as Float64Array);
  g.dispose();
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < i; j++) {
      let dot = 0;
      for (let c = 0; c < n; c++) dot += a[i * n + c] * a[j * n + c];
      for (let c = 0; c < n; c++) a[i * n + c] -= dot * a[j * n + c];
    }
    let norm = 0;
    for (let c = 0; c < n; c++) norm += a[i * n + c] ** 2;
    norm = Math.sqrt(norm);
    for (let c = 0; c < n; c++) a[i * n + c] = (a[i * n + c] / norm) * gain;
  }
  // k orthonormal vectors of length n: rows of t when rows <= cols, else its columns.
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[r * cols + c] = rows <= cols ? a[r * n + c] : a[c * n + r];
  const src = new Tensor(Tensor.empty([rows * cols], 'float64').storage, [rows * cols], [1], 0, 'float64');
  new Float64Array(src.storage.hostBuffer, 0, out.length).set(out);
  noGrad(() => t.copy_(src.reshape(t.shape)));
  src.dispose();
  return t;
}

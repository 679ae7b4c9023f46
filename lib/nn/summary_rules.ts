// dt.summary's arithmetic for the layer families (registration in one place): MACs of one
// call and how outputs map to input positions (for the receptive-field column). Pooling,
// normalisation, dropout and embedding lookups count no multiply-accumulates.
import { Tensor } from '../tensor';
import { registerSummaryRule } from '../train/summary';
import type { Module } from './module';

const tensorOf = (v: unknown): Tensor | null => (v instanceof Tensor ? v : Array.isArray(v) && v[0] instanceof Tensor ? v[0] : null);
const numel = (v: unknown): number => tensorOf(v)?.numel() ?? 0;
const pair = (v: unknown, dflt: number): [number, number] =>
  Array.isArray(v) ? [v[0], v[1]] : typeof v === 'number' ? [v, v] : [dflt, dflt];
const m = (x: Module): any => x;

registerSummaryRule('Conv2d', {
  // Each output element is a dot product over (inChannels / groups) x kH x kW inputs.
  macs: (c, _in, out) => numel(out) * (m(c).inChannels / m(c).groups) * m(c).kernelSize[0] * m(c).kernelSize[1],
  receptiveField: (c) => ({ kernel: m(c).kernelSize, stride: m(c).stride, dilation: m(c).dilation }),
});

registerSummaryRule('ConvTranspose2d', {
  // The adjoint: each input element is scattered over (outChannels / groups) x kH x kW outputs.
  macs: (c, inputs) => numel(inputs[0]) * (m(c).outChannels / m(c).groups) * m(c).kernelSize[0] * m(c).kernelSize[1],
  // An output sees ceil(k / s) input positions per dim, and neighbouring outputs are 1/s of an
  // input step apart.
  receptiveField: (c) => ({
    kernel: m(c).kernelSize.map((k: number, d: number) => Math.ceil(((k - 1) * m(c).dilation[d] + 1) / m(c).stride[d])),
    stride: m(c).stride.map((s: number) => 1 / s),
  }),
});

for (const name of ['MaxPool2d', 'AvgPool2d'])
  registerSummaryRule(name, {
    macs: () => 0,
    receptiveField: (p) => {
      const k = pair(m(p).kernelSize, 1);
      return { kernel: k, stride: pair(m(p).options.stride ?? k, 1), dilation: pair(m(p).options.dilation, 1) };
    },
  });

for (const name of ['AdaptiveAvgPool2d', 'AdaptiveMaxPool2d'])
  registerSummaryRule(name, {
    macs: () => 0,
    receptiveField: (p, inputs) => {
      const x = tensorOf(inputs[0]);
      if (!x || x.ndim < 3) return null;
      const inHW = x.shape.slice(-2);
      const outHW = pair(m(p).outputSize, 1).map((o, d) => (o === null ? inHW[d] : o));
      if (outHW[0] === 1 && outHW[1] === 1) return 'global';
      // Adaptive bins are at most ceil(in / out) wide and start floor(in / out) apart.
      return { kernel: inHW.map((n, d) => Math.ceil(n / outHW[d])), stride: inHW.map((n, d) => Math.floor(n / outHW[d])) };
    },
  });

for (const name of ['BatchNorm1d', 'BatchNorm2d'])
  // Folded into one scale and shift per channel: one multiply-add per element.
  registerSummaryRule(name, { macs: (_b, _in, out) => numel(out) });

for (const name of ['Dropout', 'Upsample', 'Embedding']) registerSummaryRule(name, { macs: () => 0 });

// Recurrent layers: per time step and batch row, each (layer, direction) multiplies the input
// (inSize) and the hidden state (H) by G*H gate weights.
const GATES: Record<string, number> = { LSTM: 4, GRU: 3, RNN: 1, LSTMCell: 4, GRUCell: 3, RNNCell: 1 };
for (const name of ['LSTM', 'GRU', 'RNN'])
  registerSummaryRule(name, {
    macs: (r, inputs) => {
      const x = tensorOf(inputs[0]);
      if (!x) return 0;
      const rr = m(r);
      const steps = x.ndim === 3 ? x.shape[0] * x.shape[1] : x.shape[0]; // T x N, or T unbatched
      const D = rr.bidirectional ? 2 : 1, H = rr.hiddenSize, G = GATES[name];
      let macs = 0;
      for (let l = 0; l < rr.numLayers; l++) macs += D * steps * G * H * ((l === 0 ? rr.inputSize : H * D) + H);
      return macs;
    },
  });
for (const name of ['LSTMCell', 'GRUCell', 'RNNCell'])
  registerSummaryRule(name, {
    macs: (r, inputs) => {
      const x = tensorOf(inputs[0]);
      const rows = x && x.ndim === 2 ? x.shape[0] : 1;
      return rows * GATES[name] * m(r).hiddenSize * (m(r).inputSize + m(r).hiddenSize);
    },
  });

// Recurrent layers: LSTM, GRU and the tanh/relu RNN over whole sequences (stacked, bidirectional,
// variable lengths), and their one-step cells. Each (layer, direction) is one native call and one
// autograd Node whose backward is the native backward through time (native/cpu/rnn/rnn.h).
//
// A sequence op has three outputs (y, h_n, c_n) but a Node belongs to one tensor. The Node sits
// on y; h_n and c_n get a small Node of their own that parks their gradient where y's backward
// will find it, and hands y a stride-0 zero marker so y's Node is always scheduled after them.
// The marker costs no memory; y's backward recognises it and treats dy as absent.
//
// Devices: everything an op allocates (outputs, saved buffers, gradients, markers, the lengths
// tensor) lives on the input's device, so a module moved with .to('cuda') runs the CUDA kernels
// (native/cuda/rnn, float32) end to end; the native call refuses operands on mixed devices.
import type { StorageHandle } from '../storage';
import type { Device } from '../storage';
import { describe, fail, fmtShape } from '../errors';
import { isFloat, type DType } from '../dtype';
import { Tensor, contiguousCopy, transferRaw } from '../tensor';
import { isGradEnabled, record } from '../autograd/node';
import { beginLayouts, native } from '../native';
import { tensor } from './creation';
import { dropout } from './norm';
import { checkTensor, zerosRaw } from './helpers';
import { contiguous } from './shape';
import { cat, stack } from './join';

type Buffer = StorageHandle | null;
interface RnnAddon {
  rnnForward(mode: number, reverse: boolean, ...operands: Buffer[]): void;
  rnnBackward(mode: number, reverse: boolean, ...operands: Buffer[]): void;
}
const rnnNative = native as unknown as RnnAddon;

export type RnnMode = 'lstm' | 'gru' | 'rnnTanh' | 'rnnRelu';
// Codes and sizes as native/cpu/rnn/rnn.h: gates per step in the weights, floats saved per unit.
const MODE_CODE: Record<RnnMode, number> = { lstm: 0, gru: 1, rnnTanh: 2, rnnRelu: 3 };
const GATES: Record<RnnMode, number> = { lstm: 4, gru: 3, rnnTanh: 1, rnnRelu: 1 };
const SAVED: Record<RnnMode, number> = { lstm: 4, gru: 4, rnnTanh: 1, rnnRelu: 1 };
const OP_NAME: Record<RnnMode, string> = { lstm: 'lstm', gru: 'gru', rnnTanh: 'rnn', rnnRelu: 'rnn' };

export const gateCount = (mode: RnnMode): number => GATES[mode];

/** The weights of one (layer, direction), PyTorch's layout: rows in gate order (i,f,g,o / r,z,n). */
export interface RnnLayerWeights {
  wIh: Tensor;
  wHh: Tensor;
  bIh: Tensor | null;
  bHh: Tensor | null;
}

function runNative(fn: 'rnnForward' | 'rnnBackward', mode: RnnMode, reverse: boolean, operands: (Tensor | null)[]): void {
  beginLayouts();
  for (const t of operands) if (t) t.putLayout();
  rnnNative[fn](MODE_CODE[mode], reverse, ...operands.map((t) => (t ? t.storage.buffer : null)));
}

// Gradient markers: stride-0 views of one zero, standing for "no gradient for y".
const markers = new WeakSet<Tensor>();
function zeroMarker(like: Tensor): Tensor {
  const z = zerosRaw([], like.dtype, like.device);
  const m = Tensor.view(z, like.shape.slice(), like.shape.map(() => 0), 0);
  z.dispose();
  markers.add(m);
  return m;
}

/** A (T, N, F) view the kernel reads as one matrix: unit inner stride, steps as consecutive row blocks. */
function timeMajorReadable(x: Tensor): boolean {
  const [T, N, F] = x.shape;
  const [st, sn, sf] = x.strides;
  if (F > 1 && sf !== 1) return false;
  if (N > 1 && sn < F) return false;
  if (T > 1 && N > 1 && st !== N * sn) return false;
  if (T > 1 && N === 1 && st < F) return false;
  return true;
}

const seqReadable = (g: Tensor): boolean => g.shape[2] <= 1 || g.strides[2] === 1;

/**
 * One (layer, direction) over a time-major sequence x (T, N, I): returns y (T, N, H), h_n and
 * c_n (N, H; c_n null unless LSTM). h0/c0 (N, H) may be null (zeros); lengths (N) int32/int64
 * or null. Differentiable w.r.t. x, h0, c0 and every weight.
 */
export function rnnSequence(
  mode: RnnMode, reverse: boolean, x: Tensor, w: RnnLayerWeights, h0: Tensor | null, c0: Tensor | null, lengths: Tensor | null,
): [Tensor, Tensor, Tensor | null] {
  const op = OP_NAME[mode];
  const lstm = mode === 'lstm';
  const H = w.wHh.shape[1];
  const [T, N] = x.shape;
  const S = SAVED[mode];
  if (!timeMajorReadable(x)) x = contiguous(x);
  if (h0 && !h0.isContiguous()) h0 = contiguous(h0);
  if (c0 && !c0.isContiguous()) c0 = contiguous(c0);
  const dtype = x.dtype;
  const device = x.device;
  const y = Tensor.empty([T, N, H], dtype, device);
  const hN = Tensor.empty([N, H], dtype, device);
  const cN = lstm ? Tensor.empty([N, H], dtype, device) : null;
  const inputs: Tensor[] = [x, w.wIh, w.wHh];
  if (w.bIh && w.bHh) inputs.push(w.bIh, w.bHh);
  if (h0) inputs.push(h0);
  if (lstm && c0) inputs.push(c0);
  const tracked = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  // What backward needs; without a backward the kernel keeps it in its own reused scratch.
  const savedGates = tracked ? Tensor.empty([T * N * S * H], dtype, device) : null;
  const savedH = tracked ? Tensor.empty([(T + 1) * N * H], dtype, device) : null;
  const savedC = tracked && lstm ? Tensor.empty([(T + 1) * N * H], dtype, device) : null;
  try {
    runNative('rnnForward', mode, reverse, [x, w.wIh, w.wHh, w.bIh, w.bHh, h0, lstm ? c0 : null, lengths, y, hN, cN, savedGates, savedH, savedC]);
  } catch (e) {
    for (const t of [y, hN, cN, savedGates, savedH, savedC]) t?.dispose();
    throw e;
  }
  if (!savedGates || !savedH) return [y, hN, cN];

  // Gradients of h_n and c_n, parked by their Nodes for y's backward.
  const parked: { dh: Tensor | null; dc: Tensor | null } = { dh: null, dc: null };
  record(y, `${op} (backward through time)`, inputs, (g) => {
    let dy: Tensor | null = markers.has(g) ? null : g;
    const temps: Tensor[] = [];
    if (dy && !seqReadable(dy)) temps.push((dy = contiguousCopy(dy)));
    const { dh, dc } = parked;
    parked.dh = parked.dc = null;
    if (dh) temps.push(dh);
    if (dc) temps.push(dc);
    const want = (t: Tensor | null) => t !== null && t.requiresGrad;
    const dx = want(x) ? Tensor.empty([T, N, x.shape[2]], dtype, device) : null;
    const dwIh = want(w.wIh) ? Tensor.empty(w.wIh.shape.slice(), dtype, device) : null;
    const dwHh = want(w.wHh) ? Tensor.empty(w.wHh.shape.slice(), dtype, device) : null;
    const dbIh = want(w.bIh) ? Tensor.empty(w.bIh!.shape.slice(), dtype, device) : null;
    const dbHh = want(w.bHh) ? Tensor.empty(w.bHh!.shape.slice(), dtype, device) : null;
    const dh0 = want(h0) ? Tensor.empty([N, H], dtype, device) : null;
    const dc0 = lstm && want(c0) ? Tensor.empty([N, H], dtype, device) : null;
    try {
      runNative('rnnBackward', mode, reverse, [
        x, w.wIh, w.wHh, lengths, savedGates, savedH, savedC, dy, dh, lstm ? dc : null, dx, dh0, dc0, dwIh, dwHh, dbIh, dbHh,
      ]);
    } finally {
      for (const t of temps) t.dispose();
    }
    const grads: (Tensor | null)[] = [dx, dwIh, dwHh];
    if (w.bIh && w.bHh) grads.push(dbIh, dbHh);
    if (h0) grads.push(dh0);
    if (lstm && c0) grads.push(dc0);
    return grads;
  });
  const park = (slot: 'dh' | 'dc') => (g: Tensor): (Tensor | null)[] => {
    const own = contiguousCopy(g);
    if (parked[slot]) {
      parked[slot]!.add_(own);
      own.dispose();
    } else parked[slot] = own;
    return [zeroMarker(y)];
  };
  record(hN, `${op} h_n`, [y], park('dh'));
  if (cN) record(cN, `${op} c_n`, [y], park('dc'));
  return [y, hN, cN];
}

// ---- stacked, bidirectional sequences ----------------------------------------------------

export interface RnnOptions {
  /** Stacked layers (default: as many as `params` holds). */
  numLayers?: number;
  /** Whether `params` holds biases (default true). */
  bias?: boolean;
  /** Input and output are (N, T, F) instead of (T, N, F). */
  batchFirst?: boolean;
  bidirectional?: boolean;
  /** Dropout on the outputs of every layer but the last (only when training). */
  dropout?: number;
  /** Default true (F.dropout's default); modules pass their own `training`. */
  training?: boolean;
  /** Valid steps per batch row: padded steps neither update the state nor reach the output (zeros). */
  lengths?: number[] | Tensor | null;
}

/** The lengths as a tensor on `device` (the kernels read them there; the native call checks the values). */
function lengthsTensor(lengths: number[] | Tensor | null | undefined, N: number, T: number, op: string, device: Device): Tensor | null {
  if (lengths === undefined || lengths === null) return null;
  if (lengths instanceof Tensor) {
    lengths.assertLive(op);
    if (lengths.dtype !== 'int32' && lengths.dtype !== 'int64') fail('ERR_DTYPE', op, 'int32 or int64 lengths', lengths.dtype);
    if (lengths.ndim !== 1 || lengths.shape[0] !== N) fail('ERR_SHAPE', op, `lengths of shape [${N}]`, fmtShape(lengths.shape));
    // PyTorch keeps packed-sequence lengths on the CPU: accept them there (or anywhere) and copy.
    return lengths.device === device ? lengths : transferRaw(lengths, device);
  }
  if (!Array.isArray(lengths) || lengths.length !== N) fail('ERR_SHAPE', op, `${N} lengths (one per batch row)`, describe(lengths));
  for (const v of lengths)
    if (!Number.isInteger(v) || v < 0 || v > T) fail('ERR_INDEX', op, `integer lengths in [0, ${T}]`, String(v));
  return tensor(Int32Array.from(lengths), { device });
}

function checkParams(mode: RnnMode, params: Tensor[], numLayers: number, D: number, bias: boolean, inputSize: number, dtype: DType, op: string, cell = false): number {
  const per = bias ? 4 : 2;
  if (!Array.isArray(params) || params.length !== numLayers * D * per)
    fail('ERR_ARGUMENT', op, `${numLayers * D * per} parameter tensors (w_ih, w_hh${bias ? ', b_ih, b_hh' : ''} per layer and direction)`, describe(params));
  params.forEach((p, i) => checkTensor(p, op, `parameter ${i}`));
  const G = GATES[mode];
  const wHh0 = params[1];
  if (wHh0.ndim !== 2 || wHh0.shape[0] !== G * wHh0.shape[1]) fail('ERR_SHAPE', op, `weight_hh of shape [${G}·hidden, hidden]`, fmtShape(wHh0.shape));
  const H = wHh0.shape[1];
  for (let l = 0; l < numLayers; l++)
    for (let d = 0; d < D; d++) {
      const k = (l * D + d) * per;
      const inSize = l === 0 ? inputSize : H * D;
      const expect: [Tensor, number[], string][] = [[params[k], [G * H, inSize], 'weight_ih'], [params[k + 1], [G * H, H], 'weight_hh']];
      if (bias) expect.push([params[k + 2], [G * H], 'bias_ih'], [params[k + 3], [G * H], 'bias_hh']);
      for (const [t, shape, name] of expect) {
        const full = cell ? name : `${name}_l${l}${d ? '_reverse' : ''}`;
        if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))
          fail('ERR_SHAPE', op, `${full} of shape ${fmtShape(shape)}`, fmtShape(t.shape));
        if (t.dtype !== dtype) fail('ERR_DTYPE', op, `parameters of the input's dtype ${dtype}`, `${t.dtype} for ${full}`);
      }
    }
  return H;
}

function checkState(h: Tensor | null | undefined, shape: number[], dtype: DType, op: string, what: string): Tensor | null {
  if (h === undefined || h === null) return null;
  checkTensor(h, op, what);
  if (h.shape.length !== shape.length || h.shape.some((s, i) => s !== shape[i])) fail('ERR_SHAPE', op, `${what} of shape ${fmtShape(shape)}`, fmtShape(h.shape));
  if (h.dtype !== dtype) fail('ERR_DTYPE', op, `${what} of dtype ${dtype}`, h.dtype);
  return h;
}

/** The stacked recurrence shared by F.lstm, F.gru and F.rnn: [output, h_n, c_n]. */
function runStack(mode: RnnMode, input: Tensor, h0In: Tensor | null | undefined, c0In: Tensor | null | undefined, params: Tensor[], options: RnnOptions): [Tensor, Tensor, Tensor | null] {
  const op = OP_NAME[mode];
  checkTensor(input, op);
  if (!isFloat(input.dtype)) fail('ERR_DTYPE', op, 'a float32 or float64 input', input.dtype);
  if (input.ndim !== 2 && input.ndim !== 3)
    fail('ERR_SHAPE', op, `an input of shape ${options.batchFirst ? '[N, T, inputSize]' : '[T, N, inputSize]'} (or unbatched [T, inputSize])`, fmtShape(input.shape));
  const batched = input.ndim === 3;
  const batchFirst = batched && options.batchFirst === true;
  const D = options.bidirectional ? 2 : 1;
  const bias = options.bias ?? true;
  const per = bias ? 4 : 2;
  if (!Array.isArray(params)) fail('ERR_ARGUMENT', op, 'an array of parameter tensors', describe(params));
  if (options.numLayers === undefined && (params.length === 0 || params.length % (D * per) !== 0))
    fail('ERR_ARGUMENT', op, `parameter tensors in groups of ${D * per} (w_ih, w_hh${bias ? ', b_ih, b_hh' : ''} per layer and direction)`, `${params.length}`);
  const numLayers = options.numLayers ?? params.length / (D * per);
  if (!Number.isInteger(numLayers) || numLayers < 1) fail('ERR_ARGUMENT', op, 'a positive integer numLayers', String(numLayers));
  const p = options.dropout ?? 0;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('ERR_ARGUMENT', op, 'a dropout probability in [0, 1]', describe(p));
  const training = options.training ?? true;

  let x = batched ? (batchFirst ? input.transpose(0, 1) : input) : input.unsqueeze(1);
  const [T, N, I] = x.shape;
  const H = checkParams(mode, params, numLayers, D, bias, I, input.dtype, op);
  const stateShape = batched ? [numLayers * D, N, H] : [numLayers * D, H];
  let h0 = checkState(h0In, stateShape, input.dtype, op, mode === 'lstm' ? 'h0' : 'hx');
  let c0 = mode === 'lstm' ? checkState(c0In, stateShape, input.dtype, op, 'c0') : null;
  if (!batched) {
    if (h0) h0 = h0.unsqueeze(1);
    if (c0) c0 = c0.unsqueeze(1);
  }
  const lengths = lengthsTensor(options.lengths, N, T, op, input.device);
  const ownLengths = lengths !== null && lengths !== options.lengths;

  const hs: Tensor[] = [], cs: Tensor[] = [];
  try {
    for (let l = 0; l < numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const k = (l * D + d) * per;
        const w: RnnLayerWeights = { wIh: params[k], wHh: params[k + 1], bIh: bias ? params[k + 2] : null, bHh: bias ? params[k + 3] : null };
        const idx = l * D + d;
        const [y, hN, cN] = rnnSequence(mode, d === 1, x, w, h0 ? h0.select(0, idx) : null, c0 ? c0.select(0, idx) : null, lengths);
        outs.push(y);
        hs.push(hN);
        if (cN) cs.push(cN);
      }
      x = D === 1 ? outs[0] : cat(outs, 2);
      if (l < numLayers - 1 && training && p > 0) x = dropout(x, p);
    }
  } finally {
    // The backward of each layer reads the lengths; when no layer recorded one they can go now
    // (a recorded layer makes every later input, so the last output, require grad).
    if (ownLengths && (!isGradEnabled() || !x.requiresGrad)) lengths!.dispose();
  }
  let output = x;
  if (batchFirst) output = contiguous(output.transpose(0, 1));
  else if (!batched) output = output.squeeze(1);
  let hOut = stack(hs, 0), cOut = cs.length > 0 ? stack(cs, 0) : null;
  if (!batched) {
    hOut = hOut.squeeze(1);
    if (cOut) cOut = cOut.squeeze(1);
  }
  return [output, hOut, cOut];
}

export type LstmState = [Tensor, Tensor];

/**
 * F.lstm(input, [h0, c0] | null, params, options): PyTorch's multi-layer LSTM. `params` is the
 * flat list w_ih, w_hh, b_ih, b_hh per layer and direction (module.flatWeights), `input`
 * (T, N, I) or (N, T, I) with batchFirst, or unbatched (T, I). Returns [output, [h_n, c_n]].
 */
export function lstm(input: Tensor, hx: LstmState | null | undefined, params: Tensor[], options: RnnOptions = {}): [Tensor, LstmState] {
  if (hx !== null && hx !== undefined && (!Array.isArray(hx) || hx.length !== 2))
    fail('ERR_ARGUMENT', 'lstm', 'hx as [h0, c0] or null', describe(hx));
  if (hx && ((hx[0] === null) !== (hx[1] === null))) fail('ERR_ARGUMENT', 'lstm', 'both h0 and c0 or neither', 'one');
  const [out, h, c] = runStack('lstm', input, hx?.[0], hx?.[1], params, options);
  return [out, [h, c!]];
}

/** F.gru(input, h0 | null, params, options): PyTorch's multi-layer GRU. Returns [output, h_n]. */
export function gru(input: Tensor, hx: Tensor | null | undefined, params: Tensor[], options: RnnOptions = {}): [Tensor, Tensor] {
  const [out, h] = runStack('gru', input, hx, null, params, options);
  return [out, h];
}

export interface ElmanOptions extends RnnOptions {
  nonlinearity?: 'tanh' | 'relu';
}

function elmanMode(nonlinearity: unknown, op: string): RnnMode {
  if (nonlinearity === undefined || nonlinearity === 'tanh') return 'rnnTanh';
  if (nonlinearity === 'relu') return 'rnnRelu';
  return fail('ERR_ARGUMENT', op, "nonlinearity 'tanh' or 'relu'", describe(nonlinearity));
}

/** F.rnn(input, h0 | null, params, { nonlinearity: 'tanh' | 'relu', ... }): the Elman RNN. Returns [output, h_n]. */
export function rnn(input: Tensor, hx: Tensor | null | undefined, params: Tensor[], options: ElmanOptions = {}): [Tensor, Tensor] {
  const [out, h] = runStack(elmanMode(options.nonlinearity, 'rnn'), input, hx, null, params, options);
  return [out, h];
}

// ---- cells: one step, the same fused kernels with T = 1 ----------------------------------

function runCell(mode: RnnMode, op: string, input: Tensor, h: Tensor | null | undefined, c: Tensor | null | undefined, wIh: Tensor, wHh: Tensor, bIh?: Tensor | null, bHh?: Tensor | null): [Tensor, Tensor | null] {
  checkTensor(input, op);
  checkTensor(wIh, op, 'weight_ih');
  checkTensor(wHh, op, 'weight_hh');
  if (!isFloat(input.dtype)) fail('ERR_DTYPE', op, 'a float32 or float64 input', input.dtype);
  if (input.ndim !== 1 && input.ndim !== 2) fail('ERR_SHAPE', op, 'an input of shape [N, inputSize] or [inputSize]', fmtShape(input.shape));
  const batched = input.ndim === 2;
  const x = batched ? input.unsqueeze(0) : input.reshape([1, 1, input.shape[0]]);
  const N = x.shape[1], I = x.shape[2];
  const bias = bIh !== undefined && bIh !== null;
  if (bias !== (bHh !== undefined && bHh !== null)) fail('ERR_ARGUMENT', op, 'both biases or neither', 'one');
  const params = bias ? [wIh, wHh, bIh!, bHh!] : [wIh, wHh];
  const H = checkParams(mode, params, 1, 1, bias, I, input.dtype, op, true);
  const shape = batched ? [N, H] : [H];
  let h0 = checkState(h, shape, input.dtype, op, 'hx');
  let c0 = mode === 'lstm' ? checkState(c, shape, input.dtype, op, 'cx') : null;
  if (!batched) {
    if (h0) h0 = h0.reshape([1, H]);
    if (c0) c0 = c0.reshape([1, H]);
  }
  const [y, , cN] = rnnSequence(mode, false, x, { wIh, wHh, bIh: bias ? bIh! : null, bHh: bias ? bHh! : null }, h0, c0, null);
  const hOut = y.reshape(shape);
  return [hOut, cN ? cN.reshape(shape) : null];
}

/** F.lstmCell(input, [hx, cx] | null, wIh, wHh, bIh?, bHh?): one LSTM step, returns [h, c]. */
export function lstmCell(input: Tensor, hx: LstmState | null | undefined, wIh: Tensor, wHh: Tensor, bIh?: Tensor | null, bHh?: Tensor | null): LstmState {
  if (hx !== null && hx !== undefined && (!Array.isArray(hx) || hx.length !== 2))
    fail('ERR_ARGUMENT', 'lstmCell', 'hx as [h, c] or null', describe(hx));
  const [h, c] = runCell('lstm', 'lstmCell', input, hx?.[0], hx?.[1], wIh, wHh, bIh, bHh);
  return [h, c!];
}

/** F.gruCell(input, hx | null, wIh, wHh, bIh?, bHh?): one GRU step. */
export function gruCell(input: Tensor, hx: Tensor | null | undefined, wIh: Tensor, wHh: Tensor, bIh?: Tensor | null, bHh?: Tensor | null): Tensor {
  return runCell('gru', 'gruCell', input, hx, null, wIh, wHh, bIh, bHh)[0];
}

/** F.rnnCell(input, hx | null, wIh, wHh, bIh?, bHh?, { nonlinearity }): one Elman RNN step. */
export function rnnCell(input: Tensor, hx: Tensor | null | undefined, wIh: Tensor, wHh: Tensor, bIh?: Tensor | null, bHh?: Tensor | null, options: { nonlinearity?: 'tanh' | 'relu' } = {}): Tensor {
  return runCell(elmanMode(options.nonlinearity, 'rnnCell'), 'rnnCell', input, hx, null, wIh, wHh, bIh, bHh)[0];
}

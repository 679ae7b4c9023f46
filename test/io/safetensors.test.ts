import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { decode, expectClose, fixturePath, loadFixture, type Encoded } from '../fixture_util';

const { nn, optim } = dt;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dendrite-io-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string) => path.join(dir, name);

interface SampleEntry {
  dtype: string;
  shape: number[];
  data: (number | boolean)[];
}
const fixture = loadFixture<{ sample: Record<string, SampleEntry>; mlp: { input: Encoded; output: Encoded } }>('safetensors.json');

function sampleTensor(e: SampleEntry): dt.Tensor {
  if (e.dtype === 'bool') return dt.tensor(e.data as boolean[], { shape: e.shape, dtype: 'bool' });
  return decode({ dtype: e.dtype, shape: e.shape, data: e.data as number[] });
}

/** A safetensors file from a header object and a data section. */
function handMade(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string | Buffer): string {
  const json = Buffer.isBuffer(headerText) ? headerText : Buffer.from(headerText ?? JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  const file = tmp(`hand-${Math.random().toString(36).slice(2)}.safetensors`);
  fs.writeFileSync(file, Buffer.concat([prefix, json, Buffer.from(data)]));
  return file;
}

describe('safetensors files written by Python', () => {
  it('load with every dtype, shape and value intact', async () => {
    const file = fixturePath('safetensors', 'sample.safetensors');
    for (const loaded of [dt.loadSync(file), await dt.load(file)]) {
      expect(Object.keys(loaded).sort()).toEqual(Object.keys(fixture.sample).sort());
      for (const [name, e] of Object.entries(fixture.sample)) {
        const t = loaded[name] as dt.Tensor;
        expect(t.dtype, name).toBe(e.dtype);
        expect(t.shape, name).toEqual(e.shape);
        expect([t.toArray()].flat(Infinity), name).toEqual(e.data);
      }
      expect((loaded.ids as dt.Tensor).dataSync()).toEqual(BigInt64Array.from([0n, -1n, 2n ** 40n, -(2n ** 53n)]));
    }
    expect(dt.io.readHeader(file).metadata).toEqual({ format: 'pt' });
  });

  it('are what dendrite writes for the same tensors, byte for byte', async () => {
    const tensors = Object.fromEntries(Object.entries(fixture.sample).map(([k, e]) => [k, sampleTensor(e)]));
    const expected = fs.readFileSync(fixturePath('safetensors', 'sample.safetensors'));
    dt.saveSync(tensors, tmp('sample-sync.safetensors'), { metadata: { format: 'pt' } });
    await dt.save(tensors, tmp('sample-async.safetensors'), { metadata: { format: 'pt' } });
    expect(fs.readFileSync(tmp('sample-sync.safetensors')).equals(expected)).toBe(true);
    expect(fs.readFileSync(tmp('sample-async.safetensors')).equals(expected)).toBe(true);
    // A PyTorch state dict (nn.Sequential of Linear layers) written by Python, too.
    const mlp = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
    mlp.loadStateDict(dt.loadSync(fixturePath('safetensors', 'mlp.safetensors')));
    dt.saveSync(mlp.stateDict(), tmp('mlp.safetensors'));
    expect(fs.readFileSync(tmp('mlp.safetensors')).equals(fs.readFileSync(fixturePath('safetensors', 'mlp.safetensors')))).toBe(true);
  });

  it("load into a dendrite model that then computes PyTorch's outputs", () => {
    const mlp = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
    mlp.loadStateDict(dt.loadSync(fixturePath('safetensors', 'mlp.safetensors')));
    const y = dt.noGrad(() => mlp.forward(decode(fixture.mlp.input)));
    expectClose(y, fixture.mlp.output.data, 1e-6, 1e-5, 'mlp output');
  });

  it('widen F16 and BF16 tensors to float32', () => {
    const half = Buffer.alloc(8);
    [0x3c00, 0xc000, 0x0001, 0x7c00].forEach((h, i) => half.writeUInt16LE(h, 2 * i)); // 1, -2, 2^-24, inf
    const bf = Buffer.alloc(4);
    [0x3f80, 0x4049].forEach((h, i) => bf.writeUInt16LE(h, 2 * i)); // 1, 3.140625
    const file = handMade(
      { h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] }, b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] } },
      Buffer.concat([half, bf]),
    );
    const loaded = dt.loadSync(file);
    expect(loaded.h.dtype).toBe('float32');
    expect(loaded.h.toArray()).toEqual([1, -2, 2 ** -24, Infinity]);
    expect(loaded.b.toArray()).toEqual([1, 3.140625]);
  });
});

describe('dendrite checkpoints', () => {
  class Net extends nn.Module {
    body = new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 2));
    constructor() {
      super();
      this.registerBuffer('seen', dt.zeros([1], { dtype: 'int64' }));
    }
    forward(x: dt.Tensor): dt.Tensor {
      return this.body.forward(x);
    }
  }
  const x = dt.tensor([[0.1, -0.2, 0.3], [1, 0.5, -1], [0, 0.2, 0.9]]);
  const y = dt.tensor([[1, 0], [0, 1], [0.5, 0.5]]);
  const trainStep = (m: Net, opt: dt.optim.Optimizer) => {
    opt.zeroGrad();
    dt.F.mseLoss(m.forward(x), y).backward();
    opt.step();
  };

  it('round-trip a model, its optimizer, a scheduler and the epoch, and resume exactly', async () => {
    dt.manualSeed(11);
    const a = new Net();
    const optA = new optim.AdamW(a.parameters(), { lr: 0.01, amsgrad: true });
    const plateau = new optim.lrScheduler.ReduceLROnPlateau(optA, { patience: 1 });
    for (let i = 0; i < 3; i++) trainStep(a, optA);
    const file = tmp('checkpoint.safetensors');
    await dt.save({ model: a.stateDict(), optimizer: optA.stateDict(), scheduler: plateau.stateDict(), epoch: 3, note: 'résumé' }, file);

    // Any safetensors reader sees plain named tensors.
    const header = dt.io.readHeader(file);
    expect(Object.keys(header.tensors)).toContain('model.body.0.weight');
    expect(Object.keys(header.tensors)).toContain('optimizer.state.0.max_exp_avg_sq');
    expect(header.tensors['model.seen'].dtype).toBe('I64');

    const ck = await dt.load(file);
    expect(ck.epoch).toBe(3);
    expect(ck.note).toBe('résumé');
    expect(ck.scheduler.best).toBe(Infinity);
    expect(ck.optimizer.paramGroups[0]).toMatchObject({ lr: 0.01, amsgrad: true, params: [0, 1, 2, 3] });
    const b = new Net();
    b.loadStateDict(ck.model);
    const optB = new optim.AdamW(b.parameters(), { lr: 0.5 });
    optB.loadStateDict(ck.optimizer);
    expect(optB.paramGroups[0].lr).toBe(0.01);
    for (let i = 0; i < 2; i++) {
      trainStep(a, optA);
      trainStep(b, optB);
    }
    for (const [k, v] of Object.entries(a.stateDict())) expect(Array.from(b.stateDict()[k].dataSync()), k).toEqual(Array.from(v.dataSync()));
  });

  it('saves strided tensors by value and leaves no temporary files', () => {
    const base = dt.arange(0, 6, 1, { dtype: 'float32' }).reshape([2, 3]);
    dt.saveSync({ t: base.t(), s: base.select(1, 2) }, tmp('strided.safetensors'));
    const back = dt.loadSync(tmp('strided.safetensors'));
    expect(back.t.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(back.s.toArray()).toEqual([2, 5]);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('rejects what it cannot store, writing nothing', async () => {
    const file = tmp('never.safetensors');
    expect(() => dt.saveSync(new Net(), file)).toThrow(/pass model.stateDict\(\), not the model/);
    expect(() => dt.saveSync({ a: { fn: () => 1 } }, file)).toThrow(/at a.fn/);
    expect(() => dt.saveSync({ w: dt.ones([2]) }, file, { metadata: { n: 3 as any } })).toThrow(/a string for metadata "n"/);
    const gone = dt.ones([2]);
    gone.dispose();
    await expect(dt.save({ w: gone }, file)).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('corrupted, truncated or lying files', () => {
  const good = () => fs.readFileSync(fixturePath('safetensors', 'sample.safetensors'));
  const write = (bytes: Uint8Array) => {
    const f = tmp(`bad-${Math.random().toString(36).slice(2)}.safetensors`);
    fs.writeFileSync(f, bytes);
    return f;
  };
  const f32 = (offsets: [number, number], shape = [2]) => ({ dtype: 'F32', shape, data_offsets: offsets });
  const cases: [string, () => string, RegExp, string?][] = [
    ['an empty file', () => write(new Uint8Array(0)), /at least 8 bytes/],
    ['a 5-byte file', () => write(new Uint8Array(5)), /at least 8 bytes/],
    ['a header length past the end', () => { const b = good(); b.writeBigUInt64LE(10n ** 12n, 0); return write(b); }, /header length within the file/],
    ['a header length of 2^64 - 1', () => { const b = good(); b.writeBigUInt64LE(2n ** 64n - 1n, 0); return write(b); }, /header length within the file/],
    ['a file cut inside the data', () => write(good().subarray(0, good().length - 3)), /data_offsets inside the|data section of/],
    ['a file cut inside the header', () => write(good().subarray(0, 40)), /header length within the file/],
    ['bytes after the last tensor', () => write(Buffer.concat([good(), Buffer.from([1, 2, 3, 4])])), /a data section of \d+ bytes \(as the header says\), got \d+ bytes/],
    ['invalid JSON', () => handMade(null, undefined, '{"a": {"dtype": "F32",'), /unparsable JSON/],
    ['invalid UTF-8', () => handMade(null, undefined, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d, 0x20])), /a UTF-8 JSON header, got invalid UTF-8/],
    ['a JSON array', () => handMade([1, 2]), /a JSON object header, got an array/],
    ['a tensor entry that is a number', () => handMade({ a: 5 }), /an object \{ dtype, shape, data_offsets \} for tensor "a"/],
    ['an unknown dtype', () => handMade({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /a dtype of F32, F64/, 'ERR_DTYPE'],
    ['a negative dim', () => handMade({ a: f32([0, 8], [-2]) }, new Uint8Array(8)), /non-negative integers/],
    ['a fractional dim', () => handMade({ a: f32([0, 8], [1.5]) }, new Uint8Array(8)), /non-negative integers/],
    ['a huge shape', () => handMade({ a: f32([0, 8], [2 ** 30, 2 ** 30]) }, new Uint8Array(8)), /fewer than 2\^48 elements|bytes for tensor/],
    ['offsets that disagree with the shape', () => handMade({ a: f32([0, 4]) }, new Uint8Array(4)), /8 bytes for tensor "a"/],
    ['offsets past the data', () => handMade({ a: f32([8, 16]) }, new Uint8Array(8)), /inside the 8-byte data section/],
    ['reversed offsets', () => handMade({ a: f32([8, 0]) }, new Uint8Array(8)), /0 <= begin <= end/],
    ['overlapping tensors', () => handMade({ a: f32([0, 8]), b: f32([4, 12]) }, new Uint8Array(12)), /laid end to end/],
    ['a hole between tensors', () => handMade({ a: f32([0, 8]), b: f32([12, 20]) }, new Uint8Array(20)), /laid end to end/],
    ['offsets beyond 2^53', () => handMade({ a: { dtype: 'U8', shape: [1], data_offsets: [2 ** 60, 2 ** 60 + 1] } }), /data_offsets \[begin, end\]/],
    ['non-string metadata', () => handMade({ __metadata__: { format: 1 } }), /a string for __metadata__.format/],
    ['a broken checkpoint tree', () => handMade({ __metadata__: { dendrite: '{"version":1,"tree":{"w":{"$tensor":"missing"}}}' } }), /a tensor named "missing"/],
    ['unparsable checkpoint metadata', () => handMade({ __metadata__: { dendrite: '{oops' } }), /JSON in __metadata__.dendrite/],
  ];
  for (const [name, make, message, code] of cases) {
    it(`reports ${name} as ${code ?? 'ERR_FORMAT'}, sync and async, without leaking tensors`, async () => {
      const file = make();
      const before = dt.memory().numTensors;
      const err = (() => {
        try {
          dt.loadSync(file);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(dt.DendriteError);
      expect((err as dt.DendriteError).code).toBe(code ?? 'ERR_FORMAT');
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain(path.basename(file));
      await expect(dt.load(file)).rejects.toMatchObject({ code: code ?? 'ERR_FORMAT' });
      expect(dt.memory().numTensors).toBe(before);
    });
  }

  it('normalises BOOL bytes other than 0 and 1 to true', () => {
    const file = handMade({ m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, Uint8Array.from([0, 7, 1]));
    expect(dt.loadSync(file).m.toArray()).toEqual([false, true, true]);
  });
});

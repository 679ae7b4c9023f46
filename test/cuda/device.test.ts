// The cuda device itself: creation on it, moving between devices, reading back (sync and
// async), the Philox stream matching the CPU, memory accounting and the caching allocator,
// out-of-memory and wrong-device errors.
import { expect, it } from 'vitest';
import * as dt from '../../dist/index.js';
import { describeCuda, randomTensor, values } from './helpers';

function expectError(fn: () => unknown, code: string, ...fragments: string[]): void {
  let err: any;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toBeInstanceOf(dt.DendriteError);
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
}

describeCuda('cuda device', () => {
  it('reports itself', () => {
    expect(dt.cuda.isAvailable()).toBe(true);
    expect(dt.cuda.deviceCount()).toBeGreaterThan(0);
  });

  it('creates tensors on the device from every source, every dtype', () => {
    for (const dtype of ['float32', 'float64', 'int32', 'int64', 'uint8', 'bool'] as const) {
      const cpu = randomTensor([3, 7], dtype, 0, 5);
      const g = dt.tensor(cpu, { device: 'cuda' });
      expect(g.device).toBe('cuda');
      expect(g.dtype).toBe(dtype);
      expect(g.toArray()).toEqual(cpu.toArray());
      expect(g.cpu().device).toBe('cpu');
      expect(g.to('cpu').toArray()).toEqual(cpu.toArray());
    }
    expect(dt.tensor([[1, 2], [3, 4]], { device: 'cuda' }).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(dt.tensor(new Float64Array([1.5, 2.5]), { device: 'cuda' }).dtype).toBe('float64');
    expect(dt.tensor(3, { device: 'cuda' }).item()).toBe(3);
    expect(dt.zeros([2, 3], { device: 'cuda' }).device).toBe('cuda');
    expect(dt.ones([5], { device: 'cuda:0' }).sum().item()).toBe(5);
    const z = dt.zerosLike(dt.ones([4], { device: 'cuda' }));
    expect(z.device).toBe('cuda');
  });

  it('moves non-contiguous views and keeps gradients flowing across devices', () => {
    const x = randomTensor([5, 7]);
    expect(x.t().cuda().toArray()).toEqual(x.t().toArray());
    const w = dt.randn([7, 3]).requiresGrad_();
    const loss = x.cuda().matmul(w.cuda()).square().sum();
    loss.backward();
    expect(w.grad!.device).toBe('cpu');
    const ref = dt.randn([1]); // keep the generator moving identically
    ref.dispose();
    const w2 = w.detach().clone().requiresGrad_();
    x.matmul(w2).square().sum().backward();
    const a = values(w.grad!), b = values(w2.grad!);
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(b[i]))));
  });

  it('await t.data() copies back asynchronously, dataSync and item synchronise', async () => {
    const t = dt.arange(0, 1 << 22, 1, { dtype: 'float32', device: 'cuda' }).mul(2);
    let ticked = false;
    const tick = new Promise<void>((r) => setImmediate(() => { ticked = true; r(); }));
    const data = (await t.data()) as Float32Array;
    await tick;
    expect(ticked).toBe(true);
    expect(data.length).toBe(1 << 22);
    expect(data[12345]).toBe(24690);
    expect((t.dataSync() as Float32Array)[1]).toBe(2);
    expect(t.max().item()).toBe(2 * ((1 << 22) - 1));
  });

  it('manualSeed gives the same numbers on both devices (the Philox stream)', () => {
    for (const [name, draw] of [
      ['rand', (device: any) => dt.rand([1009], { device })],
      ['rand f64', (device: any) => dt.rand([33, 7], { dtype: 'float64', device })],
      ['randn', (device: any) => dt.randn([1000], { device })],
      ['randn f64', (device: any) => dt.randn([7], { dtype: 'float64', device })],
      ['randint', (device: any) => dt.randint(-5, 1000, [1009], { device })],
      ['randperm', (device: any) => dt.randperm(97, { device })],
    ] as Array<[string, (d: any) => dt.Tensor]>) {
      dt.manualSeed(1234);
      const a = values(draw('cpu'));
      const a2 = values(draw('cpu'));
      dt.manualSeed(1234);
      const b = values(draw('cuda'));
      const b2 = values(draw('cuda'));
      for (let i = 0; i < a.length; i++) {
        expect(Math.abs(a[i] - b[i]), `${name} [${i}]`).toBeLessThanOrEqual(1e-12 + 1e-6 * Math.abs(a[i]));
        expect(Math.abs(a2[i] - b2[i]), `${name} second draw [${i}]`).toBeLessThanOrEqual(1e-12 + 1e-6 * Math.abs(a2[i]));
      }
    }
  });

  it('operands on different devices throw ERR_DEVICE naming both', () => {
    const a = dt.ones([3]), b = dt.ones([3], { device: 'cuda' });
    expectError(() => a.add(b), 'ERR_DEVICE', 'cpu', 'cuda');
    expectError(() => b.matmul(dt.ones([3, 2])), 'ERR_DEVICE', 'cpu', 'cuda');
    expectError(() => dt.cat([a, b]), 'ERR_DEVICE', 'cpu', 'cuda');
    expectError(() => dt.ones([2], { device: 'cuda:7' as any }), 'ERR_DEVICE', 'cuda:7');
  });

  it('out of memory is ERR_CUDA_OOM after emptying the cache, and the process goes on', () => {
    expectError(() => dt.empty([2 ** 40], { device: 'cuda' }), 'ERR_CUDA_OOM', 'cuda alloc');
    const t = dt.ones([1000], { device: 'cuda' });
    expect(t.sum().item()).toBe(1000);
  });

  it('disposed CUDA tensors cannot be read; dispose returns memory to the cache', () => {
    dt.cuda.synchronize();
    const before = dt.cuda.memory();
    const t = dt.ones([1 << 20], { device: 'cuda' });
    const mid = dt.cuda.memory();
    expect(mid.allocated - before.allocated).toBeGreaterThanOrEqual(4 << 20);
    t.dispose();
    expect(dt.cuda.memory().allocated).toBe(before.allocated);
    expectError(() => t.sum(), 'ERR_DISPOSED');
    dt.cuda.emptyCache();
    expect(dt.cuda.memory().reserved).toBeLessThanOrEqual(mid.reserved);
    expect(dt.memory().devices.cuda.numBytes).toBe(dt.cuda.memory().allocated);
  });
});

// Generator: a random stream of its own (torch.Generator). The native generator (Philox,
// native/cpu/random) is one global (seed, counter) pair; a Generator keeps its own pair and swaps
// it in around each draw, so a DataLoader's shuffling or a transform's draws never move the
// global stream that dt.manualSeed controls, and the same seed gives the same draws however
// they are interleaved with other random ops.
import { describe, fail } from '../errors';
import { native } from '../native';
import { rand, randint, randperm } from '../ops/creation';
import type { Tensor } from '../tensor';

export interface RngState {
  seed: bigint;
  counter: bigint;
}

const U32 = 0xffffffffn;

/** The global generator's state (torch.get_rng_state). */
export function getRngState(): RngState {
  const [sh, sl, ch, cl] = native.getRngState();
  return { seed: (BigInt(sh) << 32n) | BigInt(sl), counter: (BigInt(ch) << 32n) | BigInt(cl) };
}

/** Restores a state from getRngState (torch.set_rng_state). */
export function setRngState(state: RngState): void {
  if (state === null || typeof state !== 'object' || typeof state.seed !== 'bigint' || typeof state.counter !== 'bigint')
    fail('ERR_ARGUMENT', 'setRngState', 'a { seed: bigint, counter: bigint } from getRngState()', describe(state));
  const s = BigInt.asUintN(64, state.seed), c = BigInt.asUintN(64, state.counter);
  native.setRngState(Number(s >> 32n), Number(s & U32), Number(c >> 32n), Number(c & U32));
}

function toSeed(seed: number | bigint, op: string): bigint {
  if (typeof seed === 'bigint') return BigInt.asUintN(64, seed);
  if (typeof seed === 'number' && Number.isInteger(seed)) return BigInt.asUintN(64, BigInt(seed));
  return fail('ERR_ARGUMENT', op, 'an integer seed', describe(seed));
}

export class Generator {
  private state: RngState;

  /**
   * new Generator(seed). Without a seed, the seed is drawn from the global generator, so a
   * program that calls dt.manualSeed first is reproducible end to end.
   */
  constructor(seed?: number | bigint) {
    this.state = { seed: 0n, counter: 0n };
    if (seed === undefined) {
      const draw = randint(0, 2 ** 31, [2]);
      const [hi, lo] = Array.from(draw.dataSync() as BigInt64Array);
      draw.dispose();
      this.state.seed = (hi << 31n) | lo;
    } else this.state.seed = toSeed(seed, 'Generator');
  }

  manualSeed(seed: number | bigint): this {
    this.state = { seed: toSeed(seed, 'Generator.manualSeed'), counter: 0n };
    return this;
  }
  initialSeed(): bigint {
    return this.state.seed;
  }
  getState(): RngState {
    return { ...this.state };
  }
  setState(state: RngState): this {
    if (state === null || typeof state !== 'object' || typeof state.seed !== 'bigint' || typeof state.counter !== 'bigint')
      fail('ERR_ARGUMENT', 'Generator.setState', 'a { seed: bigint, counter: bigint }', describe(state));
    this.state = { ...state };
    return this;
  }

  /** Runs fn with this generator in place of the global one; fn's random ops draw from it. */
  run<T>(fn: () => T): T {
    const saved = getRngState();
    setRngState(this.state);
    try {
      return fn();
    } finally {
      this.state = getRngState();
      setRngState(saved);
    }
  }

  /** n uniform numbers in [0, 1) as float64 (JS numbers). */
  uniform(n: number): Float64Array {
    return this.run(() => copyOut(rand([n], { dtype: 'float64' })) as Float64Array);
  }
  /** A permutation of 0..n-1 (dt.randperm under this generator). */
  permutation(n: number): number[] {
    return this.run(() => Array.from(copyOut(randperm(n)) as BigInt64Array, Number));
  }
}

function copyOut(t: Tensor) {
  const v = t.dataSync().slice();
  t.dispose();
  return v;
}

/** n uniform draws in [0, 1) from `generator`, or from the global generator when it is undefined. */
export function uniformDraws(n: number, generator?: Generator): Float64Array {
  if (generator !== undefined) return generator.uniform(n);
  return copyOut(rand([n], { dtype: 'float64' })) as Float64Array;
}

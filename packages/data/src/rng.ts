import { philox4x32Into, uint32ToUniform } from './philox.js';
import { checkInt, checkNumber, checkSeed, checkU32, show } from './validate.js';

/**
 * The whole state of an {@link Rng}: plain JSON, so a checkpoint can store it and
 * `Rng.fromState` resumes exactly where the generator stopped.
 */
export interface RngState {
  /** Integer seed in [0, 2^53). */
  seed: number;
  /** u32 stream id (counter word 3). */
  stream: number;
  /** Index of the next unused 32-bit word of the stream (integer, < 2^53). */
  word: number;
}

/** Counter word 2 of every {@link Rng} block: keeps Rng draws apart from the (c1, c2)-addressed task data. */
export const RNG_COUNTER_TAG = 0xffffffff;

const TWO_POW_32 = 4294967296;

/**
 * A convenient stateful generator over Philox4x32-10. Word w of stream s under seed S is output
 * w % 4 of the Philox block with counter [b mod 2^32, floor(b / 2^32), 0xffffffff, s], b = floor(w/4),
 * key [S mod 2^32, floor(S / 2^32)]. Its state is `{ seed, stream, word }`.
 * @example
 * const rng = new Rng(42);
 * const z = rng.normal(3);          // Float64Array of 3 standard normals
 * const saved = rng.state();        // { seed: 42, stream: 0, word: 4 }
 * Rng.fromState(saved).uniform(1);  // continues exactly where rng stands
 */
export class Rng {
  readonly seed: number;
  readonly stream: number;
  private word: number;
  private readonly k0: number;
  private readonly k1: number;
  private readonly block = new Uint32Array(4);
  private blockIndex = -1;

  /** A generator for (seed, stream), positioned at word 0. */
  constructor(seed: number, stream = 0) {
    this.seed = checkSeed('Rng', seed);
    this.stream = checkU32('Rng', 'stream', stream);
    this.word = 0;
    this.k0 = seed >>> 0;
    this.k1 = Math.floor(seed / TWO_POW_32) >>> 0;
  }

  /**
   * Restores a generator from {@link Rng.state}'s object.
   * @example
   * const again = Rng.fromState({ seed: 1, stream: 0, word: 10 });
   */
  static fromState(state: RngState): Rng {
    if (typeof state !== 'object' || state === null) {
      throw new TypeError(`Rng.fromState: state must be { seed, stream, word }; got ${show(state)}`);
    }
    const rng = new Rng(state.seed, state.stream);
    rng.word = checkInt('Rng.fromState', 'state.word', state.word, 0);
    return rng;
  }

  /**
   * The generator's complete state as a JSON-serialisable object.
   * @example
   * JSON.stringify(new Rng(3).state()); // '{"seed":3,"stream":0,"word":0}'
   */
  state(): RngState {
    return { seed: this.seed, stream: this.stream, word: this.word };
  }

  /**
   * An independent copy at the same position.
   * @example
   * const fork = rng.clone();
   */
  clone(): Rng {
    return Rng.fromState(this.state());
  }

  private wordAt(w: number): number {
    const b = Math.floor(w / 4);
    if (b !== this.blockIndex) {
      philox4x32Into(
        b >>> 0,
        Math.floor(b / TWO_POW_32) >>> 0,
        RNG_COUNTER_TAG,
        this.stream,
        this.k0,
        this.k1,
        this.block,
      );
      this.blockIndex = b;
    }
    return this.block[w % 4]!;
  }

  /**
   * The next raw 32-bit word.
   * @example
   * new Rng(0).uint32(); // 0x… (a u32)
   */
  uint32(): number {
    const x = this.wordAt(this.word);
    this.word++;
    return x;
  }

  /**
   * `n` uniforms in [low, high): low + (high − low)·(x + 0.5)·2^-32, one word each.
   * @example
   * new Rng(1).uniform(4); // Float64Array(4) in (0, 1)
   */
  uniform(n: number, low = 0, high = 1): Float64Array {
    checkInt('Rng.uniform', 'n', n, 0);
    checkNumber('Rng.uniform', 'low', low);
    checkNumber('Rng.uniform', 'high', high);
    const out = new Float64Array(n);
    const span = high - low;
    for (let i = 0; i < n; i++) out[i] = low + span * uint32ToUniform(this.uint32());
    return out;
  }

  /**
   * `n` normals N(mean, std²) by Box–Muller on word pairs (an odd position is first rounded up to
   * even; an odd `n` discards the sine of its last pair), so a pair always starts at an even word.
   * @example
   * new Rng(1).normal(5, 0, 2); // Float64Array(5)
   */
  normal(n: number, mean = 0, std = 1): Float64Array {
    checkInt('Rng.normal', 'n', n, 0);
    checkNumber('Rng.normal', 'mean', mean);
    checkNumber('Rng.normal', 'std', std, 0);
    const out = new Float64Array(n);
    if (n === 0) return out;
    if (this.word % 2 === 1) this.word++;
    for (let i = 0; i < n; i += 2) {
      const u1 = uint32ToUniform(this.uint32());
      const u2 = uint32ToUniform(this.uint32());
      const r = Math.sqrt(-2 * Math.log(u1));
      const t = 2 * Math.PI * u2;
      out[i] = mean + std * r * Math.cos(t);
      if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(t);
    }
    return out;
  }

  /**
   * `n` integers uniform on {0, …, high − 1} (high ≤ 2^31), exactly uniform by rejection:
   * words ≥ 2^32 − (2^32 mod high) are skipped.
   * @example
   * new Rng(1).int(10, 256); // Int32Array(10) in [0, 256)
   */
  int(n: number, high: number): Int32Array {
    checkInt('Rng.int', 'n', n, 0);
    checkInt('Rng.int', 'high', high, 1, 2 ** 31);
    const limit = TWO_POW_32 - (TWO_POW_32 % high);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let x = this.uint32();
      while (x >= limit) x = this.uint32();
      out[i] = x % high;
    }
    return out;
  }

  /**
   * Shuffles `array` in place (Fisher–Yates, from the last element down) and returns it.
   * @example
   * new Rng(2).shuffle([1, 2, 3, 4]);
   */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    if (array === null || typeof array !== 'object' || typeof array.length !== 'number') {
      throw new TypeError(`Rng.shuffle: array must be an array or typed array; got ${show(array)}`);
    }
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(1, i + 1)[0]!;
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /**
   * A random permutation of 0..n−1 (the Fisher–Yates shuffle of the identity).
   * @example
   * new Rng(5).permutation(4); // Int32Array [2, 0, 3, 1] (for instance)
   */
  permutation(n: number): Int32Array {
    checkInt('Rng.permutation', 'n', n, 0, 2 ** 31);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}

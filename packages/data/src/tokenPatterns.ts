/**
 * Seed 003's classification data: each class has a fixed random token sequence; every sample
 * is its class's pattern with about a quarter of the positions replaced by random tokens.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from './rng.js';
import { checkInt, checkNumber, checkSeed, checkU32, show } from './validate.js';

/** Options of {@link tokenPatternData}; the defaults are seed 003's `make_data`. */
export interface TokenPatternOptions {
  /** Number of classes (default 10). */
  nClasses?: number;
  /** Samples per class (default 50). */
  samplesPerClass?: number;
  /** Sequence length (default 8). */
  seqLen?: number;
  /** Vocabulary size (default 256). */
  vocab?: number;
  /** Probability that a position is replaced by a random token (default 0.25). */
  perturbProb?: number;
  /** Seed (default 42, as the seed script's `torch.manual_seed(42)`). */
  seed?: number;
  /** Rng stream (default 0). */
  stream?: number;
  /** Shuffle the samples (default true, as the seed). */
  shuffle?: boolean;
}

/** Token-pattern data as host arrays. */
export interface TokenPatternArrays {
  n: number;
  seqLen: number;
  nClasses: number;
  /** [n, seqLen] token ids */
  x: Int32Array;
  /** [n] class labels */
  y: Int32Array;
  /** [nClasses, seqLen] each class's base pattern */
  basePatterns: Int32Array;
}

/**
 * Seed 003's token-pattern data on the host. Draws from `new Rng(seed, stream)` in the seed's order:
 * base patterns (nClasses·seqLen tokens), then per class and per sample seqLen uniforms (a position
 * is perturbed when u < perturbProb) and one token per perturbed position, then the shuffle.
 * @example
 * const d = tokenPatternArrays(); // 500 samples of 8 tokens, 10 classes
 */
export function tokenPatternArrays(options: TokenPatternOptions = {}): TokenPatternArrays {
  const fn = 'tokenPatternArrays';
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`${fn}: options must be an object; got ${show(options)}`);
  const nClasses = checkInt(fn, 'options.nClasses', options.nClasses ?? 10, 1);
  const per = checkInt(fn, 'options.samplesPerClass', options.samplesPerClass ?? 50, 1);
  const seqLen = checkInt(fn, 'options.seqLen', options.seqLen ?? 8, 1);
  const vocab = checkInt(fn, 'options.vocab', options.vocab ?? 256, 1, 2 ** 31);
  const p = checkNumber(fn, 'options.perturbProb', options.perturbProb ?? 0.25, 0, 1);
  const seed = checkSeed(fn, options.seed ?? 42, 'options.seed');
  const stream = checkU32(fn, 'options.stream', options.stream ?? 0);
  const rng = new Rng(seed, stream);
  const basePatterns = rng.int(nClasses * seqLen, vocab);
  const n = nClasses * per;
  const x = new Int32Array(n * seqLen);
  const y = new Int32Array(n);
  let s = 0;
  for (let c = 0; c < nClasses; c++) {
    for (let k = 0; k < per; k++, s++) {
      const row = x.subarray(s * seqLen, (s + 1) * seqLen);
      row.set(basePatterns.subarray(c * seqLen, (c + 1) * seqLen));
      const u = rng.uniform(seqLen);
      const positions: number[] = [];
      for (let t = 0; t < seqLen; t++) if (u[t]! < p) positions.push(t);
      const tokens = rng.int(positions.length, vocab);
      positions.forEach((t, i) => (row[t] = tokens[i]!));
      y[s] = c;
    }
  }
  if (options.shuffle ?? true) {
    const perm = rng.permutation(n);
    const x2 = new Int32Array(n * seqLen);
    const y2 = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const j = perm[i]!;
      x2.set(x.subarray(j * seqLen, (j + 1) * seqLen), i * seqLen);
      y2[i] = y[j]!;
    }
    return { n, seqLen, nClasses, x: x2, y: y2, basePatterns };
  }
  return { n, seqLen, nClasses, x, y, basePatterns };
}

/**
 * Seed 003's token-pattern data as int32 tensors: x [n, seqLen], y [n], basePatterns [nClasses, seqLen].
 * @example
 * const { x, y } = tokenPatternData({ seed: 42 }); // x [500, 8], y [500]
 */
export function tokenPatternData(options: TokenPatternOptions = {}): {
  x: tf.Tensor2D;
  y: tf.Tensor1D;
  basePatterns: tf.Tensor2D;
} {
  const a = tokenPatternArrays(options);
  return {
    x: tf.tensor2d(a.x, [a.n, a.seqLen], 'int32'),
    y: tf.tensor1d(a.y, 'int32'),
    basePatterns: tf.tensor2d(a.basePatterns, [a.nClasses, a.seqLen], 'int32'),
  };
}

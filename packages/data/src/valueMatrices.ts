/**
 * Seed 000's data ("the Value matrix as a learned database"): random token embeddings, random
 * value projections scaled by 1/√d_model, the planted person/location/action value matrix of its
 * retrieval experiment with its attention patterns, and the colour-vs-noise data of its
 * learned-compression experiment. Every draw comes from `new Rng(seed, stream)`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from './rng.js';
import { checkInt, checkNumber, checkSeed, checkU32 } from './validate.js';

/** Seed and stream of a draw. */
export interface SeedOptions {
  /** Integer seed (default 42, as the seed notebook). */
  seed?: number;
  /** Rng stream (default 0). */
  stream?: number;
}

function rngOf(fn: string, o: SeedOptions): Rng {
  return new Rng(checkSeed(fn, o.seed ?? 42, 'options.seed'), checkU32(fn, 'options.stream', o.stream ?? 0));
}

/**
 * Random token embeddings X ~ N(0, 1) of shape [nTokens, dModel] (seed 000's `torch.randn(n_tokens, d_model)`).
 * @example
 * const X = randomEmbeddings(10, 512, { seed: 42 }); // [10, 512]
 */
export function randomEmbeddings(nTokens: number, dModel: number, options: SeedOptions = {}): tf.Tensor2D {
  const fn = 'randomEmbeddings';
  checkInt(fn, 'nTokens', nTokens, 1);
  checkInt(fn, 'dModel', dModel, 1);
  const z = rngOf(fn, options).normal(nTokens * dModel);
  return tf.tensor2d(Float32Array.from(z), [nTokens, dModel]);
}

/**
 * A random value projection W_V ~ N(0, 1)/√dModel of shape [dModel, dV] (seed 000's `randn(d_model, d_v) / sqrt(d_model)`).
 * @example
 * const W = randomValueProjection(512, 64, { seed: 1 }); // [512, 64]
 */
export function randomValueProjection(dModel: number, dV: number, options: SeedOptions = {}): tf.Tensor2D {
  const fn = 'randomValueProjection';
  checkInt(fn, 'dModel', dModel, 1);
  checkInt(fn, 'dV', dV, 1);
  const z = rngOf(fn, options).normal(dModel * dV, 0, 1 / Math.sqrt(dModel));
  return tf.tensor2d(Float32Array.from(z), [dModel, dV]);
}

/** Half-open column ranges [start, end) of the planted groups. */
export interface ValueGroups {
  person: [number, number];
  location: [number, number];
  action: [number, number];
}

/** Options of {@link structuredValueMatrix}; defaults are seed 000's experiment 3. */
export interface StructuredValueOptions extends SeedOptions {
  /** Tokens (rows), ≥ 6 (default 8): rows 0–1 person, 2–3 location, 4–5 action, the rest noise. */
  nTokens?: number;
  /** Value width, a multiple of 4 (default 64). */
  dV?: number;
  /** Standard deviation of the noise rows (default 0.1). */
  noiseStd?: number;
}

/**
 * Seed 000's planted value matrix V [nTokens, dV]: rows 0, 1 = 1.0, 0.8 on the person columns
 * [0, dV/2); rows 2, 3 = 1.0, 0.7 on the location columns [dV/4, 3dV/4); rows 4, 5 = 1.0, 0.9 on the
 * action columns [dV/2, dV); rows ≥ 6 = noiseStd·N(0, 1) (row-major draws).
 * @example
 * const { V, groups } = structuredValueMatrix(); // V [8, 64]; groups.location = [16, 48]
 */
export function structuredValueMatrix(options: StructuredValueOptions = {}): { V: tf.Tensor2D; groups: ValueGroups } {
  const fn = 'structuredValueMatrix';
  const n = checkInt(fn, 'options.nTokens', options.nTokens ?? 8, 6);
  const dV = checkInt(fn, 'options.dV', options.dV ?? 64, 4);
  if (dV % 4 !== 0) throw new RangeError(`${fn}: options.dV must be a multiple of 4; got ${dV}`);
  const noiseStd = checkNumber(fn, 'options.noiseStd', options.noiseStd ?? 0.1, 0);
  const groups: ValueGroups = { person: [0, dV / 2], location: [dV / 4, (3 * dV) / 4], action: [dV / 2, dV] };
  const v = new Float32Array(n * dV);
  const fill = (row: number, [a, b]: [number, number], value: number) => v.fill(value, row * dV + a, row * dV + b);
  fill(0, groups.person, 1.0);
  fill(1, groups.person, 0.8);
  fill(2, groups.location, 1.0);
  fill(3, groups.location, 0.7);
  fill(4, groups.action, 1.0);
  fill(5, groups.action, 0.9);
  if (n > 6) v.set(rngOf(fn, options).normal((n - 6) * dV, 0, noiseStd), 6 * dV);
  return { V: tf.tensor2d(v, [n, dV]), groups };
}

/**
 * Seed 000's four attention patterns over the structured value matrix's tokens, each [nTokens]:
 * uniform 1/n; person 0.5 on tokens 0, 1; location 0.5 on tokens 2, 3; mixed 0.3 on 0, 1 and 0.2 on 4, 5.
 * @example
 * const { person } = retrievalAttentionPatterns(); // [0.5, 0.5, 0, 0, 0, 0, 0, 0]
 */
export function retrievalAttentionPatterns(nTokens = 8): {
  uniform: tf.Tensor1D;
  person: tf.Tensor1D;
  location: tf.Tensor1D;
  mixed: tf.Tensor1D;
} {
  const n = checkInt('retrievalAttentionPatterns', 'nTokens', nTokens, 6);
  const make = (entries: [number, number][]) => {
    const a = new Float32Array(n);
    for (const [i, w] of entries) a[i] = w;
    return tf.tensor1d(a);
  };
  return {
    uniform: tf.tensor1d(new Float32Array(n).fill(1 / n)),
    person: make([
      [0, 0.5],
      [1, 0.5],
    ]),
    location: make([
      [2, 0.5],
      [3, 0.5],
    ]),
    mixed: make([
      [0, 0.3],
      [1, 0.3],
      [4, 0.2],
      [5, 0.2],
    ]),
  };
}

/** Options of {@link colorCompressionData}; defaults are seed 000's experiment 5. */
export interface ColorCompressionOptions extends SeedOptions {
  /** Samples (default 100). */
  nSamples?: number;
  /** Embedding width (default 16). */
  dModel?: number;
  /** Number of leading "colour" dimensions (default 3, RGB). */
  colorDims?: number;
  /** Standard deviation of the colour dimensions (default 2; the rest are N(0, 1)). */
  colorScale?: number;
}

/**
 * Seed 000's learned-compression data: X [n, dModel] with the first colorDims columns
 * N(0, colorScale²) (the "colour" to remember) and the rest N(0, 1) (the "noise" to forget), and the
 * target Y = X[:, :colorDims]. Draw order as the seed: all of X, then the colour columns again.
 * @example
 * const { X, Y } = colorCompressionData(); // X [100, 16], Y [100, 3]
 */
export function colorCompressionData(options: ColorCompressionOptions = {}): { X: tf.Tensor2D; Y: tf.Tensor2D } {
  const fn = 'colorCompressionData';
  const n = checkInt(fn, 'options.nSamples', options.nSamples ?? 100, 1);
  const d = checkInt(fn, 'options.dModel', options.dModel ?? 16, 1);
  const c = checkInt(fn, 'options.colorDims', options.colorDims ?? 3, 1, d);
  const scale = checkNumber(fn, 'options.colorScale', options.colorScale ?? 2, 0);
  const rng = rngOf(fn, options);
  const x = Float32Array.from(rng.normal(n * d));
  const color = rng.normal(n * c, 0, scale);
  const y = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      x[i * d + j] = color[i * c + j]!;
      y[i * c + j] = x[i * d + j]!;
    }
  }
  return { X: tf.tensor2d(x, [n, d]), Y: tf.tensor2d(y, [n, c]) };
}

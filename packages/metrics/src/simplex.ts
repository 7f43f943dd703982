/** Simplex-volume coefficient of variation (seed 003's "CV" geometry probe). */
import type * as tf from '@tensorflow/tfjs-core';
import { cayleyMengerVolumeSquaredHost } from '@attnlab/linalg';
import { mulberry32, sampleDistinct } from './random.js';
import { checkInteger, checkNumber, checkTensor } from './validate.js';

/** Seed 003's band: a CV strictly between 0.13 and 0.30 is flagged. */
export const CV_BAND = { low: 0.13, high: 0.3 } as const;

/**
 * True when `cv` lies strictly inside seed 003's band (0.13, 0.30).
 * @example
 * inCvBand(0.18);   // true
 */
export function inCvBand(cv: number | null): boolean {
  return cv !== null && cv > CV_BAND.low && cv < CV_BAND.high;
}

export interface SimplexVolumeCVOptions {
  /** Number of random simplices (seed 003: 300). */
  samples?: number;
  /** Vertices per simplex (seed 003: 5, a 4-simplex or "pentachoron"). */
  points?: number;
  /** Only the first `pool` rows are sampled from (seed 003: 512). */
  pool?: number;
  /** Seed of the mulberry32 generator that picks the subsets (default 0). */
  seed?: number;
  /** Added to the mean volume in the denominator, as seed 003 does (default 1e-8). */
  epsilon?: number;
  /** Squared volumes at or below this are dropped as degenerate (seed 003: 1e-20). */
  minVolumeSquared?: number;
  /** Fewer valid simplices than this gives `cv: null` (seed 003: 10). */
  minValid?: number;
}

export interface SimplexVolumeCV {
  /** std(volumes) / (mean(volumes) + epsilon), or null when too few simplices were valid. */
  cv: number | null;
  /** cv inside seed 003's band (0.13, 0.30). */
  inBand: boolean;
  /** Mean and sample standard deviation (Bessel-corrected, like torch.std) of the valid volumes. */
  meanVolume: number;
  stdVolume: number;
  /** Simplices kept (squared volume above minVolumeSquared) out of `samples`. */
  valid: number;
  samples: number;
}

/**
 * Coefficient of variation of simplex volumes over random `points`-subsets of the rows of
 * `matrix` `[V, D]`, as seed 003's `cv_metric`: volumes (square roots of Cayley–Menger squared
 * volumes, float64), CV = std/(mean + ε) with torch's unbiased std. Convention: VOLUME, not squared
 * volume (the CV of V² is about twice as large). Subsets: `points` distinct rows among the first
 * `pool`, drawn by a partial Fisher–Yates shuffle driven by mulberry32(seed), so a seed fixes the
 * result on every backend. i.i.d. Gaussian rows give about 0.180 (D = 64), 0.126 (128), 0.089 (256).
 * @example
 * const { cv, inBand } = await simplexVolumeCV(embedding, { samples: 300, seed: 1 });
 */
export async function simplexVolumeCV(
  matrix: tf.Tensor,
  options: SimplexVolumeCVOptions = {},
): Promise<SimplexVolumeCV> {
  const fn = 'simplexVolumeCV';
  checkTensor(fn, 'matrix', matrix, [2]);
  const samples = options.samples ?? 300;
  const points = options.points ?? 5;
  const poolMax = options.pool ?? 512;
  const seed = options.seed ?? 0;
  const epsilon = options.epsilon ?? 1e-8;
  const minVolumeSquared = options.minVolumeSquared ?? 1e-20;
  const minValid = options.minValid ?? 10;
  checkInteger(fn, 'options.samples', samples, 2);
  checkInteger(fn, 'options.points', points, 2);
  checkInteger(fn, 'options.pool', poolMax, 2);
  checkInteger(fn, 'options.seed', seed, 0);
  checkNumber(fn, 'options.epsilon', epsilon, 0, Infinity);
  checkNumber(fn, 'options.minVolumeSquared', minVolumeSquared, 0, Infinity);
  checkInteger(fn, 'options.minValid', minValid, 2);
  const [rows, d] = matrix.shape as [number, number];
  if (rows < points) {
    throw new RangeError(`${fn}: matrix needs at least options.points = ${points} rows; got shape [${rows}, ${d}]`);
  }
  const pool = Math.min(rows, poolMax);
  if (pool < points) throw new RangeError(`${fn}: options.pool (${poolMax}) must be ≥ options.points (${points})`);
  const data = await matrix.data();
  const random = mulberry32(seed);
  const scratch = Int32Array.from({ length: pool }, (_, i) => i);
  const chosen = new Int32Array(points);
  const simplex = new Float64Array(points * d);
  const volumes: number[] = [];
  for (let s = 0; s < samples; s++) {
    sampleDistinct(random, pool, scratch, chosen);
    for (let p = 0; p < points; p++) {
      const r = chosen[p]!;
      for (let k = 0; k < d; k++) simplex[p * d + k] = data[r * d + k]!;
    }
    const v2 = cayleyMengerVolumeSquaredHost(simplex, points, d);
    if (v2 > minVolumeSquared) volumes.push(Math.sqrt(v2));
  }
  const valid = volumes.length;
  let mean = 0;
  for (const v of volumes) mean += v;
  mean = valid > 0 ? mean / valid : NaN;
  let ss = 0;
  for (const v of volumes) ss += (v - mean) * (v - mean);
  const std = valid > 1 ? Math.sqrt(ss / (valid - 1)) : NaN;
  const cv = valid < minValid ? null : std / (mean + epsilon);
  return { cv, inBand: inCvBand(cv), meanVolume: mean, stdVolume: std, valid, samples };
}

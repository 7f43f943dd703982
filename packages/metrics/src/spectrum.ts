/** Singular spectra and effective ranks (seed 000, experiment 1). */
import * as tf from '@tensorflow/tfjs-core';
import { singularValues, singularValuesHost } from '@attnlab/linalg';
import { checkInteger, checkNumber, checkTensor } from './validate.js';

/**
 * Singular values of a matrix `[m, n]`, descending, as a float32 tensor `[min(m, n)]` (or the
 * first `top` of them). Computed in float64 on the host.
 * @example
 * const s = await singularSpectrum(wV, { top: 10 });   // seed 000 prints S[:10]
 */
export async function singularSpectrum(matrix: tf.Tensor, options: { top?: number } = {}): Promise<tf.Tensor1D> {
  checkTensor('singularSpectrum', 'matrix', matrix, [2]);
  const s = await singularValues(matrix);
  if (options.top === undefined) return s as tf.Tensor1D;
  checkInteger('singularSpectrum', 'options.top', options.top, 1);
  const k = Math.min(options.top, s.shape[0]);
  const out = tf.slice(s, [0], [k]) as tf.Tensor1D;
  s.dispose();
  return out;
}

/** Reads a spectrum (rank 1, taken as singular values) or computes one (rank 2, a matrix). */
async function spectrumOf(fn: string, x: tf.Tensor): Promise<Float64Array> {
  checkTensor(fn, 'x', x, [1, 2]);
  const values = Float64Array.from(await x.data());
  if (x.rank === 1) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!(v >= 0) || !Number.isFinite(v))
        throw new RangeError(
          `${fn}: x as a spectrum (rank 1) must hold finite singular values ≥ 0; got ${v} at index ${i}`,
        );
    }
    return Float64Array.from(values).sort().reverse();
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!))
      throw new RangeError(`${fn}: x contains NaN or Infinity; only finite values are allowed`);
  }
  return singularValuesHost({ rows: x.shape[0], cols: x.shape[1]!, data: values });
}

/**
 * Energy effective rank, seed 000's definition: the number of singular values needed for a
 * `threshold` share of the energy Σσ², i.e. `#{k : cumsum(σ²)_k / Σσ² < threshold} + 1` (capped
 * at the number of singular values; 0 for an all-zero input). `x` is a matrix `[m, n]` or its
 * singular values `[k]`.
 * @example
 * const r = await energyEffectiveRank(wV, 0.95);   // 58 of 64 for a random 512×64 projection
 */
export async function energyEffectiveRank(x: tf.Tensor, threshold = 0.95): Promise<number> {
  checkNumber('energyEffectiveRank', 'threshold', threshold, 0, 1, true);
  const s = await spectrumOf('energyEffectiveRank', x);
  let total = 0;
  for (const v of s) total += v * v;
  if (total === 0) return 0;
  let below = 0;
  let cum = 0;
  for (const v of s) {
    cum += v * v;
    if (cum / total < threshold) below += 1;
  }
  return Math.min(below + 1, s.length);
}

/**
 * Entropy effective rank (Roy & Vetterli, 2007): exp(−Σ pᵢ ln pᵢ) with pᵢ = σᵢ / Σσ (singular
 * values normalised by their sum, not squared; 0·ln 0 = 0). Lies in [1, rank]; 0 for an all-zero
 * input. `x` is a matrix `[m, n]` or its singular values `[k]`.
 * @example
 * const r = await entropyEffectiveRank(tf.tensor1d([3, 2, 1]));   // 2.7495
 */
export async function entropyEffectiveRank(x: tf.Tensor): Promise<number> {
  const s = await spectrumOf('entropyEffectiveRank', x);
  let total = 0;
  for (const v of s) total += v;
  if (total === 0) return 0;
  let h = 0;
  for (const v of s) {
    if (v === 0) continue;
    const p = v / total;
    h -= p * Math.log(p);
  }
  return Math.exp(h);
}

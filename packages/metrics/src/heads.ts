/** Diversity of what heads store (seed 000, experiment 2). */
import * as tf from '@tensorflow/tfjs-core';
import { corrcoefHost } from '@attnlab/linalg';
import { checkTensor } from './validate.js';

/** Seed 000's cut-off: a mean absolute correlation below it means the heads store diverse information. */
export const HEAD_DIVERSITY_THRESHOLD = 0.3;

export interface HeadCorrelation {
  /** Mean over head pairs i < j of |corr(flatten(head_i), flatten(head_j))|. */
  meanAbs: number;
  /** Number of pairs averaged: H(H−1)/2. */
  pairs: number;
  /** meanAbs < HEAD_DIVERSITY_THRESHOLD (0.3), the seed's "heads are storing diverse information". */
  diverse: boolean;
}

/**
 * Mean absolute Pearson correlation between heads: each head's values (e.g. V_h = X·W_V^h,
 * `[tokens, dV]`) are flattened and correlated with every other head's (the off-diagonal of
 * numpy's corrcoef on the stacked rows). `heads` is `[H, ...]` or an array of H equal-shape tensors.
 * @example
 * const { meanAbs, diverse } = await meanAbsHeadCorrelation(vPerHead);   // seed 000: 0.026, true
 */
export async function meanAbsHeadCorrelation(heads: tf.Tensor | tf.Tensor[]): Promise<HeadCorrelation> {
  const fn = 'meanAbsHeadCorrelation';
  let stacked: tf.Tensor;
  if (Array.isArray(heads)) {
    heads.forEach((h, i) => checkTensor(fn, `heads[${i}]`, h));
    const shape = heads[0]?.shape ?? [];
    heads.forEach((h, i) => {
      if (h.shape.length !== shape.length || h.shape.some((d, k) => d !== shape[k])) {
        throw new RangeError(
          `${fn}: every head must have the same shape; heads[0] is [${shape.join(', ')}], heads[${i}] is [${h.shape.join(', ')}]`,
        );
      }
    });
    stacked = heads.length > 0 ? tf.stack(heads) : tf.zeros([0, 0]);
  } else {
    checkTensor(fn, 'heads', heads);
    if (heads.rank < 2)
      throw new RangeError(`${fn}: heads must be rank ≥ 2 [H, ...]; got shape [${heads.shape.join(', ')}]`);
    stacked = heads;
  }
  const h = stacked.shape[0];
  const size = stacked.size / Math.max(h, 1);
  const data = Float64Array.from(await stacked.data());
  if (stacked !== heads) stacked.dispose();
  if (h < 2) throw new RangeError(`${fn}: needs at least 2 heads; got ${h}`);
  if (size < 2) throw new RangeError(`${fn}: each head needs at least 2 values to correlate; got ${size}`);
  const r = corrcoefHost({ rows: h, cols: size, data });
  let sum = 0;
  for (let i = 0; i < h; i++) for (let j = i + 1; j < h; j++) sum += Math.abs(r.data[i * h + j]!);
  const pairs = (h * (h - 1)) / 2;
  const meanAbs = sum / pairs;
  return { meanAbs, pairs, diverse: meanAbs < HEAD_DIVERSITY_THRESHOLD };
}

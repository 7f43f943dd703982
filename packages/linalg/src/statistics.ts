/** Correlation matrices and Cayley–Menger simplex volumes of tensors, computed in float64. */
import type * as tf from '@tensorflow/tfjs-core';
import { corrcoefHost, cayleyMengerVolumeSquaredHost } from './host/stats.js';
import { matrixAt, readMatrices, toTensor } from './io.js';

/**
 * Pearson correlation matrix with numpy's `corrcoef` semantics: each ROW of `x` `[..., vars, obs]`
 * is a variable, each column an observation (transpose first for columns-as-variables). Returns
 * `[..., vars, vars]`, clipped to [−1, 1]; a constant row gives NaN in its row and column.
 * @example
 * const r = await corrcoef(tf.tensor2d([[1, 2, 3], [1, 3, 2]]));   // [[1, 0.5], [0.5, 1]]
 */
export async function corrcoef(x: tf.Tensor): Promise<tf.Tensor> {
  const batch = await readMatrices('corrcoef', 'x', x);
  if (batch.cols < 2) {
    throw new RangeError(
      `corrcoef: x needs at least 2 observations (columns) per variable (row); got shape [${x.shape.join(', ')}]`,
    );
  }
  const v = batch.rows;
  const out = new Float64Array(batch.count * v * v);
  for (let b = 0; b < batch.count; b++) out.set(corrcoefHost(matrixAt(batch, b)).data, b * v * v);
  return toTensor(out, [...batch.batchShape, v, v]);
}

/**
 * Squared volume of each (N−1)-simplex in `points` `[..., N, D]` → `[...]`, by the Cayley–Menger
 * determinant in float64 whatever the backend: V² = (−1)^N / (2^(N−1) ((N−1)!)²) · det(CM).
 * Not clamped: a degenerate simplex may give a tiny negative value from rounding.
 * @example
 * const v2 = await cayleyMengerVolumeSquared(tf.tensor3d([[[0, 0], [1, 0], [0, 1]]]));   // [0.25]
 */
export async function cayleyMengerVolumeSquared(points: tf.Tensor): Promise<tf.Tensor> {
  const batch = await readMatrices('cayleyMengerVolumeSquared', 'points', points);
  if (batch.rows < 1) {
    throw new RangeError(
      `cayleyMengerVolumeSquared: points must hold at least 1 point [..., N ≥ 1, D]; got shape [${points.shape.join(', ')}]`,
    );
  }
  const out = new Float64Array(batch.count);
  const size = batch.rows * batch.cols;
  for (let b = 0; b < batch.count; b++)
    out[b] = cayleyMengerVolumeSquaredHost(batch.data, batch.rows, batch.cols, b * size);
  return toTensor(out, batch.batchShape);
}

/** Information lost by a value projection (seed 000, experiment 1). */
import type * as tf from '@tensorflow/tfjs-core';
import { matmul, pinvHost } from '@attnlab/linalg';
import { checkNumber, checkTensor } from './validate.js';

export interface ReconstructionError {
  /** mean((X − X̂)²) over all entries. */
  mse: number;
  /** mse / mean(X²): the share of the signal's energy lost (seed 000 prints it as a percentage). */
  relativeError: number;
  /** mean(X²). */
  meanSquare: number;
}

/**
 * Compresses `x` `[n, dIn]` with `w` `[dIn, dOut]` (V = X·W) and reconstructs through the
 * pseudo-inverse (X̂ = V·W⁺), all in float64 on the host; returns the absolute and relative
 * error. X̂ is the projection of X's rows on W's column space, so for a random W the relative
 * error is near 1 − dOut/dIn.
 * @example
 * const { relativeError } = await pinvReconstructionError(x, wV);   // ≈ 0.875 for 512 → 64
 */
export async function pinvReconstructionError(
  x: tf.Tensor,
  w: tf.Tensor,
  options: { rcond?: number } = {},
): Promise<ReconstructionError> {
  const fn = 'pinvReconstructionError';
  checkTensor(fn, 'x', x, [2]);
  checkTensor(fn, 'w', w, [2]);
  if (x.shape[1] !== w.shape[0]) {
    throw new RangeError(
      `${fn}: w must be [dIn, dOut] with dIn = x.shape[1] = ${x.shape[1]}; got x [${x.shape.join(', ')}], w [${w.shape.join(', ')}]`,
    );
  }
  const rcond = options.rcond ?? 1e-15;
  checkNumber(fn, 'options.rcond', rcond, 0, 1);
  const X = { rows: x.shape[0], cols: x.shape[1], data: Float64Array.from(await x.data()) };
  const W = { rows: w.shape[0], cols: w.shape[1]!, data: Float64Array.from(await w.data()) };
  const V = matmul(X, W);
  const Xhat = matmul(V, pinvHost(W, rcond));
  let se = 0;
  let ss = 0;
  for (let i = 0; i < X.data.length; i++) {
    const d = X.data[i]! - Xhat.data[i]!;
    se += d * d;
    ss += X.data[i]! * X.data[i]!;
  }
  const count = X.data.length;
  const mse = se / count;
  const meanSquare = ss / count;
  return { mse, relativeError: mse / meanSquare, meanSquare };
}

/** Information lost by a value projection (seed 000, experiment 1). */
import type * as tf from '@tensorflow/tfjs-core';
import { householderQr, matmul, pinvHost, singularValuesHost, svdHost } from '@attnlab/linalg';
import { checkNumber, checkTensor } from './validate.js';

export interface ReconstructionError {
  /** mean((X − X̂)²) over all entries. */
  mse: number;
  /** mse / mean(X²): the share of the signal's energy lost (seed 000 prints it as a percentage). */
  relativeError: number;
  /** mean(X²). */
  meanSquare: number;
  /** W's singular values, descending (float64; computed for the pseudo-inverse anyway). */
  singularValues: number[];
}

/**
 * Compresses `x` `[n, dIn]` with `w` `[dIn, dOut]` (V = X·W) and reconstructs through the
 * pseudo-inverse (X̂ = V·W⁺, numpy's cut-off rcond·max(σ)), all in float64 on the host; returns the
 * absolute and relative error and W's singular values. X̂ is the projection of X's rows on W's column
 * space, so for a random W the relative error is near 1 − dOut/dIn. For a tall W the error is
 * ‖X‖² − ‖X̂‖² (one QR and an SVD of the small R factor, no dIn × dOut product); an error below
 * ≈ 1e-16·‖X‖² reads as 0.
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
  let ss = 0;
  for (let i = 0; i < X.data.length; i++) ss += X.data[i]! * X.data[i]!;
  const count = X.data.length;
  const meanSquare = ss / count;
  let se: number;
  let singularValues: Float64Array;
  if (W.rows > W.cols) {
    // Tall W = Q·R (thin Householder QR) and R = U·S·Vᵀ: W⁺ = V·S⁺·(Q·U)ᵀ with W's singular values S
    // and numpy's cut-off, and W·W⁺ is an orthogonal projector, so ‖X − X̂‖² = ‖X‖² − ‖X̂‖² with
    // ‖X̂‖² = Σ_{s_r > cut-off} ‖(X·W)·v_r‖² / s_r². No dIn × dOut factor is formed.
    const { R } = householderQr(W, false);
    const { S, Vt } = svdHost(R);
    singularValues = S;
    const XW = matmul(X, W);
    const k = W.cols;
    const cutoff = rcond * (S.length > 0 ? S[0]! : 0);
    let kept = 0;
    for (let r = 0; r < S.length; r++) {
      const sr = S[r]!;
      if (!(sr > cutoff)) continue;
      for (let i = 0; i < XW.rows; i++) {
        let z = 0;
        for (let j = 0; j < k; j++) z += XW.data[i * k + j]! * Vt.data[r * k + j]!;
        kept += (z / sr) ** 2;
      }
    }
    se = Math.max(0, ss - kept);
  } else {
    const Xhat = matmul(matmul(X, W), pinvHost(W, rcond));
    singularValues = singularValuesHost(W);
    se = 0;
    for (let i = 0; i < X.data.length; i++) {
      const d = X.data[i]! - Xhat.data[i]!;
      se += d * d;
    }
  }
  const mse = se / count;
  return { mse, relativeError: mse / meanSquare, meanSquare, singularValues: Array.from(singularValues) };
}

/** SVD, singular values, pseudo-inverse and eigenvalues of tensors, computed on the host in float64. */
import type * as tf from '@tensorflow/tfjs-core';
import { eigenvaluesHost } from './host/eig.js';
import { pinvHost, singularValuesHost, svdHost } from './host/svd.js';
import { matrixAt, readMatrices, toTensor } from './io.js';

/** Thin SVD factors: `a = U · diag(S) · Vt` with `k = min(m, n)`. */
export interface SvdResult {
  /** Left singular vectors `[..., m, k]` (orthonormal columns). */
  U: tf.Tensor;
  /** Singular values `[..., k]`, descending, non-negative. */
  S: tf.Tensor;
  /** Right singular vectors, already transposed: `[..., k, n]` (orthonormal rows). */
  Vt: tf.Tensor;
}

/**
 * Thin singular value decomposition of `a` `[..., m, n]`, batched over leading dimensions.
 * @example
 * const { U, S, Vt } = await svd(tf.tensor2d([[3, 0], [4, 5]]));   // S ≈ [6.708, 2.236]
 */
export async function svd(a: tf.Tensor): Promise<SvdResult> {
  const batch = await readMatrices('svd', 'a', a, { finite: true });
  const { rows: m, cols: n, count, batchShape } = batch;
  const k = Math.min(m, n);
  const U = new Float64Array(count * m * k);
  const S = new Float64Array(count * k);
  const Vt = new Float64Array(count * k * n);
  for (let b = 0; b < count; b++) {
    const r = svdHost(matrixAt(batch, b));
    U.set(r.U.data, b * m * k);
    S.set(r.S, b * k);
    Vt.set(r.Vt.data, b * k * n);
  }
  return {
    U: toTensor(U, [...batchShape, m, k]),
    S: toTensor(S, [...batchShape, k]),
    Vt: toTensor(Vt, [...batchShape, k, n]),
  };
}

/**
 * Singular values of `a` `[..., m, n]`, descending, as `[..., min(m, n)]` (no vectors are formed).
 * @example
 * const s = await singularValues(tf.tensor2d([[3, 0], [4, 5]]));   // [6.708, 2.236]
 */
export async function singularValues(a: tf.Tensor): Promise<tf.Tensor> {
  const batch = await readMatrices('singularValues', 'a', a, { finite: true });
  const k = Math.min(batch.rows, batch.cols);
  const S = new Float64Array(batch.count * k);
  for (let b = 0; b < batch.count; b++) S.set(singularValuesHost(matrixAt(batch, b)), b * k);
  return toTensor(S, [...batch.batchShape, k]);
}

/**
 * Moore–Penrose pseudo-inverse `[..., n, m]` of `a` `[..., m, n]` with numpy's cut-off: singular
 * values ≤ `rcond · max(S)` count as zero (default rcond 1e-15, as numpy and torch).
 * @example
 * const p = await pinv(tf.tensor2d([[1, 2], [2, 4]]));   // [[0.04, 0.08], [0.08, 0.16]]
 */
export async function pinv(a: tf.Tensor, rcond = 1e-15): Promise<tf.Tensor> {
  if (typeof rcond !== 'number' || !Number.isFinite(rcond) || rcond < 0) {
    throw new RangeError(`pinv: rcond must be a finite number ≥ 0; got ${String(rcond)}`);
  }
  const batch = await readMatrices('pinv', 'a', a, { finite: true });
  const { rows: m, cols: n } = batch;
  const out = new Float64Array(batch.count * m * n);
  for (let b = 0; b < batch.count; b++) out.set(pinvHost(matrixAt(batch, b), rcond).data, b * m * n);
  return toTensor(out, [...batch.batchShape, n, m]);
}

/** Eigenvalues as real and imaginary parts, each `[..., n]`. */
export interface EigenvaluesResult {
  real: tf.Tensor;
  imag: tf.Tensor;
}

/**
 * Eigenvalues of general real square matrices `[..., n, n]` (Hessenberg + Francis QR). Sorted by
 * real part descending, then |imag| descending; a conjugate pair is adjacent, `+imag` first.
 * @example
 * const { real, imag } = await eigenvalues(tf.tensor2d([[0, -1], [1, 0]]));   // 0 ± 1i
 */
export async function eigenvalues(a: tf.Tensor): Promise<EigenvaluesResult> {
  const batch = await readMatrices('eigenvalues', 'a', a, { square: true, finite: true });
  const n = batch.rows;
  const re = new Float64Array(batch.count * n);
  const im = new Float64Array(batch.count * n);
  for (let b = 0; b < batch.count; b++) {
    const r = eigenvaluesHost(matrixAt(batch, b));
    re.set(r.real, b * n);
    im.set(r.imag, b * n);
  }
  return { real: toTensor(re, [...batch.batchShape, n]), imag: toTensor(im, [...batch.batchShape, n]) };
}

/** Determinants, linear solves and Cholesky factors of tensors, computed on the host in float64. */
import type * as tf from '@tensorflow/tfjs-core';
import { choleskyHost, detHost, solveHost } from './host/lu.js';
import { checkTensor, matrixAt, readMatrices, toTensor } from './io.js';

/**
 * Determinant of each square matrix in `a` `[..., n, n]` → `[...]` (LU with partial pivoting).
 * @example
 * const d = await det(tf.tensor2d([[1, 2], [3, 4]]));   // -2
 */
export async function det(a: tf.Tensor): Promise<tf.Tensor> {
  const batch = await readMatrices('det', 'a', a, { square: true });
  const out = new Float64Array(batch.count);
  for (let b = 0; b < batch.count; b++) out[b] = detHost(matrixAt(batch, b));
  return toTensor(out, batch.batchShape);
}

/**
 * Solves `a · x = b` for square `a` `[..., n, n]`. `b` is `[..., n, k]` with the same batch
 * dimensions (result `[..., n, k]`), or a vector `[n]` when `a` is a single matrix (result `[n]`),
 * as numpy's `linalg.solve`. Throws when `a` is exactly singular.
 * @example
 * const x = await solve(tf.tensor2d([[2, 0], [0, 4]]), tf.tensor1d([2, 2]));   // [1, 0.5]
 */
export async function solve(a: tf.Tensor, b: tf.Tensor): Promise<tf.Tensor> {
  checkTensor('solve', 'b', b);
  const A = await readMatrices('solve', 'a', a, { square: true });
  const n = A.rows;
  const vector = b.rank === 1;
  if (vector) {
    if (A.batchShape.length !== 0 || b.shape[0] !== n) {
      throw new RangeError(
        `solve: a vector b [n] needs a single matrix a [n, n] with n = ${b.shape[0]}; got a [${a.shape.join(', ')}], b [${b.shape.join(', ')}]`,
      );
    }
  } else {
    const expected = [...A.batchShape, n];
    const ok = b.rank === A.batchShape.length + 2 && expected.every((d, i) => b.shape[i] === d);
    if (!ok) {
      throw new RangeError(
        `solve: b must be [${expected.join(', ')}, k] (same batch dims as a, ${n} rows) or [${n}] for a single a; got b [${b.shape.join(', ')}] with a [${a.shape.join(', ')}]`,
      );
    }
  }
  const B = vector
    ? { rows: n, cols: 1, count: 1, batchShape: [], data: Float64Array.from(await b.data()) }
    : await readMatrices('solve', 'b', b);
  const k = B.cols;
  const out = new Float64Array(A.count * n * k);
  for (let i = 0; i < A.count; i++) {
    const x = solveHost(matrixAt(A, i), matrixAt(B, i));
    out.set(x.data, i * n * k);
  }
  return toTensor(out, vector ? [n] : [...A.batchShape, n, k]);
}

/**
 * Lower Cholesky factor `L` (`a = L·Lᵀ`) of each symmetric positive-definite matrix in
 * `a` `[..., n, n]`. Only the lower triangle is read (LAPACK/numpy). Throws if not positive definite.
 * @example
 * const L = await cholesky(tf.tensor2d([[4, 2], [2, 3]]));   // [[2, 0], [1, 1.4142135]]
 */
export async function cholesky(a: tf.Tensor): Promise<tf.Tensor> {
  const batch = await readMatrices('cholesky', 'a', a, { square: true });
  const n = batch.rows;
  const out = new Float64Array(batch.count * n * n);
  for (let b = 0; b < batch.count; b++) {
    const r = choleskyHost(matrixAt(batch, b));
    if ('failedAt' in r) {
      const where = batch.count > 1 ? ` (matrix ${b} of the batch)` : '';
      throw new RangeError(
        `cholesky: a must be symmetric positive definite${where}; the leading ${r.failedAt + 1}×${r.failedAt + 1} minor is not (pivot ${r.pivot})`,
      );
    }
    out.set(r.L.data, b * n * n);
  }
  return toTensor(out, [...batch.batchShape, n, n]);
}

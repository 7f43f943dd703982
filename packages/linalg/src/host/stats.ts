/** Correlation coefficients and Cayley–Menger simplex volumes, in float64. */
import { type HostMatrix, zeros } from './matrix.js';
import { detHost } from './lu.js';

/**
 * Pearson correlation matrix with numpy's `corrcoef` semantics: each ROW of `x` is a variable,
 * each column an observation. Entries are clipped to [−1, 1]; a row with zero variance gives NaN
 * in its row and column (numpy warns and does the same).
 * @example
 * corrcoefHost(fromRows([[1, 2, 3], [1, 3, 2]])).data;   // [1, 0.5, 0.5, 1]
 */
export function corrcoefHost(x: HostMatrix): HostMatrix {
  const v = x.rows;
  const n = x.cols;
  const centered = new Float64Array(x.data);
  for (let i = 0; i < v; i++) {
    let mean = 0;
    for (let j = 0; j < n; j++) mean += centered[i * n + j]!;
    mean /= n;
    for (let j = 0; j < n; j++) centered[i * n + j] = centered[i * n + j]! - mean;
  }
  const cov = zeros(v, v);
  for (let i = 0; i < v; i++) {
    for (let k = i; k < v; k++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += centered[i * n + j]! * centered[k * n + j]!;
      cov.data[i * v + k] = s;
      cov.data[k * v + i] = s;
    }
  }
  const out = zeros(v, v);
  for (let i = 0; i < v; i++) {
    for (let k = 0; k < v; k++) {
      const r = cov.data[i * v + k]! / (Math.sqrt(cov.data[i * v + i]!) * Math.sqrt(cov.data[k * v + k]!));
      out.data[i * v + k] = Number.isNaN(r) ? NaN : Math.min(1, Math.max(-1, r));
    }
  }
  return out;
}

/** n! for small n. */
function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

/**
 * Squared volume of the (N−1)-simplex spanned by N points (`points` is row-major `N × D`), through
 * the Cayley–Menger determinant: V² = (−1)^N / (2^(N−1) ((N−1)!)²) · det(CM), where CM is the
 * (N+1)×(N+1) bordered matrix of squared distances. Squared distances are formed from coordinate
 * differences (not from a Gram matrix) so that no cancellation creeps in. Not clamped: a degenerate
 * simplex may give a tiny negative number from rounding.
 * @example
 * cayleyMengerVolumeSquaredHost([0, 0, 1, 0, 0, 1], 3, 2);   // 0.25 (triangle of area ½)
 */
export function cayleyMengerVolumeSquaredHost(points: ArrayLike<number>, n: number, d: number, offset = 0): number {
  const size = n + 1;
  const cm = zeros(size, size);
  for (let i = 1; i < size; i++) {
    cm.data[i] = 1;
    cm.data[i * size] = 1;
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      const oi = offset + i * d;
      const oj = offset + j * d;
      for (let k = 0; k < d; k++) {
        const diff = points[oi + k]! - points[oj + k]!;
        s += diff * diff;
      }
      cm.data[(i + 1) * size + (j + 1)] = s;
      cm.data[(j + 1) * size + (i + 1)] = s;
    }
  }
  const k = n - 1;
  const coefficient = (n % 2 === 0 ? 1 : -1) / (2 ** k * factorial(k) ** 2);
  return coefficient * detHost(cm);
}

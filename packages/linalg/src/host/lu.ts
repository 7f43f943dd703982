/** LU with partial pivoting, determinants, linear solves and Cholesky, in float64. */
import { type HostMatrix, zeros } from './matrix.js';

export interface HostLu {
  /** Packed factors: strictly-lower part is L (unit diagonal), upper part is U. */
  lu: Float64Array;
  n: number;
  /** Row permutation: row i of P·A is row `perm[i]` of A. */
  perm: Int32Array;
  /** +1 or −1, the sign of the permutation. */
  sign: number;
  /** True when a pivot was exactly zero (the matrix is singular in float64). */
  singular: boolean;
}

/** LU factorisation `P·A = L·U` of a square matrix with partial (row) pivoting.  * @example
 * const { lu, perm, sign } = luHost(fromRows([[0, 1], [1, 0]]));   // sign −1
 */
export function luHost(a: HostMatrix): HostLu {
  const n = a.rows;
  if (a.cols !== n) throw new RangeError(`lu: matrix must be square; got ${a.rows}×${a.cols}`);
  const lu = Float64Array.from(a.data);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  let sign = 1;
  let singular = false;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(lu[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]!);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j]!;
        lu[k * n + j] = lu[p * n + j]!;
        lu[p * n + j] = t;
      }
      const t = perm[k]!;
      perm[k] = perm[p]!;
      perm[p] = t;
      sign = -sign;
    }
    const pivot = lu[k * n + k]!;
    if (pivot === 0) {
      singular = true;
      continue;
    }
    for (let i = k + 1; i < n; i++) {
      const f = lu[i * n + k]! / pivot;
      lu[i * n + k] = f;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) lu[i * n + j] = lu[i * n + j]! - f * lu[k * n + j]!;
    }
  }
  return { lu, n, perm, sign, singular };
}

/** Determinant of a square matrix through LU (0 for an exactly singular one).  * @example
 * detHost(fromRows([[1, 2], [3, 4]]));   // -2
 */
export function detHost(a: HostMatrix): number {
  if (a.rows !== a.cols) throw new RangeError(`det: matrix must be square; got ${a.rows}×${a.cols}`);
  if (a.rows === 0) return 1;
  const { lu, n, sign, singular } = luHost(a);
  if (singular) return 0;
  let d = sign;
  for (let i = 0; i < n; i++) d *= lu[i * n + i]!;
  return d;
}

/**
 * Solves `a · x = b` for square `a` and `b` of shape `n × k`. Throws a RangeError when `a` is
 * exactly singular (a zero pivot), like numpy's LinAlgError.
 * @example
 * solveHost(fromRows([[2, 0], [0, 4]]), fromRows([[2], [2]])).data;   // [1, 0.5]
 */
export function solveHost(a: HostMatrix, b: HostMatrix): HostMatrix {
  const n = a.rows;
  if (a.cols !== n) throw new RangeError(`solve: a must be square; got ${a.rows}×${a.cols}`);
  if (b.rows !== n) throw new RangeError(`solve: b must have ${n} rows to match a; got ${b.rows}`);
  const { lu, perm, singular } = luHost(a);
  if (singular) throw new RangeError(`solve: a is singular (a zero pivot in LU with partial pivoting)`);
  const k = b.cols;
  const x = zeros(n, k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) x.data[i * k + j] = b.data[perm[i]! * k + j]!;
  // Forward substitution with unit-lower L.
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) {
      const l = lu[i * n + p]!;
      if (l === 0) continue;
      for (let j = 0; j < k; j++) x.data[i * k + j] = x.data[i * k + j]! - l * x.data[p * k + j]!;
    }
  }
  // Back substitution with U.
  for (let i = n - 1; i >= 0; i--) {
    for (let p = i + 1; p < n; p++) {
      const u = lu[i * n + p]!;
      if (u === 0) continue;
      for (let j = 0; j < k; j++) x.data[i * k + j] = x.data[i * k + j]! - u * x.data[p * k + j]!;
    }
    const d = lu[i * n + i]!;
    for (let j = 0; j < k; j++) x.data[i * k + j] = x.data[i * k + j]! / d;
  }
  return x;
}

/**
 * Cholesky factor `L` (lower triangular, `a = L·Lᵀ`) of a symmetric positive-definite matrix.
 * Like LAPACK's potrf, only the lower triangle of `a` is read. Returns the index of the first
 * non-positive pivot instead of a factor when `a` is not positive definite.
 * @example
 * const r = choleskyHost(fromRows([[4, 2], [2, 3]]));   // { L } with L = [[2, 0], [1, √2]]
 */
export function choleskyHost(a: HostMatrix): { L: HostMatrix } | { failedAt: number; pivot: number } {
  const n = a.rows;
  if (a.cols !== n) throw new RangeError(`cholesky: matrix must be square; got ${a.rows}×${a.cols}`);
  const L = zeros(n, n);
  for (let j = 0; j < n; j++) {
    let d = a.data[j * n + j]!;
    for (let k = 0; k < j; k++) d -= L.data[j * n + k]! * L.data[j * n + k]!;
    if (!(d > 0)) return { failedAt: j, pivot: d };
    const ljj = Math.sqrt(d);
    L.data[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a.data[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L.data[i * n + k]! * L.data[j * n + k]!;
      L.data[i * n + j] = s / ljj;
    }
  }
  return { L };
}

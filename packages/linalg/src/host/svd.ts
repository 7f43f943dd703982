/**
 * Thin singular value decomposition in float64: Householder QR to square the problem, then
 * one-sided (Hestenes) Jacobi rotations on the triangular factor. One-sided Jacobi computes
 * small singular values to high relative accuracy (Demmel & Veselić 1992), which is what makes
 * the Hilbert-matrix test pass where bidiagonal QR loses the smallest ones.
 */
import { type HostMatrix, zeros } from './matrix.js';

export interface HostSvd {
  /** Left singular vectors, `rows × k` with `k = min(rows, cols)`. */
  U: HostMatrix;
  /** Singular values, descending, length k. */
  S: Float64Array;
  /** Right singular vectors transposed, `k × cols`. */
  Vt: HostMatrix;
}

const EPS = 2.220446049250313e-16;
const MAX_SWEEPS = 80;

/**
 * Householder QR of a tall `m × n` matrix (m ≥ n): returns the thin Q (`m × n`; `m × 0` when
 * `wantQ` is false) and R (`n × n`).
 * @example
 * const { Q, R } = householderQr(fromRows([[3, 1], [4, 2], [0, 0]]));   // R[0][0] = −5
 */
export function householderQr(a: HostMatrix, wantQ = true): { Q: HostMatrix; R: HostMatrix } {
  const m = a.rows;
  const n = a.cols;
  if (m < n) throw new RangeError(`householderQr: needs rows ≥ cols; got ${m}×${n}`);
  // Work on columns stored contiguously: w[j*m + i] = a[i, j].
  const w = new Float64Array(n * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) w[j * m + i] = a.data[i * n + j]!;
  const vs: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    const ko = k * m;
    let sq = 0;
    for (let i = k; i < m; i++) sq += w[ko + i]! * w[ko + i]!;
    const norm = Math.sqrt(sq);
    const v = new Float64Array(m - k);
    vs.push(v);
    if (norm === 0) continue;
    const x0 = w[ko + k]!;
    const alpha = x0 >= 0 ? -norm : norm;
    for (let i = k; i < m; i++) v[i - k] = w[ko + i]!;
    v[0] = x0 - alpha;
    // ‖v‖² = ‖x‖² − 2·alpha·x0 + alpha² = 2·norm·(norm + |x0|), without cancellation.
    const vnorm = Math.sqrt(2 * norm * (norm + Math.abs(x0)));
    for (let i = 0; i < v.length; i++) v[i] = v[i]! / vnorm;
    w[ko + k] = alpha;
    for (let i = k + 1; i < m; i++) w[ko + i] = 0;
    // Apply H = I − 2 v vᵀ to the trailing columns k+1..n−1.
    for (let j = k + 1; j < n; j++) {
      const jo = j * m + k;
      let dot = 0;
      for (let i = 0; i < v.length; i++) dot += v[i]! * w[jo + i]!;
      dot *= 2;
      for (let i = 0; i < v.length; i++) w[jo + i] = w[jo + i]! - dot * v[i]!;
    }
  }
  const R = zeros(n, n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) R.data[i * n + j] = w[j * m + i]!;
  if (!wantQ) return { Q: zeros(m, 0), R };
  // Q = H_0 H_1 … H_{n−1} [I_n; 0], applied from the last reflector backwards, column by column
  // (columns of Q stored contiguously in qt).
  const qt = new Float64Array(n * m);
  for (let j = 0; j < n; j++) qt[j * m + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k]!;
    for (let j = k; j < n; j++) {
      const jo = j * m + k;
      let dot = 0;
      for (let i = 0; i < v.length; i++) dot += v[i]! * qt[jo + i]!;
      if (dot === 0) continue;
      dot *= 2;
      for (let i = 0; i < v.length; i++) qt[jo + i] = qt[jo + i]! - dot * v[i]!;
    }
  }
  const Q = zeros(m, n);
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) Q.data[i * n + j] = qt[j * m + i]!;
  return { Q, R };
}

/**
 * One-sided Jacobi on the columns of `b` (`m × n`, m ≥ n). Works on the transpose so that each
 * column is a contiguous row. Returns column norms (unsorted), the normalised columns and V.
 */
function jacobiColumns(b: HostMatrix, wantVectors: boolean): { W: Float64Array; V: Float64Array; norms: Float64Array } {
  const m = b.rows;
  const n = b.cols;
  const W = new Float64Array(n * m); // W[j*m + i] = b[i, j]
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) W[j * m + i] = b.data[i * n + j]!;
  const V = new Float64Array(wantVectors ? n * n : 0); // V[j*n + i] = V_{i j} (column j contiguous)
  if (wantVectors) for (let j = 0; j < n; j++) V[j * n + j] = 1;
  const tol = EPS * Math.sqrt(m);
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      const po = p * m;
      for (let q = p + 1; q < n; q++) {
        const qo = q * m;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const x = W[po + i]!;
          const y = W[qo + i]!;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || alpha === 0 || beta === 0) continue;
        if (Math.abs(gamma) <= tol * Math.sqrt(alpha) * Math.sqrt(beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t =
          Math.abs(zeta) > 1e150
            ? 1 / (2 * zeta)
            : Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const x = W[po + i]!;
          const y = W[qo + i]!;
          W[po + i] = c * x - s * y;
          W[qo + i] = s * x + c * y;
        }
        if (wantVectors) {
          const pv = p * n;
          const qv = q * n;
          for (let i = 0; i < n; i++) {
            const x = V[pv + i]!;
            const y = V[qv + i]!;
            V[pv + i] = c * x - s * y;
            V[qv + i] = s * x + c * y;
          }
        }
      }
    }
    if (!rotated) break;
    if (sweep === MAX_SWEEPS - 1) throw new Error(`svd: Jacobi iteration did not converge in ${MAX_SWEEPS} sweeps`);
  }
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    // Scaled norm, safe from overflow/underflow.
    let scale = 0;
    for (let i = 0; i < m; i++) scale = Math.max(scale, Math.abs(W[j * m + i]!));
    if (scale > 0) {
      for (let i = 0; i < m; i++) {
        const x = W[j * m + i]! / scale;
        s += x * x;
      }
      norms[j] = scale * Math.sqrt(s);
    }
  }
  return { W, V, norms };
}

/**
 * Completes the columns of `u` (stored as contiguous rows of length m, `cols` of them) flagged in
 * `missing` to an orthonormal set, using standard basis vectors and two passes of Gram–Schmidt.
 */
function completeOrthonormal(u: Float64Array, m: number, cols: number, missing: boolean[]): void {
  let basis = 0;
  for (let j = 0; j < cols; j++) {
    if (!missing[j]) continue;
    for (; basis < m; basis++) {
      const v = new Float64Array(m);
      v[basis] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < cols; k++) {
          if (k === j || (missing[k] && k > j)) continue;
          let dot = 0;
          for (let i = 0; i < m; i++) dot += u[k * m + i]! * v[i]!;
          for (let i = 0; i < m; i++) v[i] = v[i]! - dot * u[k * m + i]!;
        }
      }
      let norm = 0;
      for (let i = 0; i < m; i++) norm += v[i]! * v[i]!;
      norm = Math.sqrt(norm);
      if (norm > 0.5) {
        for (let i = 0; i < m; i++) u[j * m + i] = v[i]! / norm;
        basis++;
        break;
      }
    }
  }
}

/** Thin SVD of a tall or square matrix (m ≥ n) by Jacobi, with vectors or without. */
function svdTall(a: HostMatrix, wantVectors: boolean): HostSvd {
  const m = a.rows;
  const n = a.cols;
  let b = a;
  let Q: HostMatrix | undefined;
  if (m > n) {
    const qr = householderQr(a, wantVectors);
    b = qr.R;
    Q = qr.Q;
  }
  const mb = b.rows;
  const { W, V, norms } = jacobiColumns(b, wantVectors);
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => norms[y]! - norms[x]! || x - y);
  const S = new Float64Array(n);
  for (let r = 0; r < n; r++) S[r] = norms[order[r]!]!;
  if (!wantVectors) return { U: zeros(m, 0), S, Vt: zeros(0, n) };
  // Left vectors of b as contiguous rows (column r of Ub is ub[r*mb ..]).
  const ub = new Float64Array(n * mb);
  const missing: boolean[] = [];
  for (let r = 0; r < n; r++) {
    const j = order[r]!;
    const s = S[r]!;
    const ok = s > 0 && Number.isFinite(1 / s);
    missing.push(!ok);
    if (ok) for (let i = 0; i < mb; i++) ub[r * mb + i] = W[j * mb + i]! / s;
  }
  if (missing.some(Boolean)) completeOrthonormal(ub, mb, n, missing);
  const Vt = zeros(n, n);
  for (let r = 0; r < n; r++) {
    const j = order[r]!;
    for (let i = 0; i < n; i++) Vt.data[r * n + i] = V[j * n + i]!;
  }
  const U = zeros(m, n);
  if (Q) {
    // U = Q · Ub
    for (let i = 0; i < m; i++) {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += Q.data[i * n + k]! * ub[r * mb + k]!;
        U.data[i * n + r] = s;
      }
    }
  } else {
    for (let i = 0; i < m; i++) for (let r = 0; r < n; r++) U.data[i * n + r] = ub[r * mb + i]!;
  }
  return { U, S, Vt };
}

function transposeOf(a: HostMatrix): HostMatrix {
  const t = zeros(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) t.data[j * a.rows + i] = a.data[i * a.cols + j]!;
  return t;
}

/** Thin SVD `a = U · diag(S) · Vt` in float64, singular values descending.  * @example
 * const { U, S, Vt } = svdHost(fromRows([[3, 0], [4, 5]]));   // S = [6.708…, 2.236…]
 */
export function svdHost(a: HostMatrix): HostSvd {
  if (a.rows >= a.cols) return svdTall(a, true);
  const t = svdTall(transposeOf(a), true);
  // aᵀ = U' S V'ᵀ  ⇒  a = V' S U'ᵀ
  return { U: transposeOf(t.Vt), S: t.S, Vt: transposeOf(t.U) };
}

/** Singular values of `a`, descending, in float64 (no vectors formed).  * @example
 * singularValuesHost(fromRows([[3, 0], [4, 5]]));   // Float64Array [6.708…, 2.236…]
 */
export function singularValuesHost(a: HostMatrix): Float64Array {
  return (a.rows >= a.cols ? svdTall(a, false) : svdTall(transposeOf(a), false)).S;
}

/**
 * Moore–Penrose pseudo-inverse (`cols × rows`) with numpy's cut-off: singular values at or below
 * `rcond · max(S)` are treated as zero.
 * @example
 * pinvHost(fromRows([[1, 2], [2, 4]])).data;   // [0.04, 0.08, 0.08, 0.16]
 */
export function pinvHost(a: HostMatrix, rcond = 1e-15): HostMatrix {
  const { U, S, Vt } = svdHost(a);
  const m = a.rows;
  const n = a.cols;
  const k = S.length;
  const cutoff = rcond * (k > 0 ? S[0]! : 0);
  const out = zeros(n, m);
  for (let r = 0; r < k; r++) {
    const s = S[r]!;
    if (!(s > cutoff)) continue;
    const inv = 1 / s;
    for (let i = 0; i < n; i++) {
      const v = Vt.data[r * n + i]! * inv;
      if (v === 0) continue;
      for (let j = 0; j < m; j++) out.data[i * m + j] = out.data[i * m + j]! + v * U.data[j * k + r]!;
    }
  }
  return out;
}

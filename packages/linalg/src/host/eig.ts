/**
 * Eigenvalues of a general real square matrix in float64: balancing (Parlett–Reinsch, powers of
 * two), Householder reduction to upper Hessenberg form, then the Francis double-shift QR
 * iteration with deflation and exceptional shifts (the EISPACK `hqr` scheme).
 */
import type { HostMatrix } from './matrix.js';

const MAX_ITERATIONS_PER_ROOT = 60;

/** Scales rows and columns by powers of two so that row and column norms are comparable. */
function balance(a: Float64Array, n: number): void {
  const radix = 2;
  const radix2 = radix * radix;
  let done = false;
  while (!done) {
    done = true;
    for (let i = 0; i < n; i++) {
      let r = 0;
      let c = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        c += Math.abs(a[j * n + i]!);
        r += Math.abs(a[i * n + j]!);
      }
      if (c === 0 || r === 0) continue;
      const s = c + r;
      let f = 1;
      let g = r / radix;
      while (c < g) {
        f *= radix;
        c *= radix2;
      }
      g = r * radix;
      while (c > g) {
        f /= radix;
        c /= radix2;
      }
      if ((c + r) / f < 0.95 * s) {
        done = false;
        const inv = 1 / f;
        for (let j = 0; j < n; j++) a[i * n + j] = a[i * n + j]! * inv;
        for (let j = 0; j < n; j++) a[j * n + i] = a[j * n + i]! * f;
      }
    }
  }
}

/** In-place orthogonal similarity reduction to upper Hessenberg form. */
function toHessenberg(a: Float64Array, n: number): void {
  const v = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm = Math.hypot(norm, a[i * n + k]!);
    if (norm === 0) continue;
    const x0 = a[(k + 1) * n + k]!;
    const alpha = x0 >= 0 ? -norm : norm;
    v.fill(0);
    for (let i = k + 1; i < n; i++) v[i] = a[i * n + k]!;
    v[k + 1] = x0 - alpha;
    let vn = 0;
    for (let i = k + 1; i < n; i++) vn = Math.hypot(vn, v[i]!);
    if (vn === 0) continue;
    for (let i = k + 1; i < n; i++) v[i] = v[i]! / vn;
    // Left: rows k+1.., all columns from k.
    for (let j = k; j < n; j++) {
      let dot = 0;
      for (let i = k + 1; i < n; i++) dot += v[i]! * a[i * n + j]!;
      dot *= 2;
      for (let i = k + 1; i < n; i++) a[i * n + j] = a[i * n + j]! - dot * v[i]!;
    }
    // Right: all rows, columns k+1..
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = k + 1; j < n; j++) dot += a[i * n + j]! * v[j]!;
      dot *= 2;
      for (let j = k + 1; j < n; j++) a[i * n + j] = a[i * n + j]! - dot * v[j]!;
    }
    a[(k + 1) * n + k] = alpha;
    for (let i = k + 2; i < n; i++) a[i * n + k] = 0;
  }
}

const sign = (a: number, b: number): number => (b >= 0 ? Math.abs(a) : -Math.abs(a));

/** Francis double-shift QR on an upper Hessenberg matrix (destroyed). */
function hessenbergEigenvalues(h: Float64Array, n: number): { real: Float64Array; imag: Float64Array } {
  const real = new Float64Array(n);
  const imag = new Float64Array(n);
  const at = (i: number, j: number): number => h[i * n + j]!;
  const put = (i: number, j: number, v: number): void => {
    h[i * n + j] = v;
  };
  let anorm = 0;
  for (let i = 0; i < n; i++) for (let j = Math.max(i - 1, 0); j < n; j++) anorm += Math.abs(at(i, j));
  let nn = n - 1;
  let shift = 0;
  let its = 0;
  while (nn >= 0) {
    // Find the lowest small subdiagonal element: the active block is rows/cols l..nn.
    let l = nn;
    for (; l >= 1; l--) {
      let s = Math.abs(at(l - 1, l - 1)) + Math.abs(at(l, l));
      if (s === 0) s = anorm;
      if (Math.abs(at(l, l - 1)) + s === s) {
        put(l, l - 1, 0);
        break;
      }
    }
    let x = at(nn, nn);
    if (l === nn) {
      real[nn] = x + shift;
      imag[nn] = 0;
      nn -= 1;
      its = 0;
      continue;
    }
    let y = at(nn - 1, nn - 1);
    let w = at(nn, nn - 1) * at(nn - 1, nn);
    if (l === nn - 1) {
      // A 2×2 block: its two eigenvalues in closed form.
      const p = 0.5 * (y - x);
      const q = p * p + w;
      const z = Math.sqrt(Math.abs(q));
      const xs = x + shift;
      if (q >= 0) {
        const zz = p + sign(z, p);
        real[nn - 1] = xs + zz;
        real[nn] = zz !== 0 ? xs - w / zz : xs + zz;
        imag[nn - 1] = 0;
        imag[nn] = 0;
      } else {
        real[nn - 1] = xs + p;
        real[nn] = xs + p;
        imag[nn - 1] = z;
        imag[nn] = -z;
      }
      nn -= 2;
      its = 0;
      continue;
    }
    if (its === MAX_ITERATIONS_PER_ROOT)
      throw new Error(`eigenvalues: QR iteration did not converge after ${its} iterations`);
    if (its === 10 || its === 20) {
      // Exceptional shift (Wilkinson), to break cycles.
      shift += x;
      for (let i = 0; i <= nn; i++) put(i, i, at(i, i) - x);
      const s = Math.abs(at(nn, nn - 1)) + Math.abs(at(nn - 1, nn - 2));
      x = 0.75 * s;
      y = x;
      w = -0.4375 * s * s;
    }
    its += 1;
    // Form the double shift and look for two consecutive small subdiagonal elements.
    let m = nn - 2;
    let p = 0;
    let q = 0;
    let r = 0;
    for (; m >= l; m--) {
      const z = at(m, m);
      const rr = x - z;
      const ss = y - z;
      p = (rr * ss - w) / at(m + 1, m) + at(m, m + 1);
      q = at(m + 1, m + 1) - z - rr - ss;
      r = at(m + 2, m + 1);
      const s = Math.abs(p) + Math.abs(q) + Math.abs(r);
      p /= s;
      q /= s;
      r /= s;
      if (m === l) break;
      const u = Math.abs(at(m, m - 1)) * (Math.abs(q) + Math.abs(r));
      const v = Math.abs(p) * (Math.abs(at(m - 1, m - 1)) + Math.abs(z) + Math.abs(at(m + 1, m + 1)));
      if (u + v === v) break;
    }
    for (let i = m + 2; i <= nn; i++) {
      put(i, i - 2, 0);
      if (i !== m + 2) put(i, i - 3, 0);
    }
    // The double QR step on rows l..nn and columns m..nn, as a chain of 3×3 reflectors.
    for (let k = m; k <= nn - 1; k++) {
      let scale = 1;
      if (k !== m) {
        p = at(k, k - 1);
        q = at(k + 1, k - 1);
        r = k !== nn - 1 ? at(k + 2, k - 1) : 0;
        scale = Math.abs(p) + Math.abs(q) + Math.abs(r);
        if (scale !== 0) {
          p /= scale;
          q /= scale;
          r /= scale;
        }
      }
      const s = sign(Math.sqrt(p * p + q * q + r * r), p);
      if (s === 0) continue;
      if (k === m) {
        if (l !== m) put(k, k - 1, -at(k, k - 1));
      } else {
        put(k, k - 1, -s * scale);
      }
      p += s;
      const vx = p / s;
      const vy = q / s;
      const vz = r / s;
      q /= p;
      r /= p;
      for (let j = k; j <= nn; j++) {
        let t = at(k, j) + q * at(k + 1, j);
        if (k !== nn - 1) {
          t += r * at(k + 2, j);
          put(k + 2, j, at(k + 2, j) - t * vz);
        }
        put(k + 1, j, at(k + 1, j) - t * vy);
        put(k, j, at(k, j) - t * vx);
      }
      const last = Math.min(nn, k + 3);
      for (let i = l; i <= last; i++) {
        let t = vx * at(i, k) + vy * at(i, k + 1);
        if (k !== nn - 1) {
          t += vz * at(i, k + 2);
          put(i, k + 2, at(i, k + 2) - t * r);
        }
        put(i, k + 1, at(i, k + 1) - t * q);
        put(i, k, at(i, k) - t);
      }
    }
  }
  return { real, imag };
}

/**
 * Eigenvalues of a real square matrix. Sorted by real part (descending), then by |imaginary
 * part| (descending); a complex conjugate pair is adjacent with the positive imaginary part first,
 * and the two members have exactly equal real parts and opposite imaginary parts.
 * @example
 * eigenvaluesHost(fromRows([[0, -1], [1, 0]]));   // real [0, 0], imag [1, -1]
 */
export function eigenvaluesHost(a: HostMatrix): { real: Float64Array; imag: Float64Array } {
  const n = a.rows;
  if (a.cols !== n) throw new RangeError(`eigenvalues: matrix must be square; got ${a.rows}×${a.cols}`);
  const h = Float64Array.from(a.data);
  balance(h, n);
  toHessenberg(h, n);
  const { real, imag } = hessenbergEigenvalues(h, n);
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (i, j) => real[j]! - real[i]! || Math.abs(imag[j]!) - Math.abs(imag[i]!) || imag[j]! - imag[i]!,
  );
  return { real: Float64Array.from(order, (i) => real[i]!), imag: Float64Array.from(order, (i) => imag[i]!) };
}

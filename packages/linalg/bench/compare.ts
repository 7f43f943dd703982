/**
 * Measures the choice between ml-matrix and our own float64 routines (see README "Why our own
 * routines"). Run: `node bench/run.mjs` from packages/linalg (bundles this file with esbuild).
 */
import { Matrix, SVD, EigenvalueDecomposition, determinant } from 'ml-matrix';
import { svdHost, singularValuesHost } from '../src/host/svd.js';
import { eigenvaluesHost } from '../src/host/eig.js';
import { detHost } from '../src/host/lu.js';
import { fromRows, type HostMatrix } from '../src/host/matrix.js';

// Singular values of the 10×10 Hilbert matrix as stored in float64 (entries 1/(i+j+1) rounded to
// double), by mpmath at 100 digits (eigsy; the matrix is symmetric positive definite).
const HILBERT10 = [
  1.7519196702651776, 0.3429295484835091, 0.035741816271639235, 0.0025308907686700287, 0.0001287496142763734,
  4.729689293190096e-6, 1.2289677387429186e-7, 2.1474388217975424e-9, 2.2667455503810733e-11, 1.0932524334974553e-13,
];

function hilbert(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => 1 / (i + j + 1)));
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rows: number, cols: number, seed: number): number[][] {
  const r = mulberry32(seed);
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => {
      const u = 1 - r();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
    }),
  );
}

function time(label: string, reps: number, f: () => void): number {
  f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  const ms = (performance.now() - t0) / reps;
  console.log(`${label}: ${ms.toFixed(2)} ms`);
  return ms;
}

function maxRelErr(got: ArrayLike<number>, want: number[]): string {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / want[i]!);
  return worst.toExponential(2);
}

function reconstructionError(a: number[][], U: number[][], S: number[], V: number[][]): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    for (let j = 0; j < a[0]!.length; j++) {
      let s = 0;
      for (let k = 0; k < S.length; k++) s += U[i]![k]! * S[k]! * V[j]![k]!;
      worst = Math.max(worst, Math.abs(s - a[i]![j]!));
    }
  return worst;
}

console.log('--- Hilbert 10×10 singular values (float64-rounded entries), max relative error vs mpmath ---');
const h = hilbert(10);
const mlS = new SVD(new Matrix(h)).diagonal;
console.log('ml-matrix SVD (Golub–Kahan, JAMA port):', maxRelErr(mlS, HILBERT10), ' smallest:', mlS[9]);
const ours = singularValuesHost(fromRows(h));
console.log('ours (QR + one-sided Jacobi):          ', maxRelErr(ours, HILBERT10), ' smallest:', ours[9]);

console.log('--- Hilbert 12×12 (float64-rounded) determinant; mpmath at 100 digits: 2.687225581661903e-78 ---');
const exactDet12 = 2.687225581661903e-78;
const h12 = hilbert(12);
console.log(
  'exact',
  exactDet12.toExponential(6),
  'ml-matrix',
  determinant(new Matrix(h12)).toExponential(6),
  'ours',
  detHost(fromRows(h12)).toExponential(6),
);

console.log('--- speed, 512×64 Gaussian, full thin SVD (U, S, Vt) ---');
const g = gaussian(512, 64, 1);
const gm = new Matrix(g);
const gh: HostMatrix = fromRows(g);
time('ml-matrix SVD', 10, () => void new SVD(gm, { autoTranspose: true }));
time('ours svdHost', 10, () => void svdHost(gh));
time('ours singularValuesHost', 10, () => void singularValuesHost(gh));
const mlSvd = new SVD(gm, { autoTranspose: true });
console.log(
  'ml-matrix reconstruction max |err|:',
  reconstructionError(
    g,
    mlSvd.leftSingularVectors.to2DArray(),
    mlSvd.diagonal,
    mlSvd.rightSingularVectors.to2DArray(),
  ).toExponential(2),
);
const o = svdHost(gh);
const oU = Array.from({ length: 512 }, (_, i) => Array.from(o.U.data.subarray(i * 64, i * 64 + 64)));
const oV = Array.from({ length: 64 }, (_, j) => Array.from({ length: 64 }, (_, k) => o.Vt.data[k * 64 + j]!));
console.log('ours reconstruction max |err|:     ', reconstructionError(g, oU, Array.from(o.S), oV).toExponential(2));

console.log('--- speed, 64×64 eigenvalues (general, non-symmetric) ---');
const e64 = gaussian(64, 64, 2);
time('ml-matrix EigenvalueDecomposition', 10, () => void new EigenvalueDecomposition(new Matrix(e64)));
time('ours eigenvaluesHost', 10, () => void eigenvaluesHost(fromRows(e64)));

console.log('--- agreement of eigenvalues, 64×64 Gaussian: ours vs ml-matrix (max |diff| after sorting) ---');
{
  const ml = new EigenvalueDecomposition(new Matrix(e64));
  const mlPairs = ml.realEigenvalues.map((re, i) => [re, ml.imaginaryEigenvalues[i]!] as const);
  const oursE = eigenvaluesHost(fromRows(e64));
  let worst = 0;
  for (let i = 0; i < 64; i++) {
    const re = oursE.real[i]!;
    const im = oursE.imag[i]!;
    let best = Infinity;
    for (const [r2, i2] of mlPairs) best = Math.min(best, Math.hypot(re - r2, im - i2));
    worst = Math.max(worst, best);
  }
  console.log(
    'max distance to nearest ml-matrix eigenvalue:',
    worst.toExponential(2),
    '; complex pairs:',
    oursE.imag.filter((x) => x > 0).length,
  );
}

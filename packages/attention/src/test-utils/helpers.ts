/** Shared helpers for this package's tests (not exported from the package). */
import type * as tf from '@tensorflow/tfjs-core';
import { read } from '@attnlab/backend/testing';

/** Asserts that `actual` rounds to the printed `expected` digits: |a − e| ≤ ½·10^−decimals. */
export async function expectPrinted(actual: tf.Tensor | number[], expected: number[], decimals: number): Promise<void> {
  const a = Array.isArray(actual) ? actual : await read(actual);
  expect(a.length).toBe(expected.length);
  const half = 0.5 * 10 ** -decimals + 1e-9;
  a.forEach((v, i) => {
    if (!(Math.abs(v - expected[i]!) <= half))
      throw new Error(`element ${i}: got ${v}, printed ${expected[i]} (${decimals} decimals)`);
  });
}

/** Deterministic pseudo-random numbers in [-1, 1) (a small LCG), independent of tfjs. */
export function lcg(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s / 2 ** 31 - 1);
  }
  return out;
}

/** Plain-JS matrix product of row-major a [n, m] and b [m, p]. */
export function matmul(a: number[], b: number[], n: number, m: number, p: number): number[] {
  const out = new Array<number>(n * p).fill(0);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < m; k++) for (let j = 0; j < p; j++) out[i * p + j]! += a[i * m + k]! * b[k * p + j]!;
  return out;
}

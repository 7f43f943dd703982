/**
 * Allocation-free Philox4x32-10 and in-context-regression batch fill: the same numbers as
 * `@attnlab/data` (`philox4x32`, `normals`, `iclBatchArrays`; tested bit for bit in
 * philox.test.ts), written for the fused trainer's hot loop: no validation, no allocation per
 * batch. The Philox block itself is @attnlab/data's `philox4x32Into`. The WGSL trainer mirrors this file.
 */

import { philox4x32Into } from '@attnlab/data';

// Module-level aliases of Math's functions for the hot loop.
const { floor: M_floor, log: M_log, sqrt: M_sqrt, cos: M_cos, sin: M_sin, fround: M_fround } = Math;

const TWO_NEG_32 = 2 ** -32;
const TWO_PI = 2 * Math.PI;

/**
 * Philox4x32-10 into `out` (4 words): counter (c0..c3), key (k0, k1), all u32 —
 * `@attnlab/data`'s allocation-free `philox4x32Into` with the fused trainer's argument order.
 */
export function philoxInto(out: Uint32Array, c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): void {
  philox4x32Into(c0, c1, c2, c3, k0, k1, out);
}

/**
 * Fills `out[offset .. offset+n)` with normals 0..n-1 of the sequence (stream, c1, c2):
 * normal `i` is output i%4 of Philox at counter [floor(i/4), c1, c2, stream], Box–Muller on
 * (x0, x1) → (n0 = r cos, n1 = r sin) and (x2, x3) → (n2, n3), u = (x + 0.5)·2^-32.
 */
export function fillNormals(
  out: Float64Array | Float32Array, offset: number, n: number,
  k0: number, k1: number, stream: number, c1: number, c2: number, scratch: Uint32Array,
): void {
  for (let base = 0, blk = 0; base < n; base += 4, blk++) {
    philoxInto(scratch, blk, c1 >>> 0, c2 >>> 0, stream >>> 0, k0, k1);
    const ra = M_sqrt(-2 * M_log((scratch[0]! + 0.5) * TWO_NEG_32));
    const ta = TWO_PI * ((scratch[1]! + 0.5) * TWO_NEG_32);
    const rb = M_sqrt(-2 * M_log((scratch[2]! + 0.5) * TWO_NEG_32));
    const tb = TWO_PI * ((scratch[3]! + 0.5) * TWO_NEG_32);
    const o = offset + base;
    const left = n - base;
    out[o] = ra * M_cos(ta);
    if (left > 1) out[o + 1] = ra * M_sin(ta);
    if (left > 2) out[o + 2] = rb * M_cos(tb);
    if (left > 3) out[o + 3] = rb * M_sin(tb);
  }
}

/** Streams of the ICL generator. */
export const STREAM = { train: 0, validation: 1, eval: 2 } as const;

/** Buffers of one ICL batch: z [B, L, d+1] token-major, zq [B, d+1] (last entry 0), yq [B]. */
export interface IclBatch {
  z: Float64Array;
  zq: Float64Array;
  yq: Float64Array;
}

/** Allocates the buffers of a batch. */
export function allocBatch(batch: number, L: number, d: number): IclBatch {
  const D = d + 1;
  return { z: new Float64Array(batch * L * D), zq: new Float64Array(batch * D), yq: new Float64Array(batch) };
}

/**
 * Generates ICL examples e = firstExample .. firstExample+batch-1 of step `step` (stream `stream`)
 * into `out`, with exactly the numbers of `@attnlab/data`'s `iclTokensArrays(iclBatchArrays(…))`:
 * draws in the order β (d), x_1..x_L then x_q ((L+1)·d, token-major), ε (L); x and β rounded to
 * float32; y_i = x_i·β (float64 sum of the rounded values) + √d·noiseStd·ε_i and y_q = x_q·β, each
 * rounded to float32. Allocation-free (the hot loop of the fused CPU trainer).
 */
export function fillIclBatch(
  out: IclBatch, seed: number, step: number, batch: number, L: number, d: number,
  noiseStd = 0.01, stream = 0, firstExample = 0,
  work: Float64Array = new Float64Array(d + (L + 1) * d + L), scratch: Uint32Array = new Uint32Array(4),
): void {
  const k0 = seed >>> 0;
  const k1 = M_floor(seed / 4294967296) >>> 0;
  const D = d + 1;
  const n = d + (L + 1) * d + L;
  const noise = M_sqrt(d) * noiseStd;
  const { z, zq, yq } = out;
  for (let b = 0; b < batch; b++) {
    fillNormals(work, 0, n, k0, k1, stream, step, firstExample + b, scratch);
    for (let j = 0; j < d; j++) work[j] = M_fround(work[j]!);
    const zb = b * L * D;
    for (let i = 0; i < L; i++) {
      let y = 0;
      const xo = d + i * d;
      const zo = zb + i * D;
      for (let j = 0; j < d; j++) {
        const x = M_fround(work[xo + j]!);
        z[zo + j] = x;
        y += x * work[j]!;
      }
      z[zo + d] = M_fround(y + noise * work[d + (L + 1) * d + i]!);
    }
    let y = 0;
    const qo = d + L * d;
    for (let j = 0; j < d; j++) {
      const x = M_fround(work[qo + j]!);
      zq[b * D + j] = x;
      y += x * work[j]!;
    }
    zq[b * D + d] = 0;
    yq[b] = M_fround(y);
  }
}

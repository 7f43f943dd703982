/**
 * Allocation-free Philox4x32-10 and in-context-regression batch fill: the numbers of
 * `@attnlab/data`'s `iclTokensArrays(iclBatchArrays(task, …))` for any task (β scale, noise,
 * query noise, x covariance), written for the fast engines' hot loop: no validation, no
 * allocation per batch (tested bit for bit in data.test.ts). The Philox block itself is
 * @attnlab/data's `philox4x32Into`; the SIMD module (assembly/icl.ts) and the WGSL trainer mirror
 * this file.
 */
import { iclNormalsPerExample, philox4x32Into, type IclTaskConfig } from '@attnlab/data';

// Module-level aliases of Math's functions for the hot loop.
const { floor: M_floor, log: M_log, sqrt: M_sqrt, cos: M_cos, sin: M_sin, fround: M_fround } = Math;

const TWO_NEG_32 = 2 ** -32;
const TWO_PI = 2 * Math.PI;

/**
 * Philox4x32-10 into `out` (4 words): counter (c0..c3), key (k0, k1), all u32 —
 * `@attnlab/data`'s allocation-free `philox4x32Into` with this file's argument order.
 */
export function philoxInto(
  out: Uint32Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
): void {
  philox4x32Into(c0, c1, c2, c3, k0, k1, out);
}

/**
 * Fills `out[offset .. offset+n)` with normals 0..n-1 of the sequence (stream, c1, c2):
 * normal `i` is output i%4 of Philox at counter [floor(i/4), c1, c2, stream], Box–Muller on
 * (x0, x1) → (n0 = r cos, n1 = r sin) and (x2, x3) → (n2, n3), u = (x + 0.5)·2^-32.
 */
export function fillNormals(
  out: Float64Array | Float32Array,
  offset: number,
  n: number,
  k0: number,
  k1: number,
  stream: number,
  c1: number,
  c2: number,
  scratch: Uint32Array,
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

/** The data of one stream, resolved for the hot loop (see {@link iclDataParams}). */
export interface IclDataParams {
  /** Key: the data seed's low and high 32 bits. */
  k0: number;
  k1: number;
  /** Counter word 3 (0 = training). */
  stream: number;
  L: number;
  /** Input dimension (tokens have width d + 1; dy = 1). */
  d: number;
  /** √d·δ. */
  noise: number;
  /** 1 ('unit') or 1/√d ('inverse-d'). */
  betaMul: number;
  queryNoise: boolean;
  /** Lower Cholesky factor of the x covariance (d×d, row-major), or null for x = g. */
  chol: Float64Array | null;
}

/**
 * Resolves a task (dy = 1) for {@link fillIclBatch}; validates it with `@attnlab/data`'s rules
 * (throwing its messages).
 * @example
 * const p = iclDataParams({ L: 40, dx: 5, noiseStd: 0.01 }, 1024, 0);
 */
export function iclDataParams(task: IclTaskConfig, seed: number, stream = 0): IclDataParams {
  iclNormalsPerExample(task);
  const d = task.dx;
  return {
    k0: seed >>> 0,
    k1: M_floor(seed / 4294967296) >>> 0,
    stream,
    L: task.L,
    d,
    noise: M_sqrt(d) * task.noiseStd,
    betaMul: (task.betaScale ?? 'unit') === 'unit' ? 1 : 1 / M_sqrt(d),
    queryNoise: task.queryNoise ?? false,
    chol: task.covariance ? cholesky(task.covariance, d) : null,
  };
}

/** @attnlab/data's Cholesky factorisation (the same operations; the matrix was validated there). */
function cholesky(a: number[][], n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j]![j]!;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! ** 2;
    const ljj = M_sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** Normals one example draws: d (β) + (L+1)·d (x) + L (ε) + 1 (ε_q, with query noise). */
export function normalsPerExample(p: IclDataParams): number {
  return p.d + (p.L + 1) * p.d + p.L + (p.queryNoise ? 1 : 0);
}

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
 * Generates examples firstExample .. firstExample+batch-1 of step `step` into `out`, with exactly
 * the numbers of `@attnlab/data`'s `iclTokensArrays(iclBatchArrays(task, { seed, stream, step, … }))`:
 * normals in the order β (d), x_1..x_L then x_q ((L+1)·d, token-major), ε (L), ε_q (query noise);
 * β·betaMul and x = chol·g (or g) rounded to float32; y_i = x_i·β (float64 sum of the rounded
 * values) + √d·δ·ε_i and y_q = x_q·β (+ √d·δ·ε_q), each rounded to float32.
 */
export function fillIclBatch(
  out: IclBatch,
  p: IclDataParams,
  step: number,
  batch: number,
  firstExample = 0,
  work: Float64Array = new Float64Array(normalsPerExample(p)),
  scratch: Uint32Array = new Uint32Array(4),
): void {
  const { k0, k1, stream, L, d, noise, betaMul, queryNoise, chol } = p;
  const D = d + 1;
  const n = normalsPerExample(p);
  const eo = d + (L + 1) * d;
  const { z, zq, yq } = out;
  for (let b = 0; b < batch; b++) {
    fillNormals(work, 0, n, k0, k1, stream, step, firstExample + b, scratch);
    for (let j = 0; j < d; j++) work[j] = M_fround(work[j]! * betaMul);
    if (chol) {
      // x = chol·g per token, in place from the last row down (row a reads g_0..g_a)
      for (let t = 0; t <= L; t++) {
        const g = d + t * d;
        for (let a = d - 1; a >= 0; a--) {
          let s = 0;
          for (let k = 0; k <= a; k++) s += chol[a * d + k]! * work[g + k]!;
          work[g + a] = s;
        }
      }
    }
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
      z[zo + d] = M_fround(y + noise * work[eo + i]!);
    }
    let y = 0;
    const qo = d + L * d;
    for (let j = 0; j < d; j++) {
      const x = M_fround(work[qo + j]!);
      zq[b * D + j] = x;
      y += x * work[j]!;
    }
    zq[b * D + d] = 0;
    yq[b] = M_fround(queryNoise ? y + noise * work[eo + L]! : y);
  }
}

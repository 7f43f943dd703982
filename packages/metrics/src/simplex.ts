/** Simplex-volume coefficient of variation (seed 003's "CV" geometry probe). */
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32, sampleDistinct } from './random.js';
import { checkInteger, checkNumber, checkTensor } from './validate.js';

/** Seed 003's band: a CV strictly between 0.13 and 0.30 is flagged. */
export const CV_BAND = { low: 0.13, high: 0.3 } as const;

/**
 * True when `cv` lies strictly inside seed 003's band (0.13, 0.30).
 * @example
 * inCvBand(0.18);   // true
 */
export function inCvBand(cv: number | null): boolean {
  return cv !== null && cv > CV_BAND.low && cv < CV_BAND.high;
}

export interface SimplexVolumeCVOptions {
  /** Number of random simplices (seed 003: 300). */
  samples?: number;
  /** Vertices per simplex (seed 003: 5, a 4-simplex or "pentachoron"). */
  points?: number;
  /** Only the first `pool` rows are sampled from (seed 003: 512). */
  pool?: number;
  /** Seed of the mulberry32 generator that picks the subsets (default 0). */
  seed?: number;
  /** Added to the mean volume in the denominator, as seed 003 does (default 1e-8). */
  epsilon?: number;
  /** Squared volumes at or below this are dropped as degenerate (seed 003: 1e-20). */
  minVolumeSquared?: number;
  /** Fewer valid simplices than this gives `cv: null` (seed 003: 10). */
  minValid?: number;
}

export interface SimplexVolumeCV {
  /** std(volumes) / (mean(volumes) + epsilon), or null when too few simplices were valid. */
  cv: number | null;
  /** cv inside seed 003's band (0.13, 0.30). */
  inBand: boolean;
  /** Mean and sample standard deviation (Bessel-corrected, like torch.std) of the valid volumes. */
  meanVolume: number;
  stdVolume: number;
  /** Simplices kept (squared volume above minVolumeSquared) out of `samples`. */
  valid: number;
  samples: number;
}

interface ResolvedOptions {
  samples: number;
  points: number;
  pool: number;
  seed: number;
  epsilon: number;
  minVolumeSquared: number;
  minValid: number;
}

function resolveOptions(fn: string, options: SimplexVolumeCVOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${fn}: options must be an object; got ${options === null ? 'null' : typeof options}`);
  const o: ResolvedOptions = {
    samples: options.samples ?? 300,
    points: options.points ?? 5,
    pool: options.pool ?? 512,
    seed: options.seed ?? 0,
    epsilon: options.epsilon ?? 1e-8,
    minVolumeSquared: options.minVolumeSquared ?? 1e-20,
    minValid: options.minValid ?? 10,
  };
  checkInteger(fn, 'options.samples', o.samples, 2);
  checkInteger(fn, 'options.points', o.points, 2);
  checkInteger(fn, 'options.pool', o.pool, 2);
  checkInteger(fn, 'options.seed', o.seed, 0);
  checkNumber(fn, 'options.epsilon', o.epsilon, 0, Infinity);
  checkNumber(fn, 'options.minVolumeSquared', o.minVolumeSquared, 0, Infinity);
  checkInteger(fn, 'options.minValid', o.minValid, 2);
  return o;
}

/** Scratch buffers reused across matrices (sized for the largest). */
class Workspace {
  scratch = new Int32Array(0);
  chosen: Int32Array;
  edges = new Float64Array(0);
  gram: Float64Array;
  volumes: Float64Array;
  constructor(o: ResolvedOptions) {
    this.chosen = new Int32Array(o.points);
    this.gram = new Float64Array((o.points - 1) ** 2);
    this.volumes = new Float64Array(o.samples);
  }
  reserve(pool: number, d: number, k: number): void {
    if (this.scratch.length < pool) this.scratch = new Int32Array(pool);
    if (this.edges.length < k * d) this.edges = new Float64Array(k * d);
  }
}

/**
 * Determinant of the k×k matrix in `a` (row-major, overwritten) by Gaussian elimination with
 * partial pivoting, in float64.
 */
function determinant(a: Float64Array, k: number): number {
  let det = 1;
  for (let c = 0; c < k; c++) {
    let p = c;
    let best = Math.abs(a[c * k + c]!);
    for (let r = c + 1; r < k; r++) {
      const v = Math.abs(a[r * k + c]!);
      if (v > best) {
        best = v;
        p = r;
      }
    }
    if (best === 0) return 0;
    if (p !== c) {
      for (let j = c; j < k; j++) {
        const t = a[c * k + j]!;
        a[c * k + j] = a[p * k + j]!;
        a[p * k + j] = t;
      }
      det = -det;
    }
    const pivot = a[c * k + c]!;
    det *= pivot;
    for (let r = c + 1; r < k; r++) {
      const f = a[r * k + c]! / pivot;
      if (f === 0) continue;
      for (let j = c + 1; j < k; j++) a[r * k + j] = a[r * k + j]! - f * a[c * k + j]!;
    }
  }
  return det;
}

/**
 * One matrix's CV: rows `rows` × `d` at `offset` in `data` (row-major). Subsets are drawn exactly as
 * seed 003 by a fresh mulberry32(seed), so a matrix gives the same CV alone or in a batch. The squared
 * volume of each simplex is det(G)/(k!)², G the Gram matrix of its k = points − 1 edge vectors from the
 * first vertex (the Cayley–Menger determinant's value, without its cancellation-prone squared distances).
 */
function cvOfBlock(
  data: ArrayLike<number>,
  offset: number,
  rows: number,
  d: number,
  o: ResolvedOptions,
  ws: Workspace,
): SimplexVolumeCV {
  const k = o.points - 1;
  const pool = Math.min(rows, o.pool);
  ws.reserve(pool, d, k);
  const { scratch, chosen, edges, gram, volumes } = ws;
  for (let i = 0; i < pool; i++) scratch[i] = i;
  let fact = 1;
  for (let i = 2; i <= k; i++) fact *= i;
  const norm = fact * fact;
  const random = mulberry32(o.seed);
  let valid = 0;
  for (let s = 0; s < o.samples; s++) {
    sampleDistinct(random, pool, scratch, chosen);
    const base = offset + chosen[0]! * d;
    for (let a = 0; a < k; a++) {
      const r = offset + chosen[a + 1]! * d;
      const e = a * d;
      for (let t = 0; t < d; t++) edges[e + t] = data[r + t]! - data[base + t]!;
    }
    for (let a = 0; a < k; a++) {
      const ea = a * d;
      for (let b = 0; b <= a; b++) {
        const eb = b * d;
        let dot = 0;
        for (let t = 0; t < d; t++) dot += edges[ea + t]! * edges[eb + t]!;
        gram[a * k + b] = dot;
        gram[b * k + a] = dot;
      }
    }
    const v2 = determinant(gram, k) / norm;
    if (v2 > o.minVolumeSquared) volumes[valid++] = Math.sqrt(v2);
  }
  let mean = 0;
  for (let i = 0; i < valid; i++) mean += volumes[i]!;
  mean = valid > 0 ? mean / valid : NaN;
  let ss = 0;
  for (let i = 0; i < valid; i++) ss += (volumes[i]! - mean) * (volumes[i]! - mean);
  const std = valid > 1 ? Math.sqrt(ss / (valid - 1)) : NaN;
  const cv = valid < o.minValid ? null : std / (mean + o.epsilon);
  return { cv, inBand: inCvBand(cv), meanVolume: mean, stdVolume: std, valid, samples: o.samples };
}

function checkRows(fn: string, arg: string, shape: readonly number[], o: ResolvedOptions): void {
  const rows = shape[shape.length - 2]!;
  if (rows < o.points) {
    throw new RangeError(
      `${fn}: ${arg} needs at least options.points = ${o.points} rows; got shape [${shape.join(', ')}]`,
    );
  }
  if (Math.min(rows, o.pool) < o.points)
    throw new RangeError(`${fn}: options.pool (${o.pool}) must be ≥ options.points (${o.points})`);
}

/**
 * Coefficient of variation of simplex volumes over random `points`-subsets of the rows of
 * `matrix` `[V, D]`, as seed 003's `cv_metric`: volumes (square roots of squared volumes, float64),
 * CV = std/(mean + ε) with torch's unbiased std. Convention: VOLUME, not squared volume (the CV of
 * V² is about twice as large). Subsets: `points` distinct rows among the first `pool`, drawn by a
 * partial Fisher–Yates shuffle driven by mulberry32(seed), so a seed fixes the result on every
 * backend. i.i.d. Gaussian rows give about 0.180 (D = 64), 0.126 (128), 0.089 (256).
 * For many matrices (every head's block, every weight), {@link simplexVolumeCVs} reads them all at once.
 * @example
 * const { cv, inBand } = await simplexVolumeCV(embedding, { samples: 300, seed: 1 });
 */
export async function simplexVolumeCV(
  matrix: tf.Tensor,
  options: SimplexVolumeCVOptions = {},
): Promise<SimplexVolumeCV> {
  const fn = 'simplexVolumeCV';
  checkTensor(fn, 'matrix', matrix, [2]);
  const o = resolveOptions(fn, options);
  checkRows(fn, 'matrix', matrix.shape, o);
  const [rows, d] = matrix.shape as [number, number];
  return cvOfBlock(await matrix.data(), 0, rows, d, o, new Workspace(o));
}

/**
 * {@link simplexVolumeCV} of many matrices at once: one read from the device for all of them, then
 * one float64 pass on the host over every simplex of every matrix. Each entry is a matrix `[V, D]`
 * or a stack of matrices `[n, V, D]` (e.g. the per-head blocks of a projection, `[H, headDim, D]`),
 * and gives an array of results (one for a matrix, n for a stack), each equal to what
 * simplexVolumeCV gives for that matrix alone with the same options (every matrix draws its subsets
 * from a fresh mulberry32(seed)).
 * @example
 * const [[emb], heads] = await simplexVolumeCVs([embedding, tf.reshape(wQt, [H, D / H, D])], { seed: 42 });
 */
export async function simplexVolumeCVs(
  matrices: readonly tf.Tensor[],
  options: SimplexVolumeCVOptions = {},
): Promise<SimplexVolumeCV[][]> {
  const fn = 'simplexVolumeCVs';
  const given: unknown = matrices;
  if (!Array.isArray(given) || matrices.length === 0) {
    throw new TypeError(
      `${fn}: matrices must be a non-empty array of tensors [V, D] or [n, V, D]; got ${Array.isArray(matrices) ? '[]' : matrices === null ? 'null' : typeof matrices}`,
    );
  }
  const o = resolveOptions(fn, options);
  matrices.forEach((m, i) => {
    checkTensor(fn, `matrices[${i}]`, m, [2, 3]);
    checkRows(fn, `matrices[${i}]`, m.shape, o);
  });
  // One transfer: every matrix flattened into one float32 vector.
  const flat = tf.tidy(() =>
    tf.concat(matrices.map((m) => tf.reshape(m.dtype === 'float32' ? m : tf.cast(m, 'float32'), [-1]))),
  );
  let data: Float32Array;
  try {
    data = (await flat.data()) as Float32Array;
  } finally {
    flat.dispose();
  }
  const ws = new Workspace(o);
  const out: SimplexVolumeCV[][] = [];
  let offset = 0;
  for (const m of matrices) {
    const [rows, d] = m.shape.slice(-2) as [number, number];
    const n = m.rank === 3 ? (m.shape[0] ?? 1) : 1;
    const results: SimplexVolumeCV[] = [];
    for (let b = 0; b < n; b++) {
      results.push(cvOfBlock(data, offset, rows, d, o, ws));
      offset += rows * d;
    }
    out.push(results);
  }
  return out;
}

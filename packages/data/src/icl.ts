/**
 * In-context linear regression tasks (seed 004's `LinearReg`), made counter-based: example e of
 * step s under seed S in stream t is a pure function of (S, t, s, e), so any step of a run can be
 * regenerated (resume, GPU generation) without replaying the ones before it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fillNormalsUnchecked } from './philox.js';
import { checkInt, checkNumber, checkOneOf, checkSeed, checkU32, show } from './validate.js';

/** Stream ids of the three data splits (counter word 3). */
export const TRAIN_STREAM = 0;
export const VALIDATION_STREAM = 1;
export const EVALUATION_STREAM = 2;

/** How β is scaled: `'unit'` β ~ N(0, I) (seed 004's default); `'inverse-d'` β ~ N(0, I/dx). */
export type BetaScale = 'unit' | 'inverse-d';
export const BETA_SCALES: readonly BetaScale[] = ['unit', 'inverse-d'];

/** A task family: context length, dimensions, noise, prior on β, optional x covariance. */
export interface IclTaskConfig {
  /** Context length (number of (x, y) pairs). */
  L: number;
  /** Input dimension d. */
  dx: number;
  /** Output dimension (default 1). */
  dy?: number;
  /** δ: the noise on y_i is √dx·δ·ε_i with ε_i ~ N(0, 1) (seed 004 uses 0.01). */
  noiseStd: number;
  /** Prior on β (default `'unit'`). */
  betaScale?: BetaScale;
  /** Optional dx×dx symmetric positive-definite Σ: x = chol(Σ)·g with g ~ N(0, I). */
  covariance?: number[][];
  /**
   * Noisy query targets (default false: y_q = x_q β, as seed 004): y_q = x_q β + √dx·δ·ε_q with
   * ε_q ~ N(0, I_dy) drawn after all the other normals of the example, so every other number of
   * every stream is the same with or without it.
   */
  queryNoise?: boolean;
}

/** Where a batch sits in the counter space. */
export interface IclBatchOptions {
  /** Integer seed in [0, 2^53). */
  seed: number;
  /** Stream id (default {@link TRAIN_STREAM}). */
  stream?: number;
  /** Step index, counter word 1 (default 0). */
  step?: number;
  /** Number of examples B. */
  batch: number;
  /** First example index, counter word 2 (default 0): example b of the batch is example `offset + b`. */
  offset?: number;
}

/** A batch as host arrays (row-major, float32). */
export interface IclBatchArrays {
  batch: number;
  L: number;
  dx: number;
  dy: number;
  /** [B, L, dx] */
  x: Float32Array;
  /** [B, L, dy] */
  y: Float32Array;
  /** [B, dx] */
  xq: Float32Array;
  /** `[B, dy]`: x_q β, plus √dx·δ·ε_q with `queryNoise` */
  yq: Float32Array;
  /** [B, dx, dy] */
  beta: Float32Array;
}

/** A batch as tensors. */
export interface IclBatch {
  x: tf.Tensor3D;
  y: tf.Tensor3D;
  xq: tf.Tensor2D;
  yq: tf.Tensor2D;
  beta: tf.Tensor3D;
}

/** Model inputs: context tokens z_i = [x_i, y_i], query token [x_q, 0], and the target y_q. */
export interface IclTokens {
  /** [B, L, dx + dy] */
  Z: tf.Tensor3D;
  /** [B, dx + dy] */
  zq: tf.Tensor2D;
  /** [B, dy] */
  yq: tf.Tensor2D;
}

/** {@link IclTokens} as host arrays. */
export interface IclTokenArrays {
  batch: number;
  L: number;
  /** dx + dy */
  width: number;
  dy: number;
  Z: Float32Array;
  zq: Float32Array;
  yq: Float32Array;
}

interface ResolvedConfig {
  L: number;
  dx: number;
  dy: number;
  noiseStd: number;
  betaScale: BetaScale;
  queryNoise: boolean;
  /** Lower Cholesky factor, row-major dx×dx, or null. */
  chol: Float64Array | null;
}

/** Lower Cholesky factor of a symmetric positive-definite matrix (row-major), or a clear error. */
function cholesky(fn: string, a: number[][], n: number): Float64Array {
  if (!Array.isArray(a) || a.length !== n || a.some((r) => !Array.isArray(r) || r.length !== n)) {
    throw new RangeError(`${fn}: config.covariance must be a ${n}×${n} array (dx×dx); got ${show(a)}`);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = a[i]![j]!;
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new RangeError(`${fn}: config.covariance[${i}][${j}] must be a finite number; got ${show(v)}`);
      const s = Math.abs(v - a[j]![i]!);
      if (s > 1e-9 * Math.max(1, Math.abs(v)))
        throw new RangeError(
          `${fn}: config.covariance must be symmetric; [${i}][${j}] = ${v} but [${j}][${i}] = ${a[j]![i]}`,
        );
    }
  }
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j]![j]!;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! ** 2;
    if (!(d > 0))
      throw new RangeError(`${fn}: config.covariance must be positive definite; the Cholesky pivot ${j} is ${d}`);
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

function resolveConfig(fn: string, config: IclTaskConfig): ResolvedConfig {
  if (typeof config !== 'object' || config === null)
    throw new TypeError(
      `${fn}: config must be an object { L, dx, dy?, noiseStd, betaScale?, covariance?, queryNoise? }; got ${show(config)}`,
    );
  const L = checkInt(fn, 'config.L', config.L, 1);
  const dx = checkInt(fn, 'config.dx', config.dx, 1);
  const dy = checkInt(fn, 'config.dy', config.dy ?? 1, 1);
  const noiseStd = checkNumber(fn, 'config.noiseStd', config.noiseStd, 0);
  const betaScale = checkOneOf(fn, 'config.betaScale', config.betaScale ?? 'unit', BETA_SCALES);
  const queryNoise = config.queryNoise ?? false;
  if (typeof queryNoise !== 'boolean')
    throw new TypeError(`${fn}: config.queryNoise must be a boolean; got ${show(queryNoise)}`);
  const chol = config.covariance === undefined ? null : cholesky(fn, config.covariance, dx);
  return { L, dx, dy, noiseStd, betaScale, queryNoise, chol };
}

/**
 * Number of normals one example draws: dx·dy (β) + (L+1)·dx (x_1..x_L, x_q) + L·dy (ε), plus dy
 * (ε_q) with `queryNoise`.
 * @example
 * iclNormalsPerExample({ L: 40, dx: 5, noiseStd: 0.01 }); // 5 + 205 + 40 = 250
 * iclNormalsPerExample({ L: 40, dx: 5, noiseStd: 0.01, queryNoise: true }); // 251
 */
export function iclNormalsPerExample(config: IclTaskConfig): number {
  const c = resolveConfig('iclNormalsPerExample', config);
  return c.dx * c.dy + (c.L + 1) * c.dx + c.L * c.dy + (c.queryNoise ? c.dy : 0);
}

/**
 * A batch of in-context regression tasks as float32 host arrays (the fast path; no tensors).
 * Example b is example `offset + b` of step `step`: its normals are the sequence (stream, c1 = step,
 * c2 = offset + b), drawn in the order β (row-major [dx][dy]), x_1..x_L then x_q (token-major),
 * ε_1..ε_L, then ε_q (with `queryNoise` only); y_i = x_i β + √dx·noiseStd·ε_i, y_q = x_q β
 * (+ √dx·noiseStd·ε_q with `queryNoise`).
 * @example
 * const a = iclBatchArrays({ L: 40, dx: 5, noiseStd: 0.01 }, { seed: 1, step: 0, batch: 128 });
 * a.x.length; // 128 * 40 * 5
 */
export function iclBatchArrays(config: IclTaskConfig, options: IclBatchOptions): IclBatchArrays {
  const fn = 'iclBatchArrays';
  const c = resolveConfig(fn, config);
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`${fn}: options must be { seed, stream?, step?, batch, offset? }; got ${show(options)}`);
  const seed = checkSeed(fn, options.seed, 'options.seed');
  const stream = checkU32(fn, 'options.stream', options.stream ?? TRAIN_STREAM);
  const step = checkU32(fn, 'options.step', options.step ?? 0);
  const B = checkInt(fn, 'options.batch', options.batch, 1);
  const offset = checkU32(fn, 'options.offset', options.offset ?? 0);
  if (offset + B - 1 > 0xffffffff)
    throw new RangeError(
      `${fn}: options.offset + options.batch − 1 must be ≤ 2^32 − 1 (example index is a u32); got ${offset + B - 1}`,
    );
  const { L, dx, dy, noiseStd, betaScale, queryNoise, chol } = c;
  const nBeta = dx * dy;
  const nX = (L + 1) * dx;
  const nEps = L * dy;
  const per = nBeta + nX + nEps + (queryNoise ? dy : 0);
  const buf = new Float64Array(per);
  const g = new Float64Array(dx);
  const xRow = new Float64Array(dx);
  const k0 = seed >>> 0;
  const k1 = Math.floor(seed / 4294967296) >>> 0;
  const betaMul = betaScale === 'unit' ? 1 : 1 / Math.sqrt(dx);
  const noiseMul = Math.sqrt(dx) * noiseStd;
  const out: IclBatchArrays = {
    batch: B,
    L,
    dx,
    dy,
    x: new Float32Array(B * L * dx),
    y: new Float32Array(B * L * dy),
    xq: new Float32Array(B * dx),
    yq: new Float32Array(B * dy),
    beta: new Float32Array(B * dx * dy),
  };
  const beta32 = new Float32Array(nBeta);
  const x32 = new Float32Array(dx);
  for (let b = 0; b < B; b++) {
    fillNormalsUnchecked(k0, k1, stream, step, offset + b, 0, per, buf, 0);
    for (let i = 0; i < nBeta; i++) beta32[i] = buf[i]! * betaMul;
    out.beta.set(beta32, b * nBeta);
    for (let t = 0; t <= L; t++) {
      const base = nBeta + t * dx;
      if (chol) {
        for (let a = 0; a < dx; a++) g[a] = buf[base + a]!;
        for (let a = 0; a < dx; a++) {
          let s = 0;
          for (let k = 0; k <= a; k++) s += chol[a * dx + k]! * g[k]!;
          xRow[a] = s;
        }
      } else {
        for (let a = 0; a < dx; a++) xRow[a] = buf[base + a]!;
      }
      for (let a = 0; a < dx; a++) x32[a] = xRow[a]!;
      const isQuery = t === L;
      if (isQuery) out.xq.set(x32, b * dx);
      else out.x.set(x32, (b * L + t) * dx);
      // y from the stored (float32) x and β, accumulated in float64, rounded once.
      for (let j = 0; j < dy; j++) {
        let s = 0;
        for (let a = 0; a < dx; a++) s += x32[a]! * beta32[a * dy + j]!;
        if (isQuery) out.yq[b * dy + j] = queryNoise ? s + noiseMul * buf[nBeta + nX + nEps + j]! : s;
        else out.y[(b * L + t) * dy + j] = s + noiseMul * buf[nBeta + nX + t * dy + j]!;
      }
    }
  }
  return out;
}

/**
 * A batch of in-context regression tasks as tensors `{ x [B,L,dx], y [B,L,dy], xq [B,dx], yq [B,dy], beta [B,dx,dy] }`.
 * The numbers are made on the host (identical on every backend) exactly as {@link iclBatchArrays}.
 * @example
 * const b = iclBatch({ L: 40, dx: 5, noiseStd: 0.01 }, { seed: 1024, stream: TRAIN_STREAM, step: 0, batch: 128 });
 * b.x.shape; // [128, 40, 5]
 */
export function iclBatch(config: IclTaskConfig, options: IclBatchOptions): IclBatch {
  return iclBatchFromArrays(iclBatchArrays(config, options));
}

function iclBatchFromArrays(a: IclBatchArrays): IclBatch {
  const { batch: B, L, dx, dy } = a;
  return {
    x: tf.tensor3d(a.x, [B, L, dx]),
    y: tf.tensor3d(a.y, [B, L, dy]),
    xq: tf.tensor2d(a.xq, [B, dx]),
    yq: tf.tensor2d(a.yq, [B, dy]),
    beta: tf.tensor3d(a.beta, [B, dx, dy]),
  };
}

function checkBatchTensors(fn: string, batch: IclBatch): [number, number, number, number] {
  if (
    typeof batch !== 'object' ||
    batch === null ||
    !(batch.x instanceof tf.Tensor) ||
    !(batch.y instanceof tf.Tensor) ||
    !(batch.xq instanceof tf.Tensor) ||
    !(batch.yq instanceof tf.Tensor)
  ) {
    throw new TypeError(`${fn}: batch must be { x, y, xq, yq } tensors (as returned by iclBatch); got ${show(batch)}`);
  }
  const [B, L, dx] = batch.x.shape;
  const dy = batch.y.shape[2];
  const ok =
    batch.x.rank === 3 &&
    batch.y.rank === 3 &&
    batch.y.shape[0] === B &&
    batch.y.shape[1] === L &&
    batch.xq.rank === 2 &&
    batch.xq.shape[0] === B &&
    batch.xq.shape[1] === dx &&
    batch.yq.rank === 2 &&
    batch.yq.shape[0] === B &&
    batch.yq.shape[1] === dy;
  if (!ok || B === undefined || L === undefined || dx === undefined || dy === undefined) {
    throw new RangeError(
      `${fn}: batch shapes must be x [B,L,dx], y [B,L,dy], xq [B,dx], yq [B,dy]; got x ${show(batch.x.shape)}, y ${show(batch.y.shape)}, xq ${show(batch.xq.shape)}, yq ${show(batch.yq.shape)}`,
    );
  }
  return [B, L, dx, dy];
}

/**
 * Model inputs from a batch: Z [B, L, dx+dy] with z_i = [x_i, y_i], zq [B, dx+dy] = [x_q, 0], and
 * the target yq [B, dy]. All three are new tensors (dispose them and the batch separately).
 * @example
 * const batch = iclBatch({ L: 40, dx: 5, noiseStd: 0.01 }, { seed: 0, batch: 8 });
 * const { Z, zq, yq } = iclTokens(batch); // Z [8, 40, 6], zq [8, 6], yq [8, 1]
 */
export function iclTokens(batch: IclBatch): IclTokens {
  const [B, , , dy] = checkBatchTensors('iclTokens', batch);
  return tf.tidy(() => ({
    Z: tf.concat([batch.x, batch.y], 2) as tf.Tensor3D,
    zq: tf.concat([batch.xq, tf.zeros([B, dy])], 1) as tf.Tensor2D,
    yq: tf.clone(batch.yq),
  }));
}

/**
 * {@link iclTokens} on host arrays: Z [B, L, dx+dy], zq [B, dx+dy] (zeros in the y slots), yq [B, dy].
 * @example
 * const t = iclTokensArrays(iclBatchArrays({ L: 4, dx: 2, noiseStd: 0 }, { seed: 0, batch: 2 }));
 * t.Z.length; // 2 * 4 * 3
 */
export function iclTokensArrays(a: IclBatchArrays): IclTokenArrays {
  const { batch: B, L, dx, dy } = a;
  const w = dx + dy;
  const Z = new Float32Array(B * L * w);
  const zq = new Float32Array(B * w);
  for (let r = 0; r < B * L; r++) {
    Z.set(a.x.subarray(r * dx, (r + 1) * dx), r * w);
    Z.set(a.y.subarray(r * dy, (r + 1) * dy), r * w + dx);
  }
  for (let b = 0; b < B; b++) zq.set(a.xq.subarray(b * dx, (b + 1) * dx), b * w);
  return { batch: B, L, width: w, dy, Z, zq, yq: a.yq.slice() };
}

/** The JSON-serialisable state of an {@link IclTaskStream}. */
export interface IclTaskStreamState {
  config: IclTaskConfig;
  seed: number;
  stream: number;
  batch: number;
  /** The step the next call to `next()` returns. */
  step: number;
}

/**
 * Batches for steps 0, 1, 2, … of one stream; `state()` is plain JSON, and `fromState` resumes
 * at the same step with the same data an uninterrupted run would have seen.
 * @example
 * const s = new IclTaskStream({ L: 40, dx: 5, noiseStd: 0.01 }, { seed: 1024, batch: 128 });
 * const b0 = s.next();           // step 0
 * const saved = s.state();       // { …, step: 1 }
 * IclTaskStream.fromState(saved).nextArrays(); // step 1, same numbers as s.nextArrays()
 */
export class IclTaskStream {
  readonly config: IclTaskConfig;
  readonly seed: number;
  readonly stream: number;
  readonly batch: number;
  private step: number;

  constructor(config: IclTaskConfig, options: { seed: number; batch: number; stream?: number; step?: number }) {
    const fn = 'IclTaskStream';
    resolveConfig(fn, config);
    if (typeof options !== 'object' || options === null)
      throw new TypeError(`${fn}: options must be { seed, batch, stream?, step? }; got ${show(options)}`);
    this.config = JSON.parse(JSON.stringify(config)) as IclTaskConfig;
    this.seed = checkSeed(fn, options.seed, 'options.seed');
    this.batch = checkInt(fn, 'options.batch', options.batch, 1);
    this.stream = checkU32(fn, 'options.stream', options.stream ?? TRAIN_STREAM);
    this.step = checkU32(fn, 'options.step', options.step ?? 0);
  }

  /**
   * Restores a stream from {@link IclTaskStream.state}.
   * @example
   * const s = IclTaskStream.fromState(JSON.parse(savedJson));
   */
  static fromState(state: IclTaskStreamState): IclTaskStream {
    if (typeof state !== 'object' || state === null)
      throw new TypeError(
        `IclTaskStream.fromState: state must be { config, seed, stream, batch, step }; got ${show(state)}`,
      );
    return new IclTaskStream(state.config, {
      seed: state.seed,
      batch: state.batch,
      stream: state.stream,
      step: state.step,
    });
  }

  /**
   * The state as plain JSON.
   * @example
   * JSON.stringify(stream.state());
   */
  state(): IclTaskStreamState {
    return {
      config: JSON.parse(JSON.stringify(this.config)) as IclTaskConfig,
      seed: this.seed,
      stream: this.stream,
      batch: this.batch,
      step: this.step,
    };
  }

  /** The step the next call returns. */
  get currentStep(): number {
    return this.step;
  }

  /**
   * The batch of the current step as host arrays, then advances one step.
   * @example
   * const a = stream.nextArrays();
   */
  nextArrays(): IclBatchArrays {
    const a = this.arraysAt(this.step);
    this.step++;
    return a;
  }

  /**
   * The batch of the current step as tensors, then advances one step.
   * @example
   * const b = stream.next(); // dispose b.x, b.y, … when done
   */
  next(): IclBatch {
    return iclBatchFromArrays(this.nextArrays());
  }

  /**
   * The batch of any step, without moving the stream.
   * @example
   * const again = stream.arraysAt(0);
   */
  arraysAt(step: number): IclBatchArrays {
    return iclBatchArrays(this.config, { seed: this.seed, stream: this.stream, step, batch: this.batch });
  }
}

function toRows(fn: string, name: string, v: unknown, width: number | undefined): number[][] {
  if (!Array.isArray(v) || v.length === 0)
    throw new RangeError(`${fn}: ${name} must be a non-empty array; got ${show(v)}`);
  const rows: unknown[] = (v as unknown[]).map((r: unknown) => (typeof r === 'number' ? [r] : r));
  const w = width ?? (Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : 0);
  rows.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== w || w === 0)
      throw new RangeError(`${fn}: ${name}[${i}] must have ${w || '≥ 1'} numbers; got ${show(r)}`);
    r.forEach((x, j) => {
      if (typeof x !== 'number' || !Number.isFinite(x))
        throw new RangeError(`${fn}: ${name}[${i}][${j}] must be a finite number; got ${show(x)}`);
    });
  });
  return rows as number[][];
}

/**
 * Tokens from your own data (e.g. a CSV): one shared context x [L][dx], y [L] or [L][dy], and one
 * or several query points xq ([dx] or [B][dx]); optional targets yq. Returns Z [B, L, dx+dy]
 * (the same context repeated for each query), zq [B, dx+dy] = [x_q, 0] and, if given, yq [B, dy].
 * @example
 * const t = iclTaskFromArrays([[0, 1], [1, 0]], [2, 3], [1, 1]); // Z [1, 2, 3], zq [1, 3]
 */
export function iclTaskFromArrays(
  x: number[][],
  y: number[] | number[][],
  xq: number[] | number[][],
  yq?: number[] | number[][],
): { Z: tf.Tensor3D; zq: tf.Tensor2D; yq?: tf.Tensor2D } {
  const fn = 'iclTaskFromArrays';
  const xs = toRows(fn, 'x', x, undefined);
  const L = xs.length;
  const dx = xs[0]!.length;
  const ys = toRows(fn, 'y', y, undefined);
  if (ys.length !== L) throw new RangeError(`${fn}: y must have one row per row of x (${L}); got ${ys.length}`);
  const dy = ys[0]!.length;
  const qs = Array.isArray(xq) && xq.length > 0 && typeof xq[0] === 'number' ? [xq as number[]] : (xq as number[][]);
  const qRows = toRows(fn, 'xq', qs, dx);
  const B = qRows.length;
  const w = dx + dy;
  const Z = new Float32Array(B * L * w);
  for (let i = 0; i < L; i++) {
    for (let a = 0; a < dx; a++) Z[i * w + a] = xs[i]![a]!;
    for (let j = 0; j < dy; j++) Z[i * w + dx + j] = ys[i]![j]!;
  }
  for (let b = 1; b < B; b++) Z.copyWithin(b * L * w, 0, L * w);
  const zq = new Float32Array(B * w);
  qRows.forEach((r, b) => zq.set(r, b * w));
  let yqT: tf.Tensor2D | undefined;
  if (yq !== undefined) {
    const yqs =
      Array.isArray(yq) && yq.length > 0 && typeof yq[0] === 'number'
        ? B === 1 && dy > 1
          ? [yq as number[]]
          : (yq as number[]).map((v) => [v])
        : (yq as number[][]);
    const yRows = toRows(fn, 'yq', yqs, dy);
    if (yRows.length !== B) throw new RangeError(`${fn}: yq must have one entry per query (${B}); got ${yRows.length}`);
    yqT = tf.tensor2d(yRows.flat(), [B, dy]);
  }
  const out: { Z: tf.Tensor3D; zq: tf.Tensor2D; yq?: tf.Tensor2D } = {
    Z: tf.tensor3d(Z, [B, L, w]),
    zq: tf.tensor2d(zq, [B, w]),
  };
  if (yqT) out.yq = yqT;
  return out;
}

/**
 * Benchmark of seeds 003 and 000 as the experiments run them: cv-sweep for one configuration and
 * for the whole seed preset, and value-matrix (with its experiment 5 alone, on the fused path and on
 * the tfjs reference path). Wall-clock seconds of `experiment.run` on the current tfjs backend, after a
 * warm-up (`attnlab bench --seeds`; PyTorch's side is bench/seeds_torch.py). Not a test: nothing here
 * asserts a time.
 */
import { tokenPatternArrays } from '@attnlab/data';
import * as tf from '@tensorflow/tfjs-core';
import {
  CV_PARAM_NAMES,
  cvClassifierForward,
  cvClassifierHidden,
  cvClassifierState,
  cvClassifierStep,
  cvClassifierWorkspace,
  jsGemm,
  tfjsGemm,
  type CvBatch,
  type CvClassifierState,
  type CvClassifierWorkspace,
  type CvParamName,
} from './cv-engine.js';
import { cvReferenceModel, cvSweep, type CvSweepConfig } from './cv-sweep.js';
import { resolveConfig } from './experiment.js';
import { learningFused, learningReference, valueMatrix } from './value-matrix.js';

/** The rows `runSeedBenchmark` can measure (cv-one and cv-preset also time the fused step). */
export const SEED_BENCH_ROWS = ['cv-one', 'cv-preset', 'value-matrix'] as const;
export type SeedBenchRowId = (typeof SEED_BENCH_ROWS)[number];

export interface SeedBenchmarkOptions {
  /** Which rows (default all three; cv-preset takes minutes). */
  rows?: readonly SeedBenchRowId[];
  /** Width and head count of the one-configuration row (default [64, 4]). */
  cvConfig?: readonly [number, number];
  /** value-matrix runs; the best is reported (default 5, as fast runs are noisy). */
  repeat?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SeedBenchmarkRow {
  /** `cv-one`, `cv-one-fused`, `cv-preset`, `cv-preset-fused`, `value-matrix`, `value-matrix-learning`, `value-matrix-learning-reference`. */
  id: string;
  label: string;
  /** Wall time (the best of `runs` where runs > 1). */
  seconds: number;
  runs: number;
  /** The first run's time (includes JIT warm-up) where runs > 1. */
  firstSeconds?: number;
  /** cv-sweep rows: each configuration's accuracy after training and its seconds. */
  configurations?: { width: number; heads: number; seconds: number; accuracy: number | null }[];
}

export interface SeedBenchmarkResult {
  backend: string;
  rows: SeedBenchmarkRow[];
  memory: { peakRssMB: number; tfNumTensors: number };
}

const now = (): number => performance.now();

/**
 * cv-sweep's evaluation and CV measurement on the fused engine's parameters: one fused forward pass
 * (loss, accuracy and the activations), then the experiment's own CV table on those.
 */
async function fusedMeasure(
  state: CvClassifierState,
  batch: CvBatch,
  ws: CvClassifierWorkspace,
  config: CvSweepConfig,
): Promise<{ loss: number; accuracy: number }> {
  const { seqLen } = ws.shape;
  const n = batch.labels.length;
  const f = cvClassifierForward(state.params, batch, ws);
  const rows = Math.min(n, Math.ceil(config.cv.pool / seqLen)) * seqLen;
  const acts = cvClassifierHidden(state.params, batch, ws, rows);
  const D = ws.shape.width;
  const block = (name: CvParamName) => {
    const { offset, size, shape } = ws.layout[name];
    return tf.tensor(
      Float32Array.from(state.params.subarray(offset, offset + size)),
      shape.length === 3 ? shape.slice(1) : shape,
    );
  };
  const w = { emb: block('emb'), wQ: block('wQ'), wK: block('wK'), wV: block('wV'), wO: block('wO'), wC: block('wC') };
  const a = {
    h: tf.tensor2d(acts.h, [rows, D]),
    q: tf.tensor2d(acts.q, [rows, D]),
    k: tf.tensor2d(acts.k, [rows, D]),
    v: tf.tensor2d(acts.v, [rows, D]),
    post: tf.tensor2d(acts.post, [rows, D]),
  };
  try {
    await cvReferenceModel.cvTable(w, a, ws.shape.heads, config);
  } finally {
    tf.dispose([...Object.values(w), ...Object.values(a)]);
  }
  return { loss: f.loss, accuracy: f.correct / n };
}

/**
 * The computation of cv-sweep's full-batch configurations (the seed's: one Adam step per epoch)
 * on the fused engine (cv-engine.ts): the same initialisation, steps, evaluations (before, midway,
 * after) and CV tables. A measurement harness for the step, not an experiment path: cv-sweep itself
 * still trains on tfjs until the step is wired into a training engine.
 */
async function fusedSweep(config: CvSweepConfig): Promise<NonNullable<SeedBenchmarkRow['configurations']>> {
  const { nClasses, seqLen, vocab } = config.data;
  const arrays = tokenPatternArrays({ ...config.data, seed: config.seed });
  const batch = { ids: Int32Array.from(arrays.x), labels: Int32Array.from(arrays.y) };
  const gemm = tf.getBackend() === 'wasm' ? tfjsGemm() : jsGemm;
  const adam = { lr: config.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  const out: NonNullable<SeedBenchmarkRow['configurations']> = [];
  for (const width of config.widths) {
    for (const heads of config.heads) {
      const t0 = now();
      const shape = { vocab, seqLen, classes: nClasses, width, heads };
      const model = cvReferenceModel.init(config, width, heads);
      const values = {} as Record<CvParamName, Float32Array>;
      try {
        for (const name of CV_PARAM_NAMES) values[name] = (await model.vars[name]!.data()) as Float32Array;
      } finally {
        tf.dispose(Object.values(model.vars));
      }
      const state = cvClassifierState(shape, values);
      const ws = cvClassifierWorkspace(shape, arrays.n, gemm);
      await fusedMeasure(state, batch, ws, config);
      const mid = Math.floor(config.epochs / 2);
      for (let epoch = 1; epoch <= config.epochs; epoch++) {
        cvClassifierStep(state, batch, ws, adam);
        if (epoch === mid && epoch < config.epochs) await fusedMeasure(state, batch, ws, config);
      }
      const post = await fusedMeasure(state, batch, ws, config);
      out.push({ width, heads, seconds: (now() - t0) / 1000, accuracy: post.accuracy });
    }
  }
  return out;
}

function rss(): number {
  const p = (globalThis as { process?: { memoryUsage?: () => { rss: number } } }).process;
  return p?.memoryUsage ? p.memoryUsage().rss / 2 ** 20 : 0;
}

async function best(runs: number, f: () => Promise<unknown>): Promise<{ seconds: number; first: number }> {
  let bestS = Infinity,
    first = NaN;
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await f();
    const s = (now() - t0) / 1000;
    if (i === 0) first = s;
    bestS = Math.min(bestS, s);
  }
  return { seconds: bestS, first };
}

/**
 * Times seeds 003 and 000 on the current tfjs backend (initialise it first).
 * @example
 * const { rows } = await runSeedBenchmark({ rows: ['cv-one', 'value-matrix'] });
 */
export async function runSeedBenchmark(options: SeedBenchmarkOptions = {}): Promise<SeedBenchmarkResult> {
  const fn = 'runSeedBenchmark';
  const want = options.rows ?? SEED_BENCH_ROWS;
  for (const r of want) {
    if (!SEED_BENCH_ROWS.includes(r))
      throw new RangeError(`${fn}: options.rows holds '${String(r)}'; allowed: ${SEED_BENCH_ROWS.join(', ')}`);
  }
  const [width, heads] = options.cvConfig ?? [64, 4];
  if (!Number.isInteger(width) || !Number.isInteger(heads) || heads < 1 || width < 4 || width % heads !== 0) {
    throw new RangeError(
      `${fn}: options.cvConfig must be [width ≥ 4, heads ≥ 1] with heads dividing width; got [${String(width)}, ${String(heads)}]`,
    );
  }
  const repeat = options.repeat ?? 5;
  if (!Number.isInteger(repeat) || repeat < 1)
    throw new RangeError(`${fn}: options.repeat must be an integer ≥ 1; got ${String(repeat)}`);
  const log = options.log ?? (() => undefined);
  let peak = rss();
  const rows: SeedBenchmarkRow[] = [];
  const seed = resolveConfig(cvSweep, { preset: 'seed' });
  const sweep = async (config: CvSweepConfig, id: string, label: string) => {
    log(`timing ${label}…`);
    const t0 = now();
    const r = await cvSweep.run(config);
    const seconds = (now() - t0) / 1000;
    peak = Math.max(peak, rss());
    rows.push({
      id,
      label,
      seconds,
      runs: 1,
      configurations: r.data.runs.map((x) => ({
        width: x.width,
        heads: x.heads,
        seconds: x.seconds,
        accuracy: x.post?.accuracy ?? null,
      })),
    });
  };
  if (want.includes('cv-one') || want.includes('cv-preset')) {
    // Warm-up: compile every kernel shape family once (one epoch of a small configuration).
    await cvSweep.run({
      ...seed,
      widths: [width],
      heads: [heads],
      epochs: 1,
      data: { ...seed.data, samplesPerClass: 5 },
    });
  }
  const fused = async (config: CvSweepConfig, id: string, label: string) => {
    log(`timing ${label}…`);
    const t0 = now();
    const configurations = await fusedSweep(config);
    rows.push({ id, label, seconds: (now() - t0) / 1000, runs: 1, configurations });
    peak = Math.max(peak, rss());
  };
  const one = { ...seed, widths: [width], heads: [heads] };
  if (want.includes('cv-one')) {
    await sweep(one, 'cv-one', `cv-sweep D=${width} H=${heads} (seed settings, 50 epochs)`);
    await fused(one, 'cv-one-fused', `  the same on the fused step (cv-engine)`);
  }
  if (want.includes('cv-preset')) {
    await sweep(seed, 'cv-preset', 'cv-sweep seed preset (12 configurations)');
    await fused(seed, 'cv-preset-fused', '  the same on the fused step (cv-engine)');
  }
  if (want.includes('value-matrix')) {
    const config = resolveConfig(valueMatrix, { preset: 'seed' });
    log(`timing value-matrix (best of ${repeat})…`);
    const whole = await best(repeat, () => valueMatrix.run(config));
    rows.push({
      id: 'value-matrix',
      label: 'value-matrix seed preset (experiments 1–5)',
      seconds: whole.seconds,
      firstSeconds: whole.first,
      runs: repeat,
    });
    const fused = await best(repeat, () => learningFused(config));
    rows.push({
      id: 'value-matrix-learning',
      label: 'value-matrix experiment 5 (fused float64 host step)',
      seconds: fused.seconds,
      firstSeconds: fused.first,
      runs: repeat,
    });
    const reference = await best(Math.min(repeat, 3), () => learningReference(config));
    rows.push({
      id: 'value-matrix-learning-reference',
      label: 'value-matrix experiment 5 (tfjs reference: autodiff + adam)',
      seconds: reference.seconds,
      firstSeconds: reference.first,
      runs: Math.min(repeat, 3),
    });
    peak = Math.max(peak, rss());
  }
  return { backend: tf.getBackend(), rows, memory: { peakRssMB: peak, tfNumTensors: tf.memory().numTensors } };
}

// Seed 004's engines (steps/s per engine, backend and head count): @attnlab/fused's benchmark, so
// that the apps reach every benchmark through experiments' Node-only `./bench` entry.
export { runBenchmark } from '@attnlab/fused/bench';

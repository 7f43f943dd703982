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
  cvClassifierStep,
  cvClassifierState,
  cvClassifierWorkspace,
  cvParamLayout,
  jsGemm,
  tfjsGemm,
  type CvParamName,
  type Gemm,
} from './cv-engine.js';
import { cvSweep, type CvSweepConfig } from './cv-sweep.js';
import { resolveConfig } from './experiment.js';
import { learningFused, learningReference, valueMatrix } from './value-matrix.js';

/**
 * The rows `runSeedBenchmark` can measure (cv-one also times the tfjs reference trainer; cv-step splits
 * one fused training step at D = 64, H = 4 and D = 256, H = 8 into its parts).
 */
export const SEED_BENCH_ROWS = ['cv-one', 'cv-preset', 'value-matrix', 'cv-step'] as const;
export type SeedBenchRowId = (typeof SEED_BENCH_ROWS)[number];

export interface SeedBenchmarkOptions {
  /** Which rows (default all three; cv-preset takes minutes). */
  rows?: readonly SeedBenchRowId[];
  /** Width and head count of the one-configuration row (default [64, 4]). */
  cvConfig?: readonly [number, number];
  /** cv-one: also time the configuration on the tfjs reference trainer (default true). */
  cvReference?: boolean;
  /** Run the warm-up (one epoch of a small configuration) before the cv rows (default true). */
  warmUp?: boolean;
  /** value-matrix runs; the best is reported (default 5, as fast runs are noisy). */
  repeat?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SeedBenchmarkRow {
  /** `cv-one`, `cv-one-reference`, `cv-preset`, `value-matrix`, `value-matrix-learning`, `value-matrix-learning-reference`. */
  id: string;
  label: string;
  /** Wall time (the best of `runs` where runs > 1). */
  seconds: number;
  runs: number;
  /** The first run's time (includes JIT warm-up) where runs > 1. */
  firstSeconds?: number;
  /** cv-step: median milliseconds per step and how they split (products, attention kernels, the rest). */
  step?: { width: number; heads: number; stepMs: number; gemmMs: number; attentionMs: number; restMs: number }[];
  /** cv-sweep rows: each configuration's accuracy after training, its seconds and what trained it. */
  configurations?: { width: number; heads: number; seconds: number; accuracy: number | null; engine?: string }[];
}

export interface SeedBenchmarkResult {
  backend: string;
  rows: SeedBenchmarkRow[];
  memory: { peakRssMB: number; tfNumTensors: number };
}

const now = (): number => performance.now();

/**
 * One fused step of the seed preset's data (500 samples, full batch) split into its parts: the
 * products (the workspace's Gemm), the SIMD attention kernels, and the rest (host loops: LayerNorm,
 * classifier, loss, gathers, Adam). Median of `steps` steps after 3 of warm-up; parameters are the
 * model's initialisation (the step's cost does not depend on their values).
 */
function stepProfile(width: number, heads: number, steps: number): NonNullable<SeedBenchmarkRow['step']>[number] {
  const seed = resolveConfig(cvSweep, { preset: 'seed' });
  const { nClasses, seqLen, vocab } = seed.data;
  const arrays = tokenPatternArrays({ ...seed.data, seed: seed.seed });
  const batch = { ids: Int32Array.from(arrays.x), labels: Int32Array.from(arrays.y) };
  const shape = { vocab, seqLen, classes: nClasses, width, heads };
  const layout = cvParamLayout(shape);
  const values = {} as Record<CvParamName, Float64Array>;
  for (const name of CV_PARAM_NAMES)
    values[name] = Float64Array.from({ length: layout[name].size }, (_, i) => 0.1 * Math.sin(i + 1));
  let gemmMs = 0;
  let attentionMs = 0;
  const inner: Gemm = tf.getBackend() === 'wasm' ? tfjsGemm() : jsGemm;
  const gemm: Gemm = (a, b, m, k, n, out, t) => {
    const t0 = now();
    inner(a, b, m, k, n, out, t);
    gemmMs += now() - t0;
  };
  const ws = cvClassifierWorkspace(shape, arrays.n, gemm);
  const k = ws.kernels;
  if (k) {
    const ex = k.ex; // a module's exports are frozen: time them through a wrapper object
    const time =
      <A extends unknown[]>(f: (...a: A) => void) =>
      (...a: A) => {
        const t0 = now();
        f(...a);
        attentionMs += now() - t0;
      };
    k.ex = {
      ...ex,
      attentionForward: time(ex.attentionForward.bind(ex)),
      attentionBackward: time(ex.attentionBackward.bind(ex)),
    };
  }
  const state = cvClassifierState(shape, values);
  const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  const rows: [number, number, number][] = [];
  for (let i = 0; i < steps + 3; i++) {
    gemmMs = attentionMs = 0;
    const t0 = now();
    cvClassifierStep(state, batch, ws, adam);
    if (i >= 3) rows.push([now() - t0, gemmMs, attentionMs]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  const [stepMs, g, a] = rows[rows.length >> 1]!;
  return { width, heads, stepMs, gemmMs: g, attentionMs: a, restMs: stepMs - g - a };
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
    // Peak RSS sampled during the run too (every 250 ms): memory must stay flat over the sweep.
    const timer = setInterval(() => (peak = Math.max(peak, rss())), 250);
    const t0 = now();
    const r = await cvSweep.run(config).finally(() => clearInterval(timer));
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
        ...(x.engine ? { engine: x.engine } : {}),
      })),
    });
  };
  if ((options.warmUp ?? true) && (want.includes('cv-one') || want.includes('cv-preset'))) {
    // Warm-up: compile every kernel shape family once (one epoch of a small configuration).
    await cvSweep.run({
      ...seed,
      widths: [width],
      heads: [heads],
      epochs: 1,
      data: { ...seed.data, samplesPerClass: 5 },
    });
  }
  const one = { ...seed, widths: [width], heads: [heads] };
  if (want.includes('cv-one')) {
    await sweep(one, 'cv-one', `cv-sweep D=${width} H=${heads} (seed settings, 50 epochs)`);
    if (options.cvReference ?? true)
      await sweep({ ...one, trainer: 'reference' }, 'cv-one-reference', `  the same on the tfjs reference trainer`);
  }
  if (want.includes('cv-preset')) await sweep(seed, 'cv-preset', 'cv-sweep seed preset (12 configurations)');
  if (want.includes('cv-step')) {
    log('timing the fused step’s parts…');
    const step = [stepProfile(64, 4, 21), stepProfile(256, 8, 11)];
    rows.push({
      id: 'cv-step',
      label: 'cv-engine step (median ms): products, attention kernels, rest',
      seconds: 0,
      runs: 1,
      step,
    });
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

/**
 * Benchmark of seeds 003 and 000 as the experiments run them: cv-sweep for one configuration and
 * for the whole seed preset, and value-matrix (with its experiment 5 alone, on the fused path and on
 * the tfjs reference path). Wall-clock seconds of `experiment.run` on the current tfjs backend, after a
 * warm-up (`attnlab bench --seeds`; PyTorch's side is bench/seeds_torch.py). Not a test: nothing here
 * asserts a time.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cvSweep, type CvSweepConfig } from './cv-sweep.js';
import { resolveConfig } from './experiment.js';
import { learningFused, learningReference, valueMatrix } from './value-matrix.js';

/** The rows `runSeedBenchmark` can measure (cv-one also times the tfjs reference trainer). */
export const SEED_BENCH_ROWS = ['cv-one', 'cv-preset', 'value-matrix'] as const;
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
  /** cv-sweep rows: each configuration's accuracy after training, its seconds and what trained it. */
  configurations?: { width: number; heads: number; seconds: number; accuracy: number | null; engine?: string }[];
}

export interface SeedBenchmarkResult {
  backend: string;
  rows: SeedBenchmarkRow[];
  memory: { peakRssMB: number; tfNumTensors: number };
}

const now = (): number => performance.now();

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

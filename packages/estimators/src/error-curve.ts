import * as tf from '@tensorflow/tfjs-core';
import { iclBatch, EVALUATION_STREAM, type IclTaskConfig } from '@attnlab/data';
import type { Estimator } from './types.js';
import { fail, finiteNumber, isArray } from './validate.js';

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Lets timers, I/O and signal handlers run (awaiting a resolved promise only drains microtasks). */
function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return new Promise((r) => g.setImmediate!(r));
  return new Promise((r) => setTimeout(r, 0));
}

export interface ErrorCurve {
  contextLengths: number[];
  samples: number;
  seed: number;
  /** Per estimator: mean squared error of ŷ_q against y_q at each context length, and its standard error. */
  series: { name: string; mse: number[]; stderr: number[] }[];
}

export interface ErrorCurveOptions {
  /** Tasks per context length (the seed uses 100). */
  samples: number;
  seed: number;
  /** Tasks evaluated per batch (memory bound; the abort signal is checked between batches); default 1000. */
  chunk?: number;
  /** Called after each context length (for progress bars). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Mean squared error of each estimator against the noiseless query target, per context length —
 * the computation behind seed 004's error-vs-L plot. Tasks come from @attnlab/data's evaluation
 * stream: the same seed gives the same tasks for a given L on every backend and for every estimator.
 * @example
 * const curve = await errorCurve([oneStepGd(), ridge({ lambda: 1e-3 })],
 *   { L: 40, dx: 5, noiseStd: 0.01 }, [1, 6, 11], { samples: 100, seed: 0 });
 */
export async function errorCurve(
  estimators: readonly Estimator[],
  task: Omit<IclTaskConfig, 'L'> & { L?: number },
  contextLengths: readonly number[],
  options: ErrorCurveOptions,
): Promise<ErrorCurve> {
  const fn = 'errorCurve';
  if (!isArray(estimators) || estimators.length === 0) fail(fn, 'estimators must be a non-empty array of Estimator');
  const names = new Set<string>();
  for (const e of estimators) {
    if (!e || typeof e.predict !== 'function') fail(fn, 'every estimator must have a name and a predict(batch) method');
    if (names.has(e.name)) fail(fn, `estimator names must be unique; '${e.name}' appears twice`);
    names.add(e.name);
  }
  if (!isArray(contextLengths) || contextLengths.length === 0)
    fail(fn, 'contextLengths must be a non-empty array of integers ≥ 1');
  contextLengths.forEach((L, i) => finiteNumber(fn, `contextLengths[${i}]`, L, { integer: true, min: 1 }));
  const samples = finiteNumber(fn, 'options.samples', options?.samples, { integer: true, min: 2 });
  const seed = finiteNumber(fn, 'options.seed', options.seed, { integer: true, min: 0 });
  const chunk = finiteNumber(fn, 'options.chunk', options.chunk ?? 1000, { integer: true, min: 1 });

  const sums = estimators.map(() => contextLengths.map(() => ({ s: 0, s2: 0 })));
  let lastYield = now();
  for (let li = 0; li < contextLengths.length; li++) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    const L = contextLengths[li]!;
    for (let start = 0; start < samples; start += chunk) {
      // Serve timers, signals and I/O at least every ~25 ms of work, then honour an abort.
      if (now() - lastYield > 25) {
        await macrotask();
        lastYield = now();
      }
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      const n = Math.min(chunk, samples - start);
      // step = L keeps the tasks for a given L independent of which other lengths are evaluated,
      // and offset makes chunking invisible: task i is always example i of that step.
      const batch = iclBatch({ ...task, L }, { seed, stream: EVALUATION_STREAM, step: L, offset: start, batch: n });
      const target = batch.yq.rank === 2 ? tf.squeeze(batch.yq, [1]) : batch.yq;
      try {
        for (let ei = 0; ei < estimators.length; ei++) {
          if (ei > 0 && now() - lastYield > 25) {
            await macrotask();
            lastYield = now();
            if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
          }
          const pred = await estimators[ei]!.predict({ x: batch.x, y: batch.y, xq: batch.xq });
          const sq = tf.tidy(() => tf.square(tf.sub(pred, target)));
          const v = await sq.data();
          tf.dispose([pred, sq]);
          const acc = sums[ei]![li]!;
          for (let i = 0; i < v.length; i++) {
            acc.s += v[i]!;
            acc.s2 += v[i]! * v[i]!;
          }
        }
      } finally {
        if (target !== batch.yq) target.dispose();
        tf.dispose([batch.x, batch.y, batch.xq, batch.yq, batch.beta]);
      }
    }
    options.onProgress?.(li + 1, contextLengths.length);
  }
  return {
    contextLengths: [...contextLengths],
    samples,
    seed,
    series: estimators.map((e, ei) => ({
      name: e.name,
      mse: sums[ei]!.map(({ s }) => s / samples),
      stderr: sums[ei]!.map(({ s, s2 }) => {
        const m = s / samples;
        return Math.sqrt(Math.max(0, s2 / samples - m * m) / (samples - 1));
      }),
    })),
  };
}

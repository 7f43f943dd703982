/**
 * Your own data as an in-context regression task: parse a CSV of x columns and a y column, and
 * compare every estimator of seed 004's story on it (least squares, ridge, one-step GD, the
 * kernel estimator of a trained model, the trained transformer itself).
 */
import * as tf from '@tensorflow/tfjs-core';
import { iclTaskFromArrays } from '@attnlab/data';
import { leastSquares, type Estimator } from '@attnlab/estimators';
import { parseCsv } from '@attnlab/plot';
import { deserializeCheckpoint, type HostTensor } from '@attnlab/train';
import type { ExperimentResult } from './experiment.js';
import { iclEstimators, type IclConfig, type IclData } from './icl-regression.js';

/** Your own (x, y) data as one in-context regression task: the context and the queries. */
export interface CsvTask {
  columns: string[];
  /** Context inputs [L][d] and targets [L]. */
  x: number[][];
  y: number[];
  /** Query inputs [B][d]; their targets when known (held-out rows), else null. */
  xq: number[][];
  yq: number[] | null;
  /** How the queries were chosen, in words. */
  split: string;
}

/** A small example: y = 1.5·x₁ − 0.5·x₂ exactly, 12 context rows and 3 held-out rows. */
export const EXAMPLE_CSV = `x1,x2,y
0.5,-1.2,1.35
-0.3,0.8,-0.85
1.1,0.4,1.45
-1.4,-0.6,-1.8
0.2,1.5,-0.45
0.9,-0.3,1.5
-0.7,-1.1,-0.5
1.6,0.2,2.3
-0.1,-0.9,0.3
0.4,0.7,0.25
-1,0.5,-1.75
0.3,-0.4,0.65
0.8,1,0.7
-0.5,-0.2,-0.65
1.2,-0.8,2.2
`;

/**
 * Reads a CSV of x columns and a last y column (an optional header row). Rows with an empty y are
 * the queries; without any, the last 20% of the rows (at least one) are held out as queries with
 * known y. Throws an Error naming the line, the column and the bad value.
 */
export function parseCsvTask(text: string): CsvTask {
  if (!text.trim()) throw new Error('The CSV is empty: paste rows of x₁,…,x_d,y or choose a file.');
  const rows = parseCsv(text.trim()).map((r) => r.map((c) => c.trim()));
  const first = rows[0]!;
  const header = first.some((c) => c !== '' && !Number.isFinite(Number(c)));
  const width = first.length;
  if (width < 2) throw new Error(`Line 1: need at least two columns (x₁,…,x_d and y); got ${width}.`);
  const columns = header ? first : [...Array.from({ length: width - 1 }, (_, j) => `x${j + 1}`), 'y'];
  const body = rows.slice(header ? 1 : 0);
  const ctxX: number[][] = [];
  const ctxY: number[] = [];
  const qX: number[][] = [];
  body.forEach((r, i) => {
    const line = i + 1 + (header ? 1 : 0);
    if (r.length === 1 && r[0] === '') return; // blank line
    if (r.length !== width)
      throw new Error(
        `Line ${line}: expected ${width} columns like ${header ? 'the header' : 'line 1'}; got ${r.length}.`,
      );
    const xs = r.slice(0, -1).map((c, j) => {
      const v = Number(c);
      if (c === '' || !Number.isFinite(v))
        throw new Error(`Line ${line}, column ${j + 1} (${columns[j]}): '${c}' is not a number.`);
      return v;
    });
    const yc = r[width - 1]!;
    if (yc === '') {
      qX.push(xs);
      return;
    }
    const y = Number(yc);
    if (!Number.isFinite(y))
      throw new Error(
        `Line ${line}, column ${width} (${columns[width - 1]}): '${yc}' is not a number (leave it empty to ask for a prediction).`,
      );
    ctxX.push(xs);
    ctxY.push(y);
  });
  if (qX.length > 0) {
    if (ctxX.length < 1) throw new Error('Every row has an empty y: at least one row needs a y to learn from.');
    return {
      columns,
      x: ctxX,
      y: ctxY,
      xq: qX,
      yq: null,
      split: `${ctxX.length} context rows, ${qX.length} rows with an empty y to predict`,
    };
  }
  if (ctxX.length < 2) throw new Error(`Need at least 2 data rows (context and a held-out query); got ${ctxX.length}.`);
  const held = Math.max(1, Math.round(ctxX.length * 0.2));
  const L = ctxX.length - held;
  return {
    columns,
    x: ctxX.slice(0, L),
    y: ctxY.slice(0, L),
    xq: ctxX.slice(L),
    yq: ctxY.slice(L),
    split: `${L} context rows, the last ${held} held out as queries`,
  };
}

export interface EstimatorRow {
  name: string;
  predictions: number[];
  mse: number | null;
}

/** Runs every estimator on the task (tokens built by `@attnlab/data`'s `iclTaskFromArrays`). */
export async function evaluateCsvTask(task: CsvTask, estimators: readonly Estimator[]): Promise<EstimatorRow[]> {
  const t = iclTaskFromArrays(task.x, task.y, task.xq, task.yq ?? undefined);
  const d = task.x[0]!.length;
  const [B, L] = [t.Z.shape[0], t.Z.shape[1]];
  const batch = tf.tidy(() => ({
    x: tf.slice(t.Z, [0, 0, 0], [B, L, d]) as tf.Tensor3D,
    y: tf.reshape(tf.slice(t.Z, [0, 0, d], [B, L, 1]), [B, L]) as tf.Tensor2D,
    xq: tf.slice(t.zq, [0, 0], [B, d]) as tf.Tensor2D,
  }));
  const truth = t.yq ? Array.from(await t.yq.data()) : null;
  try {
    const rows: EstimatorRow[] = [];
    for (const e of estimators) {
      const p = await e.predict(batch);
      const predictions = Array.from(await p.data());
      p.dispose();
      const mse = truth ? predictions.reduce((a, v, i) => a + (v - truth[i]!) ** 2, 0) / predictions.length : null;
      rows.push({ name: e.name, predictions, mse });
    }
    return rows;
  } finally {
    tf.dispose([t.Z, t.zq, ...(t.yq ? [t.yq] : []), batch.x, batch.y, batch.xq]);
  }
}

/**
 * Your task against a trained icl-regression run: least squares, ridge (Bayes λ for the run's
 * prior), one-step GD (seed step and optimal step), the run's kernel estimator and, when its
 * weights are given (a checkpoint's params) and its d matches the data's, the trained transformer.
 * @example
 * const rows = await evaluateOwnTask(parseCsvTask(text), result, checkpoint.params);
 */
export async function evaluateOwnTask(
  task: CsvTask,
  result: ExperimentResult<IclConfig, IclData>,
  weights?: IclWeights,
): Promise<{ rows: EstimatorRow[]; usedModel: boolean }> {
  const d = task.x[0]!.length;
  const c = result.config;
  const run = result.data.runs.find((x) => x.heads === (weights?.heads ?? c.heads)) ?? result.data.runs[0]!;
  const params: Record<string, tf.Tensor> | undefined =
    weights && c.d === d
      ? Object.fromEntries(
          Object.entries(weights.params).map(([k, h]) => [k, tf.tensor(Float32Array.from(h.values), h.shape)]),
        )
      : undefined;
  try {
    const set = iclEstimators({ ...c, d }, task.x.length, [{ run, ...(params ? { params } : {}) }], { tag: false });
    const rows = await evaluateCsvTask(task, [leastSquares(), ...set]);
    return { rows, usedModel: params !== undefined };
  } finally {
    if (params) tf.dispose(Object.values(params));
  }
}

/** A trained model's weights as a checkpoint holds them: which head count, at which step. */
export interface IclWeights {
  heads: number;
  step: number;
  params: Record<string, HostTensor>;
}

/**
 * The weights in an icl-regression checkpoint (the last head count it was training).
 * @example
 * const weights = readCheckpointWeights(result.config, bytes); // { heads: 2, step: 3000, params: { Wq, … } }
 */
export function readCheckpointWeights(config: IclConfig, bytes: Uint8Array): IclWeights {
  const cp = deserializeCheckpoint(bytes);
  const runIndex = (cp.meta as { runIndex?: number } | null)?.runIndex ?? 0;
  const heads = (config.headCounts.length ? config.headCounts : [config.heads])[runIndex] ?? config.heads;
  return { heads, step: cp.step, params: cp.params };
}

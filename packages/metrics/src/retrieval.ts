/** What an attention pattern retrieves from a value matrix (seed 000, experiment 3). */
import type * as tf from '@tensorflow/tfjs-core';
import { checkTensor } from './validate.js';

/** Half-open dimension ranges `[start, end)` by name. */
export type DimensionGroups = Record<string, readonly [number, number]>;

/**
 * Seed 000's groups for its 64-wide value matrix: "person" dims 0–31, "location" 16–47,
 * "action" 32–63 (they overlap, as in the seed).
 */
export const SEED_RETRIEVAL_GROUPS: DimensionGroups = { person: [0, 32], location: [16, 48], action: [32, 64] };

export interface RetrievalNorms {
  /** ‖Vᵀα‖₂ over all dimensions. */
  total: number;
  /** ‖(Vᵀα)[start:end]‖₂ per group. */
  groups: Record<string, number>;
}

/**
 * Retrieval norms: the output o = Vᵀα of attention weights α `[T]` (or several patterns
 * `[S, T]`) over values `values` `[T, dV]`, and the Euclidean norm of o overall and over each
 * dimension group. Computed in float64 on the host.
 * @example
 * const [r] = await retrievalNorms(v, tf.tensor2d([[0.5, 0.5, 0, 0, 0, 0, 0, 0]]), SEED_RETRIEVAL_GROUPS);
 */
export async function retrievalNorms(
  values: tf.Tensor,
  weights: tf.Tensor,
  groups: DimensionGroups = SEED_RETRIEVAL_GROUPS,
): Promise<RetrievalNorms[]> {
  const fn = 'retrievalNorms';
  checkTensor(fn, 'values', values, [2]);
  checkTensor(fn, 'weights', weights, [1, 2]);
  const [t, dv] = values.shape as [number, number];
  const tw = weights.shape[weights.rank - 1];
  if (tw !== t) {
    throw new RangeError(
      `${fn}: weights must be [T] or [S, T] with T = values.shape[0] = ${t}; got weights [${weights.shape.join(', ')}]`,
    );
  }
  for (const [name, range] of Object.entries(groups)) {
    const [a, b] = range;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > dv || a >= b) {
      throw new RangeError(`${fn}: groups.${name} must be [start, end) with 0 ≤ start < end ≤ ${dv}; got [${a}, ${b}]`);
    }
  }
  const v = await values.data();
  const w = await weights.data();
  const s = weights.rank === 1 ? 1 : weights.shape[0];
  const out: RetrievalNorms[] = [];
  const o = new Float64Array(dv);
  for (let p = 0; p < s; p++) {
    o.fill(0);
    for (let i = 0; i < t; i++) {
      const a = w[p * t + i]!;
      if (a === 0) continue;
      for (let j = 0; j < dv; j++) o[j] = o[j]! + a * v[i * dv + j]!;
    }
    const norm = (a: number, b: number): number => {
      let ss = 0;
      for (let j = a; j < b; j++) ss += o[j]! * o[j]!;
      return Math.sqrt(ss);
    };
    const g: Record<string, number> = {};
    for (const [name, [a, b]] of Object.entries(groups)) g[name] = norm(a, b);
    out.push({ total: norm(0, dv), groups: g });
  }
  return out;
}

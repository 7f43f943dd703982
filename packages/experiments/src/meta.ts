import * as tf from '@tensorflow/tfjs-core';
import type { ResultMeta } from './experiment.js';

/** Version of the attnlab experiments package (kept equal to package.json by a test). */
export const ATTNLAB_VERSION = '0.1.0';

export function startMeta(): { finish(extra?: Partial<ResultMeta>): ResultMeta } {
  const started = Date.now();
  const backend = tf.getBackend() ?? 'none';
  return {
    finish: (extra = {}) => ({
      backend,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      versions: { attnlab: ATTNLAB_VERSION, tfjsCore: tf.version_core },
      aborted: false,
      ...extra,
    }),
  };
}

/** A tensor as nested arrays, with −∞/NaN as null (JSON has no infinities). */
export async function toJsonMatrix(t: tf.Tensor): Promise<(number | null)[][]> {
  const v = await t.data();
  const cols = t.shape[t.rank - 1] ?? 1;
  const rows = v.length / cols;
  const out: (number | null)[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: (number | null)[] = [];
    for (let c = 0; c < cols; c++) {
      const x = v[r * cols + c]!;
      row.push(Number.isFinite(x) ? x : null);
    }
    out.push(row);
  }
  return out;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('aborted', 'AbortError');
}

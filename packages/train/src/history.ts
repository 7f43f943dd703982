import type { Json } from './types.js';

/** A recorded series in column form: `value[i]` was recorded at iteration `step[i]`. */
export interface Series<T> {
  step: number[];
  value: T[];
}

/**
 * What a training run records. Iteration indices follow seed 004's loop: iteration `t`
 * (0-based) draws batch `t`, computes the loss (recorded as `loss` at step `t`, the loss
 * before that iteration's update), updates, and then — when `t % every === 0` — runs
 * validation and probes on the updated parameters (recorded at step `t`).
 */
export interface History {
  /** Training loss per recorded iteration. */
  loss: Series<number>;
  /** Validation loss per validation point. */
  validation: Series<number>;
  /** Each probe's outputs by name (e.g. seed 004's QK/OV dynamics and QK matrices). */
  probes: Record<string, Series<Json>>;
}

/**
 * An empty history.
 * @example
 * const h = emptyHistory(); // { loss: { step: [], value: [] }, validation: …, probes: {} }
 */
export function emptyHistory(): History {
  return { loss: { step: [], value: [] }, validation: { step: [], value: [] }, probes: {} };
}

/**
 * A deep copy of a history (probe values are copied through JSON-structured cloning).
 * @example
 * const copy = cloneHistory(result.history);
 */
export function cloneHistory(h: History): History {
  const probes: Record<string, Series<Json>> = {};
  for (const [k, s] of Object.entries(h.probes)) probes[k] = { step: [...s.step], value: s.value.map(cloneJson) };
  return {
    loss: { step: [...h.loss.step], value: [...h.loss.value] },
    validation: { step: [...h.validation.step], value: [...h.validation.value] },
    probes,
  };
}

function cloneJson(v: Json): Json {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneJson);
  const out: { [k: string]: Json } = {};
  for (const [k, x] of Object.entries(v)) out[k] = cloneJson(x);
  return out;
}

import type { AxisScale } from './types.js';

/**
 * About `count` evenly spaced "nice" tick values (steps of 1, 2 or 5 × 10^k) covering [min, max].
 *
 * @example
 * niceTicks(0, 1, 5); // { ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 }
 */
export function niceTicks(min: number, max: number, count = 5): { ticks: number[]; step: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max))
    throw new RangeError(`niceTicks: min and max must be finite; got ${min}, ${max}`);
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const mult = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  const step = mult * mag;
  const lo = Math.floor(min / step + 1e-9);
  const hi = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = lo; i <= hi; i++) {
    // i * step, rounded to the step's decimals, so 3 * 0.1 is 0.3
    const v = Number((i * step).toPrecision(12));
    ticks.push(v === 0 ? 0 : v);
  }
  return { ticks, step };
}

/**
 * Powers of ten covering [min, max] (both > 0) on a log axis; the domain is widened to whole
 * decades so every tick is 10^k.
 *
 * @example
 * logTicks(0.003, 250); // [0.001, 0.01, 0.1, 1, 10, 100, 1000]
 */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) {
    throw new RangeError(`logTicks: min and max must be finite and > 0; got ${min}, ${max}`);
  }
  let lo = Math.floor(Math.log10(Math.min(min, max)) + 1e-9);
  let hi = Math.ceil(Math.log10(Math.max(min, max)) - 1e-9);
  if (hi === lo) hi = lo + 1;
  const ticks: number[] = [];
  // Keep at most ~8 labelled decades: thin them on very wide ranges.
  const stride = Math.max(1, Math.ceil((hi - lo) / 8));
  lo = Math.floor(lo / stride) * stride;
  hi = Math.ceil(hi / stride) * stride;
  for (let k = lo; k <= hi; k += stride) ticks.push(Number(`1e${k}`));
  return ticks;
}

/** A position map from data to pixels. */
export interface Scale {
  (v: number): number;
  domain: [number, number];
  ticks: number[];
  step: number;
  kind: AxisScale;
}

/**
 * The largest of `f(x)` over `xs` (`empty` when there is none) with a loop: `Math.max(...xs)` passes
 * every value as an argument and overflows the stack for a few hundred thousand of them.
 */
export function maxOf<T>(xs: readonly T[], f: (x: T, i: number) => number, empty = -Infinity): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const v = f(xs[i]!, i);
    if (v > m) m = v;
  }
  return xs.length ? m : empty;
}

/** The smallest of `f(x)` over `xs` (see maxOf). */
export function minOf<T>(xs: readonly T[], f: (x: T) => number, empty = Infinity): number {
  let m = Infinity;
  for (const x of xs) {
    const v = f(x);
    if (v < m) m = v;
  }
  return xs.length ? m : empty;
}

const id = (v: number): number => v;

/** Builds a linear or log scale over `data` (plus optional fixed ends) onto [r0, r1]. */
export function makeScale(
  kind: AxisScale,
  data: number[],
  r0: number,
  r1: number,
  fixed: { min?: number; max?: number } = {},
  count = 5,
): Scale {
  const vals = data.filter((v) => Number.isFinite(v) && (kind === 'linear' || v > 0));
  let lo = fixed.min ?? (vals.length ? minOf(vals, id) : kind === 'log' ? 1 : 0);
  let hi = fixed.max ?? (vals.length ? maxOf(vals, id) : kind === 'log' ? 10 : 1);
  let ticks: number[];
  let step = 1;
  if (kind === 'log') {
    ticks = logTicks(lo, hi);
    if (fixed.min === undefined) lo = ticks[0]!;
    if (fixed.max === undefined) hi = ticks[ticks.length - 1]!;
    ticks = ticks.filter((t) => t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9));
    const l0 = Math.log10(lo);
    const l1 = Math.log10(hi);
    const f = ((v: number) => r0 + ((Math.log10(v) - l0) / (l1 - l0 || 1)) * (r1 - r0)) as Scale;
    return Object.assign(f, { domain: [lo, hi] as [number, number], ticks, step, kind });
  }
  const nt = niceTicks(lo, hi, count);
  step = nt.step;
  if (fixed.min === undefined) lo = nt.ticks[0]!;
  if (fixed.max === undefined) hi = nt.ticks[nt.ticks.length - 1]!;
  if (hi === lo) hi = lo + 1;
  ticks = nt.ticks.filter((t) => t >= lo - step * 1e-6 && t <= hi + step * 1e-6);
  const f = ((v: number) => r0 + ((v - lo) / (hi - lo)) * (r1 - r0)) as Scale;
  return Object.assign(f, { domain: [lo, hi] as [number, number], ticks, step, kind });
}

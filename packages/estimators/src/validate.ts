import type * as tf from '@tensorflow/tfjs-core';
import type { GaussianTaskModel, IclTaskBatch } from './types.js';

/** `Array.isArray` that keeps a readonly array's element type (the built-in narrows it to `any[]`). */
export const isArray = (v: unknown): v is readonly unknown[] => Array.isArray(v);

export function fail(fn: string, msg: string): never {
  throw new RangeError(`${fn}: ${msg}`);
}

export function finiteNumber(
  fn: string,
  name: string,
  v: unknown,
  opts: { min?: number; positive?: boolean; integer?: boolean } = {},
): number {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (!opts.integer || Number.isInteger(v)) &&
    (opts.min === undefined || v >= opts.min) &&
    (!opts.positive || v > 0);
  if (!ok) {
    const want = [
      opts.integer ? 'an integer' : 'a finite number',
      opts.positive ? '> 0' : '',
      opts.min !== undefined ? `≥ ${opts.min}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    fail(fn, `${name} must be ${want}; got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Checks shapes and returns (B, L, d) with y as [B, L]. */
export function checkBatch(fn: string, b: IclTaskBatch): { B: number; L: number; d: number } {
  if (!b || typeof b !== 'object') fail(fn, `batch must be { x, y, xq }; got ${String(b)}`);
  const { x, y, xq } = b;
  if (!x || x.rank !== 3) fail(fn, `batch.x must be rank 3 [B, L, d]; got shape ${shapeOf(x)}`);
  const [B, L, d] = x.shape;
  if (!xq || xq.rank !== 2 || xq.shape[0] !== B || xq.shape[1] !== d)
    fail(fn, `batch.xq must be [${B}, ${d}] to match x; got shape ${shapeOf(xq)}`);
  const yOk =
    y &&
    ((y.rank === 2 && y.shape[0] === B && y.shape[1] === L) ||
      (y.rank === 3 && y.shape[0] === B && y.shape[1] === L && y.shape[2] === 1));
  if (!yOk) fail(fn, `batch.y must be [${B}, ${L}] or [${B}, ${L}, 1] to match x; got shape ${shapeOf(y)}`);
  return { B, L, d };
}

export function checkTaskModel(fn: string, m: GaussianTaskModel): GaussianTaskModel {
  if (!m || typeof m !== 'object') fail(fn, `model must be { d, L, betaVar, noiseVar }; got ${String(m)}`);
  finiteNumber(fn, 'model.d', m.d, { integer: true, min: 1 });
  finiteNumber(fn, 'model.L', m.L, { integer: true, min: 1 });
  finiteNumber(fn, 'model.betaVar', m.betaVar, { positive: true });
  finiteNumber(fn, 'model.noiseVar', m.noiseVar, { min: 0 });
  return m;
}

function shapeOf(t: tf.Tensor | undefined): string {
  return t && Array.isArray(t.shape) ? `[${t.shape.join(', ')}]` : String(t);
}

/** A square matrix of finite numbers, copied. */
export function checkSquare(fn: string, name: string, m: unknown): number[][] {
  const n = isArray(m) ? m.length : 0;
  if (n === 0 || !(m as unknown[]).every((r) => isArray(r) && r.length === n && r.every((v) => Number.isFinite(v))))
    fail(fn, `${name} must be a square d×d array of finite numbers; got ${isArray(m) ? `${n} rows` : String(m)}`);
  return (m as number[][]).map((r) => [...r]);
}

import * as tf from '@tensorflow/tfjs-core';
import { assertFloat, assertNonNegativeInt, assertOneOf, assertTensor, shapeStr } from './validate.js';

/** How rotary embedding pairs the features: (2i, 2i+1) as in RoFormer, or (i, i + d/2) as in GPT-NeoX / HF LLaMA. */
export type RopeStyle = 'interleaved' | 'half';
const ROPE_STYLES: readonly RopeStyle[] = ['interleaved', 'half'];

export interface RopeOptions {
  /** Position of the first token (tokens at offset, offset+1, …); default 0. Ignored when `positions` is given. */
  offset?: number;
  /** Explicit position of each of the T tokens. */
  positions?: readonly number[];
  /** Frequency base: θ_i = base^(−2i/d); default 10000. */
  base?: number;
  /** Feature pairing; default 'interleaved' (RoFormer, DeepSeek-V2's weights layout). */
  style?: RopeStyle;
}

/**
 * Rotary position embedding of x `[…, T, d]` (d even): each feature pair (a, b) of the token at
 * position p is rotated by angle p·θ_i, θ_i = base^(−2i/d): (a cos − b sin, a sin + b cos).
 * Angles are computed in float64 on the host.
 * @example
 * rope(tf.tensor2d([[1, 2, 3, 4]]), { offset: 1 }); // pair (1,2) rotated by 1 rad, (3,4) by 0.01 rad
 */
export function rope(x: tf.Tensor, options: RopeOptions = {}): tf.Tensor {
  const fn = 'rope';
  assertTensor(fn, 'x', x);
  assertFloat(fn, 'x', x);
  if (x.rank < 2) throw new RangeError(`${fn}: x must be rank ≥ 2 [..., T, d]; got shape ${shapeStr(x.shape)}`);
  const t = x.shape[x.rank - 2]!;
  const d = x.shape[x.rank - 1]!;
  if (d % 2 !== 0) throw new RangeError(`${fn}: x's last dim d must be even; got shape ${shapeStr(x.shape)}`);
  const style = options.style ?? 'interleaved';
  assertOneOf(fn, 'options.style', style, ROPE_STYLES);
  const base = options.base ?? 10000;
  if (typeof base !== 'number' || !(base > 0) || !Number.isFinite(base))
    throw new RangeError(`${fn}: options.base must be a finite number > 0; got ${String(base)}`);
  let positions: readonly number[];
  if (options.positions !== undefined) {
    if (!Array.isArray(options.positions) || options.positions.length !== t) {
      throw new RangeError(
        `${fn}: options.positions must be an array of T = ${t} numbers; got ${Array.isArray(options.positions) ? `length ${options.positions.length}` : String(options.positions)}`,
      );
    }
    options.positions.forEach((p, i) => {
      if (typeof p !== 'number' || !Number.isFinite(p))
        throw new RangeError(`${fn}: options.positions[${i}] must be a finite number; got ${String(p)}`);
    });
    positions = options.positions;
  } else {
    const offset = options.offset ?? 0;
    assertNonNegativeInt(fn, 'options.offset', offset);
    positions = Array.from({ length: t }, (_, i) => offset + i);
  }
  const half = d / 2;
  const cos = new Float32Array(t * half);
  const sin = new Float32Array(t * half);
  for (let p = 0; p < t; p++) {
    for (let i = 0; i < half; i++) {
      const angle = positions[p]! * Math.pow(base, (-2 * i) / d);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return tf.tidy(() => {
    const c = tf.tensor2d(cos, [t, half]);
    const s = tf.tensor2d(sin, [t, half]);
    const lead = x.shape.slice(0, -1);
    if (style === 'interleaved') {
      const pairs = tf.reshape(x, [...lead, half, 2]);
      const [a, b] = tf.split(pairs, 2, -1) as [tf.Tensor, tf.Tensor];
      const a2 = tf.reshape(a, [...lead, half]);
      const b2 = tf.reshape(b, [...lead, half]);
      const ra = tf.sub(tf.mul(a2, c), tf.mul(b2, s));
      const rb = tf.add(tf.mul(a2, s), tf.mul(b2, c));
      return tf.reshape(tf.stack([ra, rb], -1), x.shape);
    }
    const [a, b] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
    const ra = tf.sub(tf.mul(a, c), tf.mul(b, s));
    const rb = tf.add(tf.mul(a, s), tf.mul(b, c));
    return tf.concat([ra, rb], -1);
  });
}

import * as tf from '@tensorflow/tfjs-core';
import { assertNonNegativeInt, assertOneOf, assertPositiveInt, assertTensor, shapeStr } from './validate.js';

/** Where the causal diagonal sits when Tq ≠ Tk. */
export type MaskAlignment = 'top-left' | 'bottom-right';
export const MASK_ALIGNMENTS: readonly MaskAlignment[] = ['top-left', 'bottom-right'];

export interface CausalMaskOptions {
  /** `true`: token i sees j < i only (strictly preceding); default `false`: j ≤ i. */
  strict?: boolean;
  /**
   * 'top-left' (default): query i is at position i. 'bottom-right' (PyTorch's
   * `causal_lower_right`): query i is at position i + Tk − Tq, so the last query sees every key.
   */
  alignment?: MaskAlignment;
}

/**
 * Boolean `[Tq, Tk]` causal mask, `true` = may attend: query i sees key j when j ≤ i + offset
 * (j < i + offset with `strict`), offset = 0 top-left, Tk − Tq bottom-right.
 * @example
 * causalMask(3, 3);            // [[T,F,F],[T,T,F],[T,T,T]]
 * causalMask(2, 4, { alignment: 'bottom-right' }); // [[T,T,T,F],[T,T,T,T]]
 */
export function causalMask(tq: number, tk: number, options: CausalMaskOptions = {}): tf.Tensor2D {
  const fn = 'causalMask';
  assertPositiveInt(fn, 'tq', tq);
  assertPositiveInt(fn, 'tk', tk);
  const alignment = options.alignment ?? 'top-left';
  assertOneOf(fn, 'options.alignment', alignment, MASK_ALIGNMENTS);
  const offset = alignment === 'bottom-right' ? tk - tq : 0;
  const strict = options.strict === true;
  const data = new Uint8Array(tq * tk);
  for (let i = 0; i < tq; i++) {
    const last = i + offset - (strict ? 1 : 0); // last key index query i may see
    for (let j = 0; j < tk && j <= last; j++) data[i * tk + j] = 1;
  }
  return tf.tensor2d(data, [tq, tk], 'bool');
}

export interface PaddingMaskOptions {
  /** Rank of the returned mask, `[B, 1, …, 1, Tk]`; default 4 (broadcasts over `[B, H, Tq, Tk]`). Use 3 for `[B, Tq, Tk]` weights. */
  rank?: number;
}

/**
 * Key-padding mask from sequence lengths: `true` where key j < length[b] (a real token),
 * shape `[B, 1, 1, Tk]` by default so it broadcasts over `[B, H, Tq, Tk]`.
 * @example
 * paddingMask([2, 3], 3); // [[[[T,T,F]]],[[[T,T,T]]]]
 */
export function paddingMask(
  lengths: readonly number[] | tf.Tensor1D,
  tk: number,
  options: PaddingMaskOptions = {},
): tf.Tensor {
  const fn = 'paddingMask';
  assertPositiveInt(fn, 'tk', tk);
  const rank = options.rank ?? 4;
  if (!Number.isInteger(rank) || rank < 2)
    throw new RangeError(`${fn}: options.rank must be an integer ≥ 2; got ${String(rank)}`);
  if (Array.isArray(lengths)) {
    const ls = lengths as readonly number[];
    if (ls.length === 0) throw new RangeError(`${fn}: lengths must be non-empty; got []`);
    ls.forEach((l, b) => {
      assertNonNegativeInt(fn, `lengths[${b}]`, l);
      if (l > tk) throw new RangeError(`${fn}: lengths[${b}] must be ≤ tk = ${tk}; got ${l}`);
    });
    const data = new Uint8Array(ls.length * tk);
    ls.forEach((l, b) => data.fill(1, b * tk, b * tk + l));
    return tf.tensor(data, [ls.length, ...new Array<number>(rank - 2).fill(1), tk], 'bool');
  }
  assertTensor(fn, 'lengths', lengths);
  if (lengths.rank !== 1)
    throw new RangeError(`${fn}: lengths must be rank 1 [B]; got shape ${shapeStr(lengths.shape)}`);
  const b = lengths.shape[0];
  return tf.tidy(() => {
    const pos = tf.reshape(tf.range(0, tk, 1, 'int32'), [1, tk]);
    const lens = tf.reshape(tf.cast(lengths, 'int32'), [b, 1]);
    return tf.reshape(tf.less(pos, lens), [b, ...new Array<number>(rank - 2).fill(1), tk]);
  });
}

/**
 * Logical AND of boolean masks (numpy broadcasting): a position may be attended only if every mask allows it.
 * @example
 * combineMasks(causalMask(3, 3), paddingMask([2], 3, { rank: 2 })); // [[T,F,F],[T,T,F],[T,T,F]]
 */
export function combineMasks(...masks: tf.Tensor[]): tf.Tensor {
  const fn = 'combineMasks';
  if (masks.length === 0) throw new RangeError(`${fn}: masks must contain at least one mask; got none`);
  masks.forEach((m, i) => {
    assertTensor(fn, `masks[${i}]`, m);
    if (m.dtype !== 'bool')
      throw new TypeError(`${fn}: masks[${i}] must have dtype bool (true = may attend); got ${m.dtype}`);
  });
  if (masks.length === 1) return masks[0]!.clone();
  return tf.tidy(() => masks.slice(1).reduce<tf.Tensor>((acc, m) => tf.logicalAnd(acc, m), masks[0]!));
}

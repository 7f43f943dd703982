import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './linear.js';
import { causalMask, MASK_ALIGNMENTS, type MaskAlignment } from './masks.js';
import { assertBoolean, assertFloat, assertOneOf, assertTensor, broadcastsTo, shapeStr } from './validate.js';

/** Options of {@link scaledDotProductAttention} and {@link attentionSteps}. */
export interface AttentionOptions {
  /** Boolean mask broadcastable (numpy rules) to `[…, Tq, Tk]`; `true` = may attend. */
  mask?: tf.Tensor;
  /** Causal mask: query i sees keys j ≤ i (positions set by `alignment`). */
  causal?: boolean;
  /** Strictly causal: query i sees keys j < i. Exclusive with `causal`. */
  strictCausal?: boolean;
  /** Alignment of the causal mask when Tq ≠ Tk: 'top-left' (default) or 'bottom-right' (query i at position i + Tk − Tq). */
  alignment?: MaskAlignment;
  /** Factor applied to QKᵀ; default 1/√dk. */
  scale?: number;
}

/** Output `[…, Tq, dv]` and attention weights `[…, Tq, Tk]`. */
export interface AttentionResult {
  output: tf.Tensor;
  weights: tf.Tensor;
}

/** Every intermediate of attention, for walkthroughs (each a tensor the caller owns). */
export interface AttentionStepsResult extends AttentionResult {
  /** QKᵀ, `[…, Tq, Tk]`. */
  scores: tf.Tensor;
  /** scale · QKᵀ. */
  scaledScores: tf.Tensor;
  /** The combined boolean mask (explicit mask ∧ causal), broadcast to `[…, Tq, Tk]`; `null` without masking. */
  mask: tf.Tensor | null;
  /** Scaled scores with −∞ where the mask forbids attention (equal to `scaledScores` without masking). */
  maskedScores: tf.Tensor;
}

/** Most negative finite float32: masked scores become this inside the softmax, so nothing is ever −∞ − (−∞). */
const FLOAT32_LOWEST = -3.4028234663852886e38;

function validate(
  fn: string,
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: AttentionOptions,
): { scale: number; weightsShape: number[] } {
  assertTensor(fn, 'q', q);
  assertTensor(fn, 'k', k);
  assertTensor(fn, 'v', v);
  if (q.rank < 2) throw new RangeError(`${fn}: q must be rank ≥ 2 [..., Tq, dk]; got shape ${shapeStr(q.shape)}`);
  if (k.rank !== q.rank)
    throw new RangeError(`${fn}: k must have the rank of q (${q.rank}) [..., Tk, dk]; got shape ${shapeStr(k.shape)}`);
  if (v.rank !== q.rank)
    throw new RangeError(`${fn}: v must have the rank of q (${q.rank}) [..., Tk, dv]; got shape ${shapeStr(v.shape)}`);
  assertFloat(fn, 'q', q);
  assertFloat(fn, 'k', k);
  assertFloat(fn, 'v', v);
  const r = q.rank;
  const lead = q.shape.slice(0, r - 2);
  const same = (t: tf.Tensor) => t.shape.slice(0, r - 2).every((d, i) => d === lead[i]);
  if (!same(k))
    throw new RangeError(`${fn}: k's leading dims must equal q's ${shapeStr(lead)}; got k shape ${shapeStr(k.shape)}`);
  if (!same(v))
    throw new RangeError(`${fn}: v's leading dims must equal q's ${shapeStr(lead)}; got v shape ${shapeStr(v.shape)}`);
  const dk = q.shape[r - 1]!;
  if (k.shape[r - 1] !== dk)
    throw new RangeError(`${fn}: k's last dim must equal q's dk = ${dk}; got k shape ${shapeStr(k.shape)}`);
  const tk = k.shape[r - 2]!;
  if (v.shape[r - 2] !== tk)
    throw new RangeError(`${fn}: v must have Tk = ${tk} rows (as k); got v shape ${shapeStr(v.shape)}`);
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${fn}: options must be an object; got ${String(options)}`);
  assertBoolean(fn, 'options.causal', options.causal);
  assertBoolean(fn, 'options.strictCausal', options.strictCausal);
  if (options.causal && options.strictCausal) {
    throw new RangeError(`${fn}: options.causal and options.strictCausal are exclusive; got both true`);
  }
  if (options.alignment !== undefined) assertOneOf(fn, 'options.alignment', options.alignment, MASK_ALIGNMENTS);
  const scale = options.scale ?? 1 / Math.sqrt(dk);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) {
    throw new RangeError(`${fn}: options.scale must be a finite number; got ${String(options.scale)}`);
  }
  const weightsShape = [...lead, q.shape[r - 2]!, tk];
  if (options.mask !== undefined) {
    assertTensor(fn, 'options.mask', options.mask);
    if (options.mask.dtype !== 'bool') {
      throw new TypeError(`${fn}: options.mask must have dtype bool (true = may attend); got ${options.mask.dtype}`);
    }
    if (!broadcastsTo(options.mask.shape, weightsShape)) {
      throw new RangeError(
        `${fn}: options.mask must broadcast to the weights' shape ${shapeStr(weightsShape)} [..., Tq, Tk]; got ${shapeStr(options.mask.shape)}`,
      );
    }
  }
  return { scale, weightsShape };
}

/** Inside a tidy: the combined boolean mask broadcast to weightsShape, or null. */
function resolveMask(options: AttentionOptions, weightsShape: number[]): tf.Tensor | null {
  const tq = weightsShape[weightsShape.length - 2]!;
  const tk = weightsShape[weightsShape.length - 1]!;
  let m: tf.Tensor | null = options.mask ?? null;
  if (options.causal || options.strictCausal) {
    const c = causalMask(tq, tk, { strict: options.strictCausal === true, alignment: options.alignment ?? 'top-left' });
    m = m ? tf.logicalAnd(m, c) : c;
  }
  return m ? tf.broadcastTo(m, weightsShape) : null;
}

/**
 * Softmax over the last axis restricted to allowed positions; rows with nothing allowed give 0
 * (value and gradient finite). Exported for layers that build their own scores.
 * @example
 * maskedSoftmax(tf.tensor2d([[1, 2]]), tf.tensor2d([[true, false]], undefined, 'bool')); // [[1, 0]]
 */
export function maskedSoftmax(scores: tf.Tensor, allowed: tf.Tensor | null): tf.Tensor {
  const fn = 'maskedSoftmax';
  assertTensor(fn, 'scores', scores);
  if (allowed === null) return tf.softmax(scores);
  assertTensor(fn, 'allowed', allowed);
  if (allowed.dtype !== 'bool')
    throw new TypeError(`${fn}: allowed must have dtype bool (true = may attend); got ${allowed.dtype}`);
  if (!broadcastsTo(allowed.shape, scores.shape)) {
    throw new RangeError(
      `${fn}: allowed must broadcast to scores' shape ${shapeStr(scores.shape)}; got ${shapeStr(allowed.shape)}`,
    );
  }
  return tidy(() => {
    // Row max over allowed entries (the lowest finite float for an empty row); masked entries are
    // replaced by that max so exp(s − max) is 1 there, then zeroed by the mask: no −∞, no NaN.
    const lowest = tf.scalar(FLOAT32_LOWEST);
    const rowMax = tf.max(tf.where(allowed, scores, lowest), -1, true);
    const shifted = tf.sub(tf.where(allowed, scores, rowMax), rowMax);
    const allowedF = tf.cast(allowed, 'float32');
    const e = tf.mul(tf.exp(shifted), allowedF);
    // Rows with an allowed entry sum to ≥ 1 (their max contributes exp(0)); empty rows sum to 0 and
    // get denominator 1. Built from the mask alone, so no comparison sits on the gradient path.
    const empty = tf.sub(tf.scalar(1), tf.max(tf.broadcastTo(allowedF, scores.shape), -1, true));
    return tf.div(e, tf.add(tf.sum(e, -1, true), empty));
  });
}

function compute(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: AttentionOptions,
  r: { scale: number; weightsShape: number[] },
  steps: boolean,
) {
  const scores = tf.matMul(q, k, false, true);
  const scaledScores = tf.mul(scores, tf.scalar(r.scale));
  const mask = resolveMask(options, r.weightsShape);
  const weights = maskedSoftmax(scaledScores, mask);
  const output = tf.matMul(weights, v);
  if (!steps) return { output, weights };
  const maskedScores = mask ? tf.where(mask, scaledScores, tf.scalar(-Infinity)) : scaledScores.clone();
  return { output, weights, scores, scaledScores, mask, maskedScores };
}

/**
 * Scaled dot-product attention: softmax(scale · QKᵀ, masked) V. q `[…, Tq, dk]`, k `[…, Tk, dk]`,
 * v `[…, Tk, dv]` → output `[…, Tq, dv]`, weights `[…, Tq, Tk]`. A query with no key to attend
 * to gets weights 0 and output 0 (never NaN).
 * @example
 * const { output, weights } = scaledDotProductAttention(q, k, v, { causal: true });
 */
export function scaledDotProductAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: AttentionOptions = {},
): AttentionResult {
  const r = validate('scaledDotProductAttention', q, k, v, options);
  return tidy(() => compute(q, k, v, options, r, false));
}

/**
 * Scaled dot-product attention with every intermediate kept: scores (QKᵀ), scaled scores,
 * the combined mask, masked scores (−∞ where forbidden), weights, output.
 * @example
 * const s = attentionSteps(q, k, v, { causal: true }); // s.scores, s.scaledScores, s.maskedScores, s.weights, s.output
 */
export function attentionSteps(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: AttentionOptions = {},
): AttentionStepsResult {
  const r = validate('attentionSteps', q, k, v, options);
  return tidy(() => compute(q, k, v, options, r, true) as AttentionStepsResult);
}

/**
 * Forward passes of seed 004's attention: the single-layer query-only model and the causal stack.
 * Pure tfjs-core ops, differentiable with tf.grads / tf.variableGrads.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ICL_ATTENTION_KINDS, type IclAttentionKind } from './layout.js';
import { attentionDims, stackDims, type IclAttentionParams, type IclStackParams } from './params.js';
import { checkOneOf, checkTensor, shapeStr } from './validate.js';

/** Options of the forward passes. */
export interface IclForwardOptions {
  /** Also return the attention weights (default false). */
  returnWeights?: boolean;
  /**
   * {@link iclAttention} only: 'softmax' (default, the seed's); 'linear', weights w_i = (q·k_i/√D)/L
   * with no softmax (normalised by the prompt length); 'linear-unnormalised', w_i = q·k_i/√D.
   */
  attention?: IclAttentionKind;
}

/** Output of {@link iclAttention}. */
export type IclAttentionResult = {
  /** [B, nOut]; with nOut = 1 this is ŷ_q. */
  output: tf.Tensor2D;
  /** `[B, H, L]`: the query's weights over the L context tokens, per head (on request). */
  weights?: tf.Tensor3D;
};

/** Output of {@link iclStack}. */
export type IclStackResult = {
  /** `[B, nOut]`: final linear applied to the query position's last hidden state. */
  output: tf.Tensor2D;
  /** Per layer, [B, H, L+1, L+1] weights over [Z; z_q] (on request). */
  weights?: tf.Tensor4D[];
};

function checkInputs(fn: string, Z: tf.Tensor, zq: tf.Tensor, D: number): [number, number] {
  checkTensor(fn, 'Z', Z);
  checkTensor(fn, 'zq', zq);
  if (Z.rank !== 3 || Z.shape[2] !== D)
    throw new RangeError(`${fn}: Z must be rank 3 [B, L, d+1 = ${D}]; got shape ${shapeStr(Z.shape)}`);
  const [B, L] = Z.shape as [number, number, number];
  if (zq.rank !== 2 || zq.shape[0] !== B || zq.shape[1] !== D)
    throw new RangeError(`${fn}: zq must be [B = ${B}, d+1 = ${D}]; got shape ${shapeStr(zq.shape)}`);
  if (L < 1) throw new RangeError(`${fn}: Z must hold at least one context token; got shape ${shapeStr(Z.shape)}`);
  return [B, L];
}

/** [H, D, C] per-head matrices → [D, H·C] so that x·flat gives every head's x·W^h side by side. */
function headsSideBySide(W: tf.Tensor3D): tf.Tensor2D {
  const [H, D, C] = W.shape;
  return tf.reshape(tf.transpose(W, [1, 0, 2]), [D, H * C]);
}

/** x [N, D] → per-head projections [B, H, T, C] with N = B·T. */
function project(x2d: tf.Tensor2D, W: tf.Tensor3D, B: number, T: number): tf.Tensor4D {
  const [H, , C] = W.shape;
  return tf.transpose(tf.reshape(tf.matMul(x2d, headsSideBySide(W)), [B, T, H, C]), [0, 2, 1, 3]);
}

/**
 * Seed 004's single-layer query-only multi-head attention: per head q = z_q·Wq^h, k_i = z_i·Wk^h,
 * v_i = z_i·Wv^h, weights = softmax_i(q·k_i/√(d+1)) over the L context tokens only (z_q does not
 * attend to itself), output = Σ_h (Σ_i w_i v_i)·Wo^h. No bias. With `attention: 'linear'` the
 * softmax is dropped: w_i = (q·k_i/√(d+1))/L; with 'linear-unnormalised', w_i = q·k_i/√(d+1).
 * @example
 * const p = initIclAttention({ d: 5, numHeads: 2, seed: 0 });
 * const { output } = iclAttention(p, Z, zq); // Z [B, L, 6], zq [B, 6] → output [B, 1]
 */
export function iclAttention(
  params: IclAttentionParams,
  Z: tf.Tensor3D,
  zq: tf.Tensor2D,
  options: IclForwardOptions = {},
): IclAttentionResult {
  const fn = 'iclAttention';
  const { H, D, nOut } = attentionDims(fn, params);
  const [B, L] = checkInputs(fn, Z, zq, D);
  const kind = checkOneOf(fn, 'options.attention', options.attention ?? 'softmax', ICL_ATTENTION_KINDS);
  return tf.tidy(() => {
    const z2d = tf.reshape(Z, [B * L, D]) as tf.Tensor2D;
    const q = project(zq, params.Wq, B, 1); // [B, H, 1, D]
    const k = project(z2d, params.Wk, B, L); // [B, H, L, D]
    const v = project(z2d, params.Wv, B, L);
    const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)); // [B, H, 1, L]
    const w = kind === 'softmax' ? tf.softmax(scores) : kind === 'linear' ? tf.mul(scores, 1 / L) : scores;
    const ctx = tf.reshape(tf.matMul(w, v), [B, H * D]); // heads side by side
    const output = tf.matMul(ctx, tf.reshape(params.Wo, [H * D, nOut])) as tf.Tensor2D;
    const result: IclAttentionResult = { output };
    if (options.returnWeights) result.weights = tf.reshape(w, [B, H, L]) as tf.Tensor3D;
    return result;
  });
}

/** Strictly-preceding mask over T tokens: additive bias (0 / −1e9) and a 0/1 keep matrix. */
function strictCausal(T: number): { bias: tf.Tensor2D; keep: tf.Tensor2D } {
  const keep = new Float32Array(T * T);
  const bias = new Float32Array(T * T).fill(-1e9);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < i; j++) {
      keep[i * T + j] = 1;
      bias[i * T + j] = 0;
    }
  }
  return { bias: tf.tensor2d(bias, [T, T]), keep: tf.tensor2d(keep, [T, T]) };
}

/**
 * One causal layer on x [B, T, D]: token i attends to tokens j < i (softmax once, over the allowed
 * scores; token 0 has nothing to attend to and gets weights 0 and output 0), then Wo.
 */
function causalLayer(
  p: IclAttentionParams,
  x: tf.Tensor3D,
  mask: { bias: tf.Tensor2D; keep: tf.Tensor2D },
): { out: tf.Tensor3D; weights: tf.Tensor4D } {
  const [B, T, D] = x.shape;
  const H = p.Wq.shape[0];
  const x2d = tf.reshape(x, [B * T, D]) as tf.Tensor2D;
  const q = project(x2d, p.Wq, B, T);
  const k = project(x2d, p.Wk, B, T);
  const v = project(x2d, p.Wv, B, T);
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)), mask.bias);
  const weights = tf.mul(tf.softmax(scores), mask.keep) as tf.Tensor4D; // row 0: uniform·0 = 0
  const ctx = tf.reshape(tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]), [B * T, H * D]);
  const out = tf.reshape(tf.matMul(ctx, tf.reshape(p.Wo, [H * D, D])), [B, T, D]) as tf.Tensor3D;
  return { out, weights };
}

/**
 * Seed 004's multi-layer causal stack (`MultiHeadAttentionStack` with `CausalMultiHeadAttention`):
 * x = [Z; z_q] ([B, L+1, D]); each layer lets token i attend to tokens j < i, x ← layer(x)
 * (or x + layer(x) with `residual`); output = x[:, L, :]·final. One softmax over the allowed
 * scores (the seed applies softmax twice, see the README); a row with nothing to attend to
 * (token 0) gets weights 0 and output 0.
 * @example
 * const p = initIclStack({ d: 5, numHeads: 2, numLayers: 2, seed: 0 });
 * const { output } = iclStack(p, Z, zq); // [B, 1]
 */
export function iclStack(
  params: IclStackParams,
  Z: tf.Tensor3D,
  zq: tf.Tensor2D,
  options: IclForwardOptions = {},
): IclStackResult {
  const fn = 'iclStack';
  const { D } = stackDims(fn, params);
  const [B, L] = checkInputs(fn, Z, zq, D);
  const T = L + 1;
  return tf.tidy(() => {
    const mask = strictCausal(T);
    let x = tf.concat([Z, tf.reshape(zq, [B, 1, D])], 1) as tf.Tensor3D;
    const weights: tf.Tensor4D[] = [];
    for (let l = 0; l < params.numLayers; l++) {
      const layer = params.tied ? params.layers[0]! : params.layers[l]!;
      const { out, weights: w } = causalLayer(layer, x, mask);
      x = params.residual ? tf.add(x, out) : out;
      weights.push(w);
    }
    const last = tf.reshape(tf.slice(x, [0, L, 0], [B, 1, D]), [B, D]);
    const output = tf.matMul(last, params.final) as tf.Tensor2D;
    const result: IclStackResult = { output };
    if (options.returnWeights) result.weights = weights;
    return result;
  });
}

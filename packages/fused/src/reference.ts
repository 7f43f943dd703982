/**
 * The naive tfjs model of seed 004 (op by op, tfjs autodiff, tf.train.adam): the oracle the fused
 * path is tested against, and the "reference" column of the benchmark. It follows the seed's
 * MultiHeadAttention: q = z_q Wq, k = Z Wk, v = Z Wv per head, softmax(q kᵀ/√(d+1)) v, then Wo.
 */
import * as tf from '@tensorflow/tfjs-core';
import { paramOffsets, type IclShape } from './single/float64.js';

/** Reference model variables in the seed's layout. */
export interface ReferenceModel {
  shape: IclShape;
  /** [H, D, D] */
  wq: tf.Variable;
  wk: tf.Variable;
  wv: tf.Variable;
  /** [H, D, 1] */
  wo: tf.Variable;
  optimizer: tf.AdamOptimizer;
  dispose(): void;
}

/**
 * Builds the naive reference model from a flat parameter vector (layout of `paramCount`).
 *
 * @example
 * const ref = createReferenceModel({ heads: 2, d: 5 }, initParams({ heads: 2, d: 5 }, 1));
 */
export function createReferenceModel(
  shape: IclShape, flat: ArrayLike<number>, adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
): ReferenceModel {
  const H = shape.heads;
  const D = shape.d + 1;
  const off = paramOffsets(shape);
  const f = Float32Array.from(flat as ArrayLike<number>);
  const m = H * D * D;
  // Inside tidy so that the initial-value tensors are released (variables are kept).
  const v = (a: Float32Array, shape: [number, number, number]) => tf.tidy(() => tf.variable(tf.tensor3d(a, shape), true, undefined, 'float32'));
  const wq = v(f.slice(off.wq, off.wq + m), [H, D, D]);
  const wk = v(f.slice(off.wk, off.wk + m), [H, D, D]);
  const wv = v(f.slice(off.wv, off.wv + m), [H, D, D]);
  const wo = v(f.slice(off.wo, off.wo + H * D), [H, D, 1]);
  const optimizer = tf.train.adam(adam.lr, adam.beta1, adam.beta2, adam.eps);
  return {
    shape, wq, wk, wv, wo, optimizer,
    dispose() {
      wq.dispose(); wk.dispose(); wv.dispose(); wo.dispose(); optimizer.dispose();
    },
  };
}

/** Prediction [B] of the naive model for z [B, L, D] and zq [B, D]. */
export function referenceForward(
  shape: IclShape, w: { wq: tf.Tensor; wk: tf.Tensor; wv: tf.Tensor; wo: tf.Tensor }, z: tf.Tensor3D, zq: tf.Tensor2D,
): tf.Tensor1D {
  return tf.tidy(() => {
    const H = shape.heads;
    const D = shape.d + 1;
    const [B, L] = z.shape;
    // x·W with W [D, H·D] (PyTorch's q_proj.weightᵀ), then split heads: [B, H, tokens, D].
    const proj = (x: tf.Tensor2D, wt: tf.Tensor, n: number) =>
      tf.transpose(tf.reshape(tf.matMul(x, tf.reshape(tf.transpose(wt, [1, 0, 2]), [D, H * D])), [B, n, H, D]), [0, 2, 1, 3]);
    const q = proj(zq, w.wq, 1);
    const z2 = tf.reshape(z, [B * L, D]) as tf.Tensor2D;
    const k = proj(z2, w.wk, L);
    const v = proj(z2, w.wv, L);
    const scores = tf.mul(tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true), 1 / Math.sqrt(D));
    const a = tf.softmax(scores);
    const o = tf.matMul(a as tf.Tensor4D, v as tf.Tensor4D); // [B, H, 1, D]
    const cat = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B, H * D]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(cat, tf.reshape(w.wo, [H * D, 1])), [B]) as tf.Tensor1D;
  });
}

/** PyTorch MSELoss (mean) of the naive model. */
export function referenceLoss(
  shape: IclShape, w: { wq: tf.Tensor; wk: tf.Tensor; wv: tf.Tensor; wo: tf.Tensor }, z: tf.Tensor3D, zq: tf.Tensor2D, yq: tf.Tensor1D,
): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(referenceForward(shape, w, z, zq), yq))) as tf.Scalar);
}

/** One reference Adam step; returns the loss before the update as a scalar tensor. */
export function referenceStep(model: ReferenceModel, z: tf.Tensor3D, zq: tf.Tensor2D, yq: tf.Tensor1D): tf.Scalar {
  const loss = model.optimizer.minimize(() => referenceLoss(model.shape, model, z, zq, yq), true, [model.wq, model.wk, model.wv, model.wo]);
  return loss!;
}

/** The reference model's parameters as one flat vector (layout of `paramCount`). */
export async function referenceFlat(model: ReferenceModel): Promise<Float32Array> {
  const parts = await Promise.all([model.wq, model.wk, model.wv, model.wo].map((v) => v.data() as Promise<Float32Array>));
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

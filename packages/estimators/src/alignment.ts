// How closely a trained in-context model follows one step of gradient descent, measured the way
// von Oswald et al. (2023) do: the difference of the predictions, and the cosine between the
// gradients of the prediction with respect to the query input.
import * as tf from '@tensorflow/tfjs-core';
import type { IclTaskBatch } from './types.js';
import { checkBatch, checkSquare, fail, finiteNumber } from './validate.js';

export interface GdAlignment {
  /** Tasks measured. */
  samples: number;
  /** Mean of (ŷ_model − ŷ_GD)² over the tasks. */
  predictionDifference: number;
  /** The same, relative to the mean of ŷ_GD² (0 = the model is that GD predictor); null when GD predicts 0 everywhere. */
  relativePredictionDifference: number | null;
  /** Mean over tasks of cos(∂ŷ_model/∂x_q, ∂ŷ_GD/∂x_q) (1 = the same direction in every task). */
  gradientCosine: number;
}

/**
 * Compares a model of tokens with one-step GD of step η on a batch of tasks. The GD predictor is
 * ŷ = (η/L) Σ_i y_i ⟨x_i − x̄, x_q⟩ (debiased, the default) or (η/L) Σ_i y_i ⟨x_i, x_q⟩, with x_q
 * replaced by Γ x_q for a `preconditioner` Γ, so its gradient
 * in x_q is (η/L) Σ_i y_i (x_i − x̄) in closed form; the model's gradient comes from tfjs autodiff
 * (its ops need registered gradients: initialise through `@attnlab/backend`). The model sees
 * Z = [x_i, y_i] and z_q = [x_q, 0] and its last output column is the prediction, as in `modelEstimator`.
 * @example
 * const a = await gdAlignment((Z, zq) => iclAttention(params, Z, zq).output, batch, { stepSize: 0.88 });
 */
export async function gdAlignment(
  forward: (Z: tf.Tensor3D, zq: tf.Tensor2D) => tf.Tensor,
  batch: IclTaskBatch,
  options: { stepSize: number; debiased?: boolean; preconditioner?: readonly (readonly number[])[] },
): Promise<GdAlignment> {
  const fn = 'gdAlignment';
  if (typeof forward !== 'function')
    fail(fn, `forward must be a function (Z, zq) => prediction; got ${typeof forward}`);
  const eta = finiteNumber(fn, 'options.stepSize', options?.stepSize);
  const debiased = options.debiased ?? true;
  const { B, L, d } = checkBatch(fn, batch);
  const G =
    options.preconditioner === undefined ? null : checkSquare(fn, 'options.preconditioner', options.preconditioner);
  if (G && G.length !== d) fail(fn, `options.preconditioner is ${G.length}×${G.length} but the tasks have d = ${d}`);
  const [yM, gM, yG, gG] = tf.tidy(() => {
    const y = tf.reshape(batch.y, [B, L]);
    const Z = tf.concat([batch.x, tf.reshape(y, [B, L, 1])], 2) as tf.Tensor3D;
    const x = debiased ? tf.sub(batch.x, tf.mean(batch.x, 1, true)) : batch.x;
    // ∂ŷ_GD/∂x_q = (η/L) Σ_i y_i x_i (x centred when debiased): [B, d].
    const plain = tf.mul(tf.squeeze(tf.matMul(tf.expandDims(y, 1), x), [1]), eta / L) as tf.Tensor2D;
    // Preconditioned: ŷ = (η/L) Σ_i y_i (x_i − x̄)ᵀ Γ x_q, so the gradient is Γᵀ times the plain one.
    const gradGd = G ? tf.matMul(plain, tf.tensor2d(G.flat(), [d, d])) : plain;
    const predGd = tf.sum(tf.mul(gradGd, batch.xq), 1);
    const predict = (xq: tf.Tensor): tf.Tensor => {
      const out = forward(Z, tf.concat([xq, tf.zeros([B, 1])], 1) as tf.Tensor2D);
      const flat = tf.reshape(out, [B, -1]);
      return tf.reshape(tf.slice(flat, [0, flat.shape[1]! - 1], [B, 1]), [B]);
    };
    // Task b's prediction depends on its own x_q only, so the gradient of the sum is per task.
    const { value, grad } = tf.valueAndGrad((xq: tf.Tensor) => tf.sum(predict(xq)) as tf.Scalar)(batch.xq);
    value.dispose();
    return [predict(batch.xq), grad, predGd, gradGd];
  });
  try {
    const [ym, gm, yg, gg] = await Promise.all([yM.data(), gM.data(), yG.data(), gG.data()]);
    let diff = 0,
      ref = 0,
      cos = 0;
    for (let b = 0; b < B; b++) {
      diff += (ym[b]! - yg[b]!) ** 2;
      ref += yg[b]! ** 2;
      let dot = 0,
        nm = 0,
        ng = 0;
      for (let k = 0; k < d; k++) {
        const a = gm[b * d + k]!,
          c = gg[b * d + k]!;
        dot += a * c;
        nm += a * a;
        ng += c * c;
      }
      cos += nm > 0 && ng > 0 ? dot / Math.sqrt(nm * ng) : 0;
    }
    return {
      samples: B,
      predictionDifference: diff / B,
      relativePredictionDifference: ref > 0 ? diff / ref : null,
      gradientCosine: cos / B,
    };
  } finally {
    tf.dispose([yM, gM, yG, gG]);
  }
}

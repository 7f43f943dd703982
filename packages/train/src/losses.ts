/**
 * Losses with PyTorch's semantics (mean reduction). Both return a scalar tensor and are
 * differentiable, so they can be used inside `tf.variableGrads` and the training loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import { show } from './validate.js';

/**
 * Mean squared error, as `torch.nn.MSELoss()` (reduction 'mean'): mean over every element of
 * (pred − target)². Shapes must be equal (PyTorch would broadcast with a warning; we refuse).
 * @example
 * const l = meanSquaredError(tf.tensor1d([1, 2]), tf.tensor1d([0, 0])); // 2.5
 */
export function meanSquaredError(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  if (!(pred instanceof tf.Tensor))
    throw new TypeError(`meanSquaredError: pred must be a tf.Tensor; got ${show(pred)}`);
  if (!(target instanceof tf.Tensor))
    throw new TypeError(`meanSquaredError: target must be a tf.Tensor; got ${show(target)}`);
  if (!tf.util.arraysEqual(pred.shape, target.shape)) {
    throw new RangeError(
      `meanSquaredError: target must have the shape of pred [${pred.shape.join(', ')}]; got shape [${target.shape.join(', ')}]`,
    );
  }
  if (pred.size === 0)
    throw new RangeError(
      'meanSquaredError: pred must have at least one element; got shape [' + pred.shape.join(', ') + ']',
    );
  return tf.tidy(
    () => tf.mean(tf.squaredDifference(tf.cast(pred, 'float32'), tf.cast(target, 'float32'))) as tf.Scalar,
  );
}

/**
 * Cross-entropy over class logits, as `torch.nn.CrossEntropyLoss()` (reduction 'mean', no class
 * weights, no label smoothing): −mean_i log_softmax(logits_i)[labels_i], with a numerically
 * stable log-softmax (the row maximum is subtracted first).
 * `logits` is [N, C]; `labels` holds N integer class indices in [0, C), as an int32 tensor or a
 * number array. Number arrays are range-checked (a RangeError names the label); int32 tensors cannot
 * be read synchronously on every backend, so an out-of-range label there makes the loss NaN.
 * @example
 * const l = crossEntropy(tf.tensor2d([[0, 0]]), [1]); // ln 2
 */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor | readonly number[]): tf.Scalar {
  const fn = 'crossEntropy';
  if (!(logits instanceof tf.Tensor)) throw new TypeError(`${fn}: logits must be a tf.Tensor; got ${show(logits)}`);
  if (logits.rank !== 2)
    throw new RangeError(`${fn}: logits must be rank 2 [N, C]; got shape [${logits.shape.join(', ')}]`);
  const [n, c] = logits.shape as [number, number];
  if (n === 0 || c === 0)
    throw new RangeError(`${fn}: logits must have N ≥ 1 rows and C ≥ 1 classes; got shape [${n}, ${c}]`);
  if (labels instanceof tf.Tensor) {
    if (labels.dtype !== 'int32')
      throw new TypeError(`${fn}: labels must be an int32 tensor of class indices; got dtype ${labels.dtype}`);
    if (labels.rank !== 1 || labels.shape[0] !== n) {
      throw new RangeError(
        `${fn}: labels must have shape [${n}] (one class index per row of logits); got shape [${labels.shape.join(', ')}]`,
      );
    }
  } else {
    if (!Array.isArray(labels))
      throw new TypeError(`${fn}: labels must be an int32 tensor or an array of class indices; got ${show(labels)}`);
    if (labels.length !== n)
      throw new RangeError(`${fn}: labels must have ${n} entries (one per row of logits); got ${labels.length}`);
    for (let i = 0; i < n; i++) {
      const y = labels[i];
      if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= c) {
        throw new RangeError(`${fn}: labels[${i}] must be an integer class index in [0, ${c - 1}]; got ${show(y)}`);
      }
    }
  }
  return tf.tidy(() => {
    const y = labels instanceof tf.Tensor ? labels : tf.tensor1d(labels as number[], 'int32');
    // z − logsumexp(z) rather than tf.logSoftmax: tfjs-backend-wasm 4.22's LogSoftmax leaks one
    // internal buffer per call (found by tfjs's own per-kernel leak check).
    const z = tf.cast(logits, 'float32');
    const logp = tf.sub(z, tf.logSumExp(z, -1, true));
    // oneHot in int32 then cast: tfjs-backend-wasm 4.22's OneHot writes int32 data even when asked for float32
    const hot = tf.cast(tf.oneHot(y, c), 'float32');
    const picked = tf.sum(tf.mul(hot, logp));
    const loss = tf.div(tf.neg(picked), tf.scalar(n));
    // An out-of-range label has an all-zero one-hot row: the loss is NaN then, never a silent 0.
    return tf.where(tf.equal(tf.sum(hot), tf.scalar(n)), loss, tf.scalar(NaN)) as tf.Scalar;
  });
}

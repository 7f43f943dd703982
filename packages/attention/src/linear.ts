/** Internal tensor helpers shared by the layers (not exported from the package). */
import * as tf from '@tensorflow/tfjs-core';

/** y = x W (+ b) over the last axis; x `[…, in]`, W `[in, out]` → `[…, out]`. */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const lead = x.shape.slice(0, -1);
  const inDim = x.shape[x.rank - 1]!;
  const y = tf.matMul(tf.reshape(x, [-1, inDim]), w);
  const yb = b ? tf.add(y, b) : y;
  return tf.reshape(yb, [...lead, w.shape[1]!]);
}

/** `[B, T, H·d]` → `[B, H, T, d]`. */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
  const [b, t, hd] = x.shape as [number, number, number];
  return tf.transpose(tf.reshape(x, [b, t, heads, hd / heads]), [0, 2, 1, 3]) as tf.Tensor4D;
}

/** `[B, H, T, d]` → `[B, T, H·d]`. */
export function mergeHeads(x: tf.Tensor): tf.Tensor3D {
  const [b, h, t, d] = x.shape as [number, number, number, number];
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, t, h * d]) as tf.Tensor3D;
}

/** Xavier/Glorot-uniform or ±bound uniform draw, deterministic for a seed. */
export function uniform(shape: number[], bound: number, seed: number): tf.Tensor {
  return tf.randomUniform(shape, -bound, bound, 'float32', seed);
}

/** `tf.tidy` for functions returning typed objects of tensors (tidy keeps every tensor reachable from the result). */
export function tidy<T>(f: () => T): T {
  return tf.tidy(f as unknown as () => tf.TensorContainer) as unknown as T;
}

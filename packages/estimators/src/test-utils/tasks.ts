import * as tf from '@tensorflow/tfjs-core';
import { read } from '@attnlab/backend/testing';

/** Gaussian tasks drawn with tfjs's seeded generator (independent of the code under test). */
export function gaussianTasks(B: number, L: number, d: number, betaVar: number, noiseVar: number, seed: number) {
  return tf.tidy(() => {
    const x = tf.randomNormal([B, L, d], 0, 1, 'float32', seed) as tf.Tensor3D;
    const beta = tf.randomNormal([B, d, 1], 0, Math.sqrt(betaVar), 'float32', seed + 1);
    const xq = tf.randomNormal([B, d], 0, 1, 'float32', seed + 2) as tf.Tensor2D;
    const noise = tf.randomNormal([B, L, 1], 0, Math.sqrt(noiseVar), 'float32', seed + 3);
    const y = tf.squeeze(tf.add(tf.matMul(x, beta), noise), [2]) as tf.Tensor2D;
    const yq = tf.squeeze(tf.matMul(tf.expandDims(xq, 1), beta), [1, 2]) as tf.Tensor1D;
    return { x, y, xq, yq };
  });
}

export async function mcRisk(pred: tf.Tensor1D, target: tf.Tensor1D): Promise<{ mean: number; se: number }> {
  const sq = await read(tf.tidy(() => tf.square(tf.sub(pred, target))));
  const m = sq.reduce((a, b) => a + b, 0) / sq.length;
  const v = sq.reduce((a, b) => a + (b - m) ** 2, 0) / (sq.length - 1);
  return { mean: m, se: Math.sqrt(v / sq.length) };
}

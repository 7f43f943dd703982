import type * as tf from '@tensorflow/tfjs-core';

/** A batch of in-context regression tasks: contexts (x, y) and queries x_q. */
export interface IclTaskBatch {
  /** Context inputs `[B, L, d]`. */
  x: tf.Tensor3D;
  /** Context targets `[B, L]` or `[B, L, 1]`. */
  y: tf.Tensor2D | tf.Tensor3D;
  /** Queries `[B, d]`. */
  xq: tf.Tensor2D;
}

/** An in-context estimator: predicts y_q for every task of a batch (`[B]`). */
export interface Estimator {
  readonly name: string;
  predict(batch: IclTaskBatch): Promise<tf.Tensor1D>;
}

/** Prior and noise of the Gaussian task model: β ~ N(0, betaVar·I), x ~ N(0, I), y = xβ + N(0, noiseVar). */
export interface GaussianTaskModel {
  /** Input dimension d. */
  d: number;
  /** Context length L. */
  L: number;
  /** Variance of each β entry (1 for the seed's N(0, I); 1/d for N(0, I/d)). */
  betaVar: number;
  /** Variance of the label noise (the seed: d·noiseStd²). */
  noiseVar: number;
}

import type * as tf from '@tensorflow/tfjs-core';

/** A JSON value (what probes return and what `rngState`/`meta` hold). Non-finite numbers survive checkpoints. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Element types a checkpoint stores (float64 for engines that keep their state in float64). */
export type HostDtype = 'float32' | 'int32' | 'float64';

/** A tensor's values on the host: what checkpoints and optimizer states hold. */
export interface HostTensor {
  shape: number[];
  dtype: HostDtype;
  values: Float32Array | Int32Array | Float64Array;
}

/** Named trainable parameters: a flat dictionary of variables. */
export type ParamMap = Record<string, tf.Variable>;

/** Named tensors: what an engine's `params()` gives to validation and probes. */
export type TensorMap = Record<string, tf.Tensor>;

/** Named gradients, keyed like the parameters (a missing entry means "no gradient": the parameter is skipped). */
export type GradMap = Record<string, tf.Tensor | null | undefined>;

/** A deterministic data source: `batch(t)` gives iteration t's batch (tensors in it are disposed by the loop after use). */
export interface DataStream<B> {
  batch(step: number): B | Promise<B>;
}

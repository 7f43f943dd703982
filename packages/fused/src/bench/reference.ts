/**
 * The reference path: @attnlab/attention's model (`iclAttention` / `iclStack` from
 * `iclInitialParams`), @attnlab/data's batches (`iclBatchArrays` + `iclTokensArrays`) and
 * @attnlab/train's optimizer (sgd / adam / adamw) through `autodiffEngine`, all in float32 tfjs
 * and none of this package's engines: what the fast engines are tested against and the
 * benchmark's "reference" rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  iclAttention,
  iclInitialParams,
  iclModelShape,
  iclStack,
  iclStructure,
  type IclAttentionParams,
  type IclStackParams,
} from '@attnlab/attention';
import { TRAIN_STREAM, iclBatchArrays, iclTokensArrays } from '@attnlab/data';
import {
  adam,
  adamw,
  autodiffEngine,
  meanSquaredError,
  sgd,
  type Engine,
  type Optimizer,
  type ParamMap,
} from '@attnlab/train';
import type { IclTrainingSpec } from '../spec.js';
import { show } from '../validate.js';

interface Batch {
  Z: tf.Tensor3D;
  zq: tf.Tensor2D;
  yq: tf.Tensor1D;
}

function optimizerOf(spec: IclTrainingSpec): Optimizer {
  const o = spec.optimizer;
  if (o.method === 'sgd') return sgd({ lr: o.lr, weightDecay: o.weightDecay ?? 0 });
  const cfg = {
    lr: o.lr,
    betas: [o.betas![0], o.betas![1]] as [number, number],
    eps: o.eps!,
    weightDecay: o.weightDecay ?? 0,
  };
  return o.method === 'adam' ? adam(cfg) : adamw(cfg);
}

/**
 * The reference engine of a spec (its variables and optimizer are its own; `dispose` frees them).
 * @example
 * const ref = referenceEngine(spec);
 * const losses = await ref.run(100);
 * ref.dispose();
 */
export function referenceEngine(spec: IclTrainingSpec): Engine & { variables: ParamMap } {
  if (typeof spec !== 'object' || spec === null)
    throw new TypeError(`referenceEngine: spec must be an IclTrainingSpec; got ${show(spec)}`);
  const model = iclModelShape(spec.model, 'referenceEngine');
  const init = iclInitialParams(spec.model);
  const variables: ParamMap = {};
  for (const [name, h] of Object.entries(init))
    variables[name] = tf.tidy(() => tf.variable(tf.tensor(h.values, h.shape, 'float32'), true));
  const optimizer = optimizerOf(spec);
  const D = model.d + 1;
  const engine = autodiffEngine<Batch>({
    params: variables,
    optimizer,
    data: {
      batch: (t) => {
        const a = iclTokensArrays(
          iclBatchArrays(spec.task, { seed: spec.dataSeed, stream: TRAIN_STREAM, step: t, batch: spec.batch }),
        );
        return {
          Z: tf.tensor3d(a.Z, [spec.batch, spec.task.L, D]),
          zq: tf.tensor2d(a.zq, [spec.batch, D]),
          yq: tf.tensor1d(a.yq),
        };
      },
    },
    loss: (p, b) => {
      const st = iclStructure(model, p);
      const out =
        model.layers === 1
          ? iclAttention(st as IclAttentionParams, b.Z, b.zq).output
          : iclStack(st as IclStackParams, b.Z, b.zq).output;
      const last = tf.reshape(tf.slice(out, [0, model.nOut - 1], [-1, 1]), [-1]);
      return meanSquaredError(last, b.yq);
    },
  });
  return {
    ...engine,
    get step() {
      return engine.step;
    },
    variables,
    dispose() {
      tf.dispose(Object.values(variables));
      optimizer.dispose();
    },
  };
}

/**
 * The reference path's first `steps` losses for a spec.
 * @example
 * const want = await referenceLosses(spec, 100); // Float64Array(100)
 */
export async function referenceLosses(spec: IclTrainingSpec, steps: number): Promise<Float64Array> {
  const e = referenceEngine(spec);
  try {
    return Float64Array.from(await e.run(steps));
  } finally {
    e.dispose();
  }
}

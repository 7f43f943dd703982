/**
 * What a fast engine trains: seed 004's model (@attnlab/attention's `IclModelConfig`), the task
 * family its batches come from (@attnlab/data's `IclTaskConfig`), the batch size, the data seed and
 * the optimizer — one object, checked once, the same for every engine.
 */
import { iclModelShape, iclParamLayout, type IclModelConfig, type IclModelShape } from '@attnlab/attention';
import type { IclTaskConfig } from '@attnlab/data';
import { iclDataParams, type IclDataParams } from './data.js';
import type { FlatOptimizer, Segment } from './optimizer.js';
import { checkInt, checkNumber, checkObject, checkOneOf, show } from './validate.js';

/** The optimizers the engines implement (PyTorch semantics, as @attnlab/train's sgd, adam, adamw). */
export const ICL_OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;

/** The optimizer of a spec. */
export interface IclOptimizerSpec {
  method: (typeof ICL_OPTIMIZERS)[number];
  /** Learning rate, ≥ 0. */
  lr: number;
  /** (β1, β2), each in [0, 1): required by Adam and AdamW, ignored by SGD. */
  betas?: readonly [number, number];
  /** Added to √v̂ outside the root: required by Adam and AdamW, ignored by SGD. */
  eps?: number;
  /** Adam and SGD: L2 added to the gradient; AdamW: decoupled decay (default 0). */
  weightDecay?: number;
}

/**
 * One training run of seed 004's model: training iteration t trains on
 * `iclBatchArrays(task, { seed: dataSeed, stream: TRAIN_STREAM, step: t, batch })` and starts from
 * `iclInitialParams(model)`.
 * @example
 * const spec: IclTrainingSpec = {
 *   model: { d: 5, numHeads: 2, layers: 1, seed: 0 },
 *   task: { L: 40, dx: 5, noiseStd: Math.sqrt(0.1 / 5), betaScale: 'inverse-d', queryNoise: true },
 *   batch: 256, dataSeed: 0,
 *   optimizer: { method: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
 * };
 */
export interface IclTrainingSpec {
  /** The model (layers 1: the query-only layer; ≥ 2: the causal stack) and its initialisation. */
  model: IclModelConfig;
  /** The task family: dx must equal model.d and dy be 1 (the loss is on the model's last output). */
  task: IclTaskConfig;
  /** Examples per iteration, ≥ 1. */
  batch: number;
  /** Seed of the training data (@attnlab/data's counter-based stream TRAIN_STREAM). */
  dataSeed: number;
  optimizer: IclOptimizerSpec;
}

/** A checked spec with everything the engines need. */
export interface ResolvedIclSpec {
  model: IclModelShape;
  /** The task as given, with dy, betaScale and queryNoise filled in. */
  task: IclTaskConfig & { dy: 1; betaScale: 'unit' | 'inverse-d'; queryNoise: boolean };
  batch: number;
  dataSeed: number;
  optimizer: FlatOptimizer;
  /** The named parameters in `iclParamLayout` order, as segments of one flat vector. */
  segments: Segment[];
  /** Total parameters. */
  P: number;
  /** The training stream, resolved for the hot loops. */
  data: IclDataParams;
}

/** Checks a spec (errors name `fn` and the field) and resolves it. */
export function resolveIclSpec(fn: string, spec: IclTrainingSpec): ResolvedIclSpec {
  checkObject(fn, 'spec', spec, 'an object { model, task, batch, dataSeed, optimizer }');
  let model: IclModelShape;
  try {
    model = iclModelShape(spec.model, fn);
  } catch (e) {
    throw renameAll(e, /\bconfig\b/g, 'spec.model');
  }
  const task = spec.task;
  checkObject(fn, 'spec.task', task, 'an IclTaskConfig { L, dx, dy?, noiseStd, betaScale?, covariance?, queryNoise? }');
  if (task.dx !== model.d)
    throw new RangeError(`${fn}: spec.task.dx must equal spec.model.d (${model.d}); got ${show(task.dx)}`);
  if (task.dy !== undefined && task.dy !== 1)
    throw new RangeError(
      `${fn}: spec.task.dy must be 1 (the model predicts one target, from its last output); got ${show(task.dy)}`,
    );
  const batch = checkInt(fn, 'spec.batch', spec.batch, 1, 2 ** 31);
  const dataSeed = spec.dataSeed;
  if (typeof dataSeed !== 'number' || !Number.isSafeInteger(dataSeed) || dataSeed < 0) {
    throw new RangeError(`${fn}: spec.dataSeed must be an integer in [0, 2^53 − 1]; got ${show(dataSeed)}`);
  }
  let data: IclDataParams;
  try {
    data = iclDataParams(task, dataSeed, 0);
  } catch (e) {
    throw renameAll(e, /^iclNormalsPerExample: config\b/, `${fn}: spec.task`);
  }
  const optimizer = resolveOptimizer(fn, spec.optimizer);
  const segments: Segment[] = [];
  let P = 0;
  for (const { name, shape } of iclParamLayout(model)) {
    const length = shape.reduce((a, b) => a * b, 1);
    segments.push({ name, shape, offset: P, length });
    P += length;
  }
  return {
    model,
    task: { ...task, dy: 1, betaScale: task.betaScale ?? 'unit', queryNoise: task.queryNoise ?? false },
    batch,
    dataSeed,
    optimizer,
    segments,
    P,
    data,
  };
}

function resolveOptimizer(fn: string, o: IclOptimizerSpec): FlatOptimizer {
  checkObject(fn, 'spec.optimizer', o, "an object { method: 'adam' | 'adamw' | 'sgd', lr, betas, eps, weightDecay }");
  const method = checkOneOf(fn, 'spec.optimizer.method', o.method, ICL_OPTIMIZERS);
  const lr = checkNumber(fn, 'spec.optimizer.lr', o.lr, 0);
  const weightDecay = checkNumber(fn, 'spec.optimizer.weightDecay', o.weightDecay ?? 0, 0);
  if (method === 'sgd') return { method, lr, weightDecay, betas: [0, 0], eps: 0 };
  const betas = o.betas;
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new TypeError(`${fn}: spec.optimizer.betas must be a pair [β1, β2] for '${method}'; got ${show(betas)}`);
  }
  const b1 = checkNumber(fn, 'spec.optimizer.betas[0]', betas[0], 0, 1, true);
  const b2 = checkNumber(fn, 'spec.optimizer.betas[1]', betas[1], 0, 1, true);
  if (o.eps === undefined)
    throw new TypeError(
      `${fn}: spec.optimizer.eps is required for '${method}' (a number ≥ 0, e.g. 1e-8); got undefined`,
    );
  const eps = checkNumber(fn, 'spec.optimizer.eps', o.eps, 0);
  return { method, lr, weightDecay, betas: [b1, b2], eps };
}

function renameAll(e: unknown, from: RegExp, to: string): unknown {
  if (e instanceof RangeError) return new RangeError(e.message.replace(from, to));
  if (e instanceof TypeError) return new TypeError(e.message.replace(from, to));
  return e;
}

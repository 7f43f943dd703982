/**
 * The training loop: batches → loss → gradients → optimizer, with recording on a schedule,
 * typed events, abort at a step boundary, checkpoints and exact resume.
 *
 * Iteration t (0-based, as seed 004's loop): draw `data.batch(t)`, compute the loss and its
 * gradients, apply the optimizer; the loss is recorded at step t (it is the loss before the
 * update). Then, if `t % every === 0`, validation and probes run on the updated parameters and
 * are recorded at step t. Checkpoints, progress and the result count *completed* iterations:
 * after iteration t, `completed = t + 1`, which is also the `startStep` that resumes the run.
 *
 * Loss read-back: each iteration's loss stays on the device as a scalar tensor; the pending
 * ones are stacked and read in one transfer every `readEvery` iterations (and whenever a
 * record, progress event, checkpoint or the end needs them), so a GPU backend is not stalled
 * every step. Between reads at most `readEvery` scalar tensors are alive; at each read point
 * the number of live tensors is the same from one read to the next.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cloneHistory, emptyHistory, type History } from './history.js';
import type { CheckpointInput } from './checkpoint.js';
import type { Optimizer } from './optimizers.js';
import type { GradMap, Json, ParamMap } from './types.js';
import { checkFunction, checkInt, checkObject, show } from './validate.js';

/** A deterministic data source: `batch(t)` gives iteration t's batch (tensors in it are disposed by the loop after use). */
export interface DataStream<B> {
  batch(step: number): B | Promise<B>;
}

/** A probe: a function of the parameters recorded every `every` iterations (its output must be JSON). */
export interface Probe {
  every: number;
  run(params: ParamMap, step: number): Json | Promise<Json>;
}

/** Validation: either fresh batches scored with the training loss, or a function returning the validation loss. */
export type Validation<B> =
  | DataStream<B>
  | ((params: ParamMap, step: number) => number | tf.Tensor | Promise<number | tf.Tensor>);

/** How often to record and report. All intervals are in iterations and must be integers ≥ 1. */
export interface TrainSchedule {
  /** Record the training loss at iterations t with t % lossEvery === 0 (default 1: every step). */
  lossEvery?: number;
  /** Read pending losses to the host every readEvery iterations (default 20). */
  readEvery?: number;
  /** Emit a progress event every progressEvery completed iterations (default 100) and at the end. */
  progressEvery?: number;
  /** Run validation at iterations t with t % validationEvery === 0 (default 1000). */
  validationEvery?: number;
  /** Write a checkpoint every checkpointEvery completed iterations (default 1000) when `checkpoint` is given. */
  checkpointEvery?: number;
}

/** Where checkpoints go and what they carry besides parameters, optimizer state, step and history. */
export interface CheckpointOptions {
  /** Called with the checkpoint; the loop awaits it (the parameter tensors are only valid until it settles). */
  write(checkpoint: CheckpointInput): unknown;
  /** The random stream's state at this point (opaque JSON), saved as `rngState`. */
  rngState?: () => Json;
  /** Free-form JSON saved as `meta`. */
  meta?: Json;
  /** Also write a checkpoint when the run ends or is aborted (default true). */
  atEnd?: boolean;
}

/** Events emitted during training. */
export type TrainEvent =
  | { type: 'progress'; completed: number; steps: number; loss: number | undefined; stepsPerSecond: number; elapsedMs: number }
  | { type: 'metrics'; step: number; validationLoss: number; loss: number | undefined }
  | { type: 'snapshot'; step: number; name: string; value: Json }
  | { type: 'checkpoint'; completed: number }
  | { type: 'done'; completed: number; steps: number; aborted: boolean; elapsedMs: number };

/** Options of `train`. */
export interface TrainOptions<B> {
  /** The trainable parameters by name (variables, updated in place). */
  params: ParamMap;
  /** The loss of a batch as a scalar tensor; must be differentiable in the parameters. */
  loss: (params: ParamMap, batch: B, step: number) => tf.Scalar;
  /** Training batches. */
  data: DataStream<B>;
  optimizer: Optimizer;
  /** Total iterations: the run ends after iteration steps − 1 (resumed runs included). */
  steps: number;
  schedule?: TrainSchedule;
  validation?: Validation<B>;
  probes?: Record<string, Probe>;
  checkpoint?: CheckpointOptions;
  /** Resume: a loaded Checkpoint works as is (its step and history). */
  state?: { step: number; history?: History };
  /** First iteration (default `state.step` or 0); must agree with `state.step` when both are given. */
  startStep?: number;
  /** Dispose tensors found in each batch after use (default true). */
  disposeBatches?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
}

/** What `train` returns. */
export interface TrainResult {
  /** Iterations completed (== steps unless aborted). */
  completed: number;
  aborted: boolean;
  history: History;
  /** The last recorded training loss. */
  lastLoss: number | undefined;
  elapsedMs: number;
  /** Iterations per second over this call. */
  stepsPerSecond: number;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Lets timers, I/O and abort handlers run (a resolved await only drains microtasks). */
function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return new Promise((r) => g.setImmediate!(r));
  return new Promise((r) => setTimeout(r, 0));
}

function interval(fn: string, name: string, v: unknown, dflt: number): number {
  return v === undefined ? dflt : checkInt(fn, name, v, 1);
}

/**
 * Trains `params` for iterations startStep … steps − 1 and returns what it recorded.
 * @example
 * const result = await train({
 *   params: { w }, optimizer: sgd({ lr: 0.1 }), steps: 200,
 *   data: { batch: (t) => makeBatch(t) },
 *   loss: (p, b) => meanSquaredError(tf.matMul(b.x, p.w!), b.y),
 * });
 */
export async function train<B>(options: TrainOptions<B>): Promise<TrainResult> {
  const fn = 'train';
  checkObject(fn, 'options', options);
  const { params, loss, data, optimizer, signal, onEvent, probes = {}, validation, checkpoint } = options;
  checkObject(fn, 'options.params', params);
  const names = Object.keys(params);
  if (names.length === 0) throw new RangeError(`${fn}: options.params must hold at least one variable; got {}`);
  const byVarName = new Map<string, string>();
  for (const name of names) {
    const v = params[name];
    if (!(v instanceof tf.Variable)) throw new TypeError(`${fn}: options.params['${name}'] must be a tf.Variable; got ${show(v)}`);
    if (byVarName.has(v.name)) throw new RangeError(`${fn}: options.params['${name}'] and ['${byVarName.get(v.name)}'] are the same variable`);
    byVarName.set(v.name, name);
  }
  checkFunction(fn, 'options.loss', loss);
  checkObject(fn, 'options.data', data);
  checkFunction(fn, 'options.data.batch', data.batch);
  if (typeof optimizer?.step !== 'function' || typeof optimizer.getState !== 'function') {
    throw new TypeError(`${fn}: options.optimizer must be an Optimizer (sgd, adam or adamw); got ${show(optimizer)}`);
  }
  const steps = checkInt(fn, 'options.steps', options.steps, 0);
  const sched = options.schedule ?? {};
  checkObject(fn, 'options.schedule', sched);
  const lossEvery = interval(fn, 'options.schedule.lossEvery', sched.lossEvery, 1);
  const readEvery = interval(fn, 'options.schedule.readEvery', sched.readEvery, 20);
  const progressEvery = interval(fn, 'options.schedule.progressEvery', sched.progressEvery, 100);
  const validationEvery = interval(fn, 'options.schedule.validationEvery', sched.validationEvery, 1000);
  const checkpointEvery = interval(fn, 'options.schedule.checkpointEvery', sched.checkpointEvery, 1000);
  if (validation !== undefined && typeof validation !== 'function') {
    checkObject(fn, 'options.validation', validation);
    checkFunction(fn, 'options.validation.batch', validation.batch);
  }
  checkObject(fn, 'options.probes', probes);
  const probeNames = Object.keys(probes);
  for (const name of probeNames) {
    const p = probes[name];
    checkObject(fn, `options.probes['${name}']`, p);
    checkInt(fn, `options.probes['${name}'].every`, p.every, 1);
    checkFunction(fn, `options.probes['${name}'].run`, p.run);
  }
  if (checkpoint !== undefined) {
    checkObject(fn, 'options.checkpoint', checkpoint);
    checkFunction(fn, 'options.checkpoint.write', checkpoint.write);
    if (checkpoint.rngState !== undefined) checkFunction(fn, 'options.checkpoint.rngState', checkpoint.rngState);
  }
  if (onEvent !== undefined) checkFunction(fn, 'options.onEvent', onEvent);
  if (options.state !== undefined) {
    checkObject(fn, 'options.state', options.state);
    checkInt(fn, 'options.state.step', options.state.step, 0);
  }
  const start = options.startStep ?? options.state?.step ?? 0;
  checkInt(fn, 'options.startStep', start, 0, steps);
  if (options.state && options.startStep !== undefined && options.startStep !== options.state.step) {
    throw new RangeError(`${fn}: options.startStep must equal options.state.step (${options.state.step}) when both are given; got ${options.startStep}`);
  }
  const disposeBatches = options.disposeBatches ?? true;

  const history = options.state?.history ? cloneHistory(options.state.history) : emptyHistory();
  for (const name of probeNames) history.probes[name] ??= { step: [], value: [] };
  const vars = names.map((n) => params[n]!);
  const emit = (e: TrainEvent): void => onEvent?.(e);

  const t0 = now();
  let lastYield = t0, windowStart = t0, windowCompleted = start;
  let completed = start;
  let lastLoss: number | undefined = history.loss.value[history.loss.value.length - 1];
  let lastCheckpoint = start;
  let aborted = false;
  const pending: { step: number; t: tf.Scalar }[] = [];

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending.splice(0, pending.length);
    let values: ArrayLike<number>;
    if (batch.length === 1) values = await batch[0]!.t.data();
    else {
      const stacked = tf.stack(batch.map((p) => p.t));
      try { values = await stacked.data(); } finally { stacked.dispose(); }
    }
    for (let i = 0; i < batch.length; i++) {
      history.loss.step.push(batch[i]!.step);
      history.loss.value.push(values[i]!);
      batch[i]!.t.dispose();
    }
    lastLoss = values[batch.length - 1];
  };

  const writeCheckpoint = async (): Promise<void> => {
    if (!checkpoint) return;
    await checkpoint.write({
      params,
      optimizerState: await optimizer.getState(),
      rngState: checkpoint.rngState ? checkpoint.rngState() : null,
      step: completed,
      history,
      meta: checkpoint.meta ?? null,
    });
    lastCheckpoint = completed;
    emit({ type: 'checkpoint', completed });
  };

  try {
    for (let t = start; t < steps; t++) {
      if (signal?.aborted) { aborted = true; break; }
      const batch = await data.batch(t);
      let lossTensor: tf.Scalar;
      try {
        lossTensor = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => loss(params, batch, t), vars);
          const named: GradMap = {};
          for (const [varName, g] of Object.entries(grads)) named[byVarName.get(varName)!] = g;
          optimizer.step(params, named);
          return value;
        });
      } finally {
        if (disposeBatches) tf.dispose(batch as unknown as tf.TensorContainer);
      }
      if (t % lossEvery === 0) pending.push({ step: t, t: lossTensor });
      else lossTensor.dispose();
      completed = t + 1;

      const validationDue = validation !== undefined && t % validationEvery === 0;
      const dueProbes = probeNames.filter((n) => t % probes[n]!.every === 0);
      const progressDue = completed % progressEvery === 0 || completed === steps;
      const checkpointDue = checkpoint !== undefined &&
        (completed % checkpointEvery === 0 || (completed === steps && checkpoint.atEnd !== false));
      if (completed % readEvery === 0 || validationDue || dueProbes.length > 0 || progressDue || checkpointDue) await flush();

      if (validationDue) {
        let value: number;
        if (typeof validation === 'function') {
          const r = await validation(params, t);
          if (r instanceof tf.Tensor) {
            try { value = (await r.data())[0]!; } finally { r.dispose(); }
          } else value = r;
        } else {
          const vb = await validation!.batch(t);
          try {
            const l = tf.tidy(() => loss(params, vb, t));
            try { value = (await l.data())[0]!; } finally { l.dispose(); }
          } finally {
            if (disposeBatches) tf.dispose(vb as unknown as tf.TensorContainer);
          }
        }
        if (typeof value !== 'number') throw new TypeError(`${fn}: options.validation must give a number or a scalar tensor; got ${show(value)}`);
        history.validation.step.push(t);
        history.validation.value.push(value);
        const recorded = history.loss.step[history.loss.step.length - 1] === t ? lastLoss : undefined;
        emit({ type: 'metrics', step: t, validationLoss: value, loss: recorded });
      }
      for (const name of dueProbes) {
        const value = await probes[name]!.run(params, t);
        if (value instanceof tf.Tensor) {
          throw new TypeError(`${fn}: probe '${name}' must return JSON, not a tensor (wrap it with tensorProbe); got ${show(value)}`);
        }
        history.probes[name]!.step.push(t);
        history.probes[name]!.value.push(value);
        emit({ type: 'snapshot', step: t, name, value });
      }
      if (progressDue) {
        const tNow = now();
        const rate = (completed - windowCompleted) / Math.max(1e-9, (tNow - windowStart) / 1000);
        windowStart = tNow; windowCompleted = completed;
        emit({ type: 'progress', completed, steps, loss: lastLoss, stepsPerSecond: rate, elapsedMs: tNow - t0 });
      }
      if (checkpointDue) await writeCheckpoint();
      if (now() - lastYield > 50) { await macrotask(); lastYield = now(); }
    }
    await flush();
    if (aborted && checkpoint && checkpoint.atEnd !== false && completed !== lastCheckpoint) await writeCheckpoint();
  } finally {
    for (const p of pending.splice(0)) p.t.dispose();
  }
  const elapsedMs = now() - t0;
  emit({ type: 'done', completed, steps, aborted, elapsedMs });
  return {
    completed,
    aborted,
    history,
    lastLoss,
    elapsedMs,
    stepsPerSecond: (completed - start) / Math.max(1e-9, elapsedMs / 1000),
  };
}

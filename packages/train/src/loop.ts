/**
 * The training loop: runs any {@link Engine} (tfjs autodiff by default, or a fast engine) with
 * recording on a schedule, typed events, abort between engine calls, checkpoints and exact resume.
 *
 * Iteration t (0-based, as seed 004's loop): draw batch t, compute the loss and its gradients,
 * apply the optimizer; the loss is recorded at step t (it is the loss before the update). Then,
 * if `t % every === 0`, validation and probes run on the updated parameters and are recorded at
 * step t. Checkpoints, progress and the result count *completed* iterations: after iteration t,
 * `completed = t + 1`, which is also the step a resumed run starts from.
 *
 * Iterations run in engine calls `engine.run(n)` that never pass a step where something is due
 * (a record, a checkpoint, a progress event) and that last about 25 ms each (n adapts to the
 * measured time per iteration, capped by `readEvery`), so that the abort signal, timers and I/O
 * are served several times a second on any engine and any machine load, while a fast engine
 * runs thousands of iterations per call. Call boundaries never change the numbers: the same
 * run gives the same history whatever its calls were.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cloneHistory, emptyHistory, type History } from './history.js';
import type { CheckpointInput } from './checkpoint.js';
import { autodiffEngine, type Engine } from './engine.js';
import type { Optimizer, OptimizerState } from './optimizers.js';
import type { DataStream, HostTensor, Json, ParamMap, TensorMap } from './types.js';

export type { DataStream };
import { checkFunction, checkInt, checkObject, show } from './validate.js';

/** A probe: a function of the parameters recorded every `every` iterations (its output must be JSON). */
export interface Probe {
  every: number;
  run(params: TensorMap, step: number): Json | Promise<Json>;
}

/**
 * Validation: fresh batches scored with the training loss (autodiff only), or a function of the
 * parameters returning the validation loss.
 */
export type Validation<B> =
  DataStream<B> | ((params: TensorMap, step: number) => number | tf.Tensor | Promise<number | tf.Tensor>);

/** How often to record and report. All intervals are in iterations and must be integers ≥ 1. */
export interface TrainSchedule {
  /** Record the training loss at iterations t with t % lossEvery === 0 (default 1: every step). */
  lossEvery?: number;
  /** The most iterations in one engine call, i.e. between two reads of the losses to the host (default 20). */
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

/**
 * Where a resumed run starts: a loaded {@link Checkpoint} works as it is. With `params` the
 * engine is restored from it (parameters and optimizer state); without, only the step and the
 * history are taken (the caller restored the parameters).
 */
export interface ResumeFrom {
  step: number;
  params?: Record<string, HostTensor>;
  optimizerState?: OptimizerState | null;
  history?: History;
}

/** Events emitted during training. */
export type TrainEvent =
  | {
      type: 'progress';
      completed: number;
      steps: number;
      loss: number | undefined;
      stepsPerSecond: number;
      elapsedMs: number;
    }
  | { type: 'metrics'; step: number; validationLoss: number; loss: number | undefined }
  | { type: 'snapshot'; step: number; name: string; value: Json }
  | { type: 'checkpoint'; completed: number }
  | { type: 'done'; completed: number; steps: number; aborted: boolean; elapsedMs: number };

/** What every run takes, whatever runs its iterations. */
interface TrainCommon<B> {
  /** Total iterations: the run ends after iteration steps − 1 (resumed runs included). */
  steps: number;
  schedule?: TrainSchedule;
  validation?: Validation<B>;
  probes?: Record<string, Probe>;
  checkpoint?: CheckpointOptions;
  /** Resume from a checkpoint (see {@link ResumeFrom}). */
  resume?: ResumeFrom;
  /** First iteration (default: `resume.step`, else the engine's step, else 0). */
  startStep?: number;
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
}

/** Options of `train`: an engine, or the parts of the autodiff engine (params, loss, data, optimizer). */
export type TrainOptions<B> = TrainCommon<B> &
  (
    | {
        engine: Engine;
        params?: undefined;
        loss?: undefined;
        data?: undefined;
        optimizer?: undefined;
        disposeBatches?: undefined;
      }
    | {
        engine?: undefined;
        /** The trainable parameters by name (variables, updated in place). */
        params: ParamMap;
        /** The loss of a batch as a scalar tensor; must be differentiable in the parameters. */
        loss: (params: ParamMap, batch: B, step: number) => tf.Scalar;
        /** Training batches. */
        data: DataStream<B>;
        optimizer: Optimizer;
        /** Dispose tensors found in each batch after use (default true). */
        disposeBatches?: boolean;
      }
  );

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
  /** The engine's name (what ran the iterations). */
  engine: string;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Browsers: one MessageChannel whose messages resume the waiting loops, in order. */
let yieldChannel: { port: MessagePort; waiting: (() => void)[]; count: number } | undefined;

/**
 * Lets timers, I/O and abort handlers run (a resolved await only drains microtasks). Node:
 * setImmediate. Browsers: a MessageChannel message, not setTimeout(0), which browsers clamp to
 * ≥ 4 ms once timers nest (the loop's yields do): measured ~14% of training time in Chromium (a
 * 4–10 ms wait per 25 ms call). Every 8th yield is a setTimeout(0) (unclamped: it is not nested in
 * a timer), so timers run even where messages could outrun them. `train()` yields with it; so can
 * any long loop of your own (the experiments' do).
 * @example
 * for (const chunk of chunks) { work(chunk); await yieldToEvents(); } // an abort or a timer can run between
 */
export function yieldToEvents(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown; MessageChannel?: typeof MessageChannel };
  if (typeof g.setImmediate === 'function') return new Promise((r) => g.setImmediate!(r));
  if (typeof g.MessageChannel === 'function') {
    if (!yieldChannel) {
      const c = new g.MessageChannel();
      const waiting: (() => void)[] = [];
      c.port1.onmessage = () => waiting.shift()?.();
      (c.port1 as { unref?: () => void }).unref?.(); // Node without setImmediate: do not hold the process
      yieldChannel = { port: c.port2, waiting, count: 0 };
    }
    const ch = yieldChannel;
    if (++ch.count % 8 !== 0)
      return new Promise((r) => {
        ch.waiting.push(r);
        ch.port.postMessage(null);
      });
  }
  return new Promise((r) => setTimeout(r, 0));
}

function interval(fn: string, name: string, v: unknown, dflt: number): number {
  return v === undefined ? dflt : checkInt(fn, name, v, 1);
}

/** Target length of one engine call, in ms. */
const CALL_MS = 25;

/**
 * Runs iterations startStep … steps − 1 on an engine and returns what it recorded.
 * @example
 * const result = await train({
 *   params: { w }, optimizer: sgd({ lr: 0.1 }), steps: 200,
 *   data: { batch: (t) => makeBatch(t) },
 *   loss: (p, b) => meanSquaredError(tf.matMul(b.x, p.w!), b.y),
 * });
 * // or any engine: await train({ engine, steps: 200, probes, checkpoint })
 */
export async function train<B>(options: TrainOptions<B>): Promise<TrainResult> {
  const fn = 'train';
  checkObject(fn, 'options', options);
  const { signal, onEvent, probes = {}, validation, checkpoint, resume } = options;
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
    if (options.engine !== undefined) {
      throw new TypeError(
        `${fn}: options.validation must be a function (params, step) => number when options.engine is given (batches need the autodiff loss); got ${show(validation)}`,
      );
    }
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
  if (resume !== undefined) {
    checkObject(fn, 'options.resume', resume);
    checkInt(fn, 'options.resume.step', resume.step, 0, steps);
    if (resume.params !== undefined) checkObject(fn, 'options.resume.params', resume.params);
  }
  if (options.startStep !== undefined) checkInt(fn, 'options.startStep', options.startStep, 0, steps);
  if (resume && options.startStep !== undefined && options.startStep !== resume.step) {
    throw new RangeError(
      `${fn}: options.startStep must equal options.resume.step (${resume.step}) when both are given; got ${options.startStep}`,
    );
  }

  let engine: Engine;
  let scoreBatch: ((params: TensorMap, step: number) => Promise<number>) | undefined;
  if (options.engine !== undefined) {
    engine = options.engine;
    checkObject(fn, 'options.engine', engine);
    for (const k of ['run', 'params', 'state', 'restore', 'dispose'] as const)
      checkFunction(fn, `options.engine.${k}`, engine[k]);
    for (const k of ['params', 'loss', 'data', 'optimizer'] as const) {
      if ((options as Record<string, unknown>)[k] !== undefined)
        throw new TypeError(
          `${fn}: options.${k} must be left out when options.engine is given (the engine owns its model and optimizer)`,
        );
    }
  } else {
    const { params, loss, data, optimizer, disposeBatches = true } = options;
    engine = autodiffEngine(
      { params, loss, data, optimizer, disposeBatches, step: options.startStep ?? resume?.step ?? 0 },
      fn,
    );
    if (validation !== undefined && typeof validation !== 'function') {
      scoreBatch = async (_p, t) => {
        const vb = await validation.batch(t);
        try {
          const l = tf.tidy(() => loss(params, vb, t));
          try {
            return (await l.data())[0]!;
          } finally {
            l.dispose();
          }
        } finally {
          if (disposeBatches) tf.dispose(vb as unknown as tf.TensorContainer);
        }
      };
    }
  }
  if (resume?.params !== undefined) {
    await engine.restore({ step: resume.step, params: resume.params, optimizer: resume.optimizerState ?? null });
  }
  const start = options.startStep ?? resume?.step ?? engine.step;
  if (engine.step !== start) {
    throw new RangeError(
      `${fn}: the engine is at step ${engine.step} but the run starts at ${start} (options.startStep / options.resume.step); restore the engine or leave startStep out`,
    );
  }

  const history = resume?.history ? cloneHistory(resume.history) : emptyHistory();
  for (const name of probeNames) history.probes[name] ??= { step: [], value: [] };
  const emit = (e: TrainEvent): void => onEvent?.(e);

  const t0 = now();
  let lastYield = t0,
    windowStart = t0,
    windowCompleted = start;
  let completed = start;
  let lastLoss: number | undefined = history.loss.value[history.loss.value.length - 1];
  let lastCheckpoint = start;
  let aborted = false;
  let msPerStep = CALL_MS; // first call: one iteration, then adapt

  const writeCheckpoint = async (): Promise<void> => {
    if (!checkpoint) return;
    const st = await engine.state();
    await checkpoint.write({
      params: st.params,
      optimizerState: st.optimizer,
      rngState: checkpoint.rngState ? checkpoint.rngState() : null,
      step: completed,
      history,
      meta: checkpoint.meta ?? null,
    });
    lastCheckpoint = completed;
    emit({ type: 'checkpoint', completed });
  };
  /** After iteration t: is a record, progress event or checkpoint due? */
  const dueAfter = (t: number): boolean => {
    const c = t + 1;
    if (c === steps || c % progressEvery === 0) return true;
    if (checkpoint !== undefined && c % checkpointEvery === 0) return true;
    if (validation !== undefined && t % validationEvery === 0) return true;
    for (const name of probeNames) if (t % probes[name]!.every === 0) return true;
    return false;
  };

  while (completed < steps) {
    if (signal?.aborted) {
      aborted = true;
      break;
    }
    const t = completed;
    const budget = Math.max(1, Math.min(readEvery, Math.floor(CALL_MS / Math.max(1e-6, msPerStep))));
    let last = t;
    while (last < steps - 1 && last - t + 1 < budget && !dueAfter(last)) last++;
    const n = last - t + 1;
    const callStart = now();
    const losses = await engine.run(n);
    if (losses.length !== n)
      throw new RangeError(`${fn}: engine '${engine.name}' ran ${n} iterations but gave ${losses.length} losses`);
    msPerStep = Math.max(1e-6, (now() - callStart) / n);
    for (let i = 0; i < n; i++) {
      if ((t + i) % lossEvery === 0) {
        history.loss.step.push(t + i);
        history.loss.value.push(losses[i]!);
      }
    }
    lastLoss = history.loss.value[history.loss.value.length - 1];
    completed = last + 1;

    const validationDue = validation !== undefined && last % validationEvery === 0;
    const dueProbes = probeNames.filter((name) => last % probes[name]!.every === 0);
    if (validationDue || dueProbes.length > 0) {
      const params = engine.params();
      if (validationDue) {
        let value: number;
        if (scoreBatch) value = await scoreBatch(params, last);
        else {
          const r = await (validation as (p: TensorMap, s: number) => number | tf.Tensor | Promise<number | tf.Tensor>)(
            params,
            last,
          );
          if (r instanceof tf.Tensor) {
            try {
              value = (await r.data())[0]!;
            } finally {
              r.dispose();
            }
          } else value = r;
        }
        if (typeof value !== 'number')
          throw new TypeError(`${fn}: options.validation must give a number or a scalar tensor; got ${show(value)}`);
        history.validation.step.push(last);
        history.validation.value.push(value);
        const recorded = history.loss.step[history.loss.step.length - 1] === last ? lastLoss : undefined;
        emit({ type: 'metrics', step: last, validationLoss: value, loss: recorded });
      }
      for (const name of dueProbes) {
        const value = await probes[name]!.run(params, last);
        if (value instanceof tf.Tensor) {
          throw new TypeError(
            `${fn}: probe '${name}' must return JSON, not a tensor (wrap it with tensorProbe); got ${show(value)}`,
          );
        }
        history.probes[name]!.step.push(last);
        history.probes[name]!.value.push(value);
        emit({ type: 'snapshot', step: last, name, value });
      }
    }
    if (completed % progressEvery === 0 || completed === steps) {
      const tNow = now();
      const rate = (completed - windowCompleted) / Math.max(1e-9, (tNow - windowStart) / 1000);
      windowStart = tNow;
      windowCompleted = completed;
      emit({ type: 'progress', completed, steps, loss: lastLoss, stepsPerSecond: rate, elapsedMs: tNow - t0 });
    }
    if (
      checkpoint !== undefined &&
      (completed % checkpointEvery === 0 || (completed === steps && checkpoint.atEnd !== false))
    )
      await writeCheckpoint();
    if (now() - lastYield > CALL_MS) {
      await yieldToEvents();
      lastYield = now();
    }
  }
  if (aborted && checkpoint && checkpoint.atEnd !== false && completed !== lastCheckpoint) await writeCheckpoint();
  const elapsedMs = now() - t0;
  emit({ type: 'done', completed, steps, aborted, elapsedMs });
  return {
    completed,
    aborted,
    history,
    lastLoss,
    elapsedMs,
    stepsPerSecond: (completed - start) / Math.max(1e-9, elapsedMs / 1000),
    engine: engine.name,
  };
}

/**
 * A model on the SIMD engine (single layer or causal stack: a {@link SimdKernel} says which): its
 * state [p | m | v] in the module's memory, the data and optimizer blocks, and optionally a worker
 * thread that takes part of every batch.
 * - Data: @attnlab/data's batches (the float64 engine's numbers up to the last bit of a rare normal).
 * - Step: parameters, optimizer state and the parameter gradient in float64; the per-example work
 *   in float32, four examples per f32x4.
 * - Two parts per batch: every batch of B >= 8 is split at {@link splitExamples}(B); the loss and
 *   gradient of each part (normalised by the whole batch) are computed separately and added, the
 *   first part's to the second's. So one thread and two give the same numbers, bit for bit.
 * - Threads: a worker (`./threads.ts`: Node's `worker_threads`, or a nested Worker inside a
 *   cross-origin-isolated browser worker) makes the first part of every batch and its loss and
 *   gradient while this thread does the rest; this thread then adds the gradients and runs the
 *   optimizer while the worker makes its part of the next batch. Parameters and gradient pass
 *   through a SharedArrayBuffer, one Atomics handshake per step. A page's main thread runs one
 *   thread.
 * - Thread count by measurement: by default (`workerThread` unset, a worker available) the model
 *   times both ways as it trains and uses the faster; on a loaded machine one thread can beat two.
 *   Since both give the same numbers, the choice never changes a result.
 */
import type { IclDataParams } from '../data.js';
import type { FlatOptimizer, Segment } from '../optimizer.js';
import {
  FAILED,
  IDLE,
  READY,
  REQUESTED,
  STOP,
  failureNote,
  sharedBytes,
  sharedViews,
  splitExamples,
  threadHost,
  whenReady,
  workerExamplesFor,
  type WorkerData,
  type WorkerThread,
} from './threads.js';
import {
  batchBytes,
  compiledModule,
  createIclWasm,
  dataBlockValues,
  moduleNormals,
  writeDataBlock,
  writeOptimizerBlock,
  type IclWasmExports,
} from './module.js';

/** What distinguishes the single-layer and stack models of the SIMD engine. */
export interface SimdKernel {
  /** Parameter count. */
  P: number;
  /** Bytes of the loss kernel's scratch. */
  scratchBytes(ex: IclWasmExports): number;
  /** Loss and gradient (into grad) of the `part` examples in zi/zqi/yq for the state's parameters, normalised by Bnorm. */
  lossGrad(
    ex: IclWasmExports,
    state: number,
    zi: number,
    zqi: number,
    yq: number,
    sc: number,
    grad: number,
    part: number,
    Bnorm: number,
  ): number;
  /** What the worker needs to run the same lossGrad. */
  worker: Pick<WorkerData, 'kind' | 'H' | 'd' | 'nOut' | 'layers' | 'tied' | 'residual'>;
  /** n fused iterations inside the module (data, loss, gradient, optimizer), losses into `losses`. */
  train(
    ex: IclWasmExports,
    a: {
      db: number;
      ob: number;
      state: number;
      B: number;
      t0: number;
      n: number;
      losses: number;
      zi: number;
      zqi: number;
      yq: number;
      nb: number;
      tmp: number;
      sc: number;
      grad: number;
    },
  ): void;
}

/** Options of a SIMD model. */
export interface SimdModelOptions {
  /**
   * Split every batch with a second thread (Node's worker_threads; a nested Worker in a
   * cross-origin-isolated browser worker): true always (where such a thread can run), false never.
   * Default: start one where it can run, when there are at least 2 logical CPUs and the batch has
   * at least 8 examples, and use it only while it measures faster than one thread.
   */
  workerThread?: boolean;
}

/** A model on the SIMD engine. */
export interface SimdModel {
  readonly P: number;
  /** Examples of each batch made and differentiated by the worker thread (0 without one). */
  readonly workerExamples: number;
  /** Whether the thread count is chosen by measuring (a worker that is used only while faster). */
  readonly measuredThreads: boolean;
  /** Steps run so far on one thread and on two (a measured model uses both). */
  readonly stepsByThreads: { one: number; two: number };
  /** Runs n iterations from data step `step` (batch t = step + i); returns their losses (each before its update). */
  train(n: number, step: number): Float64Array;
  /** Views of the parameters and the optimizer's slots (valid until the next train or dispose). */
  params(): Float64Array;
  m(): Float64Array;
  v(): Float64Array;
  /** Each segment's completed optimizer steps. */
  readSteps(): number[];
  writeSteps(steps: ArrayLike<number>): void;
  /** Stops the worker thread (idempotent); the model cannot train afterwards. */
  dispose(): void;
}

const LOSS_CHUNK = 4096;

/**
 * Stops a worker. Defined out here on purpose: a closure created inside createSimdModel would
 * share its context, which holds the model, and the worker (held by the finalization registry)
 * would then keep the model alive forever.
 */
function stopWorker(worker: WorkerThread, ctrl: Int32Array): void {
  Atomics.store(ctrl, 0, STOP);
  Atomics.notify(ctrl, 0);
  worker.terminate();
}

const workerReaper =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ worker: WorkerThread; ctrl: Int32Array }>(({ worker, ctrl }) =>
        stopWorker(worker, ctrl),
      )
    : undefined;

/** CPUs available to this process (Node), or the browser's navigator.hardwareConcurrency where a thread can run; else 1. */
export function cpuCount(): number {
  return threadHost()?.cpus ?? 1;
}

/** Steps timed each way when a measured model (re)compares one thread with two. */
const PROBE_STEPS = 128;
/** Steps on the faster way between two comparisons. */
const REPROBE_STEPS = 8192;

const now = (): number => globalThis.performance.now();

/**
 * Creates a SIMD model: zero parameters and slots (the caller writes its start state through the
 * views), the given segment steps. `fn` names the caller in errors.
 */
export async function createSimdModel(
  fn: string,
  kernel: SimdKernel,
  data: IclDataParams,
  B: number,
  optimizer: FlatOptimizer,
  segments: readonly Segment[],
  steps: ArrayLike<number>,
  options: SimdModelOptions,
): Promise<SimdModel> {
  const w = await createIclWasm();
  const ex = w.exports;
  const { L, d } = data;
  const P = kernel.P;
  const state = w.alloc(3 * P * 8);
  const grad = w.alloc(P * 8);
  const { zi, zqi, yq, nb, tmp } = w.allocBatch(B, data);
  const scBytes = kernel.scratchBytes(ex);
  const sc = w.alloc(scBytes);
  const losses = w.alloc(LOSS_CHUNK * 8);
  const db = writeDataBlock(w, dataBlockValues(data), data.chol);
  moduleNormals(w, db, data);
  const { ob, segs, nseg } = writeOptimizerBlock(w, optimizer, segments, steps);

  // ---- worker: the first Bw examples of every batch, data and gradient (about half the batch)
  const host = threadHost();
  const split = splitExamples(B);
  const Bw = workerExamplesFor(B, options.workerThread, host);
  // the first part's gradient when this thread computes it too
  const grad1 = split > 0 ? w.alloc(P * 8) : 0;
  let worker: WorkerThread | undefined;
  let ctrl: Int32Array | undefined;
  let shared: Float64Array | undefined;
  let sab: SharedArrayBuffer | undefined;
  if (Bw > 0 && host) {
    sab = new SharedArrayBuffer(sharedBytes(P));
    ({ ctrl, shared } = sharedViews(sab, P));
    const part = batchBytes(Bw, L, d, data.queryNoise);
    worker = host.start({
      module: await compiledModule(),
      sab,
      ...kernel.worker,
      B,
      Bw,
      L,
      P,
      dataValues: dataBlockValues(data),
      chol: data.chol,
      zBytes: part.z,
      zqBytes: part.zq,
      yBytes: part.yq,
      nbBytes: part.nb,
      scBytes,
    });
    try {
      await whenReady(worker);
    } catch (e) {
      throw new Error(`${fn}: the worker thread failed to start: ${(e as Error).message}`);
    }
  }
  let failure: string | undefined;
  const awaitWorker = () => {
    let s: number;
    while ((s = Atomics.load(ctrl!, 0)) !== READY) {
      if (s === FAILED) failure = failureNote(sab!, P);
      else if (worker!.status.error) failure = worker!.status.error.message;
      if (failure !== undefined) throw new Error(`${fn}: the worker thread failed: ${failure}`);
      Atomics.wait(ctrl!, 0, s, 1000);
    }
  };
  /** Steps [t, t + n) on this thread alone, in the same two parts as with the worker. */
  const oneThread = (out: Float64Array, at: number, n: number, t0: number) => {
    for (let i = 0; i < n; i++) {
      const t = t0 + i;
      ex.iclBatch(db, zi, zqi, yq, t, split, 0, nb, tmp);
      const first = kernel.lossGrad(ex, state, zi, zqi, yq, sc, grad1, split, B);
      ex.iclBatch(db, zi, zqi, yq, t, B - split, split, nb, tmp);
      const loss = kernel.lossGrad(ex, state, zi, zqi, yq, sc, grad, B - split, B);
      const g = w.f64(grad, P);
      const g1 = w.f64(grad1, P);
      for (let j = 0; j < P; j++) g[j] = g[j]! + g1[j]!;
      out[at + i] = loss + first;
      ex.optimize(ob, state, P, grad);
    }
  };
  /** Steps [t, t + n) with the worker making and differentiating the first part of each batch. */
  const twoThreads = (out: Float64Array, at: number, n: number, t0: number) => {
    for (let i = 0; i < n; i++) {
      const t = t0 + i;
      // hand the worker this step's parameters, then do this thread's share of the batch
      shared!.set(w.f64(state, P));
      ctrl![1] = t | 0;
      Atomics.store(ctrl!, 0, REQUESTED);
      Atomics.notify(ctrl!, 0);
      ex.iclBatch(db, zi, zqi, yq, t, B - Bw, Bw, nb, tmp);
      const loss = kernel.lossGrad(ex, state, zi, zqi, yq, sc, grad, B - Bw, B);
      awaitWorker();
      const g = w.f64(grad, P);
      for (let j = 0; j < P; j++) g[j] = g[j]! + shared![P + j]!;
      const first = shared![2 * P]!;
      Atomics.store(ctrl!, 0, IDLE);
      out[at + i] = loss + first;
      ex.optimize(ob, state, P, grad);
    }
  };
  // Measured thread count: PROBE_STEPS on one thread, PROBE_STEPS on two, then REPROBE_STEPS on
  // the faster, and again. Only steps inside a phase are timed, whichever train() call runs them.
  const measured = worker !== undefined && options.workerThread === undefined;
  let phase: 'one' | 'two' | 'run' = 'one';
  let phaseLeft = PROBE_STEPS;
  let probeMs = { one: 0, two: 0 };
  let twoFaster = true;
  const stepsByThreads = { one: 0, two: 0 };
  let disposed = false;
  const model: SimdModel = {
    P,
    workerExamples: worker ? Bw : 0,
    measuredThreads: measured,
    stepsByThreads,
    train(count: number, step: number) {
      if (disposed) throw new Error(`${fn}: run after dispose (the engine was disposed)`);
      if (failure !== undefined) throw new Error(`${fn}: the worker thread failed: ${failure}`);
      const out = new Float64Array(count);
      if (split === 0) {
        for (let done = 0; done < count;) {
          const k = Math.min(LOSS_CHUNK, count - done);
          kernel.train(ex, { db, ob, state, B, t0: step + done, n: k, losses, zi, zqi, yq, nb, tmp, sc, grad });
          out.set(w.f64(losses, k), done);
          done += k;
        }
        stepsByThreads.one += count;
        return out;
      }
      if (!measured) {
        (worker ? twoThreads : oneThread)(out, 0, count, step);
        stepsByThreads[worker ? 'two' : 'one'] += count;
        return out;
      }
      for (let done = 0; done < count;) {
        const n = Math.min(count - done, phaseLeft);
        const two = phase === 'run' ? twoFaster : phase === 'two';
        const start = now();
        (two ? twoThreads : oneThread)(out, done, n, step + done);
        const ms = now() - start;
        stepsByThreads[two ? 'two' : 'one'] += n;
        done += n;
        if (phase !== 'run') probeMs[phase] += ms;
        phaseLeft -= n;
        if (phaseLeft > 0) continue;
        if (phase === 'one') {
          phase = 'two';
          phaseLeft = PROBE_STEPS;
        } else if (phase === 'two') {
          twoFaster = probeMs.two <= probeMs.one;
          probeMs = { one: 0, two: 0 };
          phase = 'run';
          phaseLeft = REPROBE_STEPS;
        } else {
          phase = 'one';
          phaseLeft = PROBE_STEPS;
        }
      }
      return out;
    },
    params: () => w.f64(state, P),
    m: () => w.f64(state + P * 8, P),
    v: () => w.f64(state + 2 * P * 8, P),
    readSteps() {
      const t = w.i32(segs, 3 * nseg);
      return Array.from({ length: nseg }, (_, i) => t[3 * i + 2]!);
    },
    writeSteps(s: ArrayLike<number>) {
      const t = w.i32(segs, 3 * nseg);
      for (let i = 0; i < nseg; i++) t[3 * i + 2] = s[i]!;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (worker && ctrl) {
        workerReaper?.unregister(model);
        stopWorker(worker, ctrl);
      }
    },
  };
  // A model dropped without dispose() still stops its thread when it is garbage-collected.
  if (worker && ctrl) workerReaper?.register(model, { worker, ctrl }, model);
  return model;
}

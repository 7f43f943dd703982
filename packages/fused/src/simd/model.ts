/**
 * A model on the SIMD engine (single layer or causal stack: a {@link SimdKernel} says which): its
 * state [p | m | v] in the module's memory, the data and optimizer blocks, and optionally a worker
 * thread that takes part of every batch.
 * - Data: @attnlab/data's batches (the float64 engine's numbers up to the last bit of a rare normal).
 * - Step: parameters, optimizer state and the parameter gradient in float64; the per-example work
 *   in float32, four examples per f32x4.
 * - Threads: a worker (`./threads.ts`: Node's `worker_threads`, or a nested Worker inside a
 *   cross-origin-isolated browser worker) makes the first `workerExamples` examples of every
 *   batch and their share of the loss and gradient (normalised by the whole batch) while this
 *   thread does the rest; this thread then adds the gradients and runs the optimizer while the
 *   worker makes its part of the next batch. Parameters and gradient pass through a
 *   SharedArrayBuffer, one Atomics handshake per step. A page's main thread runs one thread.
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
  threadHost,
  whenReady,
  workerExamplesFor,
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
  worker: {
    kind: 'single' | 'stack';
    H: number;
    d: number;
    nOut: number;
    layers: number;
    tied: number;
    residual: number;
  };
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
   * cross-origin-isolated browser worker). Default: where such a thread can run, when there are at
   * least 2 logical CPUs and the batch has at least 8 examples; ignored where none can run.
   */
  workerThread?: boolean;
}

/** A model on the SIMD engine. */
export interface SimdModel {
  readonly P: number;
  /** Examples of each batch made and differentiated by the worker thread (0 without one). */
  readonly workerExamples: number;
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
  const Bw = workerExamplesFor(B, options.workerThread, host);
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
  let disposed = false;
  const model: SimdModel = {
    P,
    workerExamples: worker ? Bw : 0,
    train(count: number, step: number) {
      if (disposed) throw new Error(`${fn}: run after dispose (the engine was disposed)`);
      if (failure !== undefined) throw new Error(`${fn}: the worker thread failed: ${failure}`);
      const out = new Float64Array(count);
      if (!worker) {
        for (let done = 0; done < count;) {
          const k = Math.min(LOSS_CHUNK, count - done);
          kernel.train(ex, { db, ob, state, B, t0: step + done, n: k, losses, zi, zqi, yq, nb, tmp, sc, grad });
          out.set(w.f64(losses, k), done);
          done += k;
        }
        return out;
      }
      for (let i = 0; i < count; i++) {
        const t = step + i;
        // hand the worker this step's parameters, then do this thread's share of the batch
        shared!.set(w.f64(state, P));
        ctrl![1] = t | 0;
        Atomics.store(ctrl!, 0, REQUESTED);
        Atomics.notify(ctrl!, 0);
        ex.iclBatch(db, zi, zqi, yq, t, B - Bw, Bw, nb, tmp);
        let loss = kernel.lossGrad(ex, state, zi, zqi, yq, sc, grad, B - Bw, B);
        awaitWorker();
        const g = w.f64(grad, P);
        for (let j = 0; j < P; j++) g[j] = g[j]! + shared![P + j]!;
        loss += shared![2 * P]!;
        Atomics.store(ctrl!, 0, IDLE);
        out[i] = loss;
        ex.optimize(ob, state, P, grad);
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

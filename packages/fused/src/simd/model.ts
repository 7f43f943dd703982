/**
 * A model on the SIMD engine (single layer or causal stack: a {@link SimdKernel} says which): its
 * state [p | m | v] in the module's memory, the data and optimizer blocks, and optionally a worker
 * thread that takes part of every batch.
 * - Data: @attnlab/data's batches (the float64 engine's numbers up to the last bit of a rare normal).
 * - Step: parameters, optimizer state and the parameter gradient in float64; the per-example work
 *   in float32, four examples per f32x4.
 * - Threads (Node): a `worker_threads` worker makes the first `workerExamples` examples of every
 *   batch and their share of the loss and gradient (normalised by the whole batch) while this
 *   thread does the rest; this thread then adds the gradients and runs the optimizer while the
 *   worker makes its part of the next batch. Parameters and gradient pass through a
 *   SharedArrayBuffer, one Atomics handshake per step. Browsers run on one thread.
 */
import type { IclDataParams } from '../data.js';
import type { FlatOptimizer, Segment } from '../optimizer.js';
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
   * Split every batch with a second thread (Node's worker_threads). Default: in Node when the
   * machine has at least 2 CPUs and the batch at least 8 examples; ignored elsewhere (browsers).
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
const IDLE = 0;
const REQUESTED = 1;
const READY = 2;
const STOP = 3;

// The worker (CommonJS, run with eval). For each requested step it takes the parameters from the
// shared buffer, makes examples [0, Bw) of the batch and writes their share of the loss and of the
// gradient (normalised by the whole batch) back; then it makes its examples of the next step ahead.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, sab, kind, H, d, nOut, layers, tied, residual, B, Bw, L, P, dataValues, chol, zBytes, zqBytes, yBytes, nbBytes, scBytes } = workerData;
const ex = new WebAssembly.Instance(module, { env: { pow: Math.pow, abort() { throw new Error('SIMD module aborted'); } } }).exports;
let top = ex.heapBase();
function alloc(n) { const p = top; top += Math.ceil(n / 16) * 16; const have = ex.memory.buffer.byteLength; if (top > have) ex.memory.grow(Math.ceil((top - have) / 65536)); new Uint8Array(ex.memory.buffer, p, top - p).fill(0); return p; }
const db = alloc(72);
new Float64Array(ex.memory.buffer, db, 8).set(dataValues);
if (chol) { const cp = alloc(chol.length * 8); new Float64Array(ex.memory.buffer, cp, chol.length).set(chol); new Float64Array(ex.memory.buffer, db, 9)[8] = cp; }
const zi = alloc(zBytes), zqi = alloc(zqBytes), yq = alloc(yBytes), nb = alloc(nbBytes), tmp = alloc(64), sc = alloc(scBytes);
const state = alloc(P * 8), grad = alloc(P * 8);
const ctrl = new Int32Array(sab, 0, 4);
const shared = new Float64Array(sab, 16, 2 * P + 1); // params [P] | grad [P] | loss
let ready = -1;
const make = (t) => { ex.iclBatch(db, zi, zqi, yq, t, Bw, 0, nb, tmp); ready = t; };
for (;;) {
  let s;
  while ((s = Atomics.load(ctrl, 0)) !== ${REQUESTED}) {
    if (s === ${STOP}) process.exit(0);
    Atomics.wait(ctrl, 0, s);
  }
  const t = ctrl[1] >>> 0;
  if (ready !== t) make(t);
  new Float64Array(ex.memory.buffer, state, P).set(shared.subarray(0, P));
  const loss = kind === 'stack'
    ? ex.stackLossGrad4(state, H, d, layers, tied, residual, nOut, L, Bw, zi, zqi, yq, sc, grad, B)
    : ex.lossGrad(state, H, d, nOut, L, Bw, zi, zqi, yq, sc, grad, B, 0);
  shared.set(new Float64Array(ex.memory.buffer, grad, P), P);
  shared[2 * P] = loss;
  Atomics.store(ctrl, 0, ${READY});
  Atomics.notify(ctrl, 0);
  if (t < 0xffffffff) make(t + 1);
}
`;

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(ev: string, f: (e: unknown) => void): void;
}

/**
 * Records the worker's errors in `status`. Defined out here on purpose: a listener created inside
 * createSimdModel would share its closure context, which holds the model, and the worker (held by
 * the finalization registry) would then keep the model alive forever.
 */
function watchWorker(worker: NodeWorker, status: { error?: unknown }): void {
  worker.on('error', (e) => {
    status.error = e;
  });
}

function stopWorker(worker: NodeWorker, ctrl: Int32Array): void {
  Atomics.store(ctrl, 0, STOP);
  Atomics.notify(ctrl, 0);
  void worker.terminate();
}

const workerReaper =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ worker: NodeWorker; ctrl: Int32Array }>(({ worker, ctrl }) => stopWorker(worker, ctrl))
    : undefined;
type WorkerCtor = new (src: string, opts: { eval: true; workerData: unknown }) => NodeWorker;

function nodeWorkerCtor(): WorkerCtor | undefined {
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') return undefined;
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const wt = getBuiltin?.('node:worker_threads') as { Worker?: WorkerCtor } | undefined;
  return wt?.Worker;
}

/** CPUs available to this process (1 outside Node). */
export function cpuCount(): number {
  if (typeof process === 'undefined') return 1;
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const os = getBuiltin?.('node:os') as { availableParallelism?: () => number; cpus(): unknown[] } | undefined;
  return os?.availableParallelism?.() ?? os?.cpus().length ?? 1;
}

/** Examples the worker thread would take for a batch of B (a multiple of 4, about half; 0 = no worker). */
export function workerExamplesFor(B: number, workerThread: boolean | undefined): number {
  if (workerThread === false || !nodeWorkerCtor()) return 0;
  if (workerThread !== true && cpuCount() < 2) return 0;
  return 4 * Math.floor(B / 8);
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
  const Worker = nodeWorkerCtor();
  const Bw = workerExamplesFor(B, options.workerThread);
  let worker: NodeWorker | undefined;
  let ctrl: Int32Array | undefined;
  let shared: Float64Array | undefined;
  const workerStatus: { error?: unknown } = {};
  if (Bw > 0 && Worker) {
    const sab = new SharedArrayBuffer(16 + (2 * P + 1) * 8);
    ctrl = new Int32Array(sab, 0, 4);
    shared = new Float64Array(sab, 16, 2 * P + 1);
    const part = batchBytes(Bw, L, d, data.queryNoise);
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
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
      },
    });
    watchWorker(worker, workerStatus);
    worker.unref();
  }
  const awaitWorker = () => {
    let s: number;
    while ((s = Atomics.load(ctrl!, 0)) !== READY) {
      if (workerStatus.error) throw new Error(`${fn}: the worker thread failed: ${String(workerStatus.error)}`);
      Atomics.wait(ctrl!, 0, s, 1000);
    }
  };
  let disposed = false;
  const model: SimdModel = {
    P,
    workerExamples: worker ? Bw : 0,
    train(count: number, step: number) {
      if (disposed) throw new Error(`${fn}: run after dispose (the engine was disposed)`);
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

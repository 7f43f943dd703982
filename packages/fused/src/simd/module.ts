/**
 * The SIMD engine: seed 004's fused training step (Philox data, forward, backward, Adam) as one
 * WebAssembly module with 128-bit SIMD, compiled from `assembly/icl.ts` (AssemblyScript) and
 * embedded in `generated/icl-wasm.ts`.
 * - Data: the plain-TS engine's batches (@attnlab/data's numbers): the same Philox words, float64
 *   Box–Muller, the same float32 values up to the last bit of a rare one.
 * - Step: parameters, Adam moments, A = Wq Wkᵀ/√D, c = Wv Wo and the parameter gradient in float64;
 *   the per-example work (scores, softmax, the reductions) in float32, four examples per f32x4,
 *   like the float32 reference path. Losses agree with core.ts's float64 engine to about 1e-6.
 * - Threads: in Node, a worker thread takes half of every batch (its data and its share of the loss
 *   and gradient) while this thread does the other half (`workerThread`).
 *
 * Supports the seed's token width (d = 5) and batches that are multiples of 4; `simdUnsupported`
 * says why not otherwise.
 */
import type { AdamConfig, IclShape } from '../single/float64.js';
import { initParams, paramCount } from '../single/float64.js';
import { stackParamCount, type StackShape } from '../stack/float64.js';
import { ICL_WASM_BASE64 } from '../generated/icl-wasm.js';

/** The module's exports (pointers are byte offsets into `memory`). */
export interface IclWasmExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  philoxWords(out: number, c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): void;
  logInto(out: number, p: number, n: number): void;
  cosSinInto(outC: number, outS: number, p: number, n: number): void;
  expInto(out: number, p: number, n: number): void;
  exampleNormals(nb: number, nBlocks: number, k0: number, k1: number, stream: number, c1: number, c2: number, tmp: number): void;
  iclBatch(
    zi: number, zqi: number, yq: number, k0: number, k1: number, step: number, B: number, L: number, d: number,
    noise: number, stream: number, first: number, nb: number, tmp: number,
  ): void;
  scratchBytes(H: number, L: number): number;
  lossGrad6(p: number, H: number, L: number, B: number, zi: number, zqi: number, yq: number, sc: number, grad: number, Bnorm: number): number;
  adam(state: number, n: number, grad: number, t: number, lr: number, beta1: number, beta2: number, eps: number): void;
  train(
    state: number, H: number, L: number, B: number, k0: number, k1: number, stream: number, noise: number,
    t0: number, n: number, losses: number, lr: number, beta1: number, beta2: number, eps: number,
    zi: number, zqi: number, yq: number, nb: number, tmp: number, sc: number, grad: number,
  ): void;
  stackScratchBytes(H: number, layers: number, stored: number, L: number): number;
  stackLossGrad4(
    p: number, H: number, layers: number, tied: number, residual: number, L: number, B: number,
    zi: number, zqi: number, yq: number, sc: number, grad: number, Bnorm: number,
  ): number;
  trainStack(
    state: number, H: number, layers: number, tied: number, residual: number, L: number, B: number, k0: number, k1: number,
    stream: number, noise: number, t0: number, n: number, losses: number, lr: number, beta1: number, beta2: number, eps: number,
    zi: number, zqi: number, yq: number, nb: number, tmp: number, sc: number, grad: number,
  ): void;
}

let bytesCache: Uint8Array<ArrayBuffer> | undefined;
let moduleCache: Promise<WebAssembly.Module> | undefined;
let validCache: boolean | undefined;

function wasmBytes(): Uint8Array<ArrayBuffer> {
  if (!bytesCache) {
    const bin = atob(ICL_WASM_BASE64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    bytesCache = out;
  }
  return bytesCache;
}

/** Whether this JavaScript engine runs WebAssembly with SIMD (Node ≥ 16, current browsers). */
export function simdAvailable(): boolean {
  if (validCache === undefined) {
    try {
      validCache = typeof WebAssembly === 'object' && WebAssembly.validate(wasmBytes());
    } catch {
      validCache = false;
    }
  }
  return validCache;
}

/** Why the SIMD engine cannot train this configuration, or undefined when it can. */
export function simdUnsupported(shape: IclShape, L: number, B: number): string | undefined {
  if (!simdAvailable()) return 'needs WebAssembly SIMD, which this JavaScript engine lacks';
  if (shape.d !== 5) return `supports d = 5 (the seed's token width) only; got d = ${shape.d}`;
  if (B % 4 !== 0) return `needs a batch that is a multiple of 4; got ${B}`;
  if (!(L >= 1)) return `needs L ≥ 1; got ${L}`;
  return undefined;
}

/** One instance of the module with a bump allocator over its memory. */
export interface IclWasm {
  readonly exports: IclWasmExports;
  /** Reserves `bytes` (16-byte aligned) and returns the pointer; grows memory when needed. */
  alloc(bytes: number): number;
  /** Reserves one batch in iclBatch's layout (d = 5, B a multiple of 4) plus its normal and Philox scratch. */
  allocBatch(B: number, L: number): BatchBuffers;
  /** A Float64Array view (valid until the next alloc). */
  f64(ptr: number, n: number): Float64Array;
  /** A Float32Array view (valid until the next alloc). */
  f32(ptr: number, n: number): Float32Array;
  /** A Uint32Array view (valid until the next alloc). */
  u32(ptr: number, n: number): Uint32Array;
}

/** Pointers of one batch in the module's memory (iclBatch's arguments); nbBytes is the normal buffer's size. */
export interface BatchBuffers { zi: number; zqi: number; yq: number; nb: number; tmp: number; nbBytes: number }

/** Bytes of iclBatch's normal buffer: 16·⌈n/16⌉ doubles for n = d + (L+1)·d + L normals per example (d = 5). */
function normalBytes(L: number): number {
  return Math.ceil((5 + (L + 1) * 5 + L) / 16) * 16 * 8;
}

/** Compiles (once per process) and instantiates the module. */
export async function createIclWasm(): Promise<IclWasm> {
  if (!simdAvailable()) throw new Error('@attnlab/fused: the SIMD engine needs WebAssembly SIMD, which this JavaScript engine lacks');
  moduleCache ??= WebAssembly.compile(wasmBytes());
  const instance = await WebAssembly.instantiate(await moduleCache, { env: { pow: Math.pow, abort: wasmAbort } });
  const ex = instance.exports as unknown as IclWasmExports;
  let top = ex.heapBase();
  const alloc = (bytes: number) => {
    const ptr = top;
    top = ptr + Math.ceil(bytes / 16) * 16;
    const have = ex.memory.buffer.byteLength;
    if (top > have) ex.memory.grow(Math.ceil((top - have) / 65536));
    return ptr;
  };
  return {
    exports: ex,
    alloc,
    allocBatch(B: number, L: number) {
      const nbBytes = normalBytes(L);
      return { zi: alloc(B * L * 6 * 4), zqi: alloc(B * 6 * 4), yq: alloc(B * 4), nb: alloc(nbBytes), tmp: alloc(64), nbBytes };
    },
    f64: (ptr, n) => new Float64Array(ex.memory.buffer, ptr, n),
    f32: (ptr, n) => new Float32Array(ex.memory.buffer, ptr, n),
    u32: (ptr, n) => new Uint32Array(ex.memory.buffer, ptr, n),
  };
}

function wasmAbort(): never {
  throw new Error('@attnlab/fused: the SIMD module aborted');
}

/** Options of `createSimdIclModel`. */
export interface SimdModelOptions {
  /**
   * Split every batch with a second thread (Node's worker_threads): the worker makes the first
   * half of the examples and their share of the loss and gradient while this thread does the
   * rest, then Adam runs here; the worker also makes its next batch while it waits. Default:
   * true in Node when the machine has at least 2 CPUs; ignored elsewhere (browsers).
   */
  workerThread?: boolean;
}

/** A model on the SIMD engine (shape S: IclShape for the single layer, StackShape for the stack). */
export interface SimdModelBase<S> {
  readonly shape: S;
  readonly L: number;
  readonly B: number;
  readonly seed: number;
  readonly noiseStd: number;
  readonly adam: AdamConfig;
  /** Examples of each batch handled by the worker thread (0 without one). */
  readonly workerExamples: number;
  /** Completed steps (the next step trains on the batch of step index t and uses Adam step t+1). */
  t: number;
  /** Runs n steps on the model's own Philox data (stream 0); returns their losses (before each update). */
  train(n: number): Float64Array;
  /** A copy of the [params | m | v] state (3·P doubles). */
  getState(): Float64Array;
  /** Replaces the [params | m | v] state. */
  setState(state: ArrayLike<number>): void;
  /** Stops the worker thread (idempotent); the model cannot train afterwards. */
  dispose(): void;
}

/** A single-layer model trained by the SIMD engine: the SIMD counterpart of core.ts's CpuModel. */
export type SimdIclModel = SimdModelBase<IclShape>;

/** A causal stack trained by the SIMD engine: the SIMD counterpart of stack.ts's StackModel. */
export type SimdStackModel = SimdModelBase<StackShape>;

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
const { module, sab, kind, H, layers, tied, residual, B, Bw, L, d, k0, k1, noise, P, zBytes, zqBytes, yBytes, nbBytes, scBytes } = workerData;
const ex = new WebAssembly.Instance(module, { env: { pow: Math.pow, abort() { throw new Error('SIMD module aborted'); } } }).exports;
let top = ex.heapBase();
function alloc(n) { const p = top; top += Math.ceil(n / 16) * 16; const have = ex.memory.buffer.byteLength; if (top > have) ex.memory.grow(Math.ceil((top - have) / 65536)); return p; }
const zi = alloc(zBytes), zqi = alloc(zqBytes), yq = alloc(yBytes), nb = alloc(nbBytes), tmp = alloc(64), sc = alloc(scBytes);
const state = alloc(P * 8), grad = alloc(P * 8);
const ctrl = new Int32Array(sab, 0, 4);
const shared = new Float64Array(sab, 16, 2 * P + 1); // params [P] | grad [P] | loss
let ready = -1;
const make = (t) => { ex.iclBatch(zi, zqi, yq, k0, k1, t >>> 0, Bw, L, d, noise, 0, 0, nb, tmp); ready = t; };
for (;;) {
  let s;
  while ((s = Atomics.load(ctrl, 0)) !== ${REQUESTED}) {
    if (s === ${STOP}) process.exit(0);
    Atomics.wait(ctrl, 0, s);
  }
  const t = ctrl[1];
  if (ready !== t) make(t);
  new Float64Array(ex.memory.buffer, state, P).set(shared.subarray(0, P));
  const loss = kind === 'stack'
    ? ex.stackLossGrad4(state, H, layers, tied, residual, L, Bw, zi, zqi, yq, sc, grad, B)
    : ex.lossGrad6(state, H, L, Bw, zi, zqi, yq, sc, grad, B);
  shared.set(new Float64Array(ex.memory.buffer, grad, P), P);
  shared[2 * P] = loss;
  Atomics.store(ctrl, 0, ${READY});
  Atomics.notify(ctrl, 0);
  make(t + 1);
}
`;

interface NodeWorker { unref(): void; terminate(): Promise<number>; on(ev: string, f: (e: unknown) => void): void }

/**
 * Records the worker's errors in `status`. Defined out here on purpose: a listener created inside
 * createSimdModel would share its closure context, which holds the model, and the worker (held by
 * the finalization registry) would then keep the model alive forever.
 */
function watchWorker(worker: NodeWorker, status: { error?: unknown }): void {
  worker.on('error', (e) => { status.error = e; });
}

function stopWorker(worker: NodeWorker, ctrl: Int32Array): void {
  Atomics.store(ctrl, 0, STOP);
  Atomics.notify(ctrl, 0);
  void worker.terminate();
}

const workerReaper = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<{ worker: NodeWorker; ctrl: Int32Array }>(({ worker, ctrl }) => stopWorker(worker, ctrl))
  : undefined;
type WorkerCtor = new (src: string, opts: { eval: true; workerData: unknown }) => NodeWorker;

function nodeWorkerCtor(): WorkerCtor | undefined {
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') return undefined;
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const wt = getBuiltin?.('node:worker_threads') as { Worker?: WorkerCtor } | undefined;
  return wt?.Worker;
}

function cpuCount(): number {
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const os = getBuiltin?.('node:os') as { availableParallelism?: () => number; cpus(): unknown[] } | undefined;
  return os?.availableParallelism?.() ?? os?.cpus().length ?? 1;
}

/** What distinguishes the single-layer and stack models of the SIMD engine. */
interface SimdKernel {
  /** Parameter count. */
  P: number;
  /** Bytes of the step's scratch. */
  scratchBytes(ex: IclWasmExports): number;
  /** Loss and gradient (into grad) of the `part` examples in zi/zqi/yq for the state's parameters, normalised by the batch size. */
  lossGrad(ex: IclWasmExports, state: number, zi: number, zqi: number, yq: number, sc: number, grad: number, part: number): number;
  /** What the worker needs to run the same lossGrad. */
  worker: { kind: 'icl' | 'stack'; H: number; layers: number; tied: number; residual: number };
  /** n fused steps inside the module (data included), losses into `losses`. */
  train(ex: IclWasmExports, a: {
    state: number; k0: number; k1: number; noise: number; t0: number; n: number; losses: number;
    zi: number; zqi: number; yq: number; nb: number; tmp: number; sc: number; grad: number;
  }): void;
}

/** A SIMD-engine model (single layer or stack) with the worker-thread machinery; `init` is the [params | m | v] state (3·P). */
async function createSimdModel<S>(
  fn: string, kernel: SimdKernel, shape: S, L: number, B: number, seed: number, adam: AdamConfig, noiseStd: number,
  init: ArrayLike<number>, options: SimdModelOptions,
): Promise<SimdModelBase<S>> {
  const w = await createIclWasm();
  const ex = w.exports;
  const d = 5;
  const D = d + 1;
  const P = kernel.P;
  const state = w.alloc(3 * P * 8);
  const grad = w.alloc(P * 8);
  const { zi, zqi, yq, nb, tmp, nbBytes } = w.allocBatch(B, L);
  const sc = w.alloc(kernel.scratchBytes(ex));
  const losses = w.alloc(LOSS_CHUNK * 8);
  const k0 = seed >>> 0;
  const k1 = Math.floor(seed / 4294967296) >>> 0;
  const noise = Math.sqrt(d) * noiseStd;
  const { lr, beta1, beta2, eps } = adam;
  w.f64(state, 3 * P).set(init);

  // ---- worker: the first Bw examples of every batch, data and gradient (about half the batch)
  const Worker = options.workerThread === false ? undefined : nodeWorkerCtor();
  const Bw = Worker && (options.workerThread === true || cpuCount() >= 2) ? 4 * Math.floor(B / 8) : 0;
  const zPart = (Bw / 4) * L * D * 16;
  const zqPart = (Bw / 4) * D * 16;
  const yPart = Bw * 4;
  let worker: NodeWorker | undefined;
  let ctrl: Int32Array | undefined;
  let shared: Float64Array | undefined;
  const workerStatus: { error?: unknown } = {};
  if (Bw > 0 && Worker) {
    const sab = new SharedArrayBuffer(16 + (2 * P + 1) * 8);
    ctrl = new Int32Array(sab, 0, 4);
    shared = new Float64Array(sab, 16, 2 * P + 1);
    const module = await WebAssembly.compile(wasmBytes());
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        module, sab, ...kernel.worker, B, Bw, L, d, k0, k1, noise, P,
        zBytes: zPart, zqBytes: zqPart, yBytes: yPart, nbBytes, scBytes: kernel.scratchBytes(ex),
      },
    });
    watchWorker(worker, workerStatus);
    worker.unref();
  }
  const awaitWorker = () => {
    let s: number;
    while ((s = Atomics.load(ctrl!, 0)) !== READY) {
      if (workerStatus.error) throw new Error(`${fn}: the worker failed: ${String(workerStatus.error)}`);
      Atomics.wait(ctrl!, 0, s, 1000);
    }
  };
  let disposed = false;
  const model: SimdModelBase<S> = {
    shape, L, B, seed, noiseStd, adam, t: 0, workerExamples: worker ? Bw : 0,
    train(count: number) {
      if (disposed) throw new Error(`${fn}: train after dispose (the model was disposed)`);
      const out = new Float64Array(count);
      if (!worker) {
        for (let done = 0; done < count;) {
          const k = Math.min(LOSS_CHUNK, count - done);
          kernel.train(ex, { state, k0, k1, noise, t0: model.t, n: k, losses, zi, zqi, yq, nb, tmp, sc, grad });
          out.set(w.f64(losses, k), done);
          model.t += k;
          done += k;
        }
        return out;
      }
      for (let i = 0; i < count; i++) {
        const step = model.t;
        // hand the worker this step's parameters, then do this thread's share of the batch
        shared!.set(w.f64(state, P));
        ctrl![1] = step | 0;
        Atomics.store(ctrl!, 0, REQUESTED);
        Atomics.notify(ctrl!, 0);
        ex.iclBatch(zi, zqi, yq, k0, k1, step, B - Bw, L, d, noise, 0, Bw, nb, tmp);
        let loss = kernel.lossGrad(ex, state, zi, zqi, yq, sc, grad, B - Bw);
        awaitWorker();
        const g = w.f64(grad, P);
        for (let j = 0; j < P; j++) g[j] = g[j]! + shared![P + j]!;
        loss += shared![2 * P]!;
        Atomics.store(ctrl!, 0, IDLE);
        out[i] = loss;
        model.t += 1;
        ex.adam(state, P, grad, model.t, lr, beta1, beta2, eps);
      }
      return out;
    },
    getState: () => Float64Array.from(w.f64(state, 3 * P)),
    setState(st: ArrayLike<number>) {
      if (st.length !== 3 * P) throw new RangeError(`${fn}: setState: state must hold ${3 * P} numbers ([params | m | v] of ${P}); got ${st.length}`);
      w.f64(state, 3 * P).set(st);
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

/**
 * Creates a SIMD-engine model with core.ts's initialisation (`initParams(shape, seed)`), Adam
 * state zero, t = 0. Throws when `simdUnsupported` gives a reason.
 */
export async function createSimdIclModel(
  shape: IclShape, L: number, B: number, seed: number, adam: AdamConfig, noiseStd = 0.01, options: SimdModelOptions = {},
): Promise<SimdIclModel> {
  const why = simdUnsupported(shape, L, B);
  if (why) throw new RangeError(`createSimdIclModel: the SIMD engine ${why}`);
  const H = shape.heads;
  const { lr, beta1, beta2, eps } = adam;
  const kernel: SimdKernel = {
    P: paramCount(shape),
    scratchBytes: (ex) => ex.scratchBytes(H, L),
    lossGrad: (ex, state, zi, zqi, yq, sc, grad, part) => ex.lossGrad6(state, H, L, part, zi, zqi, yq, sc, grad, B),
    worker: { kind: 'icl', H, layers: 1, tied: 0, residual: 0 },
    train: (ex, a) => ex.train(a.state, H, L, B, a.k0, a.k1, 0, a.noise, a.t0, a.n, a.losses, lr, beta1, beta2, eps, a.zi, a.zqi, a.yq, a.nb, a.tmp, a.sc, a.grad),
  };
  const init = new Float64Array(3 * kernel.P);
  init.set(initParams(shape, seed));
  return createSimdModel('SimdIclModel', kernel, shape, L, B, seed, adam, noiseStd, init, options);
}

/** Why the SIMD engine cannot train this stack, or undefined when it can. */
export function simdStackUnsupported(shape: StackShape, L: number, B: number): string | undefined {
  return simdUnsupported({ heads: shape.heads, d: shape.d }, L, B);
}

/**
 * The causal stack (src/stack.ts's model and parameter layout) on the SIMD engine: four examples
 * per f32x4, parameters and Adam in float64, the worker thread as for the single layer. `init`: the
 * [params | m | v] state to start from (3·P numbers).
 */
export async function createSimdStackModel(
  shape: StackShape, L: number, B: number, seed: number, adam: AdamConfig, noiseStd: number, init: ArrayLike<number>,
  options: SimdModelOptions = {},
): Promise<SimdStackModel> {
  const why = simdStackUnsupported(shape, L, B);
  if (why) throw new RangeError(`createSimdStackModel: the SIMD engine ${why}`);
  const P = stackParamCount(shape);
  if (init.length !== 3 * P) throw new RangeError(`createSimdStackModel: init must hold ${3 * P} numbers ([params | m | v] of ${P}); got ${init.length}`);
  const { heads: H, layers } = shape;
  const tied = shape.tied ? 1 : 0;
  const residual = shape.residual ? 1 : 0;
  const { lr, beta1, beta2, eps } = adam;
  const kernel: SimdKernel = {
    P,
    scratchBytes: (ex) => ex.stackScratchBytes(H, layers, tied ? 1 : layers, L),
    lossGrad: (ex, state, zi, zqi, yq, sc, grad, part) => ex.stackLossGrad4(state, H, layers, tied, residual, L, part, zi, zqi, yq, sc, grad, B),
    worker: { kind: 'stack', H, layers, tied, residual },
    train: (ex, a) => ex.trainStack(a.state, H, layers, tied, residual, L, B, a.k0, a.k1, 0, a.noise, a.t0, a.n, a.losses, lr, beta1, beta2, eps, a.zi, a.zqi, a.yq, a.nb, a.tmp, a.sc, a.grad),
  };
  return createSimdModel('SimdStackModel', kernel, shape, L, B, seed, adam, noiseStd, init, options);
}

/** One model of `createSimdMultiModel`. */
export interface SimdMultiSpec {
  shape: IclShape;
  /** Seed of the initial weights (initParams), unless `init` is given. */
  seed: number;
  /** Seed of the training data; models with the same data seed share each generated batch. */
  dataSeed: number;
  adam: AdamConfig;
  /** Initial parameters (P numbers) instead of initParams(shape, seed). */
  init?: ArrayLike<number>;
}

/** Many independent models on the SIMD engine, stepped together (one thread). */
export interface SimdMultiModel {
  readonly models: number;
  /** Completed steps (the same for every model). */
  t: number;
  /** n steps of every model; losses[i] holds model i's n losses. */
  train(n: number): Float64Array[];
  /** A copy of model i's [params | m | v]. */
  getState(i: number): Float64Array;
}

/**
 * M independent models (own heads, seeds, Adam settings, parameters and moments) trained together
 * on the SIMD engine: each step makes one batch per distinct data seed and runs every model's
 * fused step on it. Every shape must satisfy `simdUnsupported(shape, L, B) === undefined`.
 */
export async function createSimdMultiModel(specs: SimdMultiSpec[], L: number, B: number, noiseStd = 0.01): Promise<SimdMultiModel> {
  for (const [i, sp] of specs.entries()) {
    const why = simdUnsupported(sp.shape, L, B);
    if (why) throw new RangeError(`createSimdMultiModel: models[${i}]: the SIMD engine ${why}`);
  }
  const w = await createIclWasm();
  const ex = w.exports;
  const d = 5;
  const { zi, zqi, yq, nb, tmp } = w.allocBatch(B, L);
  const hmax = Math.max(...specs.map((s) => s.shape.heads));
  const sc = w.alloc(ex.scratchBytes(hmax, L));
  const grad = w.alloc(paramCount({ heads: hmax, d }) * 8);
  const models = specs.map((sp, i) => {
    const P = paramCount(sp.shape);
    const state = w.alloc(3 * P * 8);
    return { sp, P, state, i };
  });
  for (const m of models) {
    const init = m.sp.init ?? initParams(m.sp.shape, m.sp.seed);
    if (init.length !== m.P) throw new RangeError(`createSimdMultiModel: init must hold ${m.P} numbers for heads ${m.sp.shape.heads}; got ${init.length}`);
    w.f64(m.state, m.P).set(init);
  }
  // models grouped by data seed, in order of first appearance
  const groups = new Map<number, typeof models>();
  for (const m of models) {
    const g = groups.get(m.sp.dataSeed);
    if (g) g.push(m); else groups.set(m.sp.dataSeed, [m]);
  }
  const noise = Math.sqrt(d) * noiseStd;
  const multi: SimdMultiModel = {
    models: models.length, t: 0,
    train(count: number) {
      const out = models.map(() => new Float64Array(count));
      for (let k = 0; k < count; k++) {
        const step = multi.t;
        for (const [seed, group] of groups) {
          ex.iclBatch(zi, zqi, yq, seed >>> 0, Math.floor(seed / 4294967296) >>> 0, step, B, L, d, noise, 0, 0, nb, tmp);
          for (const m of group) {
            const a = m.sp.adam;
            out[m.i]![k] = ex.lossGrad6(m.state, m.sp.shape.heads, L, B, zi, zqi, yq, sc, grad, B);
            ex.adam(m.state, m.P, grad, step + 1, a.lr, a.beta1, a.beta2, a.eps);
          }
        }
        multi.t += 1;
      }
      return out;
    },
    getState(i: number) {
      const m = models[i];
      if (!m) throw new RangeError(`SimdMultiModel.getState: i must be an integer in [0, ${models.length - 1}]; got ${i}`);
      return Float64Array.from(w.f64(m.state, 3 * m.P));
    },
  };
  return multi;
}

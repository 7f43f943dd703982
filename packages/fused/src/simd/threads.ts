/**
 * The SIMD engine's second thread: one worker loop (WORKER_LOOP) and a small host seam that starts
 * it where a thread may block on Atomics (Node's `worker_threads`; in a browser, a nested dedicated
 * Worker from a Blob URL inside a cross-origin-isolated worker). The worker gets the compiled
 * WebAssembly.Module and a SharedArrayBuffer (control words | parameters | gradient | loss |
 * an error note) and says 'ready' once its instance is laid out; after that, one Atomics handshake
 * per step. An error in its loop is written into the buffer (FAILED and the message), so the
 * thread waiting on it throws instead of hanging (its event loop is blocked then: no error event
 * could reach it).
 */

/** Control word 0's states. */
export const IDLE = 0;
export const REQUESTED = 1;
export const READY = 2;
export const STOP = 3;
export const FAILED = 4;
/** UTF-16 units of the error note kept in the shared buffer. */
const NOTE_CHARS = 1024;

/** Where a second thread can run: which kind of host and how many logical CPUs it reports. */
export interface ThreadHost {
  kind: 'node' | 'browser';
  cpus: number;
  /** Starts the worker loop on `data` (its `sab` and `module` are shared, not copied). */
  start(data: WorkerData): WorkerThread;
}

/** A started worker: `ready` settles once it has laid out its instance (rejects if it fails first). */
export interface WorkerThread {
  readonly ready: Promise<void>;
  /** An error the host reported after start (undefined while none). */
  readonly status: { error?: Error };
  terminate(): void;
}

/** What the worker loop receives. */
export interface WorkerData {
  module: WebAssembly.Module;
  sab: SharedArrayBuffer;
  kind: 'single' | 'stack';
  H: number;
  d: number;
  nOut: number;
  layers: number;
  tied: number;
  residual: number;
  B: number;
  Bw: number;
  L: number;
  P: number;
  dataValues: number[];
  chol: Float64Array | null;
  zBytes: number;
  zqBytes: number;
  yBytes: number;
  nbBytes: number;
  scBytes: number;
}

/** Bytes of the shared buffer for P parameters: 4 control words, params [P] | grad [P] | loss, the note. */
export function sharedBytes(P: number): number {
  return 16 + (2 * P + 1) * 8 + NOTE_CHARS * 2;
}

/** The views of the shared buffer both threads use. */
export function sharedViews(sab: SharedArrayBuffer, P: number): { ctrl: Int32Array; shared: Float64Array } {
  return { ctrl: new Int32Array(sab, 0, 4), shared: new Float64Array(sab, 16, 2 * P + 1) };
}

/** The worker's error note (after FAILED). */
export function failureNote(sab: SharedArrayBuffer, P: number): string {
  const n = new Int32Array(sab, 0, 4)[2]!;
  return String.fromCharCode(...new Uint16Array(sab, 16 + (2 * P + 1) * 8, Math.min(n, NOTE_CHARS)));
}

// The worker loop (plain JavaScript, the same in every host). For each requested step it takes the
// parameters from the shared buffer, makes examples [0, Bw) of the batch and writes their share of
// the loss and of the gradient (normalised by the whole batch) back; then it makes its examples of
// the next step ahead. `ready()` once laid out; `exit()` on STOP or after a failure.
const WORKER_LOOP = `
function run(data, ready, exit) {
  const { module, sab, kind, H, d, nOut, layers, tied, residual, B, Bw, L, P, dataValues, chol, zBytes, zqBytes, yBytes, nbBytes, scBytes } = data;
  if (kind !== 'single' && kind !== 'stack') throw new Error('SIMD worker: unknown kernel kind ' + String(kind));
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
  const note = new Uint16Array(sab, 16 + (2 * P + 1) * 8, ${NOTE_CHARS});
  let made = -1;
  const make = (t) => { ex.iclBatch(db, zi, zqi, yq, t, Bw, 0, nb, tmp); made = t; };
  ready();
  try {
    for (;;) {
      let s;
      while ((s = Atomics.load(ctrl, 0)) !== ${REQUESTED}) {
        if (s === ${STOP}) return exit();
        Atomics.wait(ctrl, 0, s);
      }
      const t = ctrl[1] >>> 0;
      if (made !== t) make(t);
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
  } catch (e) {
    const m = String((e && e.message) || e);
    const n = Math.min(m.length, ${NOTE_CHARS});
    for (let i = 0; i < n; i++) note[i] = m.charCodeAt(i);
    ctrl[2] = n;
    Atomics.store(ctrl, 0, ${FAILED});
    Atomics.notify(ctrl, 0);
    exit();
  }
}
`;

// Node: CommonJS run with eval; workerData carries the data.
const NODE_SOURCE = `${WORKER_LOOP}
const wt = require('node:worker_threads');
run(wt.workerData, () => wt.parentPort.postMessage('ready'), () => process.exit(0));
`;

// Browsers: a classic worker from a Blob URL; the first message carries the data.
const BROWSER_SOURCE = `${WORKER_LOOP}
self.onmessageerror = () => { throw new Error('SIMD worker: could not receive the module and the shared buffer'); };
self.onmessage = (e) => { self.onmessage = null; run(e.data, () => self.postMessage('ready'), () => self.close()); };
`;

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(ev: string, f: (e: unknown) => void): void;
  off(ev: string, f: (e: unknown) => void): void;
  postMessage(m: unknown): void;
}
type NodeWorkerCtor = new (src: string, opts: { eval: true; workerData: unknown }) => NodeWorker;

interface BrowserWorker {
  postMessage(m: unknown): void;
  terminate(): void;
  addEventListener(ev: string, f: (e: { data?: unknown; message?: string; preventDefault?(): void }) => void): void;
}
type BrowserWorkerCtor = new (url: string, opts?: { name?: string }) => BrowserWorker;

const asError = (e: unknown): Error =>
  e instanceof Error ? e : new Error(typeof e === 'string' ? e : JSON.stringify(e));

function startNode(Worker: NodeWorkerCtor, data: WorkerData): WorkerThread {
  const worker = new Worker(NODE_SOURCE, { eval: true, workerData: data });
  const status: { error?: Error } = {};
  worker.on('error', (e) => {
    status.error = asError(e);
  });
  const ready = new Promise<void>((resolve, reject) => {
    const done = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (m: unknown) => {
      if (m !== 'ready') return;
      done();
      worker.unref(); // only now: a process awaiting `ready` stays alive until it settles
      resolve();
    };
    const onError = (e: unknown) => {
      done();
      reject(asError(e));
    };
    const onExit = (code: unknown) => {
      done();
      reject(new Error(`the worker thread exited (code ${String(code)}) before it was ready`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
  return {
    ready,
    status,
    terminate: () => void worker.terminate(),
  };
}

function startBrowser(Worker: BrowserWorkerCtor, g: Record<string, unknown>, data: WorkerData): WorkerThread {
  const Url = g.URL as typeof URL;
  const url = Url.createObjectURL(new (g.Blob as typeof Blob)([BROWSER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(url, { name: 'attnlab simd thread' });
  const status: { error?: Error } = {};
  let settle: ((error?: Error) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    settle = (error) => {
      settle = undefined;
      Url.revokeObjectURL(url);
      if (error === undefined) resolve();
      else reject(error);
    };
  });
  worker.addEventListener('message', (e) => {
    if (e.data === 'ready') settle?.();
  });
  worker.addEventListener('error', (e) => {
    e.preventDefault?.(); // reported here, as this engine's error
    const error = new Error(e.message ?? 'the worker failed to start (no message)');
    status.error = error;
    settle?.(error);
  });
  worker.postMessage(data);
  return { ready, status, terminate: () => worker.terminate() };
}

/** How long a worker may take to say 'ready' (a start that never completes is an error, not a hang). */
const START_TIMEOUT_MS = 30_000;

/** Resolves when the worker is ready; rejects (and terminates it) on its error or after `ms`. */
export async function whenReady(thread: WorkerThread, ms = START_TIMEOUT_MS): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`it did not say it was ready within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([thread.ready, late]);
  } catch (e) {
    thread.terminate();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The host a second thread runs on here, or undefined: Node with `worker_threads`; or a browser's
 * dedicated worker (Atomics.wait is refused on a page's main thread) that is cross-origin isolated
 * and has `Worker` and `SharedArrayBuffer`. `g` is the global object (a parameter for tests).
 */
export function threadHost(g: Record<string, unknown> = globalThis): ThreadHost | undefined {
  const proc = g.process as { versions?: { node?: unknown }; getBuiltinModule?: (id: string) => unknown } | undefined;
  if (typeof proc?.versions?.node === 'string') {
    const wt = proc.getBuiltinModule?.('node:worker_threads') as { Worker?: NodeWorkerCtor } | undefined;
    const os = proc.getBuiltinModule?.('node:os') as
      { availableParallelism?: () => number; cpus(): unknown[] } | undefined;
    const Worker = wt?.Worker;
    if (!Worker) return undefined;
    return {
      kind: 'node',
      cpus: os?.availableParallelism?.() ?? os?.cpus().length ?? 1,
      start: (data) => startNode(Worker, data),
    };
  }
  const Scope = g.DedicatedWorkerGlobalScope;
  const inWorker = typeof Scope === 'function' && g instanceof Scope;
  const Worker = g.Worker;
  if (
    !inWorker ||
    g.crossOriginIsolated !== true ||
    typeof Worker !== 'function' ||
    typeof g.SharedArrayBuffer !== 'function' ||
    typeof g.Blob !== 'function' ||
    typeof (g.URL as { createObjectURL?: unknown } | undefined)?.createObjectURL !== 'function'
  )
    return undefined;
  const nav = g.navigator as { hardwareConcurrency?: number } | undefined;
  return {
    kind: 'browser',
    cpus: nav?.hardwareConcurrency ?? 1,
    start: (data) => startBrowser(Worker as BrowserWorkerCtor, g, data),
  };
}

/**
 * Examples the worker thread takes for a batch of B on `host` (`threadHost()`; a multiple of 4, about
 * half; 0 = no worker): none without a host or with `workerThread: false`; by default only with ≥ 2 CPUs and
 * B ≥ 8; `workerThread: true` asks for one wherever a host exists.
 */
export function workerExamplesFor(
  B: number,
  workerThread: boolean | undefined,
  host: Pick<ThreadHost, 'cpus'> | undefined,
): number {
  if (workerThread === false || !host) return 0;
  if (workerThread !== true && host.cpus < 2) return 0;
  return splitExamples(B);
}

/** Where a batch of B splits: its first part has this many examples (a multiple of 4, about half; 0 = one part). */
export function splitExamples(B: number): number {
  return B >= 8 ? 4 * Math.floor(B / 8) : 0;
}

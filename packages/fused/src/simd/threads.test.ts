import { singleSimdKernel } from '../single/simd.js';
import { resolveIclSpec } from '../spec.js';
import type { IclTrainingSpec } from '../spec.js';
import { createSimdModel } from './model.js';
import { compiledModule } from './module.js';
import { sharedBytes, threadHost, whenReady, workerExamplesFor, type WorkerData } from './threads.js';

/** A stand-in for a browser's global object: an instance of DedicatedWorkerGlobalScope, or of a page's Window. */
class FakeWorkerScope {}
class FakeWindow {}

interface Posted {
  url: string;
  messages: unknown[];
  listeners: Map<string, ((e: { data?: unknown; message?: string; preventDefault?(): void }) => void)[]>;
  terminated: boolean;
}

function browserGlobal(overrides: Record<string, unknown> = {}, scope: object = new FakeWorkerScope()) {
  const workers: Posted[] = [];
  class FakeWorker {
    posted: Posted;
    constructor(url: string) {
      this.posted = { url, messages: [], listeners: new Map(), terminated: false };
      workers.push(this.posted);
    }
    postMessage(m: unknown) {
      this.posted.messages.push(m);
    }
    terminate() {
      this.posted.terminated = true;
    }
    addEventListener(ev: string, f: (e: { data?: unknown }) => void) {
      this.posted.listeners.set(ev, [...(this.posted.listeners.get(ev) ?? []), f]);
    }
  }
  const revoked: string[] = [];
  const g = Object.assign(scope, {
    DedicatedWorkerGlobalScope: FakeWorkerScope,
    crossOriginIsolated: true,
    Worker: FakeWorker,
    SharedArrayBuffer,
    Blob,
    URL: { createObjectURL: () => 'blob:fake', revokeObjectURL: (u: string) => revoked.push(u) },
    navigator: { hardwareConcurrency: 2 },
    ...overrides,
  }) as unknown as Record<string, unknown>;
  return { g, workers, revoked };
}

const fire = (w: Posted, ev: string, e: { data?: unknown; message?: string }) =>
  (w.listeners.get(ev) ?? []).forEach((f) => f(e));

describe('SIMD engine threads: where a second thread runs', () => {
  it('Node: worker_threads with the CPUs of the process', () => {
    const host = threadHost();
    expect(host?.kind).toBe('node');
    expect(host!.cpus).toBeGreaterThanOrEqual(1);
  });

  it('a browser: only in a cross-origin-isolated dedicated worker with Worker and SharedArrayBuffer; hardwareConcurrency CPUs', () => {
    expect(threadHost(browserGlobal().g)).toMatchObject({ kind: 'browser', cpus: 2 });
    expect(threadHost(browserGlobal({ navigator: { hardwareConcurrency: 6 } }).g)).toMatchObject({ cpus: 6 });
    expect(threadHost(browserGlobal({ crossOriginIsolated: false }).g)).toBeUndefined();
    expect(threadHost(browserGlobal({ SharedArrayBuffer: undefined }).g)).toBeUndefined();
    expect(threadHost(browserGlobal({ Worker: undefined }).g)).toBeUndefined();
    // a page's main thread (Atomics.wait is not allowed there), even when isolated
    expect(threadHost(browserGlobal({}, new FakeWindow()).g)).toBeUndefined();
    expect(threadHost(browserGlobal({ DedicatedWorkerGlobalScope: undefined }).g)).toBeUndefined();
  });

  it('examples for the worker: about half of the batch in quads, with ≥ 2 CPUs and a batch ≥ 8 by default', () => {
    const two = { cpus: 2 };
    expect(workerExamplesFor(128, undefined, two)).toBe(64);
    expect(workerExamplesFor(256, undefined, two)).toBe(128);
    expect(workerExamplesFor(12, undefined, two)).toBe(4);
    expect(workerExamplesFor(7, undefined, two)).toBe(0);
    expect(workerExamplesFor(128, undefined, { cpus: 1 })).toBe(0);
    expect(workerExamplesFor(128, true, { cpus: 1 })).toBe(64);
    expect(workerExamplesFor(128, false, { cpus: 16 })).toBe(0);
    expect(workerExamplesFor(128, true, undefined)).toBe(0);
  });

  it('a browser: a Blob-URL worker gets the module and the shared buffer in one message; ready on its message, revoked; an error rejects', async () => {
    const { g, workers, revoked } = browserGlobal();
    const host = threadHost(g)!;
    const data = { module: await compiledModule(), sab: new SharedArrayBuffer(sharedBytes(3)), P: 3 } as WorkerData;
    const t = host.start(data);
    expect(workers).toHaveLength(1);
    expect(workers[0]!.url).toBe('blob:fake');
    expect(workers[0]!.messages).toEqual([data]);
    expect((workers[0]!.messages[0] as WorkerData).sab).toBe(data.sab);
    fire(workers[0]!, 'message', { data: 'ready' });
    await expect(t.ready).resolves.toBeUndefined();
    expect(revoked).toEqual(['blob:fake']);
    t.terminate();
    expect(workers[0]!.terminated).toBe(true);

    const bad = host.start(data);
    fire(workers[1]!, 'error', { message: 'Uncaught Error: SIMD worker: unknown kernel kind x' });
    await expect(bad.ready).rejects.toThrow('Uncaught Error: SIMD worker: unknown kernel kind x');
    expect(bad.status.error).toBeInstanceOf(Error);
  });

  it('a worker that never says ready is an error after the start timeout, and is terminated', async () => {
    const { g, workers } = browserGlobal();
    const t = threadHost(g)!.start({ sab: new SharedArrayBuffer(sharedBytes(1)), P: 1 } as WorkerData);
    await expect(whenReady(t, 20)).rejects.toThrow('it did not say it was ready within 20 ms');
    expect(workers[0]!.terminated).toBe(true);
  });
});

describe('SIMD engine threads: failures surface as errors', () => {
  const spec: IclTrainingSpec = {
    model: { d: 5, numHeads: 2, layers: 1, seed: 0 },
    task: { L: 8, dx: 5, noiseStd: 0.01 },
    batch: 16,
    dataSeed: 1,
    optimizer: { method: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
  };
  const s = resolveIclSpec('test', spec);
  const model = (worker: Partial<ReturnType<typeof singleSimdKernel>['worker']>) => {
    const k = singleSimdKernel({ heads: 2, d: 5, nOut: 1 }, 8);
    return createSimdModel(
      'test',
      { ...k, worker: { ...k.worker, ...worker } },
      s.data,
      16,
      s.optimizer,
      s.segments,
      [0, 0, 0, 0],
      {
        workerThread: true,
      },
    );
  };

  it('a worker that cannot start rejects createSimdModel with its message', async () => {
    await expect(model({ kind: 'bogus' as 'single' })).rejects.toThrow(
      /^test: the worker thread failed to start: .*SIMD worker: unknown kernel kind bogus/,
    );
  });

  it('an error in the worker during a step throws in train (not a hang), and again on the next call', async () => {
    // 10^6 heads in the worker's lossGrad: it reads far past its memory (a WebAssembly trap)
    const m = await model({ H: 1_000_000 });
    expect(m.workerExamples).toBe(8);
    expect(() => m.train(2, 0)).toThrow(/^test: the worker thread failed: .*out of bounds/);
    expect(() => m.train(1, 2)).toThrow(/^test: the worker thread failed: /);
    m.dispose();
  });
});

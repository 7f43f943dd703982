import type { BackendPreference, BackendReport } from '@attnlab/backend';
import type { ExperimentEvent, ExperimentResult } from '@attnlab/experiments';
import type { FromWorker, ToWorker } from './worker-protocol.js';

export interface RunHandlers {
  onEvent(event: ExperimentEvent): void;
  onDone(result: ExperimentResult, checkpoint?: Uint8Array): void;
  /** `checkpoint`: a paused run's last checkpoint when the pause stopped it outside training. */
  onError(message: string, field?: string, checkpoint?: Uint8Array): void;
}

/**
 * A dedicated worker running @attnlab/experiments on the same backend as the page. One run at a
 * time; `abort()` pauses (the experiment checkpoints), `run(…, { resume: true })` continues,
 * `reset()` drops the run (its late messages are ignored) and the checkpoint.
 */
export class ExperimentWorker {
  private readonly worker: Worker;
  private handlers: RunHandlers | undefined;
  private runId = 0;
  /** Resolves with the worker's backend report once it has started. */
  readonly ready: Promise<{ backend: string; report: BackendReport; forcedFailure?: string }>;

  constructor(prefer: BackendPreference) {
    this.worker = new Worker(new URL('./experiment-worker.ts', import.meta.url), {
      type: 'module',
      name: 'attnlab-experiments',
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
        const m = e.data;
        if (m.type === 'ready') {
          resolve(m);
          return;
        }
        if (m.type === 'init-error') {
          reject(new Error(m.message));
          return;
        }
        if (m.runId !== this.runId || !this.handlers) return; // a run that was reset
        const h = this.handlers;
        if (m.type === 'event') {
          h.onEvent(m.event);
          return;
        }
        this.handlers = undefined;
        if (m.type === 'done') h.onDone(m.result, m.checkpoint);
        else h.onError(m.message, m.field, m.checkpoint);
      };
      this.worker.onerror = (e) => {
        const message = e.message || 'the worker failed to start';
        reject(new Error(message));
        const h = this.handlers;
        this.handlers = undefined;
        h?.onError(message);
      };
    });
    this.send({ type: 'init', prefer });
  }

  private send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  get busy(): boolean {
    return this.handlers !== undefined;
  }

  run(id: string, config: unknown, handlers: RunHandlers, opts: { resume?: boolean } = {}): void {
    if (this.handlers) throw new Error('ExperimentWorker.run: a run is already in progress');
    this.handlers = handlers;
    this.send({ type: 'run', runId: ++this.runId, id, config, resume: Boolean(opts.resume) });
  }

  abort(): void {
    this.send({ type: 'abort' });
  }

  reset(): void {
    this.handlers = undefined;
    this.runId++;
    this.send({ type: 'reset' });
  }

  /** Gives the worker a paused run's checkpoint (kept from another worker); `run(…, { resume: true })` continues it. */
  restore(checkpoint: Uint8Array): void {
    this.send({ type: 'restore', checkpoint: checkpoint.slice() });
  }

  terminate(): void {
    this.worker.terminate();
    this.handlers = undefined;
  }
}

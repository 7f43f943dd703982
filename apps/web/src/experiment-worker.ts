/// <reference lib="webworker" />
// Runs any registered experiment off the main thread, on its own TensorFlow.js backend, and posts
// its events. Pause = abort (the run saves a checkpoint in memory); resume = run again with it.
import { getExperiment, type CheckpointStore } from '@attnlab/experiments';
import { startBackend } from './backend.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

declare const self: DedicatedWorkerGlobalScope;
const post = (m: FromWorker, transfer: Transferable[] = []): void => self.postMessage(m, transfer);

let saved: Uint8Array | undefined;
/** Bumped by reset: a stopped run's last checkpoint write must not bring the old state back. */
let generation = 0;
const storeFor = (gen: number): CheckpointStore => ({
  load: async () => (gen === generation ? saved : undefined),
  save: async (bytes) => {
    if (gen === generation) saved = bytes.slice();
  },
});
let controller: AbortController | undefined;
let ready: Promise<unknown> = Promise.resolve();
/** Runs one after another: a new run starts once the stopped one has wound down. */
let queue: Promise<unknown> = Promise.resolve();

async function run(msg: Extract<ToWorker, { type: 'run' }>, gen: number): Promise<void> {
  await ready;
  if (!msg.resume) saved = undefined;
  const ctl = new AbortController();
  controller = ctl;
  try {
    const exp = getExperiment(msg.id);
    const result = await exp.run(msg.config, {
      signal: ctl.signal,
      onEvent: (event) => post({ type: 'event', runId: msg.runId, event }),
      checkpoints: storeFor(gen),
    });
    const checkpoint = gen === generation ? saved?.slice() : undefined;
    post(
      { type: 'done', runId: msg.runId, result, ...(checkpoint ? { checkpoint } : {}) },
      checkpoint ? [checkpoint.buffer] : [],
    );
  } catch (err) {
    const error = err as Error & { field?: string };
    if (ctl.signal.aborted) {
      // Paused after training, in the evaluation: training's last checkpoint is what Resume continues from.
      const checkpoint = gen === generation ? saved?.slice() : undefined;
      post(
        { type: 'error', runId: msg.runId, message: 'aborted', ...(checkpoint ? { checkpoint } : {}) },
        checkpoint ? [checkpoint.buffer] : [],
      );
    } else
      post({ type: 'error', runId: msg.runId, message: error.message, ...(error.field ? { field: error.field } : {}) });
  }
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (msg.type === 'init') {
    ready = startBackend(msg.prefer).then(
      ({ report, forcedFailure }) =>
        post({ type: 'ready', backend: report.chosen, report, ...(forcedFailure ? { forcedFailure } : {}) }),
      (err: Error) => post({ type: 'init-error', message: `worker backend: ${err.message}` }),
    );
  } else if (msg.type === 'abort') {
    controller?.abort();
  } else if (msg.type === 'reset') {
    generation++;
    controller?.abort();
    saved = undefined;
  } else if (msg.type === 'restore') {
    saved = msg.checkpoint.slice();
  } else if (msg.type === 'run') {
    const gen = generation;
    queue = queue.then(() => run(msg, gen));
  }
};

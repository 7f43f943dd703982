import type { BackendPreference, BackendReport } from '@attnlab/backend';
import type { ExperimentEvent, ExperimentResult } from '@attnlab/experiments';

/** Messages from the page to the experiment worker. */
export type ToWorker =
  | { type: 'init'; prefer: BackendPreference }
  /** Runs an experiment; `resume` keeps the in-memory checkpoint (continue a paused run), else it is cleared. */
  | { type: 'run'; runId: number; id: string; config: unknown; resume: boolean }
  /** Stops the run at the next step boundary (it saves a checkpoint first). */
  | { type: 'abort' }
  /** Stops the run and forgets the checkpoint (including the one the stopped run is about to write). */
  | { type: 'reset' }
  /** Puts back a paused run's checkpoint (from another worker), so the next resume continues it. */
  | { type: 'restore'; checkpoint: Uint8Array };

/** Messages from the worker to the page; `runId` says which run they belong to. */
export type FromWorker =
  | { type: 'ready'; backend: string; report: BackendReport; forcedFailure?: string }
  | { type: 'init-error'; message: string }
  | { type: 'event'; runId: number; event: ExperimentEvent }
  /** `checkpoint`: the serialized checkpoint after the run (the trained weights), when there is one. */
  | { type: 'done'; runId: number; result: ExperimentResult; checkpoint?: Uint8Array }
  /** `checkpoint`: for a run stopped by a pause, the last one written (training's end, in an evaluation). */
  | { type: 'error'; runId: number; message: string; field?: string; checkpoint?: Uint8Array };

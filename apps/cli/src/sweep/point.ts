// One sweep point as a normal run folder: config.json, checkpoints/latest.ckpt, results.json and the
// rest of the run folder's outputs, written by the same code as `attnlab run`. Resumes from the
// point's checkpoint when there is one; a finished point is returned as it is.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentResult, SweepPoint } from '@attnlab/experiments';
import { initCliBackend } from '../backend.js';
import type { CliBackend } from '../commands.js';
import { isConfigError, lookupExperiment, newRunFile } from '../driver.js';
import { CliError } from '../errors.js';
import { writeRunOutputs } from '../outputs.js';
import { parseRunFile } from '../run-file.js';
import {
  acquireRunLock,
  atomicWrite,
  CHECKPOINT_FILE,
  cleanTempFiles,
  CONFIG_FILE,
  fileCheckpointStore,
  readJsonFile,
  type ReleaseLock,
} from '../run-folder.js';
import { finishedResult } from './folder.js';

/** What a pool thread or a queue worker needs to run one point. */
export interface PointTask {
  /** The point's run folder. */
  dir: string;
  point: SweepPoint;
  backend: CliBackend;
  /** For config.json's provenance. */
  command: string;
}

export type PointOutcome =
  | { kind: 'done'; result: ExperimentResult; resumedFrom: number | null }
  | { kind: 'aborted'; step: number | null }
  | { kind: 'error'; message: string };

/**
 * Runs (or resumes, or returns) one point in this thread, holding the point folder's lock: a point
 * that another process is running (a second worker given the same job, `attnlab resume` on the
 * point folder) is an error outcome naming that process, never a second writer.
 */
export async function runPoint(task: PointTask, signal: AbortSignal): Promise<PointOutcome> {
  const { dir, point } = task;
  const done = finishedResult(dir);
  if (done) return { kind: 'done', result: done, resumedFrom: done.meta.resumedFrom ?? null };
  let release: ReleaseLock | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    release = acquireRunLock(dir, task.command);
    // Under the lock: finished meanwhile by whoever held it, or leftovers of an interrupted write.
    const now = finishedResult(dir);
    if (now) return { kind: 'done', result: now, resumedFrom: now.meta.resumedFrom ?? null };
    cleanTempFiles(dir);
    const exp = lookupExperiment(point.experiment);
    const backend = await initCliBackend(task.backend);
    const cfgPath = join(dir, CONFIG_FILE);
    const runFile = existsSync(cfgPath)
      ? parseRunFile(readJsonFile(cfgPath, 'the run config'), cfgPath, [point.experiment])
      : newRunFile({
          experiment: point.experiment,
          preset: point.preset,
          config: point.config as Record<string, unknown>,
          backend: task.backend,
          command: task.command,
          backendUsed: backend.chosen,
          tfjsCore: backend.versions.tfjsCore,
        });
    if (!existsSync(cfgPath)) {
      atomicWrite(cfgPath, `${JSON.stringify(runFile, null, 2)}\n`);
    }
    let result: ExperimentResult;
    try {
      result = await exp.run(point.config, { signal, checkpoints: fileCheckpointStore(join(dir, CHECKPOINT_FILE)) });
    } catch (e) {
      if (signal.aborted && (e as { name?: string } | null)?.name === 'AbortError')
        return { kind: 'aborted', step: null };
      throw e;
    }
    writeRunOutputs(dir, result, runFile, exp);
    if (result.meta.aborted) return { kind: 'aborted', step: null };
    return { kind: 'done', result, resumedFrom: result.meta.resumedFrom ?? null };
  } catch (e) {
    const message = e instanceof CliError || isConfigError(e) ? e.message : `${(e as Error)?.message ?? String(e)}`;
    return { kind: 'error', message };
  } finally {
    release?.();
  }
}

/**
 * Writes a point's run folder from a result computed elsewhere (a queue worker without shared
 * storage): config.json and the run outputs, as the worker would have written them.
 */
export function writePointFolder(dir: string, point: SweepPoint, result: ExperimentResult, command: string): void {
  const exp = lookupExperiment(point.experiment);
  const runFile = newRunFile({
    experiment: point.experiment,
    preset: point.preset,
    config: point.config as Record<string, unknown>,
    backend: 'auto',
    command,
    backendUsed: result.meta.backend,
    tfjsCore: result.meta.versions.tfjsCore,
  });
  mkdirSync(dir, { recursive: true });
  atomicWrite(join(dir, CONFIG_FILE), `${JSON.stringify(runFile, null, 2)}\n`);
  writeRunOutputs(dir, result, runFile, exp);
}

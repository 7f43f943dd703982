// Runs a sweep's unfinished points on the local pool of worker threads.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SweepPoint } from '@attnlab/experiments';
import type { CliBackend } from '../commands.js';
import { formatValue } from '@attnlab/experiments';
import { CHECKPOINT_FILE } from '../run-folder.js';
import type { Io } from '../term.js';
import { markDone, pointDir, setState, type SweepFolder } from './folder.js';
import type { PointOutcome, PointTask } from './point.js';
import { openPointPool } from './pool.js';

export interface SweepRunOptions {
  backend: CliBackend;
  command: string;
  io: Io;
  quiet: boolean;
}

/** One line per finished point on stderr: `sweep: [3/24] heads=1 seed=2 done (final training loss 0.0123, 0.8 s)`. */
export function pointLine(folder: SweepFolder, point: SweepPoint, what: string): string {
  const done = folder.index.points.filter((p) => p.state === 'done').length;
  return `sweep: [${done}/${folder.points.length}] ${point.label} (${point.id}) ${what}`;
}

export function doneText(folder: SweepFolder, point: SweepPoint): string {
  const row = folder.rows.get(point.id);
  if (!row) return 'done';
  const first = Object.entries(row.metrics).find(([k, v]) => v !== null && !k.startsWith('duration'));
  const resumed = row.resumedFrom !== null ? `, resumed from step ${row.resumedFrom}` : '';
  return `done (${first ? `${first[0]} ${formatValue(first[1]!)}, ` : ''}${(row.durationMs / 1000).toFixed(1)} s${resumed})`;
}

const taskFor = (folder: SweepFolder, point: SweepPoint, o: SweepRunOptions): PointTask => ({
  dir: pointDir(folder.dir, point.id),
  point,
  backend: o.backend,
  command: o.command,
});

/** Applies a point's outcome to the folder; returns whether it finished. */
function recordOutcome(folder: SweepFolder, point: SweepPoint, outcome: PointOutcome, o: SweepRunOptions): boolean {
  if (outcome.kind === 'done') {
    markDone(folder, point, outcome.result);
    if (!o.quiet) o.io.err(pointLine(folder, point, doneText(folder, point)));
    return true;
  }
  if (outcome.kind === 'aborted') {
    // A point that never started (still waiting for a thread) stays pending.
    if (existsSync(join(pointDir(folder.dir, point.id), CHECKPOINT_FILE)))
      setState(folder, point.id, 'interrupted', 'checkpoint saved; resumes from it');
    else setState(folder, point.id, 'pending');
    return false;
  }
  setState(folder, point.id, 'failed', outcome.message);
  o.io.err(pointLine(folder, point, `failed: ${outcome.message}`));
  return false;
}

/**
 * Runs every unfinished point on `workers` threads; Ctrl-C/SIGTERM aborts the running points
 * (each saves its checkpoint). Returns 'done', 'interrupted' or 'failed'.
 */
export async function runLocalSweep(
  folder: SweepFolder,
  workers: number,
  entry: string,
  o: SweepRunOptions,
): Promise<'done' | 'interrupted' | 'failed'> {
  const todo = folder.points.filter((p) => folder.index.points[p.index]!.state !== 'done');
  if (todo.length === 0) return 'done';
  const pool = await openPointPool(Math.max(1, Math.min(workers, todo.length)), entry);
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) {
      o.io.err(`${sig} again: stopping now; continue with: attnlab sweep resume ${folder.dir}`);
      process.exit(130);
    }
    interrupted = true;
    o.io.err(`${sig}: stopping the running points at their next step (each saves a checkpoint)…`);
    pool.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (!o.quiet)
    o.io.err(
      `sweep: ${todo.length} of ${folder.points.length} points to run on ${pool.size} thread${pool.size > 1 ? 's' : ''} → ${folder.dir}`,
    );
  let failed = false;
  try {
    await Promise.all(
      todo.map(async (point) => {
        const outcome = await pool.run(taskFor(folder, point, o), () =>
          setState(folder, point.id, 'running', 'local thread'),
        );
        if (outcome.kind === 'error') failed = true;
        recordOutcome(folder, point, outcome, o);
      }),
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pool.close();
  }
  return interrupted ? 'interrupted' : failed ? 'failed' : 'done';
}

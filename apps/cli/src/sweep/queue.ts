// Sweeps on many machines through BullMQ on Redis: the submitter enqueues the points (job id = the
// sweep's id and the point's id, so enqueueing again is a no-op) and writes the sweep folder from the
// jobs' return values; `attnlab worker` runs jobs on its local pool of threads. BullMQ (and ioredis)
// are loaded only here, only with --queue.
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ExperimentResult, SweepPoint } from '@attnlab/experiments';
import type { CliBackend } from '../commands.js';
import { CliError } from '../errors.js';
import type { Io } from '../term.js';
import { finishedResult, markDone, pointDir, saveIndex, setState, SPEC_FILE, type SweepFolder } from './folder.js';
import { pointLine, doneText, type SweepRunOptions } from './local.js';
import { writePointFolder, type PointTask } from './point.js';
import { openPointPool } from './pool.js';

export const QUEUE_NAME = 'attnlab-sweep';

/** What a job carries: everything a worker needs, with the sweep folder for shared storage. */
export interface PointJob {
  sweepDir: string;
  sweepId: string;
  point: SweepPoint;
  backend: CliBackend;
  command: string;
}

/** A job's return value. */
export interface PointJobResult {
  result: ExperimentResult;
  /** Where the worker wrote the point's run folder. */
  dir: string;
  worker: string;
}

export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
}

/** `redis://[user:pass@]host:port[/db]` → ioredis options; anything else is a one-line error (exit 2). */
export function parseRedisUrl(url: string, flag = '--queue'): RedisConnection {
  const bad = (): never => {
    throw new CliError(`${flag} must be a redis://host:port URL (e.g. redis://127.0.0.1:6379); got '${url}'`, 2);
  };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return bad();
  }
  if (u.protocol !== 'redis:' || !u.hostname) bad();
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) bad();
  return {
    host: u.hostname,
    port,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined ? { db } : {}),
  };
}

const jobId = (sweepId: string, pointId: string): string => `${sweepId}-${pointId}`;

type BullMq = typeof import('bullmq');
type RedisClient = import('ioredis').Redis;

/** BullMQ and a maker of ioredis clients (BullMQ in ESM takes constructed clients); each is closed by `closeAll`. */
async function loadBullMq(): Promise<{
  bull: BullMq;
  client: (c: RedisConnection) => RedisClient;
  closeAll: () => void;
}> {
  const [bull, { Redis }] = await Promise.all([import('bullmq'), import('ioredis')]);
  const made: RedisClient[] = [];
  return {
    bull,
    client: (c) => {
      const r = new Redis({ ...c, maxRetriesPerRequest: null });
      r.on('error', () => undefined);
      made.push(r);
      return r;
    },
    closeAll: () => {
      for (const r of made.splice(0)) r.disconnect();
    },
  };
}

/** Connects once, failing with a one-line error when Redis does not answer. */
async function checkRedis(url: string, connection: RedisConnection): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis({ ...connection, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    throw new CliError(
      `cannot reach Redis at ${url}: ${(e as Error).message} (start one: redis-server --port 6379)`,
      1,
    );
  } finally {
    r.disconnect();
  }
}

/**
 * Enqueues the sweep's unfinished points and waits for them, writing each finished point into the
 * sweep folder (from the job's return value when the worker's storage is not this folder).
 * Restarted, it enqueues again (a no-op for jobs that exist) and collects what finished meanwhile.
 */
export async function runQueueSweep(
  folder: SweepFolder,
  url: string,
  o: SweepRunOptions,
): Promise<'done' | 'interrupted' | 'failed'> {
  const connection = parseRedisUrl(url);
  await checkRedis(url, connection);
  const { bull, client, closeAll } = await loadBullMq();
  folder.index.queue = url;
  saveIndex(folder);
  const queue = new bull.Queue<PointJob, PointJobResult>(QUEUE_NAME, { connection: client(connection) });
  const events = new bull.QueueEvents(QUEUE_NAME, { connection: client(connection) });
  queue.on('error', (e) => o.io.err(`queue: ${e.message}`));
  events.on('error', (e) => o.io.err(`queue events: ${e.message}`));
  const byJob = new Map(folder.points.map((p) => [jobId(folder.index.sweepId, p.id), p]));
  const left = new Set(
    folder.points
      .filter((p) => folder.index.points[p.index]!.state !== 'done')
      .map((p) => jobId(folder.index.sweepId, p.id)),
  );
  let failed = false;
  let interrupted = false;
  let wake: () => void = () => undefined;

  const finish = (id: string, value: PointJobResult | undefined): void => {
    const point = byJob.get(id);
    if (!point || !left.has(id)) return;
    const dir = pointDir(folder.dir, point.id);
    let result = finishedResult(dir);
    if (!result && value?.result) {
      // The worker's storage is not this folder: write the run folder here from the return value.
      result = value.result;
      writePointFolder(dir, point, result, o.command);
    }
    if (!result) return;
    left.delete(id);
    markDone(folder, point, result);
    if (!o.quiet) o.io.err(pointLine(folder, point, `${doneText(folder, point)} on ${value?.worker ?? 'a worker'}`));
    wake();
  };
  const check = async (id: string): Promise<void> => {
    const job = await queue.getJob(id);
    if (!job) return;
    const state = await job.getState();
    const point = byJob.get(id)!;
    if (state === 'completed') finish(id, job.returnvalue);
    else if (state === 'failed' && left.has(id)) {
      left.delete(id);
      failed = true;
      setState(folder, point.id, 'failed', job.failedReason);
      o.io.err(pointLine(folder, point, `failed after ${job.attemptsMade} attempts: ${job.failedReason}`));
      wake();
    } else if (state === 'active' && folder.index.points[point.index]!.state !== 'running')
      setState(folder, point.id, 'running', 'on a queue worker');
  };

  events.on('completed', ({ jobId: id }) => void check(id));
  events.on('failed', ({ jobId: id }) => void check(id));
  events.on('active', ({ jobId: id }) => {
    const point = byJob.get(id);
    if (point && left.has(id)) setState(folder, point.id, 'running', 'on a queue worker');
  });
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!o.quiet)
      o.io.err(`${sig}: stopping; the points stay on the queue (collect them: attnlab sweep collect ${folder.dir})`);
    interrupted = true;
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await events.waitUntilReady();
    const absDir = resolve(folder.dir);
    for (const id of left) {
      const point = byJob.get(id)!;
      const existing = await queue.getJob(id);
      if (existing && (await existing.getState()) === 'failed') await existing.retry('failed');
      else if (!existing)
        await queue.add(
          'point',
          { sweepDir: absDir, sweepId: folder.index.sweepId, point, backend: o.backend, command: o.command },
          {
            jobId: id,
            attempts: 5,
            backoff: { type: 'exponential', delay: 500 },
            removeOnComplete: false,
            removeOnFail: false,
          },
        );
    }
    if (!o.quiet)
      o.io.err(
        `sweep: ${left.size} of ${folder.points.length} points on the queue ${url} (run them: attnlab worker --queue ${url})`,
      );
    // Completed meanwhile (a restarted submitter): collect at once; then on events, with a rescan
    // every few seconds in case an event was missed while reconnecting.
    while (left.size > 0 && !interrupted) {
      await Promise.all([...left].map((id) => check(id)));
      if (left.size === 0 || interrupted) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, 3000);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    closeAll();
  }
  return interrupted ? 'interrupted' : failed ? 'failed' : 'done';
}

/** Job counts of the queue for `sweep status`, or why they are not available. */
export async function queueCounts(url: string): Promise<Record<string, number> | string> {
  try {
    const connection = parseRedisUrl(url);
    await checkRedis(url, connection);
    const { bull, client, closeAll } = await loadBullMq();
    const q = new bull.Queue(QUEUE_NAME, { connection: client(connection) });
    q.on('error', () => undefined);
    try {
      return await q.getJobCounts('wait', 'active', 'delayed', 'completed', 'failed');
    } finally {
      await q.close().catch(() => undefined);
      closeAll();
    }
  } catch (e) {
    return `cannot reach Redis at ${url}: ${(e as Error).message}`;
  }
}

export interface WorkerOptions {
  url: string;
  concurrency: number;
  entry: string;
  io: Io;
  quiet: boolean;
  /** BullMQ's lock duration and stalled-check interval (ms): how fast a dead worker's job is taken back. */
  lockDuration: number;
  stalledInterval: number;
  /** Run points in a scratch folder even when the sweep folder is visible (storage not shared). */
  scratch: boolean;
}

/**
 * `attnlab worker`: takes points from the queue and runs them on `concurrency` threads. A point
 * runs in its sweep folder when this machine sees it (shared storage: it resumes from the point's
 * checkpoint), else in a scratch folder from the start. SIGTERM/SIGINT: the running points stop
 * at their next step and save a checkpoint, their jobs go back to the queue (an attempt with
 * backoff) for another worker, and the worker exits 0.
 */
export async function runWorker(o: WorkerOptions): Promise<number> {
  const connection = parseRedisUrl(o.url);
  await checkRedis(o.url, connection);
  const { bull, client, closeAll } = await loadBullMq();
  const pool = await openPointPool(o.concurrency, o.entry);
  const name = `worker ${process.pid}`;
  let stopping = false;
  const worker = new bull.Worker<PointJob, PointJobResult>(
    QUEUE_NAME,
    async (job) => {
      const { sweepDir, point } = job.data;
      const shared = !o.scratch && existsSync(join(sweepDir, SPEC_FILE));
      const dir = shared ? pointDir(sweepDir, point.id) : join(tmpdir(), 'attnlab-worker', job.data.sweepId, point.id);
      const task: PointTask = { dir, point, backend: job.data.backend, command: job.data.command };
      if (!o.quiet) o.io.err(`${name}: ${point.label} (${point.id}) attempt ${job.attemptsMade + 1} in ${dir}`);
      const outcome = await pool.run(task);
      if (outcome.kind === 'done') {
        if (!o.quiet) o.io.err(`${name}: ${point.label} (${point.id}) done`);
        // A scratch folder has served its purpose: the result goes to the submitter with the job.
        if (!shared) rmSync(dir, { recursive: true, force: true });
        return { result: outcome.result, dir, worker: name };
      }
      if (outcome.kind === 'aborted') throw new Error(`${name} stopped (checkpoint saved; another worker resumes it)`);
      throw new Error(outcome.message);
    },
    {
      connection: client(connection),
      concurrency: o.concurrency,
      lockDuration: o.lockDuration,
      stalledInterval: o.stalledInterval,
      maxStalledCount: 5,
      autorun: false,
    },
  );
  worker.on('error', (e) => o.io.err(`${name}: ${e.message}`));
  const stopped = new Promise<void>((res) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) {
        process.exit(130);
      }
      stopping = true;
      if (!o.quiet) o.io.err(`${name}: ${sig}: checkpointing the running points and leaving the queue…`);
      pool.abort();
      void worker.close().then(res);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await worker.waitUntilReady();
  if (!o.quiet)
    o.io.out(
      `${name}: ready on ${o.url} (queue ${QUEUE_NAME}, ${o.concurrency} thread${o.concurrency > 1 ? 's' : ''})`,
    );
  void worker.run();
  await stopped;
  await pool.close();
  closeAll();
  if (!o.quiet) o.io.err(`${name}: stopped`);
  return 0;
}

// The run folder: config.json, results.json, metrics.csv, figures/, checkpoints/, report.html.
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { CheckpointStore } from '@attnlab/experiments';
import { CliError } from './errors.js';

export const CONFIG_FILE = 'config.json';
export const RESULTS_FILE = 'results.json';
export const METRICS_FILE = 'metrics.csv';
export const REPORT_FILE = 'report.html';
export const FIGURES_DIR = 'figures';
export const CHECKPOINT_FILE = join('checkpoints', 'latest.ckpt');

/** The lock file of a run folder: JSON `{ pid, host, command, startedAt }` of the process writing it. */
export const LOCK_FILE = '.attnlab.lock';
/** The folder default run folders go into (relative to the working directory). */
export const RUNS_ROOT = 'runs';

/** A released-on-call handle of a run folder's lock. Calling it twice is harmless. */
export type ReleaseLock = () => void;

interface LockInfo {
  pid: number;
  host: string;
  command?: string;
  startedAt?: string;
}

const errCode = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | null)?.code;

/** Whether a process with this pid exists on this host (EPERM: it exists but is not ours). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errCode(e) === 'EPERM';
  }
}

function lockAgeMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function readLock(path: string): LockInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? (v as LockInfo) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the exclusive lock of run folder `dir` (which must exist): creates `dir/.attnlab.lock`
 * with `O_EXCL`, holding this process's pid and host. A lock left by a process that no longer
 * runs on this host (kill -9, power loss) is stale and taken over; a lock held by a live process,
 * or by another host, is a one-line CliError (exit 2) naming the holder. The lock is also
 * released when the process exits (any exit, including `process.exit` on a second Ctrl-C);
 * `kill -9` leaves it behind, stale, for the next run to take over.
 *
 * Used by every command that writes a run folder (new runs, `resume`, `report`) and by `sweep`.
 */
export function acquireRunLock(dir: string, command = 'attnlab'): ReleaseLock {
  const path = join(dir, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, host: hostname(), command, startedAt: new Date().toISOString() };
  const text = `${JSON.stringify(mine)}\n`;
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      const code = errCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError(`${dir} is not a folder (cannot lock it)`, 2);
      if (code !== 'EEXIST') throw fsError(e, path, 'lock the run folder');
      const held = readLock(path);
      const stale =
        held === undefined
          ? lockAgeMs(path) > 10_000 // unreadable and old: a crash between create and write
          : held.host === mine.host && held.pid !== process.pid && !pidAlive(held.pid);
      if (held?.pid === process.pid && held.host === mine.host)
        throw new CliError(`${dir} is already locked by this process`, 1);
      if (!stale) {
        throw new CliError(
          held
            ? `${dir} is in use by another attnlab run (pid ${held.pid} on ${held.host}${held.command ? `: ${held.command}` : ''}); wait for it to finish, or give another folder (if no such run is alive, remove ${path})`
            : `${dir} is locked (${path} is unreadable); if no attnlab run is using it, remove that file`,
          2,
        );
      }
      // Stale: move it aside (atomic; of two takers only one succeeds), then check that what was moved
      // is the stale lock and not a fresh one taken meanwhile by a third process.
      const aside = `${path}.${process.pid}.stale`;
      try {
        renameSync(path, aside);
      } catch {
        continue;
      }
      const moved = readLock(aside);
      if (moved && held && (moved.pid !== held.pid || moved.host !== held.host)) {
        try {
          linkSync(aside, path); // put the live lock back (fails if yet another run holds it now)
        } catch {
          // someone holds it again: the next attempt reports them
        }
      }
      rmSync(aside, { force: true });
      if (attempt > 5) throw new CliError(`${dir}: cannot take its lock (${path}); another run keeps taking it`, 2);
      continue;
    }
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    break;
  }
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const held = readLock(path);
    if (held && held.pid === process.pid && held.host === mine.host) rmSync(path, { force: true });
  };
  process.on('exit', release);
  return release;
}

/**
 * mkdir -p that reports the real reason: Node's recursive mkdir says ENOENT on a read-only file
 * system; the non-recursive mkdir of the first missing folder says EROFS (or EACCES). Returns the
 * first folder created, if any.
 */
function makeDirs(path: string): string | undefined {
  try {
    return mkdirSync(path, { recursive: true });
  } catch (e) {
    if (errCode(e) !== 'ENOENT') throw e;
    let first = resolve(path);
    while (!existsSync(dirname(first)) && dirname(first) !== first) first = dirname(first);
    mkdirSync(first); // throws the real error
    throw e;
  }
}

/** A one-line CliError (exit 2) for a file-system error the user can act on, or the error itself. */
export function fsError(e: unknown, path: string, doing: string): Error {
  const code = errCode(e);
  const why: Record<string, string> = {
    ENOSPC: 'the disk is full; free some space and try again',
    EDQUOT: 'the disk quota is exhausted; free some space and try again',
    EACCES: 'permission denied; choose a folder you can write to',
    EPERM: 'operation not permitted; choose a folder you can write to',
    EROFS: 'the file system is read-only; choose a folder on a writable disk',
    ENOTDIR: 'a part of the path is a file, not a folder',
    ENAMETOOLONG: 'the path is too long',
    EMFILE: 'too many open files',
  };
  if (code && why[code]) return new CliError(`cannot ${doing} (${path}): ${why[code]}`, 2);
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Creates a new, unique run folder `<root>/<slug>-<YYYYMMDD-HHMMSS>` (local time) with a non-recursive,
 * exclusive mkdir, adding `-2`, `-3`, … while that name is taken, so two runs started in the same
 * second (or process) never get the same folder. Returns the folder, locked (see acquireRunLock),
 * and whether `root` itself was created (so a run that leaves nothing can remove it again).
 */
export function createRunDir(
  slug: string,
  opts: { root?: string; now?: Date; command?: string } = {},
): { dir: string; release: ReleaseLock; createdRoot: boolean } {
  const root = opts.root ?? RUNS_ROOT;
  const now = opts.now ?? new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  let createdRoot = false;
  try {
    createdRoot = makeDirs(root) !== undefined;
  } catch (e) {
    throw fsError(e, root, 'create the runs folder');
  }
  const base = join(root, `${slug}-${stamp}`);
  for (let k = 1; ; k++) {
    const dir = k === 1 ? base : `${base}-${k}`;
    try {
      mkdirSync(dir);
    } catch (e) {
      if (errCode(e) === 'EEXIST') continue;
      throw fsError(e, dir, 'create the run folder');
    }
    return { dir, release: acquireRunLock(dir, opts.command), createdRoot };
  }
}

/**
 * Claims `dir` (given with --out) for a new run: creates it if needed, takes its lock, and checks,
 * under the lock, that it holds nothing else, so two runs given the same folder never both write
 * it: the second is refused (exit 2). Returns the release function and whether the folder was created.
 */
export function claimRunDir(dir: string, command?: string): { release: ReleaseLock; created: boolean } {
  checkOutDir(dir);
  let created = false;
  try {
    created = makeDirs(dir) !== undefined;
  } catch (e) {
    throw fsError(e, dir, 'create the run folder');
  }
  const release = acquireRunLock(dir, command);
  try {
    checkOutDir(dir, [LOCK_FILE]);
  } catch (e) {
    release();
    throw e;
  }
  return { release, created };
}

/**
 * Removes what an interrupted write left in a run folder: `.*.tmp` files of atomicWrite (in the
 * folder, checkpoints/ and figures/) and stale lock leftovers. Call it holding the lock. Returns the removed paths.
 */
export function cleanTempFiles(dir: string): string[] {
  const removed: string[] = [];
  for (const sub of ['', 'checkpoints', FIGURES_DIR]) {
    const d = join(dir, sub);
    let names: string[];
    try {
      if (!lstatSync(d).isDirectory()) continue;
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!/^\..+\.tmp$/.test(n) && !/^\.attnlab\.lock\.\d+\.stale$/.test(n)) continue;
      rmSync(join(d, n), { force: true });
      removed.push(join(d, n));
    }
  }
  return removed;
}

/**
 * Refuses an output folder that exists and is not empty (or is a file), so a run never mixes
 * with or overwrites another: exit 2, before anything is written. `ignore`: names that do not count.
 */
export function checkOutDir(dir: string, ignore: readonly string[] = []): void {
  if (!existsSync(dir)) return;
  const st = statSync(dir);
  if (!st.isDirectory()) throw new CliError(`--out ${dir} is a file, not a folder; give a new or empty folder`, 2);
  const names = readdirSync(dir).filter((n) => !ignore.includes(n));
  if (names.length > 0) {
    const held = ignore.includes(LOCK_FILE) ? undefined : readLock(join(dir, LOCK_FILE));
    if (held && held.host === hostname() && pidAlive(held.pid) && held.pid !== process.pid)
      throw new CliError(
        `--out ${dir} is in use by another attnlab run (pid ${held.pid}${held.command ? `: ${held.command}` : ''}); give another folder`,
        2,
      );
    const resumable = existsSync(join(dir, CONFIG_FILE));
    throw new CliError(
      `--out ${dir} already exists and is not empty; give a new or empty folder${resumable ? ` (to continue that run: attnlab resume ${dir})` : ''}`,
      2,
    );
  }
}

/**
 * Checks, before a long computation, that a result file can be written at `path` (exit 2 naming
 * the problem otherwise): its folder exists and is writable, and it is not itself a folder.
 */
export function checkWritableFile(path: string, flag: string): void {
  const dir = dirname(resolve(path));
  if (existsSync(path) && statSync(path).isDirectory())
    throw new CliError(`${flag} ${path} is a folder; give a file name`, 2);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new CliError(`${flag} ${path}: the folder ${dirname(path)} does not exist; create it first`, 2);
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch (e) {
    throw fsError(e, path, `write ${flag}`);
  }
}

/** Writes a file atomically: a temporary file in the same folder, fsync, then rename over the target. */
export function atomicWrite(path: string, data: string | Uint8Array): void {
  try {
    writeAtomically(path, data);
  } catch (e) {
    throw fsError(e, path, 'write');
  }
}

function writeAtomically(path: string, data: string | Uint8Array): void {
  makeDirs(dirname(path));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/**
 * A file-backed CheckpointStore: `load` reads `loadFrom` (default `path`) if it exists; `save`
 * replaces `path` atomically, so an interruption leaves the previous checkpoint or the new one.
 */
export function fileCheckpointStore(path: string, loadFrom = path): CheckpointStore {
  return {
    load: async () => (existsSync(loadFrom) ? new Uint8Array(readFileSync(loadFrom)) : undefined),
    save: async (data) => atomicWrite(path, data),
  };
}

/** Reads and parses a JSON file of a run folder; a missing or malformed file is a one-line CliError (exit 2). */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? `${path} not found (${what})` : `cannot read ${path}: ${(e as Error).message}`,
      2,
    );
  }
  return parseJson(text, path);
}

/** How deep a config or result file may nest (theirs nest under 10; deeper would overflow the stack later). */
const MAX_JSON_DEPTH = 100;

/** JSON.parse with an error that names the file, the line and the column; nesting deeper than MAX_JSON_DEPTH is refused. */
export function parseJson(text: string, path: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    if (e instanceof RangeError)
      throw new CliError(`${path}: nested too deeply to read (at most ${MAX_JSON_DEPTH} levels)`, 2);
    throw malformed(e, text, path);
  }
  // Iteratively: a recursive walk would overflow on exactly the documents it must refuse.
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_JSON_DEPTH)
      throw new CliError(
        `${path}: nested more than ${MAX_JSON_DEPTH} levels deep; attnlab's files nest a few levels`,
        2,
      );
    for (const x of Array.isArray(v) ? v : Object.values(v))
      if (typeof x === 'object' && x !== null) stack.push([x, depth + 1]);
  }
  return value;
}

function malformed(e: unknown, text: string, path: string): CliError {
  const msg = (e as Error).message;
  const m = /at position (\d+)/.exec(msg);
  const pos = m ? Number(m[1]) : errorOffset(text);
  const before = text.slice(0, pos).split('\n');
  const where = ` at line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
  const detail =
    /^Unexpected end/.test(msg) || pos >= text.length
      ? 'unexpected end of input'
      : /^Unexpected token '(.+?)', ".*" is not valid JSON$/s.test(msg)
        ? `unexpected ${msg.replace(/^Unexpected token '(.+?)', ".*$/s, "'$1'")}`
        : msg.replace(/ in JSON at position \d+.*$/s, '').replace(/^./, (c) => c.toLowerCase());
  return new CliError(`${path}: malformed JSON${where}: ${detail}`, 2);
}

/** Where JSON.parse gives up: the longest prefix that is still "valid so far" (binary search). */
function errorOffset(text: string): number {
  const okSoFar = (k: number): boolean => {
    try {
      JSON.parse(text.slice(0, k));
      return true;
    } catch (e) {
      // A prefix cut inside a valid document fails at its very end.
      const msg = (e as Error).message;
      const at = /at position (\d+)/.exec(msg);
      return /^Unexpected end/.test(msg) || (at !== null && Number(at[1]) >= k);
    }
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (okSoFar(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A run folder given on the command line: it must exist and hold config.json. */
export function checkRunDir(dir: string, command: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new CliError(`'${command}': ${dir} is not a run folder (no such folder)`, 2);
  if (!existsSync(join(dir, CONFIG_FILE)))
    throw new CliError(`'${command}': ${dir} is not a run folder (it has no ${CONFIG_FILE})`, 2);
}

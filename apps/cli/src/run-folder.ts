// The run folder: config.json, results.json, metrics.csv, figures/, checkpoints/, report.html.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CheckpointStore } from '@attnlab/experiments';
import { CliError } from './errors.js';

export const CONFIG_FILE = 'config.json';
export const RESULTS_FILE = 'results.json';
export const METRICS_FILE = 'metrics.csv';
export const REPORT_FILE = 'report.html';
export const FIGURES_DIR = 'figures';
export const CHECKPOINT_FILE = join('checkpoints', 'latest.ckpt');

/** `runs/<slug>-<YYYYMMDD-HHMMSS>` (local time), with `-2`, `-3`, … if that folder already exists. */
export function defaultRunDir(slug: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const base = join('runs', `${slug}-${stamp}`);
  let dir = base;
  for (let k = 2; existsSync(dir); k++) dir = `${base}-${k}`;
  return dir;
}

/**
 * Refuses an output folder that exists and is not empty (or is a file), so a run never mixes
 * with or overwrites another: exit 2, before anything is written.
 */
export function checkOutDir(dir: string): void {
  if (!existsSync(dir)) return;
  const st = statSync(dir);
  if (!st.isDirectory()) throw new CliError(`--out ${dir} is a file, not a folder; give a new or empty folder`, 2);
  if (readdirSync(dir).length > 0) {
    const resumable = existsSync(join(dir, CONFIG_FILE));
    throw new CliError(
      `--out ${dir} already exists and is not empty; give a new or empty folder${resumable ? ` (to continue that run: attnlab resume ${dir})` : ''}`,
      2,
    );
  }
}

/** Writes a file atomically: a temporary file in the same folder, fsync, then rename over the target. */
export function atomicWrite(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
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

/** JSON.parse with an error that names the file, the line and the column. */
export function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
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
    throw new CliError(`${path}: malformed JSON${where}: ${detail}`, 2);
  }
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

// `attnlab sweep <spec>`, `sweep resume|status|collect <folder>` and `attnlab worker`.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, join } from 'node:path';
import { formatMeanSe } from '@attnlab/experiments';
import type { ParsedArgs } from '../args.js';
import { CLI_BACKENDS, type CliBackend } from '../commands.js';
import { CliError } from '../errors.js';
import { parseJson } from '../run-folder.js';
import { textTable } from '../summary.js';
import { bold, type Io } from '../term.js';
import {
  counts,
  INDEX_FILE,
  openSweepFolder,
  readSweepIndex,
  readSweepSpec,
  writeAggregate,
  type SweepFolder,
} from './folder.js';
import { runLocalSweep, type SweepRunOptions } from './local.js';

/** The CLI's entry file, which pool threads run (it starts a sweep thread instead of the command line). */
const entryFile = (): string => process.argv[1]!;

/** Reads a spec file: JSON, or YAML for .yaml/.yml. */
export async function readSpecFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${path}: no such file` : `cannot read ${path}: ${(e as Error).message}`, 2);
  }
  let spec: unknown;
  if (/\.ya?ml$/i.test(path)) {
    const yaml = await import('yaml');
    try {
      spec = yaml.parse(text);
    } catch (e) {
      throw new CliError(`${path}: malformed YAML: ${(e as Error).message.split('\n')[0]}`, 2);
    }
  } else spec = parseJson(text, path);
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    throw new CliError(`${path}: must be an object { "experiment": …, "axes": { … } }`, 2);
  return spec as Record<string, unknown>;
}

function backendFor(args: ParsedArgs, spec: Record<string, unknown>, where: string): CliBackend {
  const flag = args.flags.backend as CliBackend | undefined;
  if (flag) return flag;
  const b = spec.backend;
  if (b === undefined) return 'auto';
  if (!(CLI_BACKENDS as readonly unknown[]).includes(b))
    throw new CliError(`${where}: backend must be one of ${CLI_BACKENDS.join(', ')}; got ${JSON.stringify(b)}`, 2);
  return b as CliBackend;
}

const workersOf = (args: ParsedArgs): number => (args.flags.workers as number | undefined) ?? availableParallelism();

async function runAndReport(
  folder: SweepFolder,
  args: ParsedArgs,
  io: Io,
  backend: CliBackend,
  command: string,
  queue: string | undefined,
): Promise<number> {
  const quiet = args.flags.quiet === true;
  for (const w of folder.warnings) io.err(`warning: ${w}`);
  const o: SweepRunOptions = { backend, command, io, quiet };
  const outcome = queue
    ? await (await import('./queue.js')).runQueueSweep(folder, queue, o)
    : await runLocalSweep(folder, workersOf(args), entryFile(), o);
  return finish(folder, args, io, outcome);
}

function finish(
  folder: SweepFolder,
  args: ParsedArgs,
  io: Io,
  outcome: 'done' | 'interrupted' | 'failed' | 'collected',
): number {
  const { aggregate, report } = writeAggregate(folder);
  const c = counts(folder.index);
  if (args.flags.json === true) io.out(JSON.stringify(aggregate, null, 2));
  else {
    const color = io.outColor ?? io.color;
    const main = aggregate.metrics.slice(0, 3);
    const lines = [
      bold(color, `Sweep of ${folder.index.experiment}: ${c.done} of ${c.total} points done`),
      textTable(
        ['group', ...main],
        aggregate.groups.map((g) => [g.label, ...main.map((m) => formatMeanSe(g.metrics[m]!))]),
      ),
      '',
    ];
    io.out(lines.join('\n'));
    io.out(`sweep folder: ${folder.dir}\nreport: ${report}`);
  }
  if (outcome === 'interrupted') {
    io.err(`interrupted; continue with: attnlab sweep resume ${folder.dir}`);
    return 130;
  }
  if (outcome === 'failed' || c.failed > 0) {
    io.err(
      `${c.failed} point${c.failed === 1 ? '' : 's'} failed (see ${join(folder.dir, INDEX_FILE)}); run them again: attnlab sweep resume ${folder.dir}`,
    );
    return 1;
  }
  if (c.done < c.total)
    io.err(`${c.total - c.done} points have not finished; run them: attnlab sweep resume ${folder.dir}`);
  return 0;
}

function commandLine(args: ParsedArgs): string {
  const parts = [args.command!.name, ...Object.values(args.positionals)];
  for (const [k, v] of Object.entries(args.flags))
    if (k !== 'quiet' && k !== 'json') parts.push(v === true ? `--${k}` : `--${k} ${String(v)}`);
  return parts.join(' ');
}

/** `attnlab sweep <spec>`: creates the sweep folder (or continues it: same spec, same folder) and runs it. */
export async function sweep(args: ParsedArgs, io: Io): Promise<number> {
  const path = args.positionals.spec!;
  const spec = await readSpecFile(path);
  const backend = backendFor(args, spec, path);
  const dir = (args.flags.out as string | undefined) ?? join('sweeps', basename(path, extname(path)));
  const queue = args.flags.queue as string | undefined;
  if (queue) (await import('./queue.js')).parseRedisUrl(queue);
  const command = commandLine(args);
  const folder = openSweepFolder(dir, spec, path, command);
  return runAndReport(folder, args, io, backend, command, queue);
}

/** A sweep built by another command (`icl heads --seeds N`): same folder, runner and outputs as `attnlab sweep`. */
export async function presetSweep(
  spec: Record<string, unknown>,
  dir: string,
  args: ParsedArgs,
  io: Io,
  command: string,
): Promise<number> {
  const folder = openSweepFolder(dir, spec, command, command);
  return runAndReport(folder, args, io, backendFor(args, spec, command), command, undefined);
}

/** `attnlab sweep resume <folder>`: runs what is left (on the sweep's queue when it has one). */
export async function sweepResume(args: ParsedArgs, io: Io): Promise<number> {
  const dir = args.positionals.folder!;
  const spec = readSweepSpec(dir, 'sweep resume');
  const folder = openSweepFolder(dir, spec, join(dir, 'spec.json'), `sweep resume ${dir}`);
  const queue = (args.flags.queue as string | undefined) ?? folder.index.queue;
  return runAndReport(folder, args, io, backendFor(args, spec, join(dir, 'spec.json')), `sweep resume ${dir}`, queue);
}

/**
 * `attnlab sweep collect <folder>`: a queue sweep reconnects and waits for its points; a local one
 * rewrites results, aggregates, figures and report from the points that finished.
 */
export async function sweepCollect(args: ParsedArgs, io: Io): Promise<number> {
  const dir = args.positionals.folder!;
  const spec = readSweepSpec(dir, 'sweep collect');
  const folder = openSweepFolder(dir, spec, join(dir, 'spec.json'), `sweep collect ${dir}`);
  if (folder.index.queue)
    return runAndReport(
      folder,
      args,
      io,
      backendFor(args, spec, join(dir, 'spec.json')),
      `sweep collect ${dir}`,
      folder.index.queue,
    );
  for (const w of folder.warnings) io.err(`warning: ${w}`);
  return finish(folder, args, io, 'collected');
}

/** `attnlab sweep status <folder>`: point states (read only) and, for a queue sweep, the queue's job counts. */
export async function sweepStatus(args: ParsedArgs, io: Io): Promise<number> {
  const dir = args.positionals.folder!;
  readSweepSpec(dir, 'sweep status');
  const { index, problem } = readSweepIndex(dir);
  if (problem)
    throw new CliError(
      `'sweep status': ${problem}; attnlab sweep resume ${dir} (or sweep collect) rebuilds it from the point folders`,
      2,
    );
  if (!index) throw new CliError(`'sweep status': ${dir} has no ${INDEX_FILE} yet`, 2);
  const c = counts(index);
  const queue = index.queue ? await (await import('./queue.js')).queueCounts(index.queue) : undefined;
  if (args.flags.json === true) {
    io.out(JSON.stringify({ ...c, points: index.points, ...(queue !== undefined ? { queue } : {}) }, null, 2));
    return 0;
  }
  io.out(
    `${dir}: ${c.done} of ${c.total} done, ${c.running} running, ${c.pending} pending, ${c.interrupted} interrupted, ${c.failed} failed`,
  );
  if (index.queue)
    io.out(
      typeof queue === 'string'
        ? `queue ${index.queue}: ${queue}`
        : `queue ${index.queue}: ${Object.entries(queue!)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')}`,
    );
  for (const p of index.points)
    if (p.state !== 'done') io.out(`  ${p.id}  ${p.state.padEnd(11)}  ${p.label}${p.note ? `  (${p.note})` : ''}`);
  return 0;
}

/** `attnlab worker --queue redis://…`: runs queued points on this machine. */
export async function worker(args: ParsedArgs, io: Io): Promise<number> {
  const url = args.flags.queue as string | undefined;
  if (!url) throw new CliError("'worker' needs --queue redis://host:port", 2);
  const { runWorker } = await import('./queue.js');
  return runWorker({
    url,
    concurrency: (args.flags.concurrency as number | undefined) ?? availableParallelism(),
    entry: entryFile(),
    io,
    quiet: args.flags.quiet === true,
    lockDuration: (args.flags['lock-duration'] as number | undefined) ?? 30_000,
    stalledInterval: (args.flags['stalled-interval'] as number | undefined) ?? 30_000,
    scratch: args.flags.scratch === true,
  });
}

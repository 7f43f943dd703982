// Runs one experiment into a run folder: backend, config.json, progress, Ctrl-C → checkpoint, outputs.
import { copyFileSync, existsSync, mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  ATTNLAB_VERSION as EXPERIMENTS_VERSION,
  checkResources,
  ConfigError,
  DEFAULT_MEMORY_LIMIT,
  EXPERIMENT_IDS,
  flagNonFinite,
  getExperiment,
  parseByteSize,
  resolveConfig,
  type Experiment,
  type ExperimentResult,
} from '@attnlab/experiments';
import type { CommandSpec, ParsedArgs } from './args.js';
import { initCliBackend } from './backend.js';
import type { CliBackend } from './commands.js';
import { CliError } from './errors.js';
import { writeRunOutputs } from './outputs.js';
import { flagForField } from './overrides.js';
import { Progress } from './progress.js';
import type { RunFile } from './run-file.js';
import {
  acquireRunLock,
  atomicWrite,
  CHECKPOINT_FILE,
  checkOutDir,
  claimRunDir,
  cleanTempFiles,
  CONFIG_FILE,
  createRunDir,
  fileCheckpointStore,
  fsError,
  RUNS_ROOT,
  type ReleaseLock,
} from './run-folder.js';
import { keyNumbers, textTable, walkthroughText, type Cell } from './summary.js';
import { bold, type Io } from './term.js';
import { ATTNLAB_VERSION } from './version.js';

/** Whether an error is a ConfigError of @attnlab/experiments (by class or by name). */
export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError || (e instanceof Error && e.name === 'ConfigError');
}

/** The experiment with this id; one that is not in this build is a one-line error naming those that are. */
export function lookupExperiment(id: string): Experiment {
  try {
    return getExperiment(id);
  } catch {
    throw new CliError(
      `the ${id} experiment is not registered in this build of @attnlab/experiments (it has: ${EXPERIMENT_IDS.join(', ')})`,
      1,
    );
  }
}

/**
 * Resolves a config (preset + overrides) or fails with exit 2 and the ConfigError's message, naming
 * the flag that set the field when there is one.
 */
export function resolveOrExit(
  exp: Experiment,
  preset: string,
  overrides: unknown,
  cmd?: CommandSpec,
  prefix = '',
): unknown {
  try {
    return resolveConfig(exp, { preset, overrides });
  } catch (e) {
    if (isConfigError(e)) {
      const flag = cmd ? flagForField(cmd, e.field, exp.configSchema) : undefined;
      throw new CliError(`${prefix}${e.message}${flag ? ` (set by ${flag})` : ''}`, 2);
    }
    throw e;
  }
}

export interface RunPlan {
  /** The command as typed, for config.json (`icl train --heads 2`). */
  command: string;
  spec?: CommandSpec;
  exp: Experiment;
  /** One of the experiment's presets (checked by resolveConfig). */
  preset: string;
  config: unknown;
  backend: CliBackend;
  /** The run folder: --out (must be new or empty), or the folder resumed; unset: a new `runs/<slug>-<time>`. */
  dir?: string | undefined;
  /** The default folder's name before its time stamp. */
  slug: string;
  /** Continue in an existing run folder (resume) instead of creating it. */
  resume?: boolean;
  /** The run folder's config.json when resuming. */
  runFile?: RunFile;
  /** Copy this checkpoint into the new run folder first (icl eval). */
  checkpointFrom?: string;
  /** icl eval: the run folder evaluated. */
  source?: string;
  /** Printed after the paths (start). */
  epilogue?: string;
}

/** The config.json of a new run folder: the resolved config and its provenance. */
export function newRunFile(o: {
  experiment: string;
  preset: string;
  config: Record<string, unknown>;
  backend: CliBackend;
  command: string;
  backendUsed: string;
  tfjsCore: string;
  source?: string;
}): RunFile {
  return {
    experiment: o.experiment,
    preset: o.preset as RunFile['preset'],
    ...(typeof o.config.seed === 'number' ? { seed: o.config.seed } : {}),
    backend: o.backend,
    config: o.config,
    provenance: {
      command: o.command,
      createdAt: new Date().toISOString(),
      backendUsed: o.backendUsed,
      versions: {
        attnlab: ATTNLAB_VERSION,
        experiments: EXPERIMENTS_VERSION,
        tfjsCore: o.tfjsCore,
        node: process.versions.node,
      },
      ...(o.source ? { source: o.source } : {}),
    },
  };
}

export function isAbortError(e: unknown): boolean {
  return e instanceof Error ? e.name === 'AbortError' : (e as { name?: string } | null)?.name === 'AbortError';
}

/**
 * Runs the plan in its run folder, held under the folder's lock; returns the exit code (0, or
 * 130/143/129 when SIGINT/SIGTERM/SIGHUP stopped it with a checkpoint).
 */
export async function execute(plan: RunPlan, args: ParsedArgs, io: Io): Promise<number> {
  // Refused before anything loads: an --out that is a file or not empty (checked again under its lock).
  if (!plan.resume && plan.dir !== undefined) checkOutDir(plan.dir);
  checkMemory(plan, args);
  const backend = await initCliBackend(plan.backend);
  const { exp } = plan;
  const config = plan.config as Record<string, unknown>;

  const runFile: RunFile =
    plan.runFile ??
    newRunFile({
      experiment: exp.id,
      preset: plan.preset,
      config,
      backend: plan.backend,
      command: plan.command,
      backendUsed: backend.chosen,
      tfjsCore: backend.versions.tfjsCore,
      ...(plan.source ? { source: plan.source } : {}),
    });
  // Claim the folder only now (after the backend loaded: a missing backend leaves nothing behind),
  // under its lock: a new unique folder, an empty --out folder, or the run folder being resumed.
  let dir: string;
  let release: ReleaseLock;
  let created = false;
  let createdRoot = false;
  if (plan.resume) {
    dir = plan.dir!;
    release = acquireRunLock(dir, plan.command);
    cleanTempFiles(dir);
  } else if (plan.dir !== undefined) {
    dir = plan.dir;
    ({ release, created } = claimRunDir(dir, plan.command));
  } else {
    ({ dir, release, createdRoot } = createRunDir(plan.slug, { command: plan.command }));
    created = true;
  }
  /** Removes a folder this run created and that holds nothing worth keeping (and an empty runs/ it created). */
  const discard = (): void => {
    release();
    if (!created) return;
    rmSync(dir, { recursive: true, force: true });
    if (createdRoot) {
      try {
        rmdirSync(RUNS_ROOT); // only if empty
      } catch {
        // another run's folder is in it
      }
    }
  };
  try {
    return await executeLocked(plan, args, io, dir, runFile, backend.chosen, discard);
  } finally {
    release();
  }
}

/** Refuses, before anything runs, a config estimated to need more memory than --max-memory (default 4 GiB). */
function checkMemory(plan: RunPlan, args: ParsedArgs): void {
  const raw = args.flags['max-memory'];
  let limit = DEFAULT_MEMORY_LIMIT;
  if (typeof raw === 'string') {
    const v = parseByteSize(raw);
    if (v === undefined)
      throw new CliError(
        `--max-memory must be a size such as 16GB, 512MiB or 2000000000; got '${raw.slice(0, 40)}'`,
        2,
      );
    limit = v;
  }
  try {
    checkResources(plan.exp, plan.config, limit);
  } catch (e) {
    if (isConfigError(e)) throw new CliError(e.message.replace(/^resources: /, '').replace(/; got [^;]*$/, ''), 2);
    throw e;
  }
}

/** Exit codes of the signals that stop a run (128 + the signal number, as shells report them). */
export const SIGNAL_EXIT: Readonly<Record<'SIGINT' | 'SIGTERM' | 'SIGHUP', number>> = {
  SIGINT: 130,
  SIGTERM: 143,
  SIGHUP: 129,
};

async function executeLocked(
  plan: RunPlan,
  args: ParsedArgs,
  io: Io,
  dir: string,
  runFile: RunFile,
  backendChosen: string,
  discard: () => void,
): Promise<number> {
  const json = args.flags.json === true;
  const quiet = args.flags.quiet === true;
  const { exp } = plan;
  const config = plan.config as Record<string, unknown>;
  try {
    if (!plan.resume) {
      atomicWrite(join(dir, CONFIG_FILE), `${JSON.stringify(runFile, null, 2)}\n`);
      if (plan.checkpointFrom) {
        mkdirSync(join(dir, 'checkpoints'), { recursive: true });
        copyFileSync(plan.checkpointFrom, join(dir, CHECKPOINT_FILE));
      }
    }
  } catch (e) {
    discard();
    throw fsError(e, dir, 'write the run folder');
  }

  const progress = new Progress(io, quiet, `${bold(io.color, exp.title)} → ${dir} (backend ${backendChosen})`);
  const ac = new AbortController();
  let stopCode = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    const code = SIGNAL_EXIT[sig as keyof typeof SIGNAL_EXIT] ?? 130;
    if (ac.signal.aborted) {
      progress.clear();
      io.err(`${sig} again: stopping now without saving; resume with: attnlab resume ${dir}`);
      process.exit(stopCode || code);
    }
    stopCode = code;
    progress.line(`${sig}: stopping at the next step and saving a checkpoint… (press Ctrl-C again to quit at once)`);
    ac.abort();
  };
  const signals = Object.keys(SIGNAL_EXIT) as NodeJS.Signals[];
  for (const sig of signals) process.on(sig, onSignal);

  let result: ExperimentResult;
  try {
    result = await exp.run(config, {
      signal: ac.signal,
      onEvent: progress.onEvent,
      checkpoints: fileCheckpointStore(join(dir, CHECKPOINT_FILE)),
    });
  } catch (e) {
    progress.clear();
    if (ac.signal.aborted && isAbortError(e)) {
      io.err(`interrupted; resume with: attnlab resume ${dir}`);
      return stopCode;
    }
    if (isConfigError(e)) {
      // Nothing ran: leave no half-made run folder behind (but never remove one we did not create).
      discard();
      if (e.field === 'checkpoint') {
        // A damaged or foreign checkpoint: name the file and what to do about it.
        const file = plan.checkpointFrom ?? join(dir, CHECKPOINT_FILE);
        const why = e.message.replace(/^checkpoint: /, '').replace(/; got .*$/s, '');
        throw new CliError(
          `${file}: the checkpoint ${why}; nothing was changed. Restore a good copy, or move it aside to run again from the start`,
          2,
        );
      }
      const flag = plan.spec ? flagForField(plan.spec, e.field, exp.configSchema) : undefined;
      throw new CliError(`${e.message}${flag ? ` (set by ${flag})` : ''}`, 2);
    }
    // Anything else: a folder with only its config.json is worth nothing; one with a checkpoint can be resumed.
    if (!plan.resume && !existsSync(join(dir, CHECKPOINT_FILE))) discard();
    else if (e instanceof CliError) e.message += ` (the run folder keeps its checkpoint: attnlab resume ${dir})`;
    else io.err(`attnlab: the run failed; its folder keeps its last checkpoint: attnlab resume ${dir}`);
    throw e;
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
  }
  progress.clear();

  flagNonFinite(result);
  const written = writeRunOutputs(dir, result, runFile, exp);
  if (!quiet) for (const w of written.warnings) io.err(`warning: ${w}`);
  const bad = result.meta.nonFinite ?? [];
  if (bad.length > 0)
    io.err(
      `warning: ${bad.length === 20 ? '20 or more' : bad.length} results are not finite (${bad
        .slice(0, 3)
        .map((b) => `${b.path} = ${b.value}`)
        .join(
          ', ',
        )}${bad.length > 3 ? ', …' : ''}); the run diverged or overflowed (null in results.json, flagged in the report)`,
    );
  if (result.meta.aborted || ac.signal.aborted) {
    io.err(`interrupted; resume with: attnlab resume ${dir}`);
    return stopCode || 130;
  }
  if (json) {
    io.out(JSON.stringify(result, null, 2));
    if (!quiet) io.err(`run folder: ${dir}\nreport: ${written.report}`);
    return 0;
  }
  printSummary(result, exp, io, quiet);
  io.out(`run folder: ${dir}\nreport: ${written.report}`);
  if (plan.epilogue) io.out(plan.epilogue);
  return 0;
}

/** Key numbers, tables (and the walkthrough's matrices) on stdout. */
export function printSummary(result: ExperimentResult, exp: Pick<Experiment, 'title'>, io: Io, quiet: boolean): void {
  const c = io.outColor ?? io.color;
  const lines: string[] = [bold(c, exp.title)];
  const rows = keyNumbers(result);
  const w = Math.max(...rows.map(([k]) => k.length));
  lines.push(...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`));
  if (!quiet) {
    if (result.experiment === 'attention-walkthrough') lines.push('', walkthroughText(result));
    for (const f of result.figures) {
      const spec = f.spec as { kind: string; title?: string; columns?: string[]; rows?: Cell[][] };
      if (spec.kind !== 'table' || !spec.columns || !spec.rows) continue;
      lines.push('', bold(c, spec.title ?? f.id), textTable(spec.columns, spec.rows));
    }
  }
  lines.push('');
  io.out(lines.join('\n'));
}

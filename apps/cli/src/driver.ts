// Runs one experiment into a run folder: backend, config.json, progress, Ctrl-C → checkpoint, outputs.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  ATTNLAB_VERSION as EXPERIMENTS_VERSION,
  ConfigError,
  EXPERIMENT_IDS,
  getExperiment,
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
import { atomicWrite, CHECKPOINT_FILE, CONFIG_FILE, fileCheckpointStore } from './run-folder.js';
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
  dir: string;
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

/** Runs the plan; returns the exit code (0, or 130 when interrupted). */
export async function execute(plan: RunPlan, args: ParsedArgs, io: Io): Promise<number> {
  const json = args.flags.json === true;
  const quiet = args.flags.quiet === true;
  const backend = await initCliBackend(plan.backend);
  const { exp, dir } = plan;
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
  const created = !existsSync(dir);
  if (!plan.resume) {
    mkdirSync(dir, { recursive: true });
    atomicWrite(join(dir, CONFIG_FILE), `${JSON.stringify(runFile, null, 2)}\n`);
    if (plan.checkpointFrom) {
      mkdirSync(join(dir, 'checkpoints'), { recursive: true });
      copyFileSync(plan.checkpointFrom, join(dir, CHECKPOINT_FILE));
    }
  }

  const progress = new Progress(io, quiet, `${bold(io.color, exp.title)} → ${dir} (backend ${backend.chosen})`);
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) {
      progress.clear();
      io.err(`${sig} again: stopping now without saving; resume with: attnlab resume ${dir}`);
      process.exit(130);
    }
    progress.line(`${sig}: stopping at the next step and saving a checkpoint… (press Ctrl-C again to quit at once)`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

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
      return 130;
    }
    if (isConfigError(e)) {
      // Nothing ran: leave no half-made run folder behind (but never remove one we did not create).
      if (created && !plan.resume) rmSync(dir, { recursive: true, force: true });
      const flag = plan.spec ? flagForField(plan.spec, e.field, exp.configSchema) : undefined;
      throw new CliError(`${e.message}${flag ? ` (set by ${flag})` : ''}`, 2);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  progress.clear();

  const written = writeRunOutputs(dir, result, runFile, exp);
  if (!quiet) for (const w of written.warnings) io.err(`warning: ${w}`);
  if (result.meta.aborted || ac.signal.aborted) {
    io.err(`interrupted; resume with: attnlab resume ${dir}`);
    return 130;
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

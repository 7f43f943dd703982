// The experiment commands: thin drivers of @attnlab/experiments (no science here).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXPERIMENT_IDS, merge, type PresetName } from '@attnlab/experiments';
import type { CommandSpec, ParsedArgs } from './args.js';
import { EXPERIMENT_COMMANDS, ICL_HEAD_COUNTS, KV_DTYPES, type CliBackend } from './commands.js';
import { execute, lookupExperiment, resolveOrExit } from './driver.js';
import { CliError } from './errors.js';
import { findField, flagOverrides, setPath } from './overrides.js';
import { parseRunFile } from './run-file.js';
import {
  CHECKPOINT_FILE,
  checkRunDir,
  createRunDir,
  CONFIG_FILE,
  parseJson,
  readJsonFile,
  RESULTS_FILE,
} from './run-folder.js';
import type { Io } from './term.js';

/** The command line as typed after `attnlab` (for config.json). */
function commandLine(cmd: CommandSpec, args: ParsedArgs): string {
  const parts = [cmd.name, ...Object.values(args.positionals)];
  for (const [k, v] of Object.entries(args.flags)) {
    if (k === 'json' || k === 'quiet' || k === 'help') continue;
    parts.push(v === true ? `--${k}` : `--${k} ${String(v)}`);
  }
  return parts.join(' ');
}

const presetOf = (args: ParsedArgs): PresetName => (args.flags.preset as PresetName | undefined) ?? 'quick';
const backendOf = (args: ParsedArgs, fallback: CliBackend = 'auto'): CliBackend =>
  (args.flags.backend as CliBackend | undefined) ?? fallback;

/** walkthrough, value-matrix, cv-sweep, icl train, icl heads, icl length, icl linear-vs-softmax. */
export async function experimentCommand(
  args: ParsedArgs,
  io: Io,
  extra: { overrides?: Record<string, unknown>; epilogue?: string; command?: string } = {},
): Promise<number> {
  const cmd = args.command!;
  const { experiment, folder } = EXPERIMENT_COMMANDS[cmd.name]!;
  const exp = lookupExperiment(experiment);
  const overrides = merge(flagOverrides(cmd, args.flags, exp.configSchema, experiment), extra.overrides ?? {});
  if (cmd.name === 'icl heads') overrides.headCounts = [...ICL_HEAD_COUNTS];
  // `icl length` is the softmax model's length generalisation unless --attentions asks for more.
  if (cmd.name === 'icl length' && args.flags.attentions === undefined) overrides.attentions = ['softmax'];
  const preset = presetOf(args);
  const config = resolveOrExit(exp, preset, overrides, cmd);
  const seeds = (args.flags.seeds as number | undefined) ?? 1;
  if (cmd.name === 'icl heads' && seeds > 1) {
    // The preset sweep: H ∈ {1, 2, 4, 8} × seeds, each point one model of the resolved config.
    const { headCounts: _h, heads: _one, seed, ...base } = config as Record<string, unknown> & { seed: number };
    const spec = {
      experiment,
      title: `icl heads: H ∈ {${ICL_HEAD_COUNTS.join(', ')}} × ${seeds} seeds`,
      preset,
      backend: backendOf(args),
      base,
      axes: { heads: [...ICL_HEAD_COUNTS], seed: { from: seed, to: seed + seeds - 1, step: 1 } },
    };
    // A new folder of its own (exclusive mkdir: two sweeps started in one second never share one).
    let dir = args.flags.out as string | undefined;
    if (dir === undefined) {
      const fresh = createRunDir('icl-heads-sweep', { command: commandLine(cmd, args) });
      fresh.release();
      dir = fresh.dir;
    }
    return (await import('./sweep/commands.js')).presetSweep(spec, dir, args, io, commandLine(cmd, args));
  }
  if (args.flags.workers !== undefined) throw new CliError('--workers needs --seeds N with N ≥ 2', 2);
  const dir = args.flags.out as string | undefined;
  const slug = folder;
  return execute(
    {
      command: extra.command ?? commandLine(cmd, args),
      spec: cmd,
      exp,
      preset,
      config,
      backend: backendOf(args),
      dir,
      slug,
      ...(extra.epilogue ? { epilogue: extra.epilogue } : {}),
    },
    args,
    io,
  );
}

/** `attnlab start`: the quick in-context regression run with H = 2. */
export async function start(args: ParsedArgs, io: Io, iclTrain: CommandSpec): Promise<number> {
  const forwarded: ParsedArgs = { ...args, command: iclTrain, flags: { ...args.flags, preset: 'quick', heads: 2 } };
  return experimentCommand(forwarded, io, {
    command: commandLine(args.command!, args),
    epilogue: "Next: open the report in a browser; 'attnlab --help' lists every experiment.",
  });
}

// ---- kv-cache ---------------------------------------------------------------------------------

/** `attnlab kv-cache`: presets and custom shapes, MHA/GQA/MQA/MLA side by side. */
export async function kvCache(args: ParsedArgs, io: Io): Promise<number> {
  const cmd = args.command!;
  const f = args.flags;
  const exp = lookupExperiment('kv-cache');
  const schema = exp.configSchema;
  const presetIds = (schema.fields.models as unknown as { items: { values: string[] } }).items.values;
  const overrides: Record<string, unknown> = {};
  const models = typeof f.model === 'string' ? f.model.split(',').map((x) => x.trim()) : undefined;
  if (models) {
    for (const m of models) {
      if (!presetIds.includes(m))
        throw new CliError(
          `--model must be one of ${presetIds.join(', ')} (or a comma-separated list of them); got '${m}'`,
          2,
        );
    }
    overrides.models = models;
  }
  if (Array.isArray(f.seq)) {
    const seqs = f.seq as number[]; // an int-list flag
    overrides.seqLens = seqs;
    setPath(
      overrides,
      'compare.seqLen',
      seqs.reduce((a, b) => Math.max(a, b)),
    );
  }
  if (f.batch !== undefined) overrides.batch = f.batch;
  if (f.dtype !== undefined) overrides.bytesPerElement = KV_DTYPES[f.dtype as string];
  const shapeFlags = ['layers', 'heads', 'kv-heads', 'head-dim', 'latent-dim', 'rope-dim', 'label'];
  if (shapeFlags.some((k) => f[k] !== undefined)) {
    const layers = f.layers as number | undefined;
    const heads = f.heads as number | undefined;
    if (layers === undefined || heads === undefined)
      throw new CliError(`a custom shape needs --layers and --heads (and --head-dim and/or --latent-dim)`, 2);
    const headDim = f['head-dim'] as number | undefined;
    const latent = f['latent-dim'] as number | undefined;
    const kv = f['kv-heads'] as number | undefined;
    if (headDim === undefined && latent === undefined)
      throw new CliError('a custom shape needs --head-dim (MHA/GQA/MQA) and/or --latent-dim (MLA)', 2);
    if (kv !== undefined && (kv > heads || heads % kv !== 0))
      throw new CliError(`--kv-heads must divide --heads ${heads}; got ${kv}`, 2);
    if (kv !== undefined && headDim === undefined) throw new CliError('--kv-heads needs --head-dim', 2);
    if (f['rope-dim'] !== undefined && latent === undefined)
      throw new CliError('--rope-dim needs --latent-dim (it is part of the MLA cache)', 2);
    const label = (f.label as string | undefined) ?? 'custom';
    const custom: Record<string, unknown>[] = [];
    if (headDim !== undefined) {
      custom.push({ label: `${label} MHA`, attention: 'mha', layers, heads, headDim });
      if (kv !== undefined && kv > 1 && kv < heads)
        custom.push({ label: `${label} GQA (${kv} KV heads)`, attention: 'gqa', layers, heads, kvHeads: kv, headDim });
      custom.push({ label: `${label} MQA`, attention: 'mqa', layers, heads, headDim });
    }
    if (latent !== undefined)
      custom.push({
        label: `${label} MLA (latent ${latent})`,
        attention: 'mla',
        layers,
        heads,
        kvLoraRank: latent,
        ropeHeadDim: (f['rope-dim'] as number | undefined) ?? 64,
      });
    overrides.custom = custom;
    if (!models) overrides.models = [];
  }
  const preset = presetOf(args);
  let config = resolveOrExit(exp, preset, overrides, cmd) as { compare: { model: string } };
  if (models) {
    // Compare the first given model that has per-head caches (an MLA model has none to compare).
    await (await import('./backend.js')).initCliBackend('cpu');
    for (const m of models) {
      const candidate = merge(config, { compare: { model: m } });
      try {
        await exp.run(candidate);
        config = candidate;
        break;
      } catch {
        // not comparable: keep the default comparison model
      }
    }
  }
  const dir = f.out as string | undefined;
  const slug = 'kv-cache';
  return execute(
    { command: commandLine(cmd, args), spec: cmd, exp, preset, config, backend: 'cpu', dir, slug },
    args,
    io,
  );
}

// ---- run, resume, icl eval, report --------------------------------------------------------------

/** `attnlab run <config.json>`. */
export async function runConfigFile(args: ParsedArgs, io: Io): Promise<number> {
  const cmd = args.command!;
  const path = args.positionals.config!;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT'
        ? `${path}: no such file`
        : code === 'EISDIR'
          ? `${path} is a folder; give a config .json file (a run folder's is ${join(path, CONFIG_FILE)})`
          : `cannot read ${path}: ${(e as Error).message}`,
      2,
    );
  }
  const rf = parseRunFile(parseJson(text, path), path, EXPERIMENT_IDS);
  const exp = lookupExperiment(rf.experiment);
  const overrides: Record<string, unknown> = structuredClone(rf.config ?? {});
  if (rf.seed !== undefined) {
    const seedPath = findField(exp.configSchema, 'seed');
    if (!seedPath) throw new CliError(`${path}: seed: the ${rf.experiment} experiment has no seed (remove "seed")`, 2);
    setPath(overrides, seedPath, rf.seed);
  }
  const fromFlags = flagOverrides(cmd, args.flags, exp.configSchema, rf.experiment);
  const preset = (args.flags.preset as PresetName | undefined) ?? rf.preset ?? 'quick';
  const config = resolveOrExit(exp, preset, merge(overrides, fromFlags), cmd, `${path}: `);
  const dir = args.flags.out as string | undefined;
  const slug = rf.experiment;
  return execute(
    {
      command: commandLine(cmd, args),
      spec: cmd,
      exp,
      preset,
      config,
      backend: backendOf(args, rf.backend ?? 'auto'),
      dir,
      slug,
    },
    args,
    io,
  );
}

/**
 * An existing run folder, read for a command that continues or re-evaluates it: its config.json
 * (parsed and checked), its experiment, and whether its results.json says it finished.
 */
function readRunFolder(dir: string, command: string) {
  checkRunDir(dir, command);
  const cfgPath = join(dir, CONFIG_FILE);
  const rf = parseRunFile(readJsonFile(cfgPath, 'the run config'), cfgPath, EXPERIMENT_IDS);
  const resultsPath = join(dir, RESULTS_FILE);
  const result = existsSync(resultsPath) ? readJsonFile(resultsPath, 'the run result') : undefined;
  const finished = (result as { meta?: { aborted?: unknown } } | undefined)?.meta?.aborted === false;
  return { cfgPath, rf, finished, result };
}

/** `attnlab resume <run>`: the same config, continued from the run's checkpoint. */
export async function resume(args: ParsedArgs, io: Io): Promise<number> {
  const dir = args.positionals.run!;
  const { cfgPath, rf, finished, result } = readRunFolder(dir, 'resume');
  const exp = lookupExperiment(rf.experiment);
  if (finished) {
    io.err(`${dir} is already complete; nothing to resume (report: ${join(dir, 'report.html')})`);
    if (args.flags.json === true) io.out(JSON.stringify(result, null, 2));
    return 0;
  }
  const preset = rf.preset ?? 'quick';
  const config = resolveOrExit(exp, preset, rf.config ?? {}, undefined, `${cfgPath}: `);
  if (!existsSync(join(dir, CHECKPOINT_FILE)) && args.flags.quiet !== true)
    io.err(`${dir} has no checkpoint: running ${rf.experiment} again from the start`);
  return execute(
    {
      command: `resume ${dir}`,
      exp,
      preset,
      config,
      backend: backendOf(args, rf.backend ?? 'auto'),
      dir,
      slug: rf.experiment,
      resume: true,
      runFile: rf,
    },
    args,
    io,
  );
}

/** `attnlab icl eval <run>`: evaluate a trained run again (no training). */
export async function iclEval(args: ParsedArgs, io: Io): Promise<number> {
  const cmd = args.command!;
  const src = args.positionals.run!;
  const { cfgPath, rf, finished } = readRunFolder(src, 'icl eval');
  if (rf.experiment !== 'icl-regression')
    throw new CliError(`'icl eval' needs a run of icl train; ${src} ran ${rf.experiment}`, 2);
  const exp = lookupExperiment('icl-regression');
  if (!finished) throw new CliError(`${src} has not finished training; continue it first: attnlab resume ${src}`, 2);
  const ckpt = join(src, CHECKPOINT_FILE);
  if (!existsSync(ckpt))
    throw new CliError(`${src} has no checkpoint (${CHECKPOINT_FILE}); 'icl eval' needs the trained parameters`, 2);
  const saved = (rf.config ?? {}) as { headCounts?: number[] };
  if ((saved.headCounts?.length ?? 0) > 1) {
    throw new CliError(
      `'icl eval' evaluates one trained model; ${src} compared head counts [${saved.headCounts!.join(', ')}] (its report has their error curves)`,
      2,
    );
  }
  const preset = rf.preset ?? 'quick';
  const config = resolveOrExit(
    exp,
    preset,
    merge(rf.config ?? {}, flagOverrides(cmd, args.flags, exp.configSchema, exp.id)),
    cmd,
    `${cfgPath}: `,
  ) as { evaluation: { samples: number } };
  if (config.evaluation.samples === 0)
    throw new CliError('--eval-samples must be ≥ 1 for icl eval (0 skips the error curves)', 2);
  const dir = args.flags.out as string | undefined;
  const slug = 'icl-eval';
  return execute(
    {
      command: commandLine(cmd, args),
      spec: cmd,
      exp,
      preset,
      config,
      backend: backendOf(args, rf.backend ?? 'auto'),
      dir,
      slug,
      checkpointFrom: ckpt,
      source: src,
    },
    args,
    io,
  );
}

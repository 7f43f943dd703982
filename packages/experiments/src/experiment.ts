import type { FigureSpec } from '@attnlab/plot';
import { deserializeCheckpoint, type Checkpoint, type TrainEvent } from '@attnlab/train';
import type { ResourceEstimate } from './resources.js';
import { ConfigError, merge, nonFiniteNumbers, validate, type ObjectSchema, type Schema } from './schema.js';

export const RESULT_SCHEMA_VERSION = 1;

/** Events an experiment emits while it runs (the CLI draws progress bars, the web app live charts). */
export type ExperimentEvent =
  | { type: 'phase'; phase: string; message: string }
  | { type: 'progress'; phase: string; done: number; total: number; rate?: number; loss?: number }
  | { type: 'metrics'; phase: string; step: number; values: Record<string, number> }
  | { type: 'snapshot'; phase: string; step: number; name: string; value: unknown }
  | { type: 'checkpoint'; phase: string; step: number };

/** A training loop's progress event as an experiment's progress event of `phase` (what runs report live). */
export function trainProgress(e: Extract<TrainEvent, { type: 'progress' }>, phase: string): ExperimentEvent {
  return {
    type: 'progress',
    phase,
    done: e.completed,
    total: e.steps,
    rate: e.stepsPerSecond,
    ...(e.loss !== undefined ? { loss: e.loss } : {}),
  };
}

/** Where a resumable experiment keeps its checkpoint (files in the CLI, memory in the browser). */
export interface CheckpointStore {
  load(): Promise<Uint8Array | undefined>;
  save(data: Uint8Array): Promise<void>;
}

export interface RunContext {
  signal?: AbortSignal;
  onEvent?: (event: ExperimentEvent) => void;
  /** Enables checkpoints and resume for experiments that train. */
  checkpoints?: CheckpointStore;
  /** Steps between checkpoints (default: the experiment's choice). */
  checkpointEvery?: number;
}

export interface ResultMeta {
  backend: string;
  startedAt: string;
  durationMs: number;
  versions: { attnlab: string; tfjsCore: string };
  /** True when the run was stopped by its abort signal; `data` holds what was done so far. */
  aborted: boolean;
  /** Step the run resumed from, when it did. */
  resumedFrom?: number;
  /** Results that are not finite numbers (NaN, ±∞; null in JSON): where and what (see `flagNonFinite`). */
  nonFinite?: { path: string; value: string }[];
}

export interface NamedFigure {
  /** File-name-safe id (`loss`, `qk-heads`, …). */
  id: string;
  spec: FigureSpec;
}

/** What every experiment returns: JSON-serialisable and versioned. */
export interface ExperimentResult<C = unknown, R = unknown> {
  experiment: ExperimentId;
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  config: C;
  data: R;
  figures: NamedFigure[];
  meta: ResultMeta;
}

export type ExperimentId =
  | 'icl-regression'
  | 'icl-length'
  | 'icl-multitask'
  | 'value-matrix'
  | 'attention-walkthrough'
  | 'cv-sweep'
  | 'kv-cache';
/** The presets every experiment has; an experiment may add its own (icl-regression's `paper`). */
export const PRESET_NAMES = ['quick', 'seed'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/**
 * A claim of the paper an experiment reproduces, as it applies to one config: the result number that
 * tests it and the theory's number for that config (computed from @attnlab/estimators' closed forms,
 * never written down). A sweep puts the claims of one id side by side over its groups, with attnlab's
 * mean ± standard error over seeds beside the theory, and draws the figure the claim rests on.
 */
export interface Claim {
  /** Stable id: a sweep gathers the claims of one id over its groups into one block with one figure. */
  id: string;
  /** The claim in words. */
  claim: string;
  /** The result number that tests it: a `metricNumbers` label (`final validation MSE`, `Σ μ^h`, …). */
  metric: string;
  /** The theory's number for this config, or null when the theory predicts no number. */
  theory: number | null;
  /** Where the theory's number comes from, or what the theory predicts when it gives no number. */
  theoryNote: string;
  /**
   * The claim's figure: these `metricCurves` (error against context length), beside `theoryCurve`.
   * Without it, the metric against the sweep's numeric axis with the theory beside it.
   */
  curves?: string[];
  theoryCurve?: { name: string; at: (L: number) => number };
}

export interface Experiment<C = unknown, R = unknown> {
  id: ExperimentId;
  title: string;
  /** One line: what it computes and which seed it reproduces. */
  summary: string;
  configSchema: ObjectSchema;
  /** Schema of `result.data`. */
  dataSchema: Schema;
  /** Named configs: at least `quick` and `seed`. */
  presets: Record<PresetName, C> & Record<string, C>;
  run(config: C, ctx?: RunContext): Promise<ExperimentResult<C, R>>;
  /** Estimated peak memory of a run of `config` (see checkResources), for experiments that can be made big. */
  estimate?(config: C): ResourceEstimate;
  /** The paper's claims that a run of `config` tests (see {@link Claim}), for experiments that reproduce one. */
  claims?(config: C): Claim[];
}

/**
 * An experiment's preset names: the common ones first (quick, seed), then its own.
 * @example
 * presetNames(iclRegression); // ['quick', 'seed', 'paper']
 */
export function presetNames(exp: Pick<Experiment, 'presets'>): string[] {
  const own = Object.keys(exp.presets);
  const common: readonly string[] = PRESET_NAMES;
  return [...common.filter((n) => own.includes(n)), ...own.filter((n) => !common.includes(n))];
}

/**
 * A preset merged with overrides and validated: the config a run will use, or a `ConfigError`
 * naming the bad field and what it allows.
 * @example
 * const config = resolveConfig(iclRegression, { preset: 'quick', overrides: { heads: 4 } });
 */
export function resolveConfig<C>(exp: Experiment<C>, opts: { preset?: string; overrides?: unknown } = {}): C {
  const preset = opts.preset ?? 'quick';
  if (!Object.hasOwn(exp.presets, preset))
    throw new ConfigError('preset', `one of ${presetNames(exp).join(', ')}`, preset);
  return validate<C>(exp.configSchema, merge(exp.presets[preset], opts.overrides), 'config');
}

/** Validates a result object (e.g. parsed `results.json`) against its experiment's schemas. */
export function validateResult(exp: Experiment, result: unknown): ExperimentResult {
  if (typeof result !== 'object' || result === null) throw new ConfigError('result', 'an object', result);
  const r = result as Record<string, unknown>;
  if (r.experiment !== exp.id) throw new ConfigError('result.experiment', `"${exp.id}"`, r.experiment);
  if (r.schemaVersion !== RESULT_SCHEMA_VERSION)
    throw new ConfigError('result.schemaVersion', String(RESULT_SCHEMA_VERSION), r.schemaVersion);
  validate(exp.configSchema, r.config, 'result.config');
  // A number that was not finite (NaN, ±∞) is saved as null by JSON: still a result, flagged in meta.nonFinite.
  validate(exp.dataSchema, r.data, 'result.data', { nonFinite: true });
  if (!Array.isArray(r.figures)) throw new ConfigError('result.figures', 'an array of { id, spec }', r.figures);
  r.figures.forEach((f: unknown, i) => {
    const fig = f as NamedFigure;
    if (!fig || typeof fig.id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(fig.id))
      throw new ConfigError(`result.figures[${i}].id`, 'a lower-case file-name-safe id', fig?.id);
    if (!fig.spec || typeof fig.spec !== 'object')
      throw new ConfigError(`result.figures[${i}].spec`, 'a figure spec', fig.spec);
  });
  const meta = r.meta as Record<string, unknown> | undefined;
  if (
    !meta ||
    typeof meta.backend !== 'string' ||
    typeof meta.durationMs !== 'number' ||
    typeof meta.aborted !== 'boolean'
  ) {
    throw new ConfigError('result.meta', 'an object with backend, startedAt, durationMs, versions, aborted', meta);
  }
  return r as unknown as ExperimentResult;
}

/**
 * Records in `meta.nonFinite` where `result.data` holds NaN or ±∞ (at most 20 places), so that
 * the saved result (where JSON turns them into null) still says what they were. Returns the result.
 */
export function flagNonFinite<R extends ExperimentResult>(result: R): R {
  const found = nonFiniteNumbers(result.data, 'data');
  if (found.length > 0) result.meta.nonFinite = found;
  return result;
}

/**
 * The run's saved checkpoint for resume, or null when it has none. One that cannot be read, was
 * written by another experiment (or fails `written`), or for another config key is a ConfigError
 * on `checkpoint`; `mayChange` says which settings may differ on resume.
 * @example
 * const cp = await loadCheckpoint(ctx, 'icl-multitask', configKey(c), 'steps and finalValidationSamples');
 */
export async function loadCheckpoint(
  ctx: RunContext,
  experiment: string,
  configKey: string,
  mayChange: string,
  written: (meta: Record<string, unknown>) => boolean = () => true,
): Promise<Checkpoint | null> {
  const bytes = await ctx.checkpoints?.load();
  if (!bytes) return null;
  let cp: Checkpoint;
  try {
    cp = deserializeCheckpoint(bytes);
  } catch (e) {
    throw new ConfigError(
      'checkpoint',
      'an intact checkpoint',
      'unreadable bytes',
      `cannot be read (${(e as Error).message.replace(/^deserializeCheckpoint: /, '')})`,
    );
  }
  const meta = cp.meta as Record<string, unknown> | null;
  if (!meta || meta.experiment !== experiment || !written(meta))
    throw new ConfigError(
      'checkpoint',
      `a checkpoint written by ${experiment}`,
      meta?.experiment,
      `is not an ${experiment} checkpoint`,
    );
  if (meta.configKey !== configKey)
    throw new ConfigError(
      'checkpoint',
      'a checkpoint of the same model, data and optimizer settings',
      'a different config',
      `was written for a different configuration (only ${mayChange} may change on resume)`,
    );
  return cp;
}

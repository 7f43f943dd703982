// The experiment config file of `attnlab run` (and the config.json of every run folder).
import { getExperiment, presetNames } from '@attnlab/experiments';
import { CLI_BACKENDS, type CliBackend } from './commands.js';
import { CliError } from './errors.js';

/**
 * `{ "experiment": "icl-regression", "preset": "quick", "seed": 1, "backend": "cpu", "config": { … } }`:
 * only `experiment` is required; `config` holds the fields to override (a run folder's config.json
 * holds the whole resolved config, so it re-runs the same thing); `provenance` is written by the CLI
 * (command, time, backend used, versions) and ignored when read.
 */
export interface RunFile {
  experiment: string;
  /** One of the experiment's presets (every experiment has quick and seed; icl-regression adds paper). */
  preset?: string;
  seed?: number;
  backend?: CliBackend;
  config?: Record<string, unknown>;
  provenance?: Provenance;
}

export interface Provenance {
  command: string;
  createdAt: string;
  backendUsed: string;
  versions: { attnlab: string; experiments: string; tfjsCore: string; node: string };
  /** `icl eval`: the run folder whose checkpoint was evaluated. */
  source?: string;
}

const KEYS = ['experiment', 'preset', 'seed', 'backend', 'config', 'provenance', '$schema'];

const show = (v: unknown): string =>
  typeof v === 'string'
    ? JSON.stringify(v)
    : Array.isArray(v)
      ? 'an array'
      : v === null
        ? 'null'
        : typeof v === 'object'
          ? 'an object'
          : String(v);

/** Checks the shape of a parsed run file; a problem is one line naming the field and what it allows (exit 2). */
export function parseRunFile(json: unknown, path: string, experimentIds: readonly string[]): RunFile {
  const bad = (field: string, allowed: string, got: unknown): never => {
    throw new CliError(`${path}: ${field} must be ${allowed}; got ${show(got)}`, 2);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    bad('the file', 'a JSON object { "experiment": …, "config": { … } }', json);
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KEYS.includes(k))
      throw new CliError(
        `${path}: ${k} is not a known field (known: ${KEYS.filter((x) => x !== '$schema').join(', ')}); experiment settings go inside "config"`,
        2,
      );
  }
  if (o.experiment === undefined)
    throw new CliError(`${path}: experiment is required: one of ${experimentIds.join(', ')}`, 2);
  if (typeof o.experiment !== 'string' || !experimentIds.includes(o.experiment))
    bad('experiment', `one of ${experimentIds.join(', ')}`, o.experiment);
  const presets = presetNames(getExperiment(o.experiment as string));
  if (o.preset !== undefined && (typeof o.preset !== 'string' || !presets.includes(o.preset)))
    bad('preset', `one of ${presets.join(', ')}`, o.preset);
  if (
    o.seed !== undefined &&
    (typeof o.seed !== 'number' || !Number.isInteger(o.seed) || o.seed < 0 || o.seed > 4294967295)
  )
    bad('seed', 'an integer in [0, 4294967295]', o.seed);
  if (o.backend !== undefined && !(CLI_BACKENDS as readonly unknown[]).includes(o.backend))
    bad('backend', `one of ${CLI_BACKENDS.join(', ')}`, o.backend);
  if (o.config !== undefined && (typeof o.config !== 'object' || o.config === null || Array.isArray(o.config)))
    bad('config', 'an object of config fields', o.config);
  return o as unknown as RunFile;
}

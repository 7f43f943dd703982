/**
 * Sweep specs: a base config of any registered experiment and axes over its config fields
 * (lists, ranges, `zip` groups, seeds as an axis), validated through the experiment's own schema,
 * and their expansion into points with stable ids. Pure and browser-safe.
 */
import type { ExperimentId } from '../experiment.js';
import { resolveConfig } from '../experiment.js';
import { experiments } from '../registry.js';
import { ConfigError, merge, schemaAt, validate, type Schema } from '../schema.js';

/** One axis as written: a list, `{ values: [...] }`, or an inclusive range `{ from, to, step }`. */
export type AxisSpec = readonly unknown[] | { values: readonly unknown[] } | { from: number; to: number; step: number };

/** A sweep as written in its spec file (JSON or YAML). */
export interface SweepSpec {
  experiment: ExperimentId;
  /** Preset the base config starts from (default `quick`). */
  preset?: string;
  /** Overrides of the preset shared by every point. */
  base?: Record<string, unknown>;
  /** Config field (dotted path, e.g. `heads`, `optimizer.lr`, `seed`) → its values. */
  axes: Record<string, AxisSpec>;
  /** Axes whose values pair up (equal lengths) instead of forming a product. */
  zip?: string[][];
  /** Backend to run on (the CLI's `--backend` names); the CLI checks the name. */
  backend?: string;
  /** Free text for the report. */
  title?: string;
}

/** A spec after validation: every axis a plain list of values already checked against its field. */
export interface ResolvedSweep {
  experiment: ExperimentId;
  preset: string;
  base: Record<string, unknown>;
  axes: { name: string; values: unknown[] }[];
  /** Groups of axis names that vary together, in spec order (ungrouped axes are groups of one). */
  groups: string[][];
  backend?: string;
  title?: string;
}

/** One run of a sweep: its axis values and the full, validated config. */
export interface SweepPoint {
  /** Stable id: a hash of the experiment id and the point's config (the same config → the same id). */
  id: string;
  /** Position in the expansion (the order points are run in). */
  index: number;
  /** `heads=2 seed=3`. */
  label: string;
  /** Axis name → value for this point. */
  values: Record<string, unknown>;
  experiment: ExperimentId;
  preset: string;
  config: unknown;
}

const SPEC_FIELDS = ['experiment', 'preset', 'base', 'axes', 'zip', 'backend', 'title'];
/** More points than this is almost certainly a typo in a range. */
export const MAX_SWEEP_POINTS = 100_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The values of a range `{ from, to, step }`: from, from + step, … up to and including `to`. */
function rangeValues(name: string, r: Record<string, unknown>): number[] {
  for (const k of Object.keys(r))
    if (!['from', 'to', 'step'].includes(k))
      throw new ConfigError(`axes.${name}.${k}`, 'from, to, step', r[k], 'is not a range field (from, to, step)');
  for (const k of ['from', 'to', 'step'] as const) {
    if (typeof r[k] !== 'number' || !Number.isFinite(r[k]))
      throw new ConfigError(`axes.${name}.${k}`, 'a finite number', r[k]);
  }
  const { from, to, step } = r as { from: number; to: number; step: number };
  if (step === 0 || Math.sign(step) !== Math.sign(to - from || step))
    throw new ConfigError(
      `axes.${name}.step`,
      'a non-zero number that goes from `from` towards `to`',
      step,
      `must be non-zero and go from ${from} towards ${to}`,
    );
  const n = Math.floor((to - from) / step + 1e-9) + 1;
  if (n > MAX_SWEEP_POINTS)
    throw new ConfigError(`axes.${name}`, `at most ${MAX_SWEEP_POINTS} values`, n, `has too many values`);
  // Rounded to 12 significant digits so that 0.1 + 0.2 is written 0.3.
  return Array.from({ length: n }, (_, k) => Number((from + k * step).toPrecision(12)));
}

function axisValues(name: string, raw: unknown): unknown[] {
  if (Array.isArray(raw)) return [...(raw as unknown[])];
  if (isObject(raw)) {
    if ('values' in raw) {
      const extra = Object.keys(raw).filter((k) => k !== 'values');
      if (extra.length)
        throw new ConfigError(
          `axes.${name}.${extra[0]}`,
          'values alone',
          raw[extra[0]!],
          'is not allowed beside values',
        );
      if (!Array.isArray(raw.values)) throw new ConfigError(`axes.${name}.values`, 'a list', raw.values);
      return [...(raw.values as unknown[])];
    }
    return rangeValues(name, raw);
  }
  throw new ConfigError(`axes.${name}`, 'a list, { values: [...] } or { from, to, step }', raw);
}

/**
 * Validates a sweep spec: the experiment exists, the base config resolves, every axis names a
 * config field and every value is allowed there (`axes.heads[2]: must be an integer ≥ 1 and ≤ 64;
 * got 0`), zip groups pair lists of equal length. Throws a ConfigError naming the spec field.
 */
export function resolveSweep(spec: unknown): ResolvedSweep {
  if (!isObject(spec)) throw new ConfigError('sweep', 'an object { experiment, axes, … }', spec);
  for (const k of Object.keys(spec))
    if (!SPEC_FIELDS.includes(k))
      throw new ConfigError(
        k,
        SPEC_FIELDS.join(', '),
        spec[k],
        `is not a sweep field (known: ${SPEC_FIELDS.join(', ')})`,
      );
  const id = spec.experiment;
  if (typeof id !== 'string' || !Object.hasOwn(experiments, id))
    throw new ConfigError('experiment', `one of ${Object.keys(experiments).join(', ')}`, id);
  const exp = experiments[id]!;
  const preset = spec.preset ?? 'quick';
  if (typeof preset !== 'string' || !Object.hasOwn(exp.presets, preset))
    throw new ConfigError('preset', `one of ${Object.keys(exp.presets).join(', ')}`, preset);
  const base = spec.base ?? {};
  if (!isObject(base)) throw new ConfigError('base', 'an object of config fields', base);
  try {
    resolveConfig(exp, { preset, overrides: base });
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.field.replace(/^config/, 'base'), e.allowed, e.received);
    throw e;
  }
  for (const k of ['backend', 'title'] as const)
    if (spec[k] !== undefined && (typeof spec[k] !== 'string' || spec[k] === ''))
      throw new ConfigError(k, 'a non-empty string', spec[k]);
  if (!isObject(spec.axes) || Object.keys(spec.axes).length === 0)
    throw new ConfigError('axes', 'an object with at least one axis (config field → values)', spec.axes);

  const axes: ResolvedSweep['axes'] = [];
  for (const [name, raw] of Object.entries(spec.axes)) {
    let field: Schema;
    try {
      field = schemaAt(exp.configSchema, name);
    } catch (e) {
      throw new ConfigError(
        `axes.${name}`,
        'a config field',
        name,
        `is not a config field of ${id} (${(e as Error).message.replace(/^schemaAt: /, '')})`,
      );
    }
    const values = axisValues(name, raw);
    if (values.length === 0) throw new ConfigError(`axes.${name}`, 'at least one value', values, 'has no values');
    values.forEach((v, i) => validate(field, v, `axes.${name}[${i}]`));
    const seen = new Set(values.map((v) => JSON.stringify(v)));
    if (seen.size !== values.length)
      throw new ConfigError(`axes.${name}`, 'distinct values', values, 'repeats a value (each point would run twice)');
    axes.push({ name, values });
  }

  const zip = spec.zip ?? [];
  if (!Array.isArray(zip)) throw new ConfigError('zip', 'a list of lists of axis names', zip);
  const grouped = new Map<string, number>();
  (zip as unknown[]).forEach((g, gi) => {
    if (!Array.isArray(g) || g.length < 2) throw new ConfigError(`zip[${gi}]`, 'a list of at least two axis names', g);
    (g as unknown[]).forEach((n, k) => {
      if (typeof n !== 'string' || !axes.some((a) => a.name === n))
        throw new ConfigError(`zip[${gi}][${k}]`, `one of the axes ${axes.map((a) => a.name).join(', ')}`, n);
      if (grouped.has(n)) throw new ConfigError(`zip[${gi}][${k}]`, 'an axis in one zip group only', n);
      grouped.set(n, gi);
    });
    const lens = (g as string[]).map((n) => axes.find((a) => a.name === n)!.values.length);
    if (lens.some((l) => l !== lens[0]))
      throw new ConfigError(
        `zip[${gi}]`,
        'axes with as many values each',
        g,
        `pairs axes of different lengths (${(g as string[]).map((n, k) => `${n}: ${lens[k]}`).join(', ')})`,
      );
  });
  const groups: string[][] = [];
  for (const a of axes) {
    const gi = grouped.get(a.name);
    if (gi === undefined) groups.push([a.name]);
    else if (!groups.some((g) => g.includes(a.name))) groups.push([...(zip as string[][])[gi]!]);
  }
  const total = groups.reduce((n, g) => n * axes.find((a) => a.name === g[0])!.values.length, 1);
  if (total > MAX_SWEEP_POINTS)
    throw new ConfigError('axes', `at most ${MAX_SWEEP_POINTS} points`, total, `make ${total} points`);
  return {
    experiment: id as ExperimentId,
    preset,
    base,
    axes,
    groups,
    ...(typeof spec.backend === 'string' ? { backend: spec.backend } : {}),
    ...(typeof spec.title === 'string' ? { title: spec.title } : {}),
  };
}

/** JSON with object keys sorted at every level (the canonical form that point ids hash). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** FNV-1a (64-bit) of a string's UTF-16 code units, as 16 hex digits. */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = (1n << 64n) - 1n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

/** The stable id of a point: 12 hex digits of a hash of its experiment id and full config. */
export function pointId(experiment: string, config: unknown): string {
  return fnv1a64(canonicalJson({ experiment, config })).slice(0, 12);
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    if (!isObject(node[p])) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = structuredClone(value);
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * Every point of a sweep, in order (the last group varies fastest), each with its full validated
 * config and a stable id. A point whose combination the schema rejects is a ConfigError naming it.
 * @example
 * expandSweep({ experiment: 'icl-regression', axes: { heads: [1, 2], seed: { from: 0, to: 2, step: 1 } } }).length; // 6
 */
export function expandSweep(spec: unknown): SweepPoint[] {
  const sweep = resolveSweep(spec);
  const exp = experiments[sweep.experiment]!;
  const byName = new Map(sweep.axes.map((a) => [a.name, a.values]));
  const lengths = sweep.groups.map((g) => byName.get(g[0]!)!.length);
  const total = lengths.reduce((a, b) => a * b, 1);
  const points: SweepPoint[] = [];
  const ids = new Map<string, string>();
  for (let index = 0; index < total; index++) {
    const values: Record<string, unknown> = {};
    let rest = index;
    for (let g = sweep.groups.length - 1; g >= 0; g--) {
      const k = rest % lengths[g]!;
      rest = Math.floor(rest / lengths[g]!);
      for (const name of sweep.groups[g]!) values[name] = byName.get(name)![k];
    }
    // Spec order for the values and the label.
    const ordered = Object.fromEntries(sweep.axes.map((a) => [a.name, values[a.name]]));
    const label = sweep.axes.map((a) => `${a.name}=${show(ordered[a.name])}`).join(' ');
    const overrides = merge(sweep.base, {});
    for (const [name, v] of Object.entries(ordered)) setPath(overrides, name, v);
    let config: unknown;
    try {
      config = resolveConfig(exp, { preset: sweep.preset, overrides });
    } catch (e) {
      if (e instanceof ConfigError)
        throw new ConfigError(
          `points[${index}] (${label})`,
          e.allowed,
          e.received,
          `${e.field.replace(/^config\./, '')} ${e.message.slice(e.message.indexOf(': ') + 2).replace(/; got .*$/, '')}`,
        );
      throw e;
    }
    const id = pointId(sweep.experiment, config);
    const dup = ids.get(id);
    if (dup !== undefined)
      throw new ConfigError('axes', 'axes that change the config', label, `give the same config as ${dup}`);
    ids.set(id, label);
    points.push({ id, index, label, values: ordered, experiment: sweep.experiment, preset: sweep.preset, config });
  }
  return points;
}

/** Axis names that index repetitions (a `seed` field anywhere): aggregation averages over them. */
export function seedAxes(names: readonly string[]): string[] {
  return names.filter((n) => n === 'seed' || n.endsWith('.seed'));
}

/**
 * A sweep's results: one row per point (axis values, metrics, curves, engine, duration), and their
 * aggregation over seeds (mean ± standard error of every metric and of every curve pointwise) with
 * figure specs: a table, each metric against each numeric axis, each curve (error against context
 * length) per group with ± standard-error bands. Pure and browser-safe: the CLI writes these into
 * the sweep folder and the web lab draws them from a loaded results.jsonl.
 */
import type { LineChartSpec, LineSeries, TableCell, TableSpec } from '@attnlab/plot';
import type { ExperimentResult, NamedFigure } from '../experiment.js';
import { formatValue, metricCurves, metricNumbers } from '../summary.js';
import { seedAxes, type SweepPoint } from './spec.js';

/** One line of results.jsonl: a finished point. */
export interface SweepRow {
  id: string;
  index: number;
  label: string;
  values: Record<string, unknown>;
  experiment: string;
  metrics: Record<string, number | null>;
  curves: Record<string, { x: number[]; y: number[] }>;
  /** What trained it (icl-regression's engine name), when the experiment says. */
  engine: string | null;
  backend: string;
  durationMs: number;
  /** Step the point's run resumed from, when it was interrupted and continued. */
  resumedFrom: number | null;
}

/** The row of a finished point from its experiment result. */
export function sweepRow(
  point: Pick<SweepPoint, 'id' | 'index' | 'label' | 'values'>,
  result: ExperimentResult,
): SweepRow {
  const runs = (result.data as { runs?: { engine?: { name?: unknown } }[] } | null)?.runs;
  const engine = runs?.[0]?.engine?.name;
  return {
    id: point.id,
    index: point.index,
    label: point.label,
    values: point.values,
    experiment: result.experiment,
    metrics: metricNumbers(result),
    curves: metricCurves(result),
    engine: typeof engine === 'string' ? engine : null,
    backend: result.meta.backend,
    durationMs: result.meta.durationMs,
    resumedFrom: result.meta.resumedFrom ?? null,
  };
}

/** Mean and standard error (sample standard deviation / √n; null for n < 2) of the finite values. */
export interface MeanSe {
  mean: number | null;
  se: number | null;
  n: number;
}

export function meanSe(xs: readonly (number | null | undefined)[]): MeanSe {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: null, se: null, n };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: null, n };
  const ss = v.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return { mean, se: Math.sqrt(ss / (n - 1) / n), n };
}

/** Points that share every axis value but the seed. */
export interface SweepGroup {
  /** The non-seed axis values. */
  values: Record<string, unknown>;
  label: string;
  ids: string[];
  metrics: Record<string, MeanSe>;
  curves: Record<string, { x: number[]; mean: (number | null)[]; se: (number | null)[] }>;
}

export interface SweepAggregate {
  /** Axes that vary between groups (spec order). */
  axes: string[];
  /** Axes averaged over (seed axes). */
  over: string[];
  metrics: string[];
  groups: SweepGroup[];
  figures: NamedFigure[];
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const slug = (t: string): string =>
  t
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60) || 'x';

/**
 * Mean ± standard error over the seed axes of every metric and curve, per group of the other
 * axes, and the figures drawn from them. `axes` is the sweep's axis names in spec order (default:
 * the keys of the first row's values).
 * @example
 * const agg = aggregateSweep(rows); agg.groups[0].metrics['final training loss']; // { mean, se, n }
 */
export function aggregateSweep(rows: readonly SweepRow[], axes?: readonly string[]): SweepAggregate {
  const names = axes ? [...axes] : Object.keys(rows[0]?.values ?? {});
  const over = seedAxes(names);
  const by = names.filter((n) => !over.includes(n));
  const sorted = [...rows].sort((a, b) => a.index - b.index);
  const metrics: string[] = [];
  for (const r of sorted) for (const k of Object.keys(r.metrics)) if (!metrics.includes(k)) metrics.push(k);

  const groupsByKey = new Map<string, SweepRow[]>();
  for (const r of sorted) {
    const key = JSON.stringify(by.map((n) => r.values[n]));
    const g = groupsByKey.get(key);
    if (g) g.push(r);
    else groupsByKey.set(key, [r]);
  }
  const groups: SweepGroup[] = [...groupsByKey.values()].map((rs) => {
    const values = Object.fromEntries(by.map((n) => [n, rs[0]!.values[n]]));
    const m = Object.fromEntries(metrics.map((k) => [k, meanSe(rs.map((r) => r.metrics[k]))]));
    const curves: SweepGroup['curves'] = {};
    for (const name of Object.keys(rs[0]!.curves)) {
      const x = rs[0]!.curves[name]!.x;
      const same = rs.every((r) => {
        const c = r.curves[name];
        return c !== undefined && c.x.length === x.length && c.x.every((v, i) => v === x[i]);
      });
      if (!same) continue;
      const stats = x.map((_, i) => meanSe(rs.map((r) => r.curves[name]!.y[i])));
      curves[name] = { x: [...x], mean: stats.map((s) => s.mean), se: stats.map((s) => s.se) };
    }
    return {
      values,
      label: by.map((n) => `${n}=${show(values[n])}`).join(' ') || 'all',
      ids: rs.map((r) => r.id),
      metrics: m,
      curves,
    };
  });
  return { axes: by, over, metrics, groups, figures: sweepFigures(by, over, metrics, groups) };
}

/** A mean saved as null (not finite) as NaN, for a chart. */
export const num = (v: number | null): number => (v === null ? NaN : v);

/** One group's curve as a line named `name`, with its ± s.e. band where it has one. */
export function curveLine(name: string, c: SweepGroup['curves'][string]): LineSeries {
  const band = c.se.some((s) => s !== null);
  return {
    name,
    x: c.x,
    y: c.mean.map(num),
    ...(band
      ? {
          lower: c.mean.map((m, i) => num(m) - (c.se[i] ?? 0)),
          upper: c.mean.map((m, i) => num(m) + (c.se[i] ?? 0)),
        }
      : {}),
  };
}

function sweepFigures(by: string[], over: string[], metrics: string[], groups: SweepGroup[]): NamedFigure[] {
  const figures: NamedFigure[] = [];
  const n = over.length ? ` over ${over.join(', ')}` : '';
  const table: TableSpec = {
    kind: 'table',
    title: `Mean ± standard error${n}`,
    columns: [...by, 'n', ...metrics.flatMap((m) => [m, `± ${m}`])],
    rows: groups.map((g) => [
      ...by.map((a): TableCell => {
        const v = g.values[a];
        return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : show(v);
      }),
      Math.max(0, ...Object.values(g.metrics).map((s) => s.n)),
      ...metrics.flatMap((m) => [g.metrics[m]!.mean, g.metrics[m]!.se]),
    ]),
  };
  figures.push({ id: 'aggregate', spec: table });

  // Each curve (error vs L): one series per group, with its band.
  const curveNames: string[] = [];
  for (const g of groups) for (const k of Object.keys(g.curves)) if (!curveNames.includes(k)) curveNames.push(k);
  for (const name of curveNames) {
    const series: LineSeries[] = groups.filter((g) => g.curves[name]).map((g) => curveLine(g.label, g.curves[name]!));
    const spec: LineChartSpec = {
      kind: 'line',
      title: `${name}: error against context length (mean ± s.e.${n})`,
      x: { label: 'context length L' },
      y: { label: 'MSE', scale: 'log' },
      series,
      legend: series.length > 1,
    };
    figures.push({ id: name === 'transformer' ? 'error-vs-L' : `curve-${slug(name)}`, spec });
  }

  // Each metric against each numeric axis: one series per combination of the other axes.
  for (const axis of by) {
    if (!groups.every((g) => typeof g.values[axis] === 'number')) continue;
    if (new Set(groups.map((g) => g.values[axis])).size < 2) continue;
    const others = by.filter((a) => a !== axis);
    for (const m of metrics) {
      const lines = new Map<string, SweepGroup[]>();
      for (const g of groups) {
        const key = others.map((a) => `${a}=${show(g.values[a])}`).join(' ') || m;
        lines.set(key, [...(lines.get(key) ?? []), g]);
      }
      const series: LineSeries[] = [...lines.entries()].map(([key, gs]) => {
        const pts = [...gs].sort((a, b) => (a.values[axis] as number) - (b.values[axis] as number));
        const st = pts.map((g) => g.metrics[m]!);
        const band = st.some((s) => s.se !== null);
        return {
          name: key,
          x: pts.map((g) => g.values[axis] as number),
          y: st.map((s) => num(s.mean)),
          markers: true,
          ...(band
            ? {
                lower: st.map((s) => num(s.mean) - (s.se ?? 0)),
                upper: st.map((s) => num(s.mean) + (s.se ?? 0)),
              }
            : {}),
        };
      });
      if (!series.some((sr) => sr.y.some(Number.isFinite))) continue;
      figures.push({
        id: `${slug(m)}-vs-${slug(axis)}`,
        spec: {
          kind: 'line',
          title: `${m} against ${axis} (mean ± s.e.${n})`,
          x: { label: axis },
          y: { label: m },
          series,
          legend: series.length > 1,
        },
      });
    }
  }
  return figures;
}

/** A metric's mean ± standard error as text: `0.01234 ± 0.0005 (n = 8)`. */
export function formatMeanSe(s: MeanSe): string {
  if (s.mean === null) return '–';
  return `${formatValue(s.mean)}${s.se === null ? '' : ` ± ${formatValue(s.se)}`} (n = ${s.n})`;
}

/**
 * results.csv as a table: one row per point (id, label, axis values, every metric, engine,
 * backend, duration, resumed-from step), in point order.
 */
export function sweepRowsTable(rows: readonly SweepRow[], axes?: readonly string[]): TableSpec {
  const names = axes ? [...axes] : Object.keys(rows[0]?.values ?? {});
  const sorted = [...rows].sort((a, b) => a.index - b.index);
  const metrics: string[] = [];
  for (const r of sorted) for (const k of Object.keys(r.metrics)) if (!metrics.includes(k)) metrics.push(k);
  const cell = (v: unknown): TableCell =>
    v === undefined
      ? null
      : typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null
        ? v
        : show(v);
  return {
    kind: 'table',
    title: 'Sweep points',
    columns: ['id', 'index', 'label', ...names, ...metrics, 'engine', 'backend', 'duration_ms', 'resumed_from'],
    rows: sorted.map((r) => [
      r.id,
      r.index,
      r.label,
      ...names.map((n) => cell(r.values[n])),
      ...metrics.map((m) => cell(r.metrics[m])),
      r.engine,
      r.backend,
      r.durationMs,
      r.resumedFrom,
    ]),
  };
}

/**
 * Reads a sweep folder's results.jsonl (one row per line; blank lines ignored); a line that is not
 * a row is a RangeError naming the line and what is missing.
 */
export function parseSweepRows(text: string): SweepRow[] {
  const rows: SweepRow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new RangeError(`results.jsonl line ${i + 1}: not JSON (${(e as Error).message})`);
    }
    const r = v as Partial<SweepRow> | null;
    const missing = !r || typeof r !== 'object' ? 'an object' : undefined;
    const bad =
      missing ??
      (typeof r!.id !== 'string'
        ? 'id'
        : typeof r!.index !== 'number'
          ? 'index'
          : typeof r!.values !== 'object' || r!.values === null
            ? 'values'
            : typeof r!.metrics !== 'object' || r!.metrics === null
              ? 'metrics'
              : undefined);
    if (bad)
      throw new RangeError(
        `results.jsonl line ${i + 1}: not a sweep row (${bad === 'an object' ? 'must be an object' : `no ${bad}`}); a sweep folder's results.jsonl has one row per point`,
      );
    rows.push({
      curves: {},
      label: '',
      experiment: '',
      engine: null,
      backend: '',
      durationMs: 0,
      resumedFrom: null,
      ...r,
    } as SweepRow);
  });
  if (rows.length === 0) throw new RangeError('results.jsonl: no rows (no point of the sweep has finished yet)');
  return rows;
}

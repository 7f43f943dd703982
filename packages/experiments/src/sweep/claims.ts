/**
 * A sweep's claims: each claim the swept experiment tests (`Experiment.claims`, the theory's number
 * computed for each group's config) beside attnlab's number, the mean ± standard error over the seed
 * axes of the metric that tests it, and the figure the claim rests on. Pure and browser-safe: the
 * CLI writes claims.json and the claims section of a sweep's report from it.
 */
import type { BarChartSpec, LineChartSpec, LineSeries, TableSpec } from '@attnlab/plot';
import type { Claim, NamedFigure } from '../experiment.js';
import { experiments } from '../registry.js';
import {
  curveLine,
  formatMeanSe,
  meanSe,
  num,
  type MeanSe,
  type SweepAggregate,
  type SweepGroup,
} from './aggregate.js';
import type { SweepPoint } from './spec.js';

/** One group's number for one claim: attnlab's (mean ± s.e. over seeds) beside the theory's. */
export interface ClaimRow {
  /** The group's label (`heads=2`, or `all` when only seeds vary). */
  group: string;
  values: Record<string, unknown>;
  metric: string;
  attnlab: MeanSe;
  theory: number | null;
  theoryNote: string;
}

/** The claims of one id over the sweep's groups, and the figure drawn for them. */
export interface ClaimBlock {
  id: string;
  claim: string;
  /** Id of the figure beside the claim (in {@link SweepClaims.figures}), or null when none could be drawn. */
  figure: string | null;
  rows: ClaimRow[];
}

export interface SweepClaims {
  blocks: ClaimBlock[];
  figures: NamedFigure[];
  /** Every row: claim | figure | group | attnlab (mean ± s.e.) | n | theory | the theory's source. */
  table: TableSpec;
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

const sameLine = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/**
 * Lines of one name over the groups: one line when every group has the same values (the estimators,
 * evaluated on the same tasks), else one per group, named by it.
 */
function linesOf(name: string, per: { label: string; line: LineSeries }[]): LineSeries[] {
  if (per.length === 0) return [];
  if (per.every((p) => sameLine(p.line.x, per[0]!.line.x) && sameLine(p.line.y, per[0]!.line.y)))
    return [{ ...per[0]!.line, name }];
  return per.map((p) => ({ ...p.line, name: `${name}, ${p.label}` }));
}

/** The claim's curves (metricCurves names) of every group, ± s.e. bands, with the theory's curve dashed. */
function curvesFigure(
  block: { claim: string; items: { group: SweepGroup; claim: Claim }[] },
  over: string,
): LineChartSpec | null {
  const { items } = block;
  const names = [...new Set(items.flatMap((it) => it.claim.curves ?? []))];
  const series: LineSeries[] = [];
  for (const name of names)
    series.push(
      ...linesOf(
        name,
        items.flatMap(({ group: g }) => {
          const c = g.curves[name];
          return c ? [{ label: g.label, line: curveLine(name, c) }] : [];
        }),
      ),
    );
  // The theory's curve at the lengths the group's curves were evaluated at.
  const theory = items.flatMap(({ group: g, claim }) => {
    const x = (claim.curves ?? []).map((n) => g.curves[n]?.x).find((v) => v !== undefined);
    return x && claim.theoryCurve
      ? [
          {
            name: claim.theoryCurve.name,
            label: g.label,
            line: { name: '', x, y: x.map(claim.theoryCurve.at), dashed: true },
          },
        ]
      : [];
  });
  for (const name of new Set(theory.map((t) => t.name)))
    series.push(
      ...linesOf(
        name,
        theory.filter((t) => t.name === name),
      ),
    );
  if (series.length === 0) return null;
  return {
    kind: 'line',
    title: `${block.claim} (mean ± s.e.${over})`,
    x: { label: 'context length L' },
    y: { label: 'MSE', scale: 'log' },
    series,
    legend: true,
  };
}

/** The claim's metric against the first numeric axis that varies over its groups, the theory dashed beside it. */
function metricFigure(
  block: { claim: string; items: { group: SweepGroup; claim: Claim; attnlab: MeanSe }[] },
  axes: readonly string[],
  over: string,
): LineChartSpec | BarChartSpec | null {
  const { items } = block;
  const axis = axes.find(
    (a) =>
      items.every((it) => typeof it.group.values[a] === 'number') &&
      new Set(items.map((it) => it.group.values[a])).size >= 2,
  );
  const metrics = [...new Set(items.map((it) => it.claim.metric))];
  const rowLabel = (it: (typeof items)[number]) =>
    `${it.group.label}${metrics.length > 1 ? ` · ${it.claim.metric}` : ''}`;
  if (!axis) {
    // No numeric axis (only seeds vary, or a categorical one): attnlab's bars beside the theory's.
    const withTheory = items.every((it) => it.claim.theory !== null);
    if (!items.some((it) => it.attnlab.mean !== null)) return null;
    return {
      kind: 'bar',
      title: `${block.claim} (mean${over})`,
      categories: items.map(rowLabel),
      groups: [
        { name: 'attnlab', values: items.map((it) => num(it.attnlab.mean)) },
        ...(withTheory ? [{ name: 'theory', values: items.map((it) => it.claim.theory!) }] : []),
      ],
      yLabel: metrics.length === 1 ? metrics[0]! : 'value',
      legend: withTheory,
    };
  }
  const others = axes.filter((a) => a !== axis);
  const lines = new Map<string, typeof items>();
  for (const it of items) {
    const key = [
      ...others.map((a) => `${a}=${show(it.group.values[a])}`),
      ...(metrics.length > 1 ? [it.claim.metric] : []),
    ].join(' ');
    lines.set(key, [...(lines.get(key) ?? []), it]);
  }
  const series: LineSeries[] = [];
  for (const [key, its] of lines) {
    const pts = [...its].sort((a, b) => (a.group.values[axis] as number) - (b.group.values[axis] as number));
    const x = pts.map((p) => p.group.values[axis] as number);
    const band = pts.some((p) => p.attnlab.se !== null);
    series.push({
      name: `attnlab${key ? ` ${key}` : ''}`,
      x,
      y: pts.map((p) => num(p.attnlab.mean)),
      markers: true,
      ...(band
        ? {
            lower: pts.map((p) => num(p.attnlab.mean) - (p.attnlab.se ?? 0)),
            upper: pts.map((p) => num(p.attnlab.mean) + (p.attnlab.se ?? 0)),
          }
        : {}),
    });
    if (pts.some((p) => p.claim.theory !== null))
      series.push({
        name: `theory${key ? ` ${key}` : ''}`,
        x,
        y: pts.map((p) => num(p.claim.theory)),
        markers: true,
        dashed: true,
      });
  }
  if (!series.some((s) => s.y.some(Number.isFinite))) return null;
  return {
    kind: 'line',
    title: `${block.claim} (mean ± s.e.${over})`,
    x: { label: axis },
    y: { label: metrics.length === 1 ? metrics[0]! : 'value' },
    series,
    legend: true,
  };
}

/**
 * The claims of a sweep's experiment for each group (from the config of the group's first point),
 * each beside attnlab's mean ± standard error of the metric that tests it, gathered by claim id
 * into blocks with one figure each. Empty when the experiment states no claims.
 * @example
 * const claims = sweepClaims(aggregateSweep(rows, axes), expandSweep(spec));
 * claims.blocks[0]; // { id: 'mu-sum', claim: 'H ≥ 2: …', figure: 'claim-mu-sum', rows: [{ group: 'heads=2', attnlab, theory: 0, … }] }
 */
export function sweepClaims(
  aggregate: SweepAggregate,
  points: readonly Pick<SweepPoint, 'id' | 'experiment' | 'config'>[],
): SweepClaims {
  const byId = new Map(points.map((p) => [p.id, p]));
  const blocks = new Map<string, { claim: string; items: { group: SweepGroup; claim: Claim; attnlab: MeanSe }[] }>();
  for (const g of aggregate.groups) {
    const p = byId.get(g.ids[0]!);
    const claims = p ? (experiments[p.experiment]?.claims?.(p.config as never) ?? []) : [];
    for (const c of claims) {
      const b = blocks.get(c.id) ?? { claim: c.claim, items: [] };
      b.items.push({ group: g, claim: c, attnlab: g.metrics[c.metric] ?? meanSe([]) });
      blocks.set(c.id, b);
    }
  }
  const over = aggregate.over.length ? ` over ${aggregate.over.join(', ')}` : '';
  const figures: NamedFigure[] = [];
  const out: ClaimBlock[] = [];
  for (const [id, b] of blocks) {
    const spec = b.items.some((it) => it.claim.curves?.length)
      ? curvesFigure(b, over)
      : metricFigure(b, aggregate.axes, over);
    let figure: string | null = null;
    if (spec) {
      // Claims resting on the same picture (the length claims all draw every attention's curve) share it.
      const body = JSON.stringify({ ...spec, title: undefined });
      const twin = figures.find((f) => JSON.stringify({ ...f.spec, title: undefined }) === body);
      if (twin) figure = twin.id;
      else {
        figure = `claim-${id}`;
        figures.push({ id: figure, spec });
      }
    }
    out.push({
      id,
      claim: b.claim,
      figure,
      rows: b.items.map((it) => ({
        group: it.group.label,
        values: it.group.values,
        metric: it.claim.metric,
        attnlab: it.attnlab,
        theory: it.claim.theory,
        theoryNote: it.claim.theoryNote,
      })),
    });
  }
  const table: TableSpec = {
    kind: 'table',
    title: `The paper's claims: attnlab (mean ± s.e.${over}) against the theory`,
    columns: ['claim', 'figure', 'group', 'metric', 'attnlab (mean ± s.e.)', 'n', 'theory', 'theory: source'],
    rows: out.flatMap((b) =>
      b.rows.map((r) => [
        b.claim,
        b.figure,
        r.group,
        r.metric,
        formatMeanSe(r.attnlab),
        r.attnlab.n,
        r.theory,
        r.theoryNote,
      ]),
    ),
  };
  return { blocks: out, figures, table };
}

// The sweep folder: spec.json, index.json (points and their states), points/<id>/ (one run folder
// each), results.jsonl, results.csv, aggregate.json, aggregate.csv, figures/, report.html.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  aggregateSweep,
  canonicalJson,
  expandSweep,
  formatMeanSe,
  formatValue,
  pointId,
  sweepClaims,
  sweepRow,
  sweepRowsTable,
  type ClaimBlock,
  type ExperimentResult,
  type NamedFigure,
  type SweepAggregate,
  type SweepPoint,
  type SweepRow,
} from '@attnlab/experiments';
import { renderSvg, toCsv } from '@attnlab/plot';
import { isConfigError } from '../driver.js';
import { CliError } from '../errors.js';
import { escapeHtml, figureHtml, REPORT_CSS, type RenderedFigure } from '../report.js';
import {
  acquireRunLock,
  atomicWrite,
  fsError,
  LOCK_FILE,
  readJsonFile,
  RESULTS_FILE,
  type ReleaseLock,
} from '../run-folder.js';
import { ATTNLAB_VERSION } from '../version.js';

export const SPEC_FILE = 'spec.json';
export const INDEX_FILE = 'index.json';
const POINTS_DIR = 'points';
const ROWS_FILE = 'results.jsonl';
const ROWS_CSV = 'results.csv';
const AGGREGATE_FILE = 'aggregate.json';
const AGGREGATE_CSV = 'aggregate.csv';
const CLAIMS_FILE = 'claims.json';
const CLAIMS_CSV = 'claims.csv';

export type PointState = 'pending' | 'running' | 'done' | 'failed' | 'interrupted';

interface IndexEntry {
  id: string;
  index: number;
  label: string;
  values: Record<string, unknown>;
  state: PointState;
  /** Why it failed, or who runs it. */
  note?: string;
  updatedAt: string;
}

export interface SweepIndex {
  version: 1;
  /** A hash of the folder's absolute path and the spec: names this sweep's jobs on a queue. */
  sweepId: string;
  experiment: string;
  /** The Redis URL when the points run on a queue. */
  queue?: string;
  createdAt: string;
  points: IndexEntry[];
}

/** A sweep folder opened for running: its spec, points, index and the rows of finished points. */
export interface SweepFolder {
  dir: string;
  spec: Record<string, unknown>;
  points: SweepPoint[];
  index: SweepIndex;
  rows: Map<string, SweepRow>;
  /** Releases the folder's lock (one submitter per sweep folder); also released at exit. */
  release: ReleaseLock;
  /** What the user should know about how the folder was opened (an index rebuilt, …). */
  warnings: string[];
}

const POINT_STATES: readonly PointState[] = ['pending', 'running', 'done', 'failed', 'interrupted'];

/**
 * Why a parsed index.json is not one this version wrote, or undefined when it is. The index is
 * derived state (point states come from the point folders), so a bad one is rebuilt, not trusted.
 */
function indexProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'it is not an object';
  const x = v as Partial<SweepIndex>;
  if (x.version !== 1) return `its version is ${JSON.stringify(x.version)}, not 1`;
  if (typeof x.sweepId !== 'string') return 'it has no sweepId';
  if (x.queue !== undefined && typeof x.queue !== 'string') return 'its queue is not a string';
  if (!Array.isArray(x.points)) return 'its points are not a list';
  const bad = x.points.findIndex(
    (p: Partial<IndexEntry> | null) =>
      typeof p !== 'object' ||
      p === null ||
      typeof p.id !== 'string' ||
      !(POINT_STATES as readonly unknown[]).includes(p.state) ||
      (p.note !== undefined && typeof p.note !== 'string'),
  );
  return bad >= 0 ? `points[${bad}] is not {id, state, …}` : undefined;
}

/**
 * Reads a sweep folder's index.json: the index, or why it cannot be used (unreadable, malformed
 * JSON, or not the shape this version writes), or neither when the folder has none yet.
 */
export function readSweepIndex(dir: string): { index?: SweepIndex; problem?: string } {
  const ip = join(dir, INDEX_FILE);
  if (!existsSync(ip)) return {};
  let v: unknown;
  try {
    v = readJsonFile(ip, 'the sweep index');
  } catch (e) {
    return { problem: (e as Error).message };
  }
  const problem = indexProblem(v);
  return problem ? { problem: `${ip} is corrupt: ${problem}` } : { index: v as SweepIndex };
}

/** Expands a spec, or a one-line error (exit 2) naming the spec file and the field. */
function expandOrExit(spec: unknown, where: string): SweepPoint[] {
  try {
    return expandSweep(spec);
  } catch (e) {
    if (isConfigError(e)) throw new CliError(`${where}: ${e.message}`, 2);
    throw e;
  }
}

export const pointDir = (dir: string, id: string): string => join(dir, POINTS_DIR, id);

/** The finished result in a point's run folder, or undefined when it has not finished. */
export function finishedResult(dir: string): ExperimentResult | undefined {
  const p = join(dir, RESULTS_FILE);
  if (!existsSync(p)) return undefined;
  try {
    const r = JSON.parse(readFileSync(p, 'utf8')) as ExperimentResult;
    return r?.meta?.aborted === false ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the sweep folder, or opens it when it holds the same spec (so the same command started
 * again continues). Point states come from the point folders (a finished results.json is done), so
 * a sweep killed at any moment, even between a point's last write and the index, loses nothing and
 * runs nothing twice to completion.
 */
export function openSweepFolder(
  dir: string,
  spec: Record<string, unknown>,
  where: string,
  command = 'attnlab sweep',
): SweepFolder {
  const points = expandOrExit(spec, where);
  const specPath = join(dir, SPEC_FILE);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fsError(e, dir, 'create the sweep folder');
  }
  // One submitter per sweep folder: a second `sweep`/`resume`/`collect` on it is refused (exit 2).
  const release = acquireRunLock(dir, command);
  const warnings: string[] = [];
  let index: SweepIndex | undefined;
  try {
    if (existsSync(specPath)) {
      const saved = readJsonFile(specPath, 'the sweep spec');
      if (canonicalJson(saved) !== canonicalJson(spec))
        throw new CliError(
          `${dir} holds a different sweep (its ${SPEC_FILE} differs from ${where}); give a new --out folder, or continue that one with: attnlab sweep resume ${dir}`,
          2,
        );
      const read = readSweepIndex(dir);
      index = read.index;
      if (read.problem)
        warnings.push(
          `${read.problem}; rebuilt it from the point folders (finished points are kept; a queue URL it held is not: give --queue again if this sweep ran on one)`,
        );
    } else if (readdirSync(dir).some((f) => f !== LOCK_FILE)) {
      throw new CliError(`--out ${dir} already exists and is not a sweep folder; give a new or empty folder`, 2);
    }
  } catch (e) {
    release();
    throw e;
  }
  const now = new Date().toISOString();
  const old = new Map((index?.points ?? []).map((p) => [p.id, p]));
  const folder: SweepFolder = {
    dir,
    spec,
    points,
    index: {
      version: 1,
      sweepId: index?.sweepId ?? pointId('sweep', { dir: resolve(dir), spec }).slice(0, 10),
      experiment: points[0]!.experiment,
      ...(index?.queue ? { queue: index.queue } : {}),
      createdAt: index?.createdAt ?? now,
      points: points.map((p) => {
        const prev = old.get(p.id);
        return {
          id: p.id,
          index: p.index,
          label: p.label,
          values: p.values,
          state: prev?.state === 'failed' ? 'failed' : 'pending',
          ...(prev?.note && prev.state === 'failed' ? { note: prev.note } : {}),
          updatedAt: prev?.updatedAt ?? now,
        };
      }),
    },
    rows: new Map(),
    release,
    warnings,
  };
  if (!existsSync(specPath)) atomicWrite(specPath, `${JSON.stringify(spec, null, 2)}\n`);
  for (const p of points) {
    const r = finishedResult(pointDir(dir, p.id));
    if (r) markDone(folder, p, r, false);
  }
  saveIndex(folder);
  return folder;
}

/** Reads a sweep folder's spec for `sweep resume|status|collect`. */
export function readSweepSpec(dir: string, command: string): Record<string, unknown> {
  if (!existsSync(join(dir, SPEC_FILE)))
    throw new CliError(`'${command}': ${dir} is not a sweep folder (it has no ${SPEC_FILE})`, 2);
  return readJsonFile(join(dir, SPEC_FILE), 'the sweep spec') as Record<string, unknown>;
}

export function saveIndex(folder: SweepFolder): void {
  atomicWrite(join(folder.dir, INDEX_FILE), `${JSON.stringify(folder.index, null, 2)}\n`);
}

export function setState(folder: SweepFolder, id: string, state: PointState, note?: string, save = true): void {
  const e = folder.index.points.find((p) => p.id === id);
  if (!e) return;
  e.state = state;
  if (note === undefined) delete e.note;
  else e.note = note;
  e.updatedAt = new Date().toISOString();
  if (save) saveIndex(folder);
}

/** Records a finished point: its row, state done, and results.jsonl/results.csv rewritten whole. */
export function markDone(folder: SweepFolder, point: SweepPoint, result: ExperimentResult, save = true): SweepRow {
  const row = sweepRow(point, result);
  folder.rows.set(point.id, row);
  setState(folder, point.id, 'done', undefined, false);
  if (save) {
    writeRows(folder);
    saveIndex(folder);
  }
  return row;
}

const axesOf = (folder: SweepFolder): string[] => Object.keys(folder.points[0]?.values ?? {});

function sortedRows(folder: SweepFolder): SweepRow[] {
  return [...folder.rows.values()].sort((a, b) => a.index - b.index);
}

/** results.jsonl (one JSON row per finished point, in point order) and results.csv. */
function writeRows(folder: SweepFolder): void {
  const rows = sortedRows(folder);
  atomicWrite(join(folder.dir, ROWS_FILE), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  atomicWrite(join(folder.dir, ROWS_CSV), rows.length ? toCsv(sweepRowsTable(rows, axesOf(folder))) : '');
}

export interface SweepCounts {
  total: number;
  done: number;
  pending: number;
  running: number;
  failed: number;
  interrupted: number;
}

export function counts(index: SweepIndex): SweepCounts {
  const c: SweepCounts = { total: index.points.length, done: 0, pending: 0, running: 0, failed: 0, interrupted: 0 };
  for (const p of index.points) c[p.state]++;
  return c;
}

/** A claim beside its figure: the claim, attnlab's mean ± s.e. per group against the theory, the figure. */
function claimHtml(b: ClaimBlock, figure: RenderedFigure | undefined): string {
  const metrics = [...new Set(b.rows.map((r) => r.metric))];
  const rows = b.rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.group)}${metrics.length > 1 ? `<br><small>${escapeHtml(r.metric)}</small>` : ''}</td><td class="num">${escapeHtml(formatMeanSe(r.attnlab))}</td><td class="num">${r.theory === null ? '–' : escapeHtml(formatValue(r.theory))}</td><td>${escapeHtml(r.theoryNote)}</td></tr>`,
    )
    .join('');
  return `<section class="claim" id="claim-${escapeHtml(b.id)}"><div><h3>${escapeHtml(b.claim)}</h3><p class="lead">attnlab's number: ${escapeHtml(metrics.join('; '))}</p><div class="scroll"><table><tr><th>group</th><th>attnlab (mean ± s.e.)</th><th>theory</th><th>the theory's number</th></tr>${rows}</table></div></div>${figure ? figureHtml(figure) : '<p>No figure for this claim.</p>'}</section>`;
}

/** Writes a figure's SVG and CSV under figures/; a figure that cannot be drawn says why in the report. */
function renderFigure(folder: SweepFolder, figure: NamedFigure): RenderedFigure {
  try {
    const svg = renderSvg(figure.spec);
    atomicWrite(join(folder.dir, 'figures', `${figure.id}.svg`), svg);
    atomicWrite(join(folder.dir, 'figures', `${figure.id}.csv`), toCsv(figure.spec));
    return { figure, svg };
  } catch (e) {
    return { figure, error: (e as Error).message };
  }
}

/**
 * aggregate.json/.csv, claims.json/.csv (when the experiment states the paper's claims: each beside
 * its figure in the report), figures/*.svg|.csv and report.html from the finished points.
 */
export function writeAggregate(folder: SweepFolder): { aggregate: SweepAggregate; report: string } {
  writeRows(folder);
  const aggregate = aggregateSweep(sortedRows(folder), axesOf(folder));
  atomicWrite(join(folder.dir, AGGREGATE_FILE), `${JSON.stringify(aggregate, null, 2)}\n`);
  const table = aggregate.figures.find((f) => f.id === 'aggregate');
  atomicWrite(join(folder.dir, AGGREGATE_CSV), table ? toCsv(table.spec) : '');
  const claims = sweepClaims(aggregate, folder.points);
  if (claims.blocks.length) {
    atomicWrite(join(folder.dir, CLAIMS_FILE), `${JSON.stringify(claims, null, 2)}\n`);
    atomicWrite(join(folder.dir, CLAIMS_CSV), toCsv(claims.table));
  }
  const claimFigures = new Map(claims.figures.map((f) => [f.id, renderFigure(folder, f)]));
  const rendered = aggregate.figures.map((figure) => renderFigure(folder, figure));
  const c = counts(folder.index);
  const title = typeof folder.spec.title === 'string' ? folder.spec.title : `Sweep of ${folder.index.experiment}`;
  const main = aggregate.metrics.slice(0, 4);
  const summary = aggregate.groups
    .map(
      (g) =>
        `<tr><td>${escapeHtml(g.label)}</td>${main.map((m) => `<td class="num">${escapeHtml(formatMeanSe(g.metrics[m]!))}</td>`).join('')}</tr>`,
    )
    .join('');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${REPORT_CSS}</style></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
<p class="lead">${c.done} of ${c.total} points done${c.failed ? `, ${c.failed} failed` : ''}; mean ± standard error over ${escapeHtml(aggregate.over.join(', ') || 'nothing (no seed axis)')}. Each point is a run folder under points/.</p>
<div class="meta"><span><b>experiment</b> ${escapeHtml(folder.index.experiment)}</span><span><b>axes</b> ${escapeHtml(axesOf(folder).join(', '))}</span><span><b>attnlab</b> ${escapeHtml(ATTNLAB_VERSION)}</span>${folder.index.queue ? `<span><b>queue</b> ${escapeHtml(folder.index.queue)}</span>` : ''}</div>
${claims.blocks.length ? `<h2>The paper's claims</h2>\n<p class="lead">Each claim beside the figure it rests on: attnlab's number (mean ± standard error over ${escapeHtml(aggregate.over.join(', ') || 'nothing')}) against the theory's, computed for each group's config. claims.json and claims.csv hold the same table.</p>\n${claims.blocks.map((b) => claimHtml(b, b.figure ? claimFigures.get(b.figure) : undefined)).join('\n')}\n` : ''}<h2>Summary</h2>
<div class="scroll"><table><tr><th>group</th>${main.map((m) => `<th>${escapeHtml(m)}</th>`).join('')}</tr>${summary}</table></div>
<h2>Figures</h2>
${rendered.map(figureHtml).join('\n')}
<h2>Spec</h2>
<pre><code>${escapeHtml(JSON.stringify(folder.spec, null, 2))}</code></pre>
</main></body></html>
`;
  const report = join(folder.dir, 'report.html');
  atomicWrite(report, html);
  return { aggregate, report };
}

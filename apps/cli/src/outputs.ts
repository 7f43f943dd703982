// Writes a result into its run folder: results.json, metrics.csv, figures/<id>.svg|.csv, report.html.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Experiment, ExperimentResult } from '@attnlab/experiments';
import { renderSvg, toCsv } from '@attnlab/plot';
import { CliError } from './errors.js';
import { renderReport, type RenderedFigure } from './report.js';
import { atomicWrite, FIGURES_DIR, METRICS_FILE, REPORT_FILE, RESULTS_FILE } from './run-folder.js';
import type { RunFile } from './run-file.js';
import { ATTNLAB_VERSION } from './version.js';

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * metrics.csv: the training series for experiments that train (`heads,step,loss,validation_loss`),
 * otherwise the data of the experiment's main table (its `summary` table, else its first table,
 * else its first figure).
 */
export function metricsCsv(result: ExperimentResult): string {
  if (result.experiment === 'icl-regression') {
    const runs = (
      result.data as {
        runs: {
          heads: number;
          loss: { step: number[]; value: (number | null)[] };
          validation: { step: number[]; value: (number | null)[] };
        }[];
      }
    ).runs;
    const lines = ['heads,step,loss,validation_loss'];
    for (const r of runs) {
      const byStep = new Map<number, [number | null | undefined, number | null | undefined]>();
      r.loss.step.forEach((s, i) => byStep.set(s, [r.loss.value[i], undefined]));
      r.validation.step.forEach((s, i) => byStep.set(s, [byStep.get(s)?.[0], r.validation.value[i]]));
      for (const s of [...byStep.keys()].sort((a, b) => a - b)) {
        const [l, v] = byStep.get(s)!;
        lines.push([r.heads, s, l, v].map(csvCell).join(','));
      }
    }
    return `${lines.join('\n')}\n`;
  }
  const tables = result.figures.filter((f) => f.spec.kind === 'table');
  const main = tables.find((f) => f.id === 'summary') ?? tables[0] ?? result.figures[0];
  return main ? toCsv(main.spec) : '';
}

/** Draws every figure; a figure that cannot be drawn is reported, not fatal. */
export function renderFigures(result: ExperimentResult): RenderedFigure[] {
  return result.figures.map((figure) => {
    try {
      return { figure, svg: renderSvg(figure.spec) };
    } catch (e) {
      return { figure, error: (e as Error).message };
    }
  });
}

export interface WrittenRun {
  report: string;
  figures: number;
  warnings: string[];
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Writes results.json (unless `skipResults`), metrics.csv, figures and report.html into `dir`. */
export function writeRunOutputs(
  dir: string,
  result: ExperimentResult,
  runFile: RunFile,
  exp: Pick<Experiment, 'title' | 'summary'>,
  skipResults = false,
): WrittenRun {
  // Everything stays inside the run folder: no symlinked figures/ or checkpoints/, no figure id with a path in it.
  for (const sub of [FIGURES_DIR, 'checkpoints']) {
    if (isSymlink(join(dir, sub)))
      throw new CliError(
        `${join(dir, sub)} is a symbolic link; attnlab writes only inside the run folder (replace it with a folder)`,
        2,
      );
  }
  for (const f of result.figures) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(f.id) || f.id.length > 200)
      throw new CliError(
        `figure id ${JSON.stringify(f.id.slice(0, 80))} is not a plain file name (letters, digits, '.', '_', '-')`,
        2,
      );
  }
  if (!skipResults) atomicWrite(join(dir, RESULTS_FILE), `${JSON.stringify(result, null, 2)}\n`);
  const warnings: string[] = [];
  const figures = renderFigures(result);
  for (const f of figures) {
    if (f.svg) atomicWrite(join(dir, FIGURES_DIR, `${f.figure.id}.svg`), f.svg);
    else warnings.push(`figure ${f.figure.id} could not be drawn: ${f.error}`);
    try {
      atomicWrite(join(dir, FIGURES_DIR, `${f.figure.id}.csv`), toCsv(f.figure.spec));
    } catch (e) {
      warnings.push(`figure ${f.figure.id}: no CSV: ${(e as Error).message}`);
    }
  }
  try {
    atomicWrite(join(dir, METRICS_FILE), metricsCsv(result));
  } catch (e) {
    warnings.push(`no ${METRICS_FILE}: ${(e as Error).message}`);
  }
  const report = join(dir, REPORT_FILE);
  atomicWrite(
    report,
    renderReport({
      result,
      runFile,
      title: exp.title,
      summary: exp.summary,
      dir,
      figures,
      cliVersion: ATTNLAB_VERSION,
    }),
  );
  return { report, figures: figures.filter((f) => f.svg).length, warnings };
}

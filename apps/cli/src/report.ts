// report.html: one self-contained page (inline CSS and SVG, no scripts, no external URLs).
import type { ExperimentResult, NamedFigure } from '@attnlab/experiments';
import type { RunFile } from './run-file.js';
import { fmt, keyNumbers, type Cell } from './summary.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface RenderedFigure {
  figure: NamedFigure;
  /** The SVG, or undefined when the figure could not be drawn. */
  svg?: string;
  error?: string;
}

export const REPORT_CSS = `
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --soft: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 8px; }
p.lead { color: var(--muted); margin: 0 0 12px; }
.meta { display: flex; flex-wrap: wrap; gap: 6px 18px; color: var(--muted); font-size: 13px; }
.meta b { color: var(--ink); font-weight: 600; }
.banner { margin: 16px 0; padding: 10px 14px; border: 1px solid #d4a72c; background: #fff8c5; border-radius: 6px; }
table { border-collapse: collapse; font-size: 13.5px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; max-width: 100%; }
figure { margin: 0 0 28px; }
figure .svg { overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow: auto; font-size: 12.5px; max-height: 480px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
details summary { cursor: pointer; color: var(--accent); }
.claim { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.3fr); gap: 8px 20px; align-items: start; margin: 0 0 28px; padding-bottom: 12px; border-bottom: 1px solid var(--line); }
@media (max-width: 820px) { .claim { grid-template-columns: minmax(0, 1fr); } }
nav ul { columns: 2; margin: 0; padding-left: 18px; font-size: 13.5px; }
nav a { color: var(--accent); }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
`;

function cellHtml(v: Cell): { text: string; num: boolean } {
  if (v === null || v === undefined) return { text: '–', num: true };
  if (typeof v === 'number') return { text: fmt(v), num: true };
  if (typeof v === 'boolean') return { text: v ? 'yes' : 'no', num: false };
  return { text: v, num: false };
}

/** An HTML table. */
export function htmlTable(columns: readonly string[], rows: readonly Cell[][], caption?: string): string {
  const head = `<tr>${columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = rows
    .map(
      (r) =>
        `<tr>${columns
          .map((_, j) => {
            const c = cellHtml(r[j]);
            return `<td${c.num ? ' class="num"' : ''}>${escapeHtml(c.text)}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  return `<div class="scroll"><table>${caption ? `<caption>${escapeHtml(caption)}</caption>` : ''}<thead>${head}</thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** The SVG markup to inline: without an XML declaration or doctype. */
function inlineSvg(svg: string): string {
  return svg.replace(/^\s*<\?xml[^>]*>\s*/, '').replace(/^\s*<!DOCTYPE[^>]*>\s*/i, '');
}

export function figureHtml(f: RenderedFigure): string {
  const spec = f.figure.spec as { kind: string; title?: string; columns?: string[]; rows?: Cell[][] };
  const id = `fig-${escapeHtml(f.figure.id)}`;
  const files = `figures/${f.figure.id}.svg · figures/${f.figure.id}.csv`;
  if (spec.kind === 'table' && spec.columns && spec.rows) {
    return `<figure id="${id}"><h3>${escapeHtml(spec.title ?? f.figure.id)}</h3>${htmlTable(spec.columns, spec.rows)}<figcaption>${escapeHtml(files)}</figcaption></figure>`;
  }
  if (!f.svg)
    return `<figure id="${id}"><h3>${escapeHtml(spec.title ?? f.figure.id)}</h3><p>This figure could not be drawn: ${escapeHtml(f.error ?? 'unknown error')}</p></figure>`;
  return `<figure id="${id}"><div class="svg">${inlineSvg(f.svg)}</div><figcaption>${escapeHtml(files)}</figcaption></figure>`;
}

export interface ReportInput {
  result: ExperimentResult;
  runFile: RunFile;
  title: string;
  summary: string;
  dir: string;
  figures: RenderedFigure[];
  cliVersion: string;
}

/** The report page. */
export function renderReport(r: ReportInput): string {
  const { result, runFile } = r;
  const prov = runFile.provenance;
  const seed = (result.config as { seed?: unknown }).seed;
  const meta: [string, string][] = [
    ['experiment', result.experiment],
    ['preset', runFile.preset ?? 'quick'],
    ...(typeof seed === 'number' ? [['seed', String(seed)] as [string, string]] : []),
    ['backend', result.meta.backend],
    ['started', result.meta.startedAt],
    ['duration', `${(result.meta.durationMs / 1000).toFixed(1)} s`],
    ['attnlab', `${r.cliVersion} (experiments ${result.meta.versions.attnlab})`],
    ['tfjs-core', result.meta.versions.tfjsCore],
    ...(prov ? [['node', prov.versions.node] as [string, string]] : []),
  ];
  const title = `${r.title} · attnlab`;
  const toc = r.figures
    .map((f) => {
      const t = (f.figure.spec as { title?: string }).title ?? f.figure.id;
      return `<li><a href="#fig-${escapeHtml(f.figure.id)}">${escapeHtml(t)}</a></li>`;
    })
    .join('');
  const banner = result.meta.aborted
    ? `<div class="banner" role="status"><b>Interrupted.</b> This report shows the run up to its last checkpoint. Continue it with <code>attnlab resume ${escapeHtml(r.dir)}</code>.</div>`
    : '';
  const bad = result.meta.nonFinite ?? [];
  const nonFinite =
    bad.length > 0
      ? `<div class="banner" role="alert"><b>Not finite.</b> Some results are NaN or ±∞ (written as null in results.json; blank or absent in figures), e.g. ${bad
          .slice(0, 5)
          .map((b) => `<code>${escapeHtml(b.path)}</code> = ${escapeHtml(b.value)}`)
          .join(
            ', ',
          )}${bad.length > 5 ? ', …' : ''}. The run diverged or overflowed: check its learning rate and sizes.</div>`
      : '';
  const command = prov ? `attnlab ${prov.command}` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="attnlab ${escapeHtml(r.cliVersion)}">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(r.title)}</h1>
<p class="lead">${escapeHtml(r.summary)}</p>
<div class="meta">${meta.map(([k, v]) => `<span>${escapeHtml(k)} <b>${escapeHtml(v)}</b></span>`).join('')}</div>
</header>
${banner}
${nonFinite}
<section aria-labelledby="key">
<h2 id="key">Key numbers</h2>
${htmlTable(['quantity', 'value'], keyNumbers(result))}
</section>
<section aria-labelledby="figs">
<h2 id="figs">Figures</h2>
<nav aria-label="figures"><ul>${toc}</ul></nav>
${r.figures.map(figureHtml).join('\n')}
</section>
<section aria-labelledby="cfg">
<h2 id="cfg">Config</h2>
<p>Run again with <code>attnlab run ${escapeHtml(r.dir)}/config.json --out &lt;new folder&gt;</code>${command ? `; made by <code>${escapeHtml(command)}</code>` : ''}.</p>
<details open><summary>resolved config (${escapeHtml(result.experiment)})</summary>
<pre><code>${escapeHtml(JSON.stringify(result.config, null, 2))}</code></pre>
</details>
</section>
<footer>Run folder <code>${escapeHtml(r.dir)}</code>: config.json, results.json, metrics.csv, figures/*.svg and *.csv, checkpoints/. Written by attnlab ${escapeHtml(r.cliVersion)}.</footer>
</main>
</body>
</html>
`;
}

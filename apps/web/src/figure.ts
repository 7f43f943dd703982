import { renderSvg, toCsv, type FigureSpec, type TableSpec } from '@attnlab/plot';
import { button, download, downloadBlob, fmtSig, h } from './dom.js';
import { accessibleHeatmap } from './heatmap.js';

/** Rasterises an SVG document to PNG through an <img> and a canvas (no server, no dependency). */
export async function svgToPng(svg: string, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const match = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
    const w = Math.ceil(Number(match?.[1] ?? img.naturalWidth) || 300);
    const hgt = Math.ceil(Number(match?.[2] ?? img.naturalHeight) || 150);
    const canvas = document.createElement('canvas');
    canvas.width = w * scale;
    canvas.height = hgt * scale;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('svgToPng: no 2D canvas context');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, w, hgt);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('svgToPng: canvas.toBlob gave nothing'))), 'image/png'),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The `<desc>` summary plot writes into every SVG: the text a screen reader gets. */
function svgSummary(svg: string): string {
  const m = /<desc[^>]*>([\s\S]*?)<\/desc>/.exec(svg);
  if (!m) return '';
  const t = document.createElement('textarea');
  t.innerHTML = m[1]!; // decode the XML entities plot wrote
  return t.value;
}

function htmlTable(spec: TableSpec): HTMLTableElement {
  return h(
    'table',
    { class: 'numbers figure-table' },
    spec.title ? h('caption', {}, spec.title) : null,
    h('thead', {}, h('tr', {}, ...spec.columns.map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      ...spec.rows.map((row) =>
        h(
          'tr',
          {},
          ...row.map((v, j) => {
            const text = typeof v === 'number' ? fmtSig(v) : v === null ? '—' : String(v);
            return j === 0
              ? h('th', { scope: 'row' }, text)
              : h('td', typeof v === 'number' ? { 'data-value': String(v) } : {}, text);
          }),
        ),
      ),
    ),
  );
}

export interface FigurePanel {
  el: HTMLElement;
  /** Redraws with a new spec (and data for the JSON export). */
  update(spec: FigureSpec, data?: unknown): void;
}

/**
 * A figure with its exports: PNG (the SVG rasterised), SVG and CSV (from @attnlab/plot), JSON (the
 * data behind it, or the spec). Heatmaps are keyboard navigable; tables are real HTML tables; every
 * figure carries plot's text summary for screen readers.
 */
export function figurePanel(id: string, spec: FigureSpec, opts: { file?: string; data?: unknown } = {}): FigurePanel {
  const body = h('div', { class: 'figure-body' });
  const summary = h('p', { class: 'summary', id: `${id}-summary` });
  const el = h('section', { class: 'fig-panel', 'data-figure': id, 'aria-describedby': summary.id });
  let current = spec;
  let data = opts.data;
  let svg = '';
  const file = opts.file ?? id;
  const draw = (): void => {
    svg = renderSvg(current);
    if (current.kind === 'heatmap' || current.kind === 'heatmap-grid')
      body.replaceChildren(accessibleHeatmap(current, `${id}-heatmap`, svg));
    else if (current.kind === 'table') body.replaceChildren(htmlTable(current));
    else {
      const div = h('div', { class: 'chart' });
      div.innerHTML = svg; // plot escapes all text
      body.replaceChildren(div);
    }
    summary.textContent =
      current.kind === 'table'
        ? `Table with ${current.rows.length} rows: ${current.columns.join(', ')}.`
        : svgSummary(svg);
  };
  const status = h('span', { class: 'export-status', 'aria-live': 'polite' });
  const exports = h(
    'div',
    { class: 'exports', role: 'group', 'aria-label': `Export ${current.title ?? id}` },
    h('span', { class: 'muted' }, 'Export'),
    button(
      'PNG',
      () => {
        status.textContent = '';
        svgToPng(svg).then(
          (b) => downloadBlob(`${file}.png`, b),
          (e: Error) => {
            status.textContent = e.message;
          },
        );
      },
      { 'data-export': 'png' },
    ),
    button('SVG', () => download(`${file}.svg`, svg, 'image/svg+xml'), { 'data-export': 'svg' }),
    button('CSV', () => download(`${file}.csv`, toCsv(current), 'text/csv'), { 'data-export': 'csv' }),
    button('JSON', () => download(`${file}.json`, JSON.stringify(data ?? current, null, 1), 'application/json'), {
      'data-export': 'json',
    }),
    status,
  );
  el.append(body, summary, exports);
  draw();
  return {
    el,
    update(next, nextData) {
      current = next;
      if (nextData !== undefined) data = nextData;
      draw();
    },
  };
}

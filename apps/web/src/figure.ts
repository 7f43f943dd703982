import {
  renderSvg,
  toCsv,
  type FigureSpec,
  type HeatmapGridSpec,
  type HeatmapSpec,
  type TableSpec,
} from '@attnlab/plot';
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

/** Below this width (px) a figure is laid out for the space it has (a phone), above it as designed. */
const FIT_BELOW = 640;

/** The width in px a figure panel's body has (its own, once on the page; else the page's less its padding). */
function availableWidth(body: HTMLElement): number {
  if (body.isConnected && body.clientWidth > 0) return body.clientWidth;
  const main = document.getElementById('main');
  return Math.max(240, (main?.clientWidth ?? window.innerWidth) - 48 - 26);
}

const svgWidth = (svg: string): number => Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1] ?? 0);

/** The smallest heatmap cell (px) a phone gets before a grid goes to one panel a row. */
const MIN_CELL = 8;

/**
 * The spec as drawn on screen in `width` px: as designed when it fits; narrower otherwise, so its
 * text keeps its size instead of being scaled down to 6–8 px: a chart gets the width, a heatmap
 * smaller cells (the plot leaves out digits that would not fit them), a grid two panels a row (one
 * when two would leave cells under 8 px); the
 * title moves out of the SVG (the panel shows it as text, which wraps). Exports keep the design.
 */
export function fitSpec(spec: FigureSpec, width: number): FigureSpec {
  if (width >= FIT_BELOW || spec.kind === 'table') return spec;
  const { title: _t, ...untitled } = spec;
  if (spec.kind === 'line' || spec.kind === 'bar')
    return { ...untitled, width: Math.max(240, Math.min(spec.width ?? 640, Math.floor(width))) };
  // A grid two panels a row, or one when two would leave cells too small to see.
  const layouts: (HeatmapSpec | HeatmapGridSpec)[] =
    spec.kind === 'heatmap-grid'
      ? [...new Set([Math.min(2, spec.panels.length), 1])].map(
          (columns) => ({ ...untitled, columns }) as HeatmapGridSpec,
        )
      : [untitled as HeatmapSpec];
  let fitted: HeatmapSpec | HeatmapGridSpec = layouts[0]!;
  for (const base of layouts) {
    if (svgWidth(renderSvg(base)) <= width) return base;
    // The largest cell size that fits (the width grows with it).
    let lo = 3;
    // One panel a row: cells up to 24 px, so a grid of six stays a few screens long.
    let hi = base.kind === 'heatmap-grid' && base.columns === 1 ? 24 : 48;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (svgWidth(renderSvg({ ...base, cellSize: mid })) <= width) lo = mid;
      else hi = mid - 1;
    }
    fitted = { ...base, cellSize: lo };
    if (lo >= MIN_CELL) break;
  }
  return fitted;
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
  const caption = h('p', { class: 'fig-title', hidden: true });
  const summary = h('p', { class: 'summary', id: `${id}-summary` });
  const el = h('section', { class: 'fig-panel', 'data-figure': id, 'aria-describedby': summary.id });
  let current = spec;
  let data = opts.data;
  let svg = '';
  let drawnWidth = 0;
  const file = opts.file ?? id;
  const draw = (): void => {
    svg = renderSvg(current);
    drawnWidth = availableWidth(body);
    const shown = fitSpec(current, drawnWidth);
    const screenSvg = shown === current ? svg : renderSvg(shown);
    const moved = shown !== current && current.kind !== 'table' && current.title ? current.title : '';
    caption.textContent = moved;
    caption.hidden = !moved;
    if (shown.kind === 'heatmap' || shown.kind === 'heatmap-grid')
      body.replaceChildren(accessibleHeatmap(shown, `${id}-heatmap`, screenSvg, current.title));
    else if (shown.kind === 'table') {
      // A wide table scrolls inside its panel; the scrolling box is a tab stop with a name (keyboard users reach it).
      const wrap = h('div', {
        class: 'table-scroll',
        tabindex: '0',
        role: 'region',
        'aria-label': current.title ?? 'table',
      });
      wrap.append(htmlTable(shown));
      body.replaceChildren(wrap);
    } else {
      const div = h('div', { class: 'chart' });
      div.innerHTML = screenSvg; // plot escapes all text
      body.replaceChildren(div);
    }
    // The SVG's accessible name stays the figure's title when the drawn title moved out of it.
    const name = moved ? body.querySelector('svg > title') : null;
    if (name) name.textContent = moved;
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
  el.append(caption, body, summary, exports);
  draw();
  // Drawn again for the width it gets once on the page, and when that changes (a phone turned).
  if (typeof ResizeObserver === 'function') {
    let pending = 0;
    new ResizeObserver(() => {
      if (pending) return;
      pending = requestAnimationFrame(() => {
        pending = 0;
        const w = availableWidth(body);
        if (Math.abs(w - drawnWidth) > 8 && (w < FIT_BELOW || drawnWidth < FIT_BELOW)) draw();
      });
    }).observe(body);
  }
  return {
    el,
    update(next, nextData) {
      current = next;
      if (nextData !== undefined) data = nextData;
      draw();
    },
  };
}

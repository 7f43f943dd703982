import { renderSvg, type HeatmapGridSpec, type HeatmapSpec } from '@attnlab/plot';
import { h } from './dom.js';

/**
 * An accessible heatmap (one matrix or a grid of panels): the SVG from @attnlab/plot, every cell
 * focusable (roving tabindex), arrow keys / Home / End to move within a panel, PageUp / PageDown
 * to move between panels, and a live readout of the focused cell.
 */
export function accessibleHeatmap(
  spec: HeatmapSpec | HeatmapGridSpec,
  id: string,
  svg = renderSvg(spec),
  title = spec.title,
): HTMLElement {
  const readout = h(
    'p',
    { class: 'readout', id: `${id}-readout`, 'aria-live': 'polite' },
    'Focus the heatmap and use the arrow keys to read values.',
  );
  const panels = spec.kind === 'heatmap' ? [spec] : spec.panels;
  const dims = panels.map((p) => `${p.values.length} by ${p.values[0]?.length ?? 0}`);
  const what =
    panels.length > 1
      ? `${panels.length} panels of ${dims[0]} cells (PageUp/PageDown switch panels)`
      : `${dims[0]} cells`;
  const figure = h('div', {
    class: 'heatmap',
    id,
    role: 'group',
    'aria-label': `${title ?? 'heatmap'}: ${what}`,
    'aria-describedby': readout.id,
  });
  // renderSvg escapes every piece of text, so its output is safe to insert as markup.
  figure.innerHTML = svg;
  const cells: SVGRectElement[][][] = panels.map((p) => Array.from({ length: p.values.length }, () => []));
  let first = true;
  figure.querySelectorAll<SVGRectElement>('rect.cell').forEach((r) => {
    const p = Number(r.closest('g.panel')?.getAttribute('data-panel') ?? '0');
    const i = Number(r.dataset.row);
    const j = Number(r.dataset.col);
    const grid = cells[p];
    if (!grid?.[i]) return;
    grid[i]![j] = r;
    const label = r.querySelector('title')?.textContent ?? '';
    const panelTitle = panels.length > 1 ? `${panels[p]?.title ?? `panel ${p + 1}`}, ` : '';
    r.setAttribute('tabindex', first ? '0' : '-1');
    first = false;
    r.setAttribute('role', 'img');
    r.setAttribute('aria-label', panelTitle + label);
    r.addEventListener('focus', () => {
      readout.textContent = panelTitle + label.replace('→', 'attends to');
      figure.dataset.active = `${p},${i},${j}`;
    });
    r.addEventListener('click', () => r.focus());
  });
  figure.addEventListener('keydown', (e) => {
    const [p, i, j] = (figure.dataset.active ?? '0,0,0').split(',').map(Number) as [number, number, number];
    const rows = cells[p]?.length ?? 0;
    const cols = cells[p]?.[0]?.length ?? 0;
    const move: Record<string, [number, number, number]> = {
      ArrowUp: [p, Math.max(0, i - 1), j],
      ArrowDown: [p, Math.min(rows - 1, i + 1), j],
      ArrowLeft: [p, i, Math.max(0, j - 1)],
      ArrowRight: [p, i, Math.min(cols - 1, j + 1)],
      Home: [p, i, 0],
      End: [p, i, cols - 1],
      PageUp: [Math.max(0, p - 1), 0, 0],
      PageDown: [Math.min(cells.length - 1, p + 1), 0, 0],
    };
    const to = move[e.key];
    if (!to) return;
    e.preventDefault();
    const prev = cells[p]?.[i]?.[j];
    const next = cells[to[0]]?.[to[1]]?.[to[2]];
    if (!next) return;
    prev?.setAttribute('tabindex', '-1');
    next.setAttribute('tabindex', '0');
    next.focus();
  });
  return h('div', { class: 'heatmap-block' }, figure, readout);
}

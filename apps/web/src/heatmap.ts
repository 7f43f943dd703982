import { renderSvg, type HeatmapSpec } from '@attnlab/plot';
import { h } from './dom.js';

/**
 * An accessible heatmap: the SVG from @attnlab/plot, with every cell focusable (roving tabindex),
 * arrow keys / Home / End to move, and a live readout of the focused cell.
 */
export function accessibleHeatmap(spec: HeatmapSpec, id: string): HTMLElement {
  const readout = h('p', { class: 'readout', id: `${id}-readout`, 'aria-live': 'polite' }, 'Focus the heatmap and use the arrow keys to read values.');
  const figure = h('div', { class: 'heatmap', id, role: 'group', 'aria-label': `${spec.title ?? 'heatmap'}: ${spec.values.length} by ${spec.values[0]?.length ?? 0} cells`, 'aria-describedby': readout.id });
  // renderSvg escapes every piece of text, so its output is safe to insert as markup.
  figure.innerHTML = renderSvg(spec);
  const rows = spec.values.length;
  const cols = spec.values[0]?.length ?? 0;
  const cells: SVGRectElement[][] = Array.from({ length: rows }, () => []);
  figure.querySelectorAll<SVGRectElement>('rect.cell').forEach((r) => {
    const i = Number(r.dataset.row);
    const j = Number(r.dataset.col);
    cells[i]![j] = r;
    const label = r.querySelector('title')?.textContent ?? '';
    r.setAttribute('tabindex', i === 0 && j === 0 ? '0' : '-1');
    r.setAttribute('role', 'img');
    r.setAttribute('aria-label', label);
    r.addEventListener('focus', () => {
      readout.textContent = label.replace('→', 'attends to');
      figure.dataset.active = `${i},${j}`;
    });
    r.addEventListener('click', () => r.focus());
  });
  figure.addEventListener('keydown', (e) => {
    const [i, j] = (figure.dataset.active ?? '0,0').split(',').map(Number) as [number, number];
    const move: Record<string, [number, number]> = {
      ArrowUp: [Math.max(0, i - 1), j],
      ArrowDown: [Math.min(rows - 1, i + 1), j],
      ArrowLeft: [i, Math.max(0, j - 1)],
      ArrowRight: [i, Math.min(cols - 1, j + 1)],
      Home: [i, 0],
      End: [i, cols - 1],
    };
    const to = move[e.key];
    if (!to) return;
    e.preventDefault();
    const prev = cells[i]?.[j];
    const next = cells[to[0]]?.[to[1]];
    if (!next) return;
    prev?.setAttribute('tabindex', '-1');
    next.setAttribute('tabindex', '0');
    next.focus();
  });
  return h('div', { class: 'heatmap-block' }, figure, readout);
}

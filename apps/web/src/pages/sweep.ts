import { aggregateSweep, formatMeanSe, parseSweepRows } from '@attnlab/experiments';
import { h } from '../dom.js';
import { figurePanel } from '../figure.js';
import type { Page } from '../router.js';

/**
 * A sweep's results: load the results.jsonl of a sweep folder (`attnlab sweep`) with the file
 * picker or by dropping it on the page, and see the same aggregates and figures as its report
 * (mean ± standard error over seeds), from the same functions.
 */
export const sweepPage: Page = {
  path: 'sweep',
  title: 'Sweep results',
  render(root: HTMLElement): void {
    const input = h('input', { id: 'sweep-file', type: 'file', accept: '.jsonl,.json,application/json,text/plain' });
    const status = h('p', { class: 'muted', id: 'sweep-status', 'aria-live': 'polite' }, 'No sweep loaded yet.');
    const out = h('div', { id: 'sweep-figures' });
    const drop = h(
      'div',
      { class: 'drop-zone', id: 'sweep-drop', tabindex: '0' },
      h('label', { for: 'sweep-file' }, 'results.jsonl of a sweep folder: '),
      input,
      h('span', { class: 'muted' }, ' or drop the file here.'),
    );
    const show = (name: string, text: string): void => {
      try {
        const rows = parseSweepRows(text);
        const agg = aggregateSweep(rows);
        const first = agg.metrics[0];
        status.textContent = `${name}: ${rows.length} points, ${agg.groups.length} groups over ${agg.axes.join(', ') || 'nothing'}; mean ± standard error over ${agg.over.join(', ') || 'nothing (no seed axis)'}.${first ? ` ${first}: ${agg.groups.map((g) => `${g.label} ${formatMeanSe(g.metrics[first]!)}`).join('; ')}.` : ''}`;
        status.classList.remove('error');
        out.replaceChildren(
          ...agg.figures.map((f) => figurePanel(`sweep-${f.id}`, f.spec, { file: `sweep-${f.id}` }).el),
        );
        out.dataset.loaded = String(rows.length);
      } catch (e) {
        status.textContent = `${name}: ${(e as Error).message}`;
        status.classList.add('error');
        out.replaceChildren();
      }
    };
    input.addEventListener('change', () => {
      const f = input.files?.[0];
      if (f) void f.text().then((t) => show(f.name, t));
    });
    drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      const f = e.dataTransfer?.files[0];
      if (f) void f.text().then((t) => show(f.name, t));
    });
    root.append(
      h('h1', {}, 'Sweep results'),
      h(
        'p',
        { class: 'lead' },
        'A sweep (attnlab sweep spec.json) writes one row per point to results.jsonl. Load it to see the mean ± standard error over seeds of every metric, the error against context length per group with bands, and each metric against each axis.',
      ),
      drop,
      status,
      out,
    );
    root.dataset.ready = 'true';
  },
};

import { divergingColor, luminance, sequentialColor } from '@attnlab/plot';
import { h } from '../dom.js';

/** 'weights': sequential colours on [0, 1]; 'signed': blue–white–red around 0, scaled to the largest |value|. */
export type MatrixScale = 'weights' | 'signed';

export interface MatrixViewOptions {
  /** Names the matrix for tests and links (`data-matrix`). */
  name: string;
  title: string;
  rowLabels: string[];
  colLabels: string[];
  scale: MatrixScale;
  /** What one cell is, for its accessible label: (row, column, value text) → text. */
  describe?: (i: number, j: number, value: string) => string;
  /** Called when a cell is hovered or focused, and with null when it is left. */
  onCell?: (cell: { i: number; j: number } | null) => void;
  /** Numbers in the cells (default true). */
  numbers?: boolean;
}

/** Short numbers for cells: real minus sign, fewer decimals for larger values, −∞ for masked scores. */
export function cellText(v: number): string {
  if (v === -Infinity) return '−∞';
  if (!Number.isFinite(v)) return 'NaN';
  const a = Math.abs(v);
  const s = a >= 99.5 ? v.toFixed(0) : a >= 9.95 ? v.toFixed(1) : v.toFixed(2);
  return s === '-0.00' || s === '-0.0' || s === '-0' ? s.slice(1) : s.replace('-', '−');
}

/**
 * A matrix as a table whose cells are coloured by value. Updating keeps the cells, so colours and
 * numbers change in place (and animate through CSS transitions). One tab stop per matrix; arrow
 * keys move between cells; hover or focus reports the cell to `onCell`.
 */
export class MatrixView {
  readonly el: HTMLElement;
  private readonly cells: HTMLTableCellElement[][] = [];
  private readonly rowHeads: HTMLTableCellElement[] = [];
  private readonly colHeads: HTMLTableCellElement[] = [];
  private readonly caption: HTMLElement;
  private values: number[][] = [];

  constructor(private readonly o: MatrixViewOptions) {
    this.caption = h('figcaption', {}, o.title);
    const corner = h('td', { class: 'mx-corner' });
    const headRow = h('tr', {}, corner);
    o.colLabels.forEach((c) => {
      const th = h('th', { scope: 'col' }, c);
      this.colHeads.push(th);
      headRow.append(th);
    });
    const body = h('tbody');
    o.rowLabels.forEach((r, i) => {
      const th = h('th', { scope: 'row' }, r);
      this.rowHeads.push(th);
      const tr = h('tr', {}, th);
      this.cells[i] = o.colLabels.map((_, j) => {
        const td = h('td', {
          class: 'mx-cell',
          'data-row': String(i),
          'data-col': String(j),
          tabindex: i === 0 && j === 0 ? '0' : '-1',
        });
        td.addEventListener('mouseenter', () => o.onCell?.({ i, j }));
        td.addEventListener('mouseleave', () => o.onCell?.(null));
        td.addEventListener('focus', () => o.onCell?.({ i, j }));
        td.addEventListener('blur', () => o.onCell?.(null));
        tr.append(td);
        return td;
      });
      body.append(tr);
    });
    const table = h(
      'table',
      { class: `mx-table${o.numbers === false ? ' mx-nonum' : ''}` },
      h('thead', {}, headRow),
      body,
    );
    table.addEventListener('keydown', (e) => this.key(e));
    this.el = h(
      'figure',
      { class: 'mx', 'data-matrix': o.name, 'data-rows': String(o.rowLabels.length) },
      this.caption,
      table,
    );
  }

  /** Whether this view can show a matrix of this shape and labels without rebuilding. */
  fits(rowLabels: string[], colLabels: string[]): boolean {
    return (
      rowLabels.join('\u0000') === this.o.rowLabels.join('\u0000') &&
      colLabels.join('\u0000') === this.o.colLabels.join('\u0000')
    );
  }

  setTitle(title: string): void {
    this.caption.textContent = title;
  }

  /** The numbers now shown (−∞ kept). */
  get current(): number[][] {
    return this.values;
  }

  /** Shows new numbers; `hidden` marks cells the mask removed (hatched; −∞ scores are hatched anyway). */
  update(values: number[][], hidden?: boolean[][]): void {
    this.values = values;
    let max = 0;
    for (const r of values) for (const v of r) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
    this.el.dataset.max = String(max);
    values.forEach((row, i) =>
      row.forEach((v, j) => {
        const td = this.cells[i]?.[j];
        if (!td) return;
        const text = cellText(v);
        td.dataset.value = String(v);
        const masked = v === -Infinity || hidden?.[i]?.[j] === true;
        td.classList.toggle('mx-masked', masked);
        if (masked) {
          td.style.removeProperty('background-color');
          td.style.removeProperty('color');
        } else {
          const bg =
            this.o.scale === 'weights'
              ? sequentialColor(Math.min(1, Math.max(0, v)))
              : divergingColor(max > 0 ? 0.5 + (0.5 * v) / max : 0.5);
          td.style.backgroundColor = bg;
          // Black or white text, whichever contrasts more with the cell (WCAG relative luminance).
          const l = luminance(bg);
          td.style.color = (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000' : '#fff';
        }
        td.textContent = this.o.numbers === false ? '' : text;
        const label = this.o.describe
          ? this.o.describe(i, j, text)
          : `${this.o.rowLabels[i]}, ${this.o.colLabels[j]}: ${text}`;
        td.setAttribute('aria-label', label);
        td.title = label;
      }),
    );
  }

  /** Marks rows and columns (the cells that produce another matrix's cell); null clears. */
  highlight(rows: number[] | null, cols: number[] | null): void {
    const rs = new Set(rows ?? []);
    const cs = new Set(cols ?? []);
    this.cells.forEach((row, i) =>
      row.forEach((td, j) => {
        td.classList.toggle('mx-hl-row', rs.has(i));
        td.classList.toggle('mx-hl-col', cs.has(j));
      }),
    );
    this.rowHeads.forEach((th, i) => th.classList.toggle('mx-hl', rs.has(i)));
    this.colHeads.forEach((th, j) => th.classList.toggle('mx-hl', cs.has(j)));
    this.el.classList.toggle('mx-source', rs.size > 0 || cs.size > 0);
  }

  private key(e: KeyboardEvent): void {
    const td = (e.target as HTMLElement).closest('td.mx-cell');
    if (!(td instanceof HTMLTableCellElement)) return;
    const i = Number(td.dataset.row);
    const j = Number(td.dataset.col);
    const rows = this.cells.length;
    const cols = this.cells[0]?.length ?? 0;
    const to: Record<string, [number, number]> = {
      ArrowUp: [Math.max(0, i - 1), j],
      ArrowDown: [Math.min(rows - 1, i + 1), j],
      ArrowLeft: [i, Math.max(0, j - 1)],
      ArrowRight: [i, Math.min(cols - 1, j + 1)],
      Home: [i, 0],
      End: [i, cols - 1],
    };
    const next = to[e.key];
    if (!next) return;
    e.preventDefault();
    const cell = this.cells[next[0]]?.[next[1]];
    if (!cell) return;
    td.setAttribute('tabindex', '-1');
    cell.setAttribute('tabindex', '0');
    cell.focus();
  }
}

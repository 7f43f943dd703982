import type { FigureSpec, HeatmapPanel, TableCell } from './types.js';
import { validateFigure } from './validate.js';

function field(v: TableCell | undefined): string {
  if (v === null || v === undefined) return '';
  // Numbers keep full precision (shortest round-trip form) so a CSV reads back exactly.
  const s = typeof v === 'number' ? (Number.isNaN(v) ? 'NaN' : String(v)) : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function lines(rows: TableCell[][]): string {
  return rows.map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

function panelRows(p: HeatmapPanel, prefix: TableCell[]): TableCell[][] {
  const out: TableCell[][] = [];
  p.values.forEach((row, i) =>
    row.forEach((v, j) => {
      const masked = Boolean(p.masked?.[i]?.[j]);
      out.push([...prefix, i, j, p.rowLabels?.[i] ?? null, p.colLabels?.[j] ?? null, v, masked]);
    }),
  );
  return out;
}

/**
 * The data behind a figure as RFC 4180 CSV (CRLF line ends, header row, tidy long format):
 * line `series,x,y[,lower,upper]`; heatmap `row,col,row_label,col_label,value,masked`;
 * heatmap-grid adds `panel,panel_title` in front; bar `category,group,value`; table as is.
 * Numbers are written in full precision.
 *
 * @example
 * toCsv({ kind: 'bar', categories: ['a'], groups: [{ name: 'g', values: [1.5] }] }); // 'category,group,value\r\na,g,1.5\r\n'
 */
export function toCsv(spec: FigureSpec): string {
  validateFigure(spec, 'toCsv');
  switch (spec.kind) {
    case 'line': {
      const band = spec.series.some((s) => s.lower);
      const rows: TableCell[][] = [band ? ['series', 'x', 'y', 'lower', 'upper'] : ['series', 'x', 'y']];
      for (const s of spec.series) {
        s.x.forEach((x, k) =>
          rows.push(band ? [s.name, x, s.y[k]!, s.lower?.[k] ?? null, s.upper?.[k] ?? null] : [s.name, x, s.y[k]!]),
        );
      }
      return lines(rows);
    }
    case 'heatmap':
      return lines([['row', 'col', 'row_label', 'col_label', 'value', 'masked'], ...panelRows(spec, [])]);
    case 'heatmap-grid':
      return lines([
        ['panel', 'panel_title', 'row', 'col', 'row_label', 'col_label', 'value', 'masked'],
        ...spec.panels.flatMap((p, k) => panelRows(p, [k, p.title ?? null])),
      ]);
    case 'bar': {
      const rows: TableCell[][] = [['category', 'group', 'value']];
      spec.categories.forEach((c, ci) => spec.groups.forEach((g) => rows.push([c, g.name, g.values[ci]!])));
      return lines(rows);
    }
    case 'table':
      return lines([spec.columns, ...spec.rows]);
  }
}

/**
 * Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF) into rows of strings.
 * Throws a `SyntaxError` naming the line of an unterminated quote.
 *
 * @example
 * parseCsv('x,y\n1,"a, b"\n'); // [['x', 'y'], ['1', 'a, b']]
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = '';
  let i = 0;
  let quoted = false;
  let line = 1;
  let quoteLine = 0;
  const endRow = (): void => {
    row.push(cur);
    rows.push(row);
    row = [];
    cur = '';
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cur += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (ch === '\n') line++;
        cur += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && cur === '') {
      quoted = true;
      quoteLine = line;
      i++;
      continue;
    }
    if (ch === ',') {
      row.push(cur);
      cur = '';
      i++;
      continue;
    }
    if (ch === '\r' && text[i + 1] === '\n') {
      endRow();
      line++;
      i += 2;
      continue;
    }
    if (ch === '\n') {
      endRow();
      line++;
      i++;
      continue;
    }
    cur += ch;
    i++;
  }
  if (quoted) throw new SyntaxError(`parseCsv: unterminated quoted field starting on line ${quoteLine}`);
  if (cur !== '' || row.length) endRow();
  return rows;
}

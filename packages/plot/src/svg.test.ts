import { luminance } from './color.js';
import { parseCsv, toCsv } from './csv.js';
import { renderSvg } from './svg.js';
import { byClass, findAll, parseXml, type XmlElement } from './test-utils/xml.js';
import type { FigureSpec, HeatmapGridSpec, HeatmapSpec, LineChartSpec } from './types.js';
import { FigureSpecError, validateFigure } from './validate.js';

const L = [1, 5, 10, 50, 100, 500];
const line: LineChartSpec = {
  kind: 'line',
  title: 'Error vs L',
  x: { label: 'context length', scale: 'log' },
  y: { label: 'MSE', scale: 'log' },
  series: [
    {
      name: 'transformer',
      x: L,
      y: L.map((l) => 0.6 + 5 / l),
      lower: L.map((l) => 0.5 + 4 / l),
      upper: L.map((l) => 0.7 + 6 / l),
    },
    { name: 'ridge', x: L, y: L.map((l) => 0.01 + 4 / l), dashed: true },
    { name: 'one-step GD', x: L, y: L.map((l) => 0.8 + 3 / l) },
  ],
};
const attn: HeatmapSpec = {
  kind: 'heatmap',
  title: 'scores',
  rowLabels: ['Me', 'against', 'the'],
  colLabels: ['Me', 'against', 'the'],
  values: [
    [-2, 0, 1],
    [0.5, 2, -1],
    [0, 0, 0],
  ],
  masked: [
    [false, true, true],
    [false, false, true],
    [false, false, false],
  ],
};
const grid: HeatmapGridSpec = {
  kind: 'heatmap-grid',
  title: 'QK per head',
  panels: [1, 2, 3, 4].map((h) => ({
    title: `head ${h}`,
    values: [
      [h, -h],
      [0, h / 2],
    ],
  })),
  colorbarLabel: 'QK',
};
const texts = (svg: XmlElement, cls: string): string[] =>
  findAll(svg, byClass(cls)).map(
    (e) =>
      e.text.trim() ||
      findAll(e, (c) => c.name === 'text')
        .map((t) => t.text)
        .join(''),
  );

describe('renderSvg: line chart', () => {
  const svg = parseXml(renderSvg(line));
  it('is well-formed SVG with a title and description for screen readers', () => {
    expect(svg.name).toBe('svg');
    expect(svg.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(svg.attrs.role).toBe('img');
    expect(findAll(svg, (e) => e.name === 'title')[0]!.text).toBe('Error vs L');
    expect(findAll(svg, (e) => e.name === 'desc')[0]!.text).toMatch(/transformer, ridge, one-step GD/);
  });
  it('has one line per series, one band, and a legend entry per series', () => {
    expect(findAll(svg, byClass('line'))).toHaveLength(3);
    expect(findAll(svg, byClass('band'))).toHaveLength(1);
    expect(texts(svg, 'legend-entry')).toEqual(['transformer', 'ridge', 'one-step GD']);
    expect(findAll(svg, byClass('line'))[1]!.attrs['stroke-dasharray']).toBeDefined();
  });
  it('puts log-axis ticks at powers of ten only', () => {
    for (const cls of ['x-tick', 'y-tick']) {
      const vals = findAll(svg, byClass(cls)).map((e) => Number(e.attrs['data-value']));
      expect(vals.length).toBeGreaterThanOrEqual(2);
      for (const v of vals) expect(Math.log10(v)).toBeCloseTo(Math.round(Math.log10(v)), 10);
    }
    const x = findAll(svg, byClass('x-tick')).map((e) => Number(e.attrs['data-value']));
    expect(x).toEqual([1, 10, 100, 1000]);
    expect(texts(svg, 'x-tick')).toEqual(['1', '10', '100', '1000']);
  });
  it('linear axes get nice ticks; a single series has no legend by default', () => {
    const s = parseXml(
      renderSvg({ kind: 'line', series: [{ name: 'loss', x: [0, 1, 2, 3], y: [1, 0.5, 0.3, 0.27] }] }),
    );
    expect(findAll(s, byClass('legend'))).toHaveLength(0);
    expect(findAll(s, byClass('y-tick')).map((e) => Number(e.attrs['data-value']))).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    expect(texts(s, 'y-tick')).toEqual(['0.2', '0.4', '0.6', '0.8', '1.0']);
  });
  it('breaks the line at non-finite values and at values ≤ 0 on a log axis', () => {
    const s = renderSvg({
      kind: 'line',
      y: { scale: 'log' },
      series: [{ name: 'a', x: [1, 2, 3, 4, 5], y: [1, NaN, 2, 0, 3] }],
    });
    const d = findAll(parseXml(s), byClass('line'))[0]!.attrs.d!;
    expect(d.match(/M/g)).toHaveLength(3);
    expect(d.match(/L/g)).toBeNull();
  });
  it('draws 200 001 points (a loss logged every step) without overflowing the stack; the axis spans them', () => {
    const n = 200_001;
    const x = Array.from({ length: n }, (_, i) => i);
    const y = x.map((i) => 1 / (1 + i));
    const s = renderSvg({ kind: 'line', x: { label: 'step' }, series: [{ name: 'loss', x, y }] });
    const lines = findAll(parseXml(s), byClass('line'));
    expect(lines).toHaveLength(1);
    // One unbroken path from the first point to the last (the smallest loss, at the plot's bottom right).
    expect(lines[0]!.attrs.d!.match(/M/g)).toHaveLength(1);
    expect(lines[0]!.attrs.d!.split('L')).toHaveLength(n);
  });
  it('a heatmap of 300 000 cells finds its colour domain', () => {
    const values = Array.from({ length: 600 }, (_, i) => Array.from({ length: 500 }, (_, j) => i - j));
    expect(renderSvg({ kind: 'heatmap', values }).length).toBeGreaterThan(0);
  });
  it('is deterministic: same spec → same bytes; different specs → different ids', () => {
    expect(renderSvg(line)).toBe(renderSvg(JSON.parse(JSON.stringify(line)) as FigureSpec));
    const id = (s: string): string => /id="(attnlab-[0-9a-f]+)-title"/.exec(s)![1]!;
    expect(id(renderSvg(line))).not.toBe(id(renderSvg({ ...line, title: 'other' })));
  });
});

describe('renderSvg: heatmaps', () => {
  it('draws one cell per value; masked cells hatched, not coloured', () => {
    const svg = parseXml(renderSvg(attn));
    const cells = findAll(svg, byClass('cell'));
    expect(cells).toHaveLength(9);
    const masked = cells.filter((c) => c.attrs.class!.includes('masked'));
    expect(masked.map((c) => `${c.attrs['data-row']},${c.attrs['data-col']}`)).toEqual(['0,1', '0,2', '1,2']);
    for (const c of masked) expect(c.attrs.fill).toMatch(/^url\(#attnlab-[0-9a-f]+-hatch\)$/);
    expect(findAll(svg, (e) => e.name === 'pattern')).toHaveLength(1);
    expect(findAll(svg, (e) => e.name === 'title').map((t) => t.text)).toContain('Me → against: masked');
  });
  it('a non-finite value is hatched and named as not finite (never drawn as a number or as masked)', () => {
    const svg = parseXml(
      renderSvg({
        ...attn,
        values: [
          [NaN, 0, 1],
          [Infinity, 2, -1],
          [0, 0, 0],
        ],
        masked: undefined,
      }),
    );
    const cells = findAll(svg, byClass('cell'));
    const at = (r: number, c: number) =>
      cells.find((x) => x.attrs['data-row'] === `${r}` && x.attrs['data-col'] === `${c}`)!;
    expect(at(0, 0).attrs['data-value']).toBe('NaN');
    expect(at(1, 0).attrs['data-value']).toBe('Infinity');
    expect(at(0, 0).attrs.fill).toMatch(/-hatch\)$/);
    const titles = findAll(svg, (e) => e.name === 'title').map((t) => t.text);
    expect(titles).toContain('Me → Me: not finite (NaN)');
    expect(titles).toContain('against → Me: not finite (Infinity)');
    expect(titles.filter((t) => t.endsWith(': masked'))).toEqual([]);
  });
  it('diverging by default for mixed signs: 0 is white-ish, the colour bar is centred on 0', () => {
    const svg = parseXml(renderSvg(attn));
    const zero = findAll(svg, byClass('cell')).find((c) => c.attrs['data-row'] === '2' && c.attrs['data-col'] === '0')!;
    expect(zero.attrs['data-value']).toBe('0');
    expect(luminance(zero.attrs.fill!)).toBeGreaterThan(0.9);
    const ticks = findAll(svg, byClass('cbar-tick')).map((e) => Number(e.attrs['data-value']));
    expect(ticks).toContain(0);
    expect(Math.min(...ticks)).toBe(-Math.max(...ticks)); // symmetric domain ±max|v| = ±2
    const neg = findAll(svg, byClass('cell')).find((c) => c.attrs['data-value'] === '-2')!;
    expect(neg.attrs.fill).toBe('#053061');
  });
  it('sequential (viridis) for non-negative data, and cell text contrasts with its cell', () => {
    const svg = parseXml(
      renderSvg({
        kind: 'heatmap',
        values: [
          [0, 0.5],
          [1, 0.25],
        ],
        showValues: true,
        cellSize: 40,
      }),
    );
    const fills = findAll(svg, byClass('cell')).map((c) => c.attrs.fill);
    expect(fills[0]).toBe('#440154');
    expect(fills[2]).toBe('#fde725');
    const vals = findAll(svg, byClass('cell-value'));
    expect(vals.map((v) => v.text)).toEqual(['0', '0.5', '1', '0.25']);
    expect(vals[0]!.attrs.fill).toBe('#ffffff'); // on dark purple
    expect(vals[2]!.attrs.fill).toBe('#000000'); // on yellow
  });
  it('cell digits fit their cells: one font per panel, none when they would be under 9 px', () => {
    // "−0.0542" is 7 characters; at 0.64 em each (DejaVu's digits) and 12 px it is 53.8 px wide, more than a
    // 44 px cell: the panel's digits shrink to (44 − 6) / (7 · 0.64) = 8.48 px < 9, so they are left out.
    const values = [
      [-0.0542, 0.0793, 0.13],
      [0.5, 0.25, 1],
    ];
    const at = (cellSize: number) =>
      findAll(parseXml(renderSvg({ kind: 'heatmap', values, cellSize, showValues: true })), byClass('cell-value'));
    expect(at(44)).toHaveLength(0);
    // 60 px: 3 significant digits ("-0.0542" stays 7 characters): (60 − 6) / 4.48 = 12.05 → the full 12 px.
    const wide = at(60);
    expect(wide).toHaveLength(6);
    expect(new Set(wide.map((t) => t.attrs['font-size']))).toEqual(new Set(['12']));
    // 52 px: (52 − 6) / 4.48 = 10.27 px for every digit of the panel, and each fits its cell.
    const mid = at(52);
    expect(new Set(mid.map((t) => t.attrs['font-size']))).toEqual(new Set(['10.27']));
    mid.forEach((t) => expect([...t.text].length * 0.64 * 10.27).toBeLessThanOrEqual(52 - 6 + 0.01));
  });
  it('grid panel titles wider than their panels never overlap (the columns widen)', () => {
    const panel = (title: string) => ({
      title,
      values: [
        [1, -1],
        [0, 2],
      ],
    });
    const svg = parseXml(
      renderSvg({ kind: 'heatmap-grid', cellSize: 10, panels: [panel('head 0: w=-0.480'), panel('head 1: w=-0.101')] }),
    );
    const xs = findAll(svg, byClass('panel-title')).map((t) => Number(t.attrs.x));
    // Each title is 17 characters, ≈ 17 · 0.58 · 12 = 118 px: the centres are at least that far apart.
    expect(xs[1]! - xs[0]!).toBeGreaterThanOrEqual(118);
  });
  it('a narrow line chart (a phone) puts its legend below the plot area, a wide one beside it', () => {
    const narrow = parseXml(renderSvg({ ...line, width: 340 }));
    const wide = parseXml(renderSvg(line));
    const entryY = (svg: XmlElement) =>
      Number(findAll(findAll(svg, byClass('legend'))[0]!, (e) => e.name === 'text')[0]!.attrs.y);
    const frameOf = (svg: XmlElement) => findAll(svg, byClass('frame'))[0]!.attrs.d!;
    const bottomOf = (svg: XmlElement) => Number(/V([\d.]+)/.exec(frameOf(svg))![1]);
    expect(entryY(narrow)).toBeGreaterThan(bottomOf(narrow));
    expect(entryY(wide)).toBeLessThan(bottomOf(wide));
    expect(Number(narrow.attrs.height)).toBeGreaterThan(400);
  });
  it('a narrow chart (lines or bars) wraps its legend below in rows within its width, long names over lines', () => {
    const names = ['person', 'location', 'action', 'noise', 'a rather long name for one of the groups here'];
    const bar = (width?: number): FigureSpec => ({
      kind: 'bar',
      ...(width ? { width } : {}),
      categories: ['uniform', 'person', 'location', 'mixed'],
      groups: names.map((name, i) => ({ name, values: [1, 2, 3, i] })),
    });
    const lines = (width: number): FigureSpec => ({
      ...line,
      width,
      series: names.map((name, i) => ({ name, x: [1, 2], y: [i, i + 1] })),
    });
    for (const spec of [bar(340), lines(340)]) {
      const svg = parseXml(renderSvg(spec));
      const width = Number(svg.attrs.width);
      const height = Number(svg.attrs.height);
      // Each entry as a box: its swatch's x to the end of its longest line (plot's text width), its rows.
      const boxes = findAll(svg, byClass('legend-entry')).map((g) => {
        const t = findAll(g, (e) => e.name === 'text')[0]!;
        const spans = findAll(t, (e) => e.name === 'tspan');
        const lineTexts = spans.length ? spans.map((sp) => sp.text) : [t.text];
        const x0 = Number(t.attrs.x) - 24;
        const y = Number(t.attrs.y);
        return {
          x0,
          x1: Number(t.attrs.x) + Math.max(...lineTexts.map((l) => [...l].length * 12 * 0.58)),
          y0: y - 12,
          y1: y + 4 + (lineTexts.length - 1) * 18,
          lines: lineTexts.length,
        };
      });
      expect(boxes).toHaveLength(5);
      for (const b of boxes) {
        expect(b.x0).toBeGreaterThanOrEqual(0);
        expect(b.x1).toBeLessThanOrEqual(width);
        expect(b.y1).toBeLessThanOrEqual(height);
      }
      boxes.forEach((a, i) =>
        boxes.slice(i + 1).forEach((b) => {
          const apart = a.x1 <= b.x0 || b.x1 <= a.x0 || a.y1 <= b.y0 || b.y1 <= a.y0;
          expect(apart).toBe(true);
        }),
      );
      expect(boxes.at(-1)!.lines).toBeGreaterThan(1); // the long name, ≈ 313 px, over two lines
      expect(new Set(boxes.map((b) => b.y0)).size).toBeGreaterThan(1); // more than one row
    }
    // Wide, as designed: one column beside the bars, the chart its own height.
    const wide = parseXml(renderSvg(bar()));
    expect(Number(wide.attrs.height)).toBe(400);
    expect(
      new Set(findAll(wide, byClass('legend-entry')).map((g) => findAll(g, (e) => e.name === 'text')[0]!.attrs.x)).size,
    ).toBe(1);
  });
  it('grid: one panel per head with its title, one shared colour bar', () => {
    const svg = parseXml(renderSvg(grid));
    expect(findAll(svg, byClass('panel'))).toHaveLength(4);
    expect(texts(svg, 'panel-title')).toEqual(['head 1', 'head 2', 'head 3', 'head 4']);
    expect(findAll(svg, byClass('colorbar'))).toHaveLength(1);
    expect(findAll(svg, byClass('cell'))).toHaveLength(16);
    // shared domain ±4 (the largest |value|): head 4's 4 is the darkest red, head 1's 1 is lighter
    const cell = (p: number, v: string): XmlElement =>
      findAll(findAll(svg, byClass('panel'))[p]!, byClass('cell')).find((c) => c.attrs['data-value'] === v)!;
    expect(cell(3, '4').attrs.fill).toBe('#67001f');
    expect(luminance(cell(0, '1').attrs.fill!)).toBeGreaterThan(luminance(cell(3, '4').attrs.fill!));
  });
});

describe('renderSvg: bars and tables', () => {
  it('grouped bars: categories × groups rects, legend per group, negative bars below zero', () => {
    const svg = parseXml(
      renderSvg({
        kind: 'bar',
        categories: ['MHA', 'GQA', 'MQA'],
        groups: [
          { name: 'fp16', values: [4, 2, -1] },
          { name: 'fp32', values: [8, 4, 2] },
        ],
      }),
    );
    const bars = findAll(svg, byClass('bar'));
    expect(bars).toHaveLength(6);
    expect(texts(svg, 'legend-entry')).toEqual(['fp16', 'fp32']);
    expect(texts(svg, 'category')).toEqual(['MHA', 'GQA', 'MQA']);
    const zeroY = Number(findAll(svg, byClass('zero'))[0]!.attrs.y1);
    const neg = bars.find((b) => b.attrs['data-value'] === '-1')!;
    expect(Number(neg.attrs.y)).toBeCloseTo(zeroY, 1);
    const pos = bars.find((b) => b.attrs['data-value'] === '8')!;
    expect(Number(pos.attrs.y) + Number(pos.attrs.height)).toBeCloseTo(zeroY, 1);
  });
  it('tables: header plus one row group per row, text escaped', () => {
    const s = renderSvg({
      kind: 'table',
      title: 'a & b',
      columns: ['head', 'note'],
      rows: [
        [1, '<b>"x"</b> & \'y\''],
        [2, null],
      ],
    });
    expect(s).not.toMatch(/<b>/);
    const svg = parseXml(s);
    expect(texts(svg, 'header')).toEqual(['head', 'note']);
    expect(findAll(svg, byClass('table-row'))).toHaveLength(2);
    expect(texts(svg, 'table-cell')).toEqual(['1', '<b>"x"</b> & \'y\'', '2', '']);
    expect(findAll(svg, (e) => e.name === 'title')[0]!.text).toBe('a & b');
  });
  it('escapes hostile text in titles, labels and series names', () => {
    const evil = '</text><script>alert("x")</script>&';
    const s = renderSvg({
      kind: 'line',
      title: evil,
      x: { label: evil },
      series: [
        { name: evil, x: [1, 2], y: [1, 2] },
        { name: 'b', x: [1], y: [1] },
      ],
    });
    expect(s).not.toContain('<script>');
    const svg = parseXml(s);
    expect(findAll(svg, (e) => e.name === 'script')).toHaveLength(0);
    expect(texts(svg, 'legend-entry')[0]).toBe(evil);
    expect(findAll(svg, (e) => e.name === 'g' && e.attrs.class === 'series')[0]!.attrs['data-name']).toBe(evil);
  });
});

describe('toCsv / parseCsv', () => {
  it('line: tidy rows with full-precision numbers that read back exactly', () => {
    const rows = parseCsv(toCsv(line));
    expect(rows[0]).toEqual(['series', 'x', 'y', 'lower', 'upper']);
    expect(rows).toHaveLength(1 + 3 * L.length);
    const back = rows
      .slice(1)
      .filter((r) => r[0] === 'transformer')
      .map((r) => Number(r[2]));
    expect(back).toEqual(line.series[0]!.y);
    expect(rows.slice(1).find((r) => r[0] === 'ridge')![3]).toBe(''); // no band: empty
  });
  it('heatmap-grid round trip: panel, labels, value, masked', () => {
    const rows = parseCsv(toCsv(grid));
    expect(rows[0]).toEqual(['panel', 'panel_title', 'row', 'col', 'row_label', 'col_label', 'value', 'masked']);
    expect(rows).toHaveLength(17);
    for (const r of rows.slice(1)) {
      const p = grid.panels[Number(r[0])]!;
      expect(r[1]).toBe(p.title);
      expect(Number(r[6])).toBe(p.values[Number(r[2])]![Number(r[3])]);
    }
    const h = parseCsv(toCsv(attn));
    expect(h[2]).toEqual(['0', '1', 'Me', 'against', '0', 'true']);
  });
  it('quotes commas, quotes, newlines and edge spaces (RFC 4180) and reads them back', () => {
    const cells = ['plain', 'a,b', 'say "hi"', 'two\nlines', ' padded ', 'µ^h ≈ −2.6'];
    const csv = toCsv({ kind: 'table', columns: cells, rows: [[1.5, -0.1, 1e-7, null, true, 'x']] });
    expect(csv.split('\r\n')[0]).toBe('plain,"a,b","say ""hi""","two\nlines"," padded ",µ^h ≈ −2.6');
    expect(parseCsv(csv)).toEqual([cells, ['1.5', '-0.1', '1e-7', '', 'true', 'x']]);
  });
  it('bar: category × group', () => {
    expect(
      toCsv({
        kind: 'bar',
        categories: ['a', 'b'],
        groups: [
          { name: 'g', values: [1, 2] },
          { name: 'h', values: [3, 4] },
        ],
      }),
    ).toBe('category,group,value\r\na,g,1\r\na,h,3\r\nb,g,2\r\nb,h,4\r\n');
  });
  it('parseCsv accepts LF line ends and reports an unterminated quote', () => {
    expect(parseCsv('x,y\n1,2\n')).toEqual([
      ['x', 'y'],
      ['1', '2'],
    ]);
    expect(() => parseCsv('x,y\n1,"2\n3')).toThrow('parseCsv: unterminated quoted field starting on line 2');
  });
});

describe('validation errors name the function, the field, the value and what is allowed', () => {
  const bad = (spec: unknown): string => {
    try {
      renderSvg(spec as FigureSpec);
    } catch (e) {
      expect(e).toBeInstanceOf(FigureSpecError);
      return (e as Error).message;
    }
    throw new Error('no error thrown');
  };
  it.each([
    [
      { kind: 'pie' },
      `renderSvg: spec.kind must be one of 'line', 'heatmap', 'heatmap-grid', 'bar', 'table'; got "pie"`,
    ],
    [null, 'renderSvg: spec.(root) must be an object; got null'],
    [
      { kind: 'line', version: 2, series: [] },
      'renderSvg: spec.version must be 1 (the only spec version this @attnlab/plot reads); got 2',
    ],
    [{ kind: 'line', series: [] }, 'renderSvg: spec.series must have at least 1 entry; got 0'],
    [
      { kind: 'line', series: [{ name: 'a', x: [1, 2], y: [1] }] },
      'renderSvg: spec.series[0].y must have 2 entries (one per x); got 1',
    ],
    [
      { kind: 'line', series: [{ name: 'a', x: [1, '2'], y: [1, 2] }] },
      'renderSvg: spec.series[0].x[1] must be a number; got string "2"',
    ],
    [
      { kind: 'line', x: { scale: 'ln' }, series: [{ name: 'a', x: [1], y: [1] }] },
      `renderSvg: spec.x.scale must be one of 'linear', 'log'; got "ln"`,
    ],
    [
      { kind: 'line', y: { scale: 'log', min: 0 }, series: [{ name: 'a', x: [1], y: [1] }] },
      'renderSvg: spec.y.min must be > 0 on a log axis; got 0',
    ],
    [
      { kind: 'line', series: [{ name: 'a', x: [1], y: [1], lower: [0] }] },
      'renderSvg: spec.series[0].upper is required when the other error-band bound is given',
    ],
    [
      { kind: 'heatmap', values: [[1, 2], [3]] },
      'renderSvg: spec.values[1] must have 2 entries like row 0 (a rectangular matrix); got 1',
    ],
    [{ kind: 'heatmap', values: [[1]], rowLabels: ['a', 'b'] }, 'renderSvg: spec.rowLabels must have 1 entries; got 2'],
    [
      { kind: 'heatmap', values: [[1]], scale: 'diverging', domain: [1, 2] },
      'renderSvg: spec.domain must contain 0 for a diverging scale (0 is the white centre); got [1,2]',
    ],
    [
      { kind: 'heatmap-grid', panels: [{ values: [[1]] }, { values: 'x' }] },
      'renderSvg: spec.panels[1].values must be an array; got string "x"',
    ],
    [
      { kind: 'bar', categories: ['a', 'b'], groups: [{ name: 'g', values: [1] }] },
      'renderSvg: spec.groups[0].values must have 2 entries (one per category); got 1',
    ],
    [
      { kind: 'table', columns: ['a', 'b'], rows: [[1]] },
      'renderSvg: spec.rows[0] must have 2 cells (one per column); got 1',
    ],
    [
      { kind: 'line', width: -5, series: [{ name: 'a', x: [1], y: [1] }] },
      'renderSvg: spec.width must be a number in (0, 10000]; got -5',
    ],
  ])('%j', (spec, message) => {
    expect(bad(spec)).toBe(message);
  });
  it('toCsv and validateFigure name themselves', () => {
    expect(() => toCsv({ kind: 'x' } as unknown as FigureSpec)).toThrow(/^toCsv: spec.kind/);
    expect(() => validateFigure({ kind: 'x' })).toThrow(/^validateFigure: spec.kind/);
    const e = (() => {
      try {
        validateFigure({ kind: 'bar', categories: [], groups: [] });
      } catch (err) {
        return err as FigureSpecError;
      }
    })();
    expect(e?.field).toBe('categories');
  });
  it('accepts a JSON round trip of every example (null as a gap)', () => {
    for (const s of [line, attn, grid]) expect(() => validateFigure(JSON.parse(JSON.stringify(s)))).not.toThrow();
    expect(() =>
      renderSvg(JSON.parse('{"kind":"line","series":[{"name":"a","x":[1,2,3],"y":[1,null,2]}]}') as FigureSpec),
    ).not.toThrow();
  });
});

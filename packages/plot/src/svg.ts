import { colorFor, luminance, SERIES_COLORS } from './color.js';
import { escapeXml, formatNumber, formatTick, hash, px, textWidth } from './format.js';
import { makeScale, maxOf, minOf, niceTicks, type Scale } from './scale.js';
import type {
  BarChartSpec,
  ColorScaleName,
  FigureSpec,
  HeatmapGridSpec,
  HeatmapPanel,
  HeatmapSpec,
  LineChartSpec,
  TableCell,
  TableSpec,
} from './types.js';
import { panelValues, validateFigure } from './validate.js';

const FONT = 12;
/** The smallest font (px at scale 1) for the digits in heatmap cells; below it they are left out. */
const MIN_DIGIT_FONT = 9;
const FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const INK = '#222222';
const GRID = '#e3e3e3';
const MUTED = '#555555';

const esc = escapeXml;

interface Ctx {
  id: string;
  spec: FigureSpec;
}

function open(ctx: Ctx, width: number, height: number, summary: string): string {
  const title = ctx.spec.title ?? ctx.spec.kind;
  const desc = ctx.spec.description ?? summary;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}"` +
      ` role="img" aria-labelledby="${ctx.id}-title ${ctx.id}-desc" font-family="${esc(FONT_FAMILY)}" font-size="${FONT}" data-kind="${ctx.spec.kind}">`,
    `<title id="${ctx.id}-title">${esc(title)}</title>`,
    `<desc id="${ctx.id}-desc">${esc(desc)}</desc>`,
    `<rect class="background" x="0" y="0" width="${px(width)}" height="${px(height)}" fill="#ffffff"/>`,
  ].join('\n');
}

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${px(x)}" y="${px(y)}"${attrs ? ` ${attrs}` : ''}>${esc(s)}</text>`;
}

function titleText(spec: FigureSpec, width: number): string {
  return spec.title
    ? text(
        width / 2,
        22,
        spec.title,
        'class="figure-title" text-anchor="middle" font-size="15" font-weight="600" fill="' + INK + '"',
      )
    : '';
}

function tickLabel(scale: Scale, v: number): string {
  return scale.kind === 'log' ? formatNumber(v, 3) : formatTick(v, scale.step);
}

/** Axes with ticks, grid lines and labels for a plot area [x0, x1] × [y0, y1] (y0 at top). */
function axes(
  xs: Scale | null,
  ys: Scale,
  area: { x0: number; x1: number; y0: number; y1: number },
  xLabel?: string,
  yLabel?: string,
): string {
  const out: string[] = ['<g class="axes">'];
  const yTickW = Math.max(
    maxOf(ys.ticks, (t) => textWidth(tickLabel(ys, t), FONT)),
    10,
  );
  for (const t of ys.ticks) {
    const y = ys(t);
    out.push(
      `<line class="grid" x1="${px(area.x0)}" x2="${px(area.x1)}" y1="${px(y)}" y2="${px(y)}" stroke="${GRID}"/>`,
    );
    out.push(
      `<g class="tick y-tick" data-value="${t}">${text(area.x0 - 6, y + 4, tickLabel(ys, t), `text-anchor="end" fill="${MUTED}"`)}</g>`,
    );
  }
  if (xs) {
    for (const t of xs.ticks) {
      const x = xs(t);
      out.push(
        `<line class="grid" x1="${px(x)}" x2="${px(x)}" y1="${px(area.y0)}" y2="${px(area.y1)}" stroke="${GRID}"/>`,
      );
      out.push(
        `<g class="tick x-tick" data-value="${t}">${text(x, area.y1 + 16, tickLabel(xs, t), `text-anchor="middle" fill="${MUTED}"`)}</g>`,
      );
    }
  }
  out.push(
    `<path class="frame" d="M${px(area.x0)},${px(area.y0)}V${px(area.y1)}H${px(area.x1)}" fill="none" stroke="${INK}"/>`,
  );
  if (xLabel)
    out.push(
      text(
        (area.x0 + area.x1) / 2,
        area.y1 + 36,
        xLabel,
        `class="axis-label x-label" text-anchor="middle" fill="${INK}"`,
      ),
    );
  if (yLabel) {
    const x = area.x0 - yTickW - 16;
    const y = (area.y0 + area.y1) / 2;
    out.push(
      `<text class="axis-label y-label" x="${px(x)}" y="${px(y)}" text-anchor="middle" fill="${INK}" transform="rotate(-90 ${px(x)} ${px(y)})">${esc(yLabel)}</text>`,
    );
  }
  out.push('</g>');
  return out.join('\n');
}

type LegendEntry = { name: string; color: string; kind: 'line' | 'box'; dashed?: boolean };

const LEGEND_LINE = 18;
const LEGEND_GAP = 16;
const SWATCH = 24;

/** `name` broken at spaces into lines no wider than `width` (a word longer than that gets its own line). */
function wrapWords(name: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of name.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, FONT) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  lines.push(line);
  return lines;
}

/**
 * Where each legend entry goes: one column (no `maxWidth`), or, below a narrow plot, rows that wrap
 * within `maxWidth`, an entry's name broken into lines when it alone is wider. Heights in px.
 */
function legendLayout(
  entries: LegendEntry[],
  maxWidth?: number,
): { items: { entry: LegendEntry; dx: number; dy: number; lines: string[] }[]; height: number } {
  if (maxWidth === undefined) {
    return {
      items: entries.map((entry, i) => ({ entry, dx: 0, dy: i * LEGEND_LINE, lines: [entry.name] })),
      height: entries.length * LEGEND_LINE,
    };
  }
  const items: { entry: LegendEntry; dx: number; dy: number; lines: string[] }[] = [];
  let dx = 0;
  let dy = 0;
  let rowLines = 1;
  for (const entry of entries) {
    const lines = wrapWords(entry.name, Math.max(40, maxWidth - SWATCH));
    const w = SWATCH + maxOf(lines, (l) => textWidth(l, FONT));
    if (dx > 0 && dx + w > maxWidth) {
      dx = 0;
      dy += rowLines * LEGEND_LINE;
      rowLines = 1;
    }
    items.push({ entry, dx, dy, lines });
    rowLines = Math.max(rowLines, lines.length);
    dx += w + LEGEND_GAP;
  }
  return { items, height: entries.length ? dy + rowLines * LEGEND_LINE : 0 };
}

function legend(entries: LegendEntry[], x: number, y: number, maxWidth?: number): string {
  const out: string[] = ['<g class="legend">'];
  for (const { entry: e, dx, dy, lines } of legendLayout(entries, maxWidth).items) {
    const xx = x + dx;
    const yy = y + dy;
    const swatch =
      e.kind === 'line'
        ? `<line x1="${px(xx)}" x2="${px(xx + 18)}" y1="${px(yy)}" y2="${px(yy)}" stroke="${esc(e.color)}" stroke-width="2"${e.dashed ? ' stroke-dasharray="5 3"' : ''}/>`
        : `<rect x="${px(xx + 3)}" y="${px(yy - 6)}" width="12" height="12" fill="${esc(e.color)}"/>`;
    const label =
      lines.length === 1
        ? text(xx + SWATCH, yy + 4, e.name, `fill="${INK}"`)
        : `<text x="${px(xx + SWATCH)}" y="${px(yy + 4)}" fill="${INK}">${lines
            .map((l, k) => `<tspan x="${px(xx + SWATCH)}" dy="${k === 0 ? 0 : LEGEND_LINE}">${esc(l)}</tspan>`)
            .join('')}</text>`;
    out.push(`<g class="legend-entry">${swatch}${label}</g>`);
  }
  out.push('</g>');
  return out.join('\n');
}

function legendWidth(names: string[]): number {
  return maxOf(names, (n) => textWidth(n, FONT)) + 40;
}

/**
 * Where a chart's legend goes: beside the plot as designed, or below it when the chart is narrow
 * (a phone's width) and the legend beside would take more than a third of it; `right` is the plot
 * area's right margin, `height` the legend's height below the chart (0 beside).
 */
function legendPlacement(
  entries: LegendEntry[],
  width: number,
  show: boolean,
): { below: boolean; right: number; height: number } {
  if (!show) return { below: false, right: 20, height: 0 };
  const besideW = legendWidth(entries.map((e) => e.name)) + 16;
  if (!(width < 480 && width - besideW < width * 0.65)) return { below: false, right: besideW, height: 0 };
  return { below: true, right: 20, height: legendLayout(entries, belowWidth(width)).height + 12 };
}

/** The width a legend below the plot wraps in: the chart's, less a margin each side. */
const belowWidth = (width: number): number => width - 2 * LEGEND_MARGIN;
const LEGEND_MARGIN = 8;

function lineChart(spec: LineChartSpec, ctx: Ctx): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 400;
  const showLegend = spec.legend ?? spec.series.length > 1;
  const xKind = spec.x?.scale ?? 'linear';
  const yKind = spec.y?.scale ?? 'linear';
  const allX = spec.series.flatMap((s) => s.x);
  const allY = spec.series.flatMap((s) => [...s.y, ...(s.lower ?? []), ...(s.upper ?? [])]);
  const top = spec.title ? 40 : 16;
  // A narrow chart (a phone's width) keeps its plot area: the legend goes below it instead of beside.
  const entries: LegendEntry[] = spec.series.map((s, i) => ({
    name: s.name,
    color: s.color ?? SERIES_COLORS[i % SERIES_COLORS.length]!,
    kind: 'line',
    dashed: s.dashed,
  }));
  const place = legendPlacement(entries, width, showLegend);
  const right = place.right;
  const legendH = place.height;
  const bottom = spec.x?.label ? 52 : 32;
  // First pass for the y tick width, which sets the left margin.
  const ys0 = makeScale(yKind, allY, height - bottom, top, spec.y ?? {});
  const yTickW = Math.max(
    maxOf(ys0.ticks, (t) => textWidth(tickLabel(ys0, t), FONT)),
    10,
  );
  const left = yTickW + 14 + (spec.y?.label ? 22 : 0);
  const area = { x0: left, x1: width - right, y0: top, y1: height - bottom };
  const xs = makeScale(xKind, allX, area.x0, area.x1, spec.x ?? {}, Math.max(2, Math.round((area.x1 - area.x0) / 90)));
  const ys = makeScale(yKind, allY, area.y1, area.y0, spec.y ?? {});
  const ok = (v: number, kind: string): boolean => Number.isFinite(v) && (kind === 'linear' || v > 0);
  const out = [
    open(ctx, width, height + legendH, `Line chart of ${spec.series.map((s) => s.name).join(', ')}.`),
    titleText(spec, width),
  ];
  out.push(
    `<defs><clipPath id="${ctx.id}-clip"><rect x="${px(area.x0)}" y="${px(area.y0)}" width="${px(area.x1 - area.x0)}" height="${px(area.y1 - area.y0)}"/></clipPath></defs>`,
  );
  out.push(axes(xs, ys, area, spec.x?.label, spec.y?.label));
  out.push(`<g class="plot-area" clip-path="url(#${ctx.id}-clip)">`);
  spec.series.forEach((s, i) => {
    const color = s.color ?? SERIES_COLORS[i % SERIES_COLORS.length]!;
    out.push(`<g class="series" data-name="${esc(s.name)}">`);
    if (s.lower && s.upper) {
      // One polygon per run of points where x, lower and upper are all drawable.
      let run: number[] = [];
      const flush = (): void => {
        if (run.length > 1) {
          const upper = run.map((k) => `${px(xs(s.x[k]!))},${px(ys(s.upper![k]!))}`);
          const lower = run
            .slice()
            .reverse()
            .map((k) => `${px(xs(s.x[k]!))},${px(ys(s.lower![k]!))}`);
          out.push(
            `<path class="band" d="M${upper.join('L')}L${lower.join('L')}Z" fill="${esc(color)}" fill-opacity="0.18" stroke="none"/>`,
          );
        }
        run = [];
      };
      s.x.forEach((x, k) =>
        ok(x, xKind) && ok(s.lower![k]!, yKind) && ok(s.upper![k]!, yKind) ? run.push(k) : flush(),
      );
      flush();
    }
    const parts: string[] = [];
    let pen = false;
    s.x.forEach((x, k) => {
      const y = s.y[k]!;
      if (ok(x, xKind) && ok(y, yKind)) {
        parts.push(`${pen ? 'L' : 'M'}${px(xs(x))},${px(ys(y))}`);
        pen = true;
      } else pen = false;
    });
    if (parts.length)
      out.push(
        `<path class="line" d="${parts.join('')}" fill="none" stroke="${esc(color)}" stroke-width="2" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
    if (s.markers) {
      s.x.forEach((x, k) => {
        if (ok(x, xKind) && ok(s.y[k]!, yKind))
          out.push(`<circle class="marker" cx="${px(xs(x))}" cy="${px(ys(s.y[k]!))}" r="3" fill="${esc(color)}"/>`);
      });
    }
    out.push('</g>');
  });
  out.push('</g>');
  if (showLegend)
    out.push(
      place.below
        ? legend(entries, LEGEND_MARGIN, height + 8, belowWidth(width))
        : legend(entries, area.x1 + 16, area.y0 + 8),
    );
  out.push('</svg>');
  return out.filter(Boolean).join('\n') + '\n';
}

function barChart(spec: BarChartSpec, ctx: Ctx): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 400;
  const showLegend = spec.legend ?? spec.groups.length > 1;
  const vals = spec.groups.flatMap((g) => g.values).filter(Number.isFinite);
  const top = spec.title ? 40 : 16;
  // As the line chart: beside the bars, or below them on a narrow chart, wrapping in rows.
  const entries: LegendEntry[] = spec.groups.map((g, i) => ({
    name: g.name,
    color: g.color ?? SERIES_COLORS[i % SERIES_COLORS.length]!,
    kind: 'box',
  }));
  const place = legendPlacement(entries, width, showLegend);
  const right = place.right;
  const catW = maxOf(spec.categories, (c) => textWidth(c, FONT));
  const plotW0 = width - right - 80;
  const rotate = catW > plotW0 / spec.categories.length - 6;
  const bottom = (rotate ? Math.min(catW * 0.72, 140) + 14 : 28) + (spec.xLabel ? 24 : 0);
  const data = [0, ...vals];
  const ys0 = makeScale('linear', data, height - bottom, top);
  const yTickW = Math.max(
    maxOf(ys0.ticks, (t) => textWidth(tickLabel(ys0, t), FONT)),
    10,
  );
  const left = yTickW + 14 + (spec.yLabel ? 22 : 0);
  const area = { x0: left, x1: width - right, y0: top, y1: height - bottom };
  const ys = makeScale('linear', data, area.y1, area.y0);
  const out = [
    open(
      ctx,
      width,
      height + place.height,
      `Bar chart of ${spec.groups.map((g) => g.name).join(', ')} over ${spec.categories.length} categories.`,
    ),
    titleText(spec, width),
  ];
  out.push(axes(null, ys, area, undefined, spec.yLabel));
  const band = (area.x1 - area.x0) / spec.categories.length;
  const inner = band * 0.8;
  const barW = inner / spec.groups.length;
  const zero = ys(Math.min(Math.max(0, ys.domain[0]), ys.domain[1]));
  out.push('<g class="bars">');
  spec.categories.forEach((cat, ci) => {
    const bx = area.x0 + ci * band + (band - inner) / 2;
    spec.groups.forEach((g, gi) => {
      const v = g.values[ci]!;
      if (!Number.isFinite(v)) return;
      const y = ys(v);
      const color = g.color ?? SERIES_COLORS[gi % SERIES_COLORS.length]!;
      out.push(
        `<rect class="bar" x="${px(bx + gi * barW)}" y="${px(Math.min(y, zero))}" width="${px(Math.max(1, barW - 1))}" height="${px(Math.abs(zero - y))}" fill="${esc(color)}" data-category="${esc(cat)}" data-group="${esc(g.name)}" data-value="${v}"><title>${esc(`${g.name} · ${cat}: ${formatNumber(v)}`)}</title></rect>`,
      );
    });
    const cx = area.x0 + (ci + 0.5) * band;
    out.push(
      rotate
        ? `<text class="category" x="${px(cx)}" y="${px(area.y1 + 12)}" text-anchor="end" fill="${MUTED}" transform="rotate(-40 ${px(cx)} ${px(area.y1 + 12)})">${esc(cat)}</text>`
        : text(cx, area.y1 + 16, cat, `class="category" text-anchor="middle" fill="${MUTED}"`),
    );
  });
  out.push('</g>');
  out.push(
    `<line class="zero" x1="${px(area.x0)}" x2="${px(area.x1)}" y1="${px(zero)}" y2="${px(zero)}" stroke="${INK}"/>`,
  );
  if (spec.xLabel)
    out.push(
      text(
        (area.x0 + area.x1) / 2,
        height - 8,
        spec.xLabel,
        `class="axis-label x-label" text-anchor="middle" fill="${INK}"`,
      ),
    );
  if (showLegend)
    out.push(
      place.below
        ? legend(entries, LEGEND_MARGIN, height + 8, belowWidth(width))
        : legend(entries, area.x1 + 16, area.y0 + 8),
    );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * The colour domain a heatmap (or grid) uses: `fixed` if given; diverging → ±max|v|;
 * sequential → [min, max] of the finite, unmasked values.
 *
 * @example
 * heatmapDomain([{ values: [[-1, 3]] }], 'diverging'); // [-3, 3]
 */
export function heatmapDomain(
  panels: HeatmapPanel[],
  scale: ColorScaleName,
  fixed?: [number, number],
): [number, number] {
  if (fixed) return fixed;
  const vals = panels.flatMap(panelValues);
  if (!vals.length) return scale === 'diverging' ? [-1, 1] : [0, 1];
  let lo = minOf(vals, (v) => v);
  let hi = maxOf(vals, (v) => v);
  if (scale === 'diverging') {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return [-m, m];
  }
  if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

function defaultScale(panels: HeatmapPanel[]): ColorScaleName {
  const vals = panels.flatMap(panelValues);
  return vals.some((v) => v < 0) && vals.some((v) => v > 0) ? 'diverging' : 'sequential';
}

interface PanelLayout {
  cell: number;
  rowLabelW: number;
  colLabelH: number;
  rotateCols: boolean;
  w: number;
  h: number;
}

function panelLayout(p: HeatmapPanel, cellSize: number | undefined, maxSide: number): PanelLayout {
  const rows = p.values.length;
  const cols = p.values[0]!.length;
  const cell = cellSize ?? Math.max(3, Math.min(48, Math.floor(maxSide / Math.max(rows, cols))));
  const rowLabelW = p.rowLabels ? maxOf(p.rowLabels, (l) => textWidth(l, FONT)) + 8 : 0;
  const colW = p.colLabels ? maxOf(p.colLabels, (l) => textWidth(l, FONT)) : 0;
  const rotateCols = colW > cell - 4;
  const colLabelH = p.colLabels ? (rotateCols ? colW * 0.72 + 14 : 18) : 0;
  return { cell, rowLabelW, colLabelH, rotateCols, w: rowLabelW + cols * cell, h: rows * cell + colLabelH };
}

function drawPanel(
  p: HeatmapPanel,
  ox: number,
  oy: number,
  lay: PanelLayout,
  scale: ColorScaleName,
  domain: [number, number],
  showValues: boolean | undefined,
  ctx: Ctx,
  index: number,
): string {
  const out: string[] = [`<g class="panel" data-panel="${index}">`];
  const rows = p.values.length;
  const cols = p.values[0]!.length;
  const gx = ox + lay.rowLabelW;
  const cell = lay.cell;
  // The digits are set at one size for the whole panel, small enough that the longest fits its cell
  // with a margin; below MIN_DIGIT_FONT they would be unreadable (and collide), so none are drawn
  // (the cells' titles and the page's readout still give every value).
  const digitsOf = (v: number): string => formatNumber(v, cell >= 44 ? 3 : 2);
  // Widths in em: digits are wider than average text (≈ 0.64 em in DejaVu Sans, the widest common one).
  const longest = maxOf(
    p.values.flatMap((r) => r.filter((v) => Number.isFinite(v))),
    (v) => [...digitsOf(v)].length * 0.64,
  );
  const fs = Math.min(FONT, cell / 3.2, longest > 0 ? (cell - 6) / longest : FONT);
  const show = (showValues ?? (cell >= 30 && rows * cols <= 256)) && fs >= MIN_DIGIT_FONT;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = p.values[i]![j]!;
      const hidden = Boolean(p.masked?.[i]?.[j]);
      // A non-finite value (NaN from an overflow, ±∞) is hatched like a masked cell but named as what it is.
      const bad = !hidden && !Number.isFinite(v);
      const masked = hidden || bad;
      const x = gx + j * cell;
      const y = oy + i * cell;
      const fill = masked ? `url(#${ctx.id}-hatch)` : colorFor(v, scale, domain);
      const rl = p.rowLabels?.[i] ?? `row ${i}`;
      const cl = p.colLabels?.[j] ?? `col ${j}`;
      const shown = hidden ? 'masked' : bad ? `not finite (${String(v ?? NaN)})` : formatNumber(v);
      const label = `${rl} → ${cl}: ${shown}`;
      out.push(
        `<rect class="cell${masked ? ' masked' : ''}" x="${px(x)}" y="${px(y)}" width="${px(cell)}" height="${px(cell)}" fill="${fill}" data-row="${i}" data-col="${j}" data-value="${hidden ? 'masked' : bad ? String(v ?? NaN) : v}"><title>${esc(label)}</title></rect>`,
      );
      if (show && !masked) {
        const fg = luminance(fill) > 0.4 ? '#000000' : '#ffffff';
        out.push(
          `<text class="cell-value" x="${px(x + cell / 2)}" y="${px(y + cell / 2 + fs * 0.35)}" text-anchor="middle" font-size="${px(fs)}" fill="${fg}" pointer-events="none">${esc(digitsOf(v))}</text>`,
        );
      } else if (show && masked) {
        out.push(
          `<text class="cell-value" x="${px(x + cell / 2)}" y="${px(y + cell / 2 + fs * 0.35)}" text-anchor="middle" font-size="${px(fs)}" fill="${MUTED}" pointer-events="none">×</text>`,
        );
      }
    }
  }
  out.push(
    `<rect class="panel-frame" x="${px(gx)}" y="${px(oy)}" width="${px(cols * cell)}" height="${px(rows * cell)}" fill="none" stroke="${INK}" stroke-width="0.5"/>`,
  );
  if (p.rowLabels) {
    p.rowLabels.forEach((l, i) =>
      out.push(text(gx - 5, oy + (i + 0.5) * cell + 4, l, `class="row-label" text-anchor="end" fill="${MUTED}"`)),
    );
  }
  if (p.colLabels) {
    p.colLabels.forEach((l, j) => {
      const cx = gx + (j + 0.5) * cell;
      const cy = oy + rows * cell + 14;
      out.push(
        lay.rotateCols
          ? `<text class="col-label" x="${px(cx + 4)}" y="${px(cy - 4)}" text-anchor="end" fill="${MUTED}" transform="rotate(-45 ${px(cx + 4)} ${px(cy - 4)})">${esc(l)}</text>`
          : text(cx, cy, l, `class="col-label" text-anchor="middle" fill="${MUTED}"`),
      );
    });
  }
  out.push('</g>');
  return out.join('\n');
}

function colorbar(
  x: number,
  y: number,
  h: number,
  scale: ColorScaleName,
  domain: [number, number],
  label: string | undefined,
  ctx: Ctx,
): string {
  const w = 14;
  const out: string[] = ['<g class="colorbar">'];
  const stops: string[] = [];
  const [lo, hi] = domain;
  for (let k = 0; k <= 20; k++) {
    const v = hi - ((hi - lo) * k) / 20;
    stops.push(`<stop offset="${px(k * 5)}%" stop-color="${colorFor(v, scale, domain)}"/>`);
  }
  out.push(
    `<defs><linearGradient id="${ctx.id}-cbar" x1="0" y1="0" x2="0" y2="1">${stops.join('')}</linearGradient></defs>`,
  );
  out.push(
    `<rect x="${px(x)}" y="${px(y)}" width="${w}" height="${px(h)}" fill="url(#${ctx.id}-cbar)" stroke="${INK}" stroke-width="0.5"/>`,
  );
  const { ticks, step } = niceTicks(lo, hi, Math.max(2, Math.min(6, Math.floor(h / 40))));
  for (const t of ticks) {
    if (t < lo - 1e-12 * Math.abs(hi - lo) || t > hi + 1e-12 * Math.abs(hi - lo)) continue;
    const ty = y + ((hi - t) / (hi - lo)) * h;
    out.push(
      `<g class="tick cbar-tick" data-value="${t}"><line x1="${px(x + w)}" x2="${px(x + w + 4)}" y1="${px(ty)}" y2="${px(ty)}" stroke="${INK}"/>${text(x + w + 7, ty + 4, formatTick(t, step), `fill="${MUTED}"`)}</g>`,
    );
  }
  if (label) {
    const lx = x + w + 7 + maxOf(ticks, (t) => textWidth(formatTick(t, step), FONT)) + 14;
    const ly = y + h / 2;
    out.push(
      `<text class="colorbar-label" x="${px(lx)}" y="${px(ly)}" text-anchor="middle" fill="${INK}" transform="rotate(-90 ${px(lx)} ${px(ly)})">${esc(label)}</text>`,
    );
  }
  out.push('</g>');
  return out.join('\n');
}

const HATCH = (id: string): string =>
  `<defs><pattern id="${id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#eeeeee"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="2"/></pattern></defs>`;

function heatmaps(spec: HeatmapSpec | HeatmapGridSpec, ctx: Ctx): string {
  const panels: HeatmapPanel[] = spec.kind === 'heatmap' ? [spec] : spec.panels;
  const scale = spec.scale ?? defaultScale(panels);
  const domain = heatmapDomain(panels, scale, spec.domain);
  const ncols = spec.kind === 'heatmap-grid' ? Math.min(panels.length, spec.columns ?? Math.min(4, panels.length)) : 1;
  const nrows = Math.ceil(panels.length / ncols);
  const maxSide = spec.kind === 'heatmap' ? 360 : Math.max(60, 560 / ncols);
  const lays = panels.map((p) => panelLayout(p, spec.cellSize, maxSide));
  const hasPanelTitles = spec.kind === 'heatmap-grid' && panels.some((p) => p.title);
  const panelTitleH = hasPanelTitles ? 20 : 0;
  // A column is as wide as its panel's title too (bold, so ≈ 8% wider than the estimate): titles never overlap.
  const titleW = hasPanelTitles ? maxOf(panels, (p) => (p.title ? textWidth(p.title, FONT) * 1.08 : 0)) : 0;
  const colW =
    Math.max(
      maxOf(lays, (l) => l.w),
      titleW + 8,
    ) + 16;
  const rowH = maxOf(lays, (l) => l.h) + panelTitleH + 12;
  const top = spec.title ? 40 : 12;
  const left = 12 + (spec.yLabel ? 20 : 0);
  const gridW = ncols * colW;
  const gridH = nrows * rowH;
  const cbarX = left + gridW + 8;
  const cbarTickW = 60 + (spec.colorbarLabel ? 20 : 0);
  const bottom = spec.xLabel ? 30 : 8;
  const width = Math.max(spec.width ?? 0, cbarX + 14 + cbarTickW, spec.title ? textWidth(spec.title, 15) + 24 : 0);
  const height = top + gridH + bottom;
  const n = panels.reduce((a, p) => a + p.values.length * p.values[0]!.length, 0);
  const summary =
    spec.kind === 'heatmap'
      ? `Heatmap of ${spec.values.length}×${spec.values[0]!.length} values from ${formatNumber(domain[0])} to ${formatNumber(domain[1])} on a ${scale} scale.`
      : `${panels.length} heatmaps (${n} cells) on one ${scale} scale from ${formatNumber(domain[0])} to ${formatNumber(domain[1])}.`;
  const out = [open(ctx, width, height, summary), titleText(spec, width), HATCH(ctx.id)];
  panels.forEach((p, k) => {
    const gx = left + (k % ncols) * colW;
    const gy = top + Math.floor(k / ncols) * rowH;
    if (hasPanelTitles && p.title) {
      const lay = lays[k]!;
      // Over the panel's cells, kept inside its column (a title wider than a small panel would reach
      // into the next column, or past the left edge).
      const half = (textWidth(p.title, FONT) * 1.08) / 2;
      const cx = Math.min(Math.max(gx + lay.rowLabelW + (lay.w - lay.rowLabelW) / 2, gx + half), gx + colW - 16 - half);
      out.push(text(cx, gy + 13, p.title, `class="panel-title" text-anchor="middle" font-weight="600" fill="${INK}"`));
    }
    out.push(drawPanel(p, gx, gy + panelTitleH, lays[k]!, scale, domain, spec.showValues, ctx, k));
  });
  // The colour bar spans the cells of the first row of panels (or the whole grid, capped).
  const firstRowCells = maxOf(panels.slice(0, ncols), (p, k) => p.values.length * lays[k]!.cell);
  const cbarH = Math.max(60, nrows === 1 ? firstRowCells + panelTitleH : Math.min(gridH - 12, 360));
  out.push(colorbar(cbarX, top + panelTitleH, cbarH - panelTitleH, scale, domain, spec.colorbarLabel, ctx));
  if (spec.xLabel)
    out.push(
      text(left + gridW / 2, height - 10, spec.xLabel, `class="axis-label x-label" text-anchor="middle" fill="${INK}"`),
    );
  if (spec.yLabel) {
    const ly = top + gridH / 2;
    out.push(
      `<text class="axis-label y-label" x="14" y="${px(ly)}" text-anchor="middle" fill="${INK}" transform="rotate(-90 14 ${px(ly)})">${esc(spec.yLabel)}</text>`,
    );
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function cellText(v: TableCell): string {
  if (v === null) return '';
  if (typeof v === 'number') return formatNumber(v);
  return String(v);
}

function table(spec: TableSpec, ctx: Ctx): string {
  const rowH = 22;
  const padX = 10;
  const colW = spec.columns.map(
    (c, j) =>
      Math.max(textWidth(c, FONT) * 1.08, ...spec.rows.map((r) => textWidth(cellText(r[j] ?? null), FONT))) + 2 * padX,
  );
  const numeric = spec.columns.map(
    (_, j) => spec.rows.length > 0 && spec.rows.every((r) => typeof r[j] === 'number' || r[j] === null),
  );
  const top = spec.title ? 36 : 8;
  const tableW = colW.reduce((a, b) => a + b, 0);
  const width = Math.max(spec.width ?? 0, tableW + 16, spec.title ? textWidth(spec.title, 15) + 24 : 0);
  const height = top + (spec.rows.length + 1) * rowH + 8;
  const out = [
    open(ctx, width, height, `Table with ${spec.rows.length} rows and columns ${spec.columns.join(', ')}.`),
    titleText(spec, width),
  ];
  const x0 = 8;
  out.push('<g class="table">');
  out.push(`<rect x="${x0}" y="${top}" width="${px(tableW)}" height="${rowH}" fill="#f0f0f0"/>`);
  let x = x0;
  spec.columns.forEach((c, j) => {
    const w = colW[j]!;
    out.push(
      text(
        numeric[j] ? x + w - padX : x + padX,
        top + 15,
        c,
        `class="header" font-weight="600" fill="${INK}"${numeric[j] ? ' text-anchor="end"' : ''}`,
      ),
    );
    x += w;
  });
  spec.rows.forEach((r, i) => {
    const y = top + (i + 1) * rowH;
    out.push(`<g class="table-row" data-row="${i}">`);
    if (i % 2 === 1) out.push(`<rect x="${x0}" y="${y}" width="${px(tableW)}" height="${rowH}" fill="#f8f8f8"/>`);
    let cx = x0;
    r.forEach((v, j) => {
      const w = colW[j]!;
      out.push(
        text(
          numeric[j] ? cx + w - padX : cx + padX,
          y + 15,
          cellText(v),
          `class="table-cell" fill="${INK}"${numeric[j] ? ' text-anchor="end"' : ''}`,
        ),
      );
      cx += w;
    });
    out.push('</g>');
  });
  out.push(`<line x1="${x0}" x2="${px(x0 + tableW)}" y1="${top + rowH}" y2="${top + rowH}" stroke="${INK}"/>`);
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * Renders a figure spec as a standalone SVG document (a string; no DOM needed). The same spec
 * always gives the same bytes. Throws a `FigureSpecError` naming the bad field.
 *
 * @example
 * const svg = renderSvg({ kind: 'line', title: 'Loss', series: [{ name: 'train', x: [1, 2, 3], y: [1, 0.5, 0.25] }] });
 */
export function renderSvg(spec: FigureSpec): string {
  validateFigure(spec, 'renderSvg');
  const ctx: Ctx = { id: `attnlab-${hash(JSON.stringify(spec))}`, spec };
  switch (spec.kind) {
    case 'line':
      return lineChart(spec, ctx);
    case 'bar':
      return barChart(spec, ctx);
    case 'heatmap':
    case 'heatmap-grid':
      return heatmaps(spec, ctx);
    case 'table':
      return table(spec, ctx);
  }
}

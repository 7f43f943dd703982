import { FIGURE_KINDS, FIGURE_SPEC_VERSION, type FigureSpec, type HeatmapPanel } from './types.js';

/** Error thrown for a figure spec that cannot be drawn; the message names the field. */
export class FigureSpecError extends TypeError {
  /** Path of the offending field, e.g. `series[1].y`. */
  readonly field: string;
  constructor(fn: string, field: string, message: string) {
    super(`${fn}: spec.${field} ${message}`);
    this.name = 'FigureSpecError';
    this.field = field;
  }
}

const show = (v: unknown): string => {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};
const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

class Checker {
  constructor(readonly fn: string) {}
  fail(field: string, msg: string): never {
    throw new FigureSpecError(this.fn, field, msg);
  }
  object(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      this.fail(field, `must be an object; got ${typeName(v)}`);
    return v as Record<string, unknown>;
  }
  array(v: unknown, field: string, minLength = 0): unknown[] {
    if (!Array.isArray(v)) this.fail(field, `must be an array; got ${typeName(v)} ${show(v)}`);
    if (v.length < minLength)
      this.fail(field, `must have at least ${minLength} entr${minLength === 1 ? 'y' : 'ies'}; got ${v.length}`);
    return v;
  }
  optString(o: Record<string, unknown>, key: string, path: string): void {
    if (o[key] !== undefined && typeof o[key] !== 'string')
      this.fail(`${path}${key}`, `must be a string; got ${typeName(o[key])} ${show(o[key])}`);
  }
  optBool(o: Record<string, unknown>, key: string, path: string): void {
    if (o[key] !== undefined && typeof o[key] !== 'boolean')
      this.fail(`${path}${key}`, `must be a boolean; got ${show(o[key])}`);
  }
  optPositive(o: Record<string, unknown>, key: string, path: string, max = 10000): void {
    const v = o[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max)
      this.fail(`${path}${key}`, `must be a number in (0, ${max}]; got ${show(v)}`);
  }
  numbers(v: unknown, field: string, length?: number): number[] {
    const a = this.array(v, field);
    if (length !== undefined && a.length !== length)
      this.fail(
        field,
        `must have ${length} entries (one per ${field.includes('values') ? 'category' : 'x'}); got ${a.length}`,
      );
    a.forEach((x, i) => {
      // null is accepted as a gap (JSON cannot hold NaN).
      if (typeof x !== 'number' && x !== null)
        this.fail(`${field}[${i}]`, `must be a number; got ${typeName(x)} ${show(x)}`);
    });
    return a as number[];
  }
  strings(v: unknown, field: string, length: number): void {
    const a = this.array(v, field);
    if (a.length !== length) this.fail(field, `must have ${length} entries; got ${a.length}`);
    a.forEach((x, i) => {
      if (typeof x !== 'string') this.fail(`${field}[${i}]`, `must be a string; got ${typeName(x)} ${show(x)}`);
    });
  }
  oneOf(o: Record<string, unknown>, key: string, path: string, allowed: readonly string[]): void {
    const v = o[key];
    if (v !== undefined && !allowed.includes(v as string))
      this.fail(`${path}${key}`, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${show(v)}`);
  }
}

function checkAxis(c: Checker, v: unknown, field: string): void {
  if (v === undefined) return;
  const a = c.object(v, field);
  c.optString(a, 'label', `${field}.`);
  c.oneOf(a, 'scale', `${field}.`, ['linear', 'log']);
  for (const k of ['min', 'max']) {
    if (a[k] !== undefined && (typeof a[k] !== 'number' || !Number.isFinite(a[k])))
      c.fail(`${field}.${k}`, `must be a finite number; got ${show(a[k])}`);
    if (a.scale === 'log' && typeof a[k] === 'number' && a[k] <= 0)
      c.fail(`${field}.${k}`, `must be > 0 on a log axis; got ${show(a[k])}`);
  }
  if (typeof a.min === 'number' && typeof a.max === 'number' && !(a.min < a.max))
    c.fail(`${field}.min`, `must be less than ${field}.max (${a.max}); got ${a.min}`);
}

function checkPanel(c: Checker, p: Record<string, unknown>, path: string): void {
  const rows = c.array(p.values, `${path}values`, 1);
  let cols = -1;
  rows.forEach((r, i) => {
    const row = c.numbers(r, `${path}values[${i}]`);
    if (row.length === 0) c.fail(`${path}values[${i}]`, 'must not be empty');
    if (cols === -1) cols = row.length;
    else if (row.length !== cols)
      c.fail(`${path}values[${i}]`, `must have ${cols} entries like row 0 (a rectangular matrix); got ${row.length}`);
  });
  c.optString(p, 'title', path);
  if (p.rowLabels !== undefined) c.strings(p.rowLabels, `${path}rowLabels`, rows.length);
  if (p.colLabels !== undefined) c.strings(p.colLabels, `${path}colLabels`, cols);
  if (p.masked !== undefined) {
    const m = c.array(p.masked, `${path}masked`);
    if (m.length !== rows.length) c.fail(`${path}masked`, `must have ${rows.length} rows like values; got ${m.length}`);
    m.forEach((r, i) => {
      const row = c.array(r, `${path}masked[${i}]`);
      if (row.length !== cols)
        c.fail(`${path}masked[${i}]`, `must have ${cols} entries like values; got ${row.length}`);
      row.forEach((x, j) => {
        if (typeof x !== 'boolean') c.fail(`${path}masked[${i}][${j}]`, `must be a boolean; got ${show(x)}`);
      });
    });
  }
}

function checkHeatmapCommon(c: Checker, s: Record<string, unknown>): void {
  c.oneOf(s, 'scale', '', ['diverging', 'sequential']);
  for (const k of ['colorbarLabel', 'xLabel', 'yLabel']) c.optString(s, k, '');
  c.optBool(s, 'showValues', '');
  c.optPositive(s, 'cellSize', '', 400);
  if (s.domain !== undefined) {
    const d = c.numbers(s.domain, 'domain');
    if (d.length !== 2 || !d.every(Number.isFinite) || !(d[0]! < d[1]!))
      c.fail('domain', `must be [min, max] with finite min < max; got ${show(s.domain)}`);
    if (s.scale === 'diverging' && !(d[0]! <= 0 && d[1]! >= 0))
      c.fail('domain', `must contain 0 for a diverging scale (0 is the white centre); got ${show(s.domain)}`);
  }
}

/**
 * Checks that `spec` is a figure spec this package can draw and returns it typed; otherwise
 * throws a {@link FigureSpecError} naming the field, the value and what is allowed.
 *
 * @example
 * const spec = validateFigure(JSON.parse(text));
 */
export function validateFigure(spec: unknown, fn = 'validateFigure'): FigureSpec {
  const c = new Checker(fn);
  const s = c.object(spec, '(root)');
  if (s.version !== undefined && s.version !== FIGURE_SPEC_VERSION)
    c.fail(
      'version',
      `must be ${FIGURE_SPEC_VERSION} (the only spec version this @attnlab/plot reads); got ${show(s.version)}`,
    );
  if (!FIGURE_KINDS.includes(s.kind as never))
    c.fail('kind', `must be one of ${FIGURE_KINDS.map((k) => `'${k}'`).join(', ')}; got ${show(s.kind)}`);
  c.optString(s, 'title', '');
  c.optString(s, 'description', '');
  c.optPositive(s, 'width', '');
  switch (s.kind) {
    case 'line': {
      c.optPositive(s, 'height', '');
      checkAxis(c, s.x, 'x');
      checkAxis(c, s.y, 'y');
      c.optBool(s, 'legend', '');
      const series = c.array(s.series, 'series', 1);
      series.forEach((raw, i) => {
        const p = `series[${i}].`;
        const se = c.object(raw, `series[${i}]`);
        if (typeof se.name !== 'string')
          c.fail(`${p}name`, `must be a string; got ${typeName(se.name)} ${show(se.name)}`);
        const x = c.numbers(se.x, `${p}x`);
        c.numbers(se.y, `${p}y`, x.length);
        if ((se.lower === undefined) !== (se.upper === undefined))
          c.fail(
            `${p}${se.lower === undefined ? 'lower' : 'upper'}`,
            'is required when the other error-band bound is given',
          );
        if (se.lower !== undefined) c.numbers(se.lower, `${p}lower`, x.length);
        if (se.upper !== undefined) c.numbers(se.upper, `${p}upper`, x.length);
        c.optString(se, 'color', p);
        c.optBool(se, 'dashed', p);
        c.optBool(se, 'markers', p);
      });
      break;
    }
    case 'heatmap':
      checkHeatmapCommon(c, s);
      checkPanel(c, s, '');
      break;
    case 'heatmap-grid': {
      checkHeatmapCommon(c, s);
      const panels = c.array(s.panels, 'panels', 1);
      panels.forEach((p, i) => checkPanel(c, c.object(p, `panels[${i}]`), `panels[${i}].`));
      if (s.columns !== undefined && (!Number.isInteger(s.columns) || (s.columns as number) < 1))
        c.fail('columns', `must be a positive integer; got ${show(s.columns)}`);
      break;
    }
    case 'bar': {
      c.optPositive(s, 'height', '');
      const cats = c.array(s.categories, 'categories', 1);
      c.strings(cats, 'categories', cats.length);
      const groups = c.array(s.groups, 'groups', 1);
      groups.forEach((raw, i) => {
        const g = c.object(raw, `groups[${i}]`);
        if (typeof g.name !== 'string')
          c.fail(`groups[${i}].name`, `must be a string; got ${typeName(g.name)} ${show(g.name)}`);
        c.numbers(g.values, `groups[${i}].values`, cats.length);
        c.optString(g, 'color', `groups[${i}].`);
      });
      c.optString(s, 'xLabel', '');
      c.optString(s, 'yLabel', '');
      c.optBool(s, 'legend', '');
      break;
    }
    case 'table': {
      const cols = c.array(s.columns, 'columns', 1);
      c.strings(cols, 'columns', cols.length);
      c.array(s.rows, 'rows').forEach((r, i) => {
        const row = c.array(r, `rows[${i}]`);
        if (row.length !== cols.length)
          c.fail(`rows[${i}]`, `must have ${cols.length} cells (one per column); got ${row.length}`);
        row.forEach((x, j) => {
          if (x !== null && !['string', 'number', 'boolean'].includes(typeof x))
            c.fail(`rows[${i}][${j}]`, `must be a string, number, boolean or null; got ${typeName(x)}`);
        });
      });
      break;
    }
  }
  return spec as FigureSpec;
}

/** Finite values of a panel that are not masked (for colour domains). */
export function panelValues(p: HeatmapPanel): number[] {
  const out: number[] = [];
  p.values.forEach((row, i) =>
    row.forEach((v, j) => {
      if (Number.isFinite(v) && !p.masked?.[i]?.[j]) out.push(v);
    }),
  );
  return out;
}

import { formatBytes, formatCount, ResourceError, type ObjectSchema, type Schema } from '@attnlab/experiments';
import { h } from './dom.js';

/**
 * Forms and URL state generated from an experiment's config schema: the controls are the schema's
 * fields (with its descriptions and bounds), and a config round-trips through `?key=value` pairs
 * (dotted paths, only what differs from the preset), so a link reproduces the run.
 */

type Leaf = { path: string; schema: Schema };
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A config key as a label: `weightDecay` → “Weight decay”, `maxL` → “Max L” (a form's own labels come first). */
const WORDS: Record<string, string> = { lr: 'Learning rate', eps: 'Epsilon' };
function humanize(key: string): string {
  if (WORDS[key]) return WORDS[key];
  if (key.length === 1) return key; // a symbol: d, L
  const words = key.split(/(?=[A-Z])/).map((w, i) => (w.length === 1 ? w : i === 0 ? w : w.toLowerCase()));
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function leaves(schema: ObjectSchema, prefix = ''): Leaf[] {
  return Object.entries(schema.fields).flatMap(([k, sc]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    return sc.kind === 'object' ? leaves(sc, path) : [{ path, schema: sc }];
  });
}

function get(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), obj);
}
function set(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  keys.slice(0, -1).forEach((k) => {
    if (!isObj(o[k])) o[k] = {};
    o = o[k] as Record<string, unknown>;
  });
  o[keys[keys.length - 1]!] = value;
}

const simpleArray = (sc: Schema): boolean =>
  sc.kind === 'array' && ['number', 'string', 'enum'].includes(sc.items.kind);

function encode(sc: Schema, v: unknown): string {
  if (sc.kind === 'array' && simpleArray(sc) && Array.isArray(v)) return v.join(',');
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function decodeScalar(sc: Schema, raw: string): unknown {
  if (sc.kind === 'number') return Number(raw);
  if (sc.kind === 'boolean') return raw === 'true' || raw === '1';
  if (sc.kind === 'enum') return sc.values.find((x) => String(x) === raw) ?? raw;
  if (sc.kind === 'string') return raw;
  return JSON.parse(raw) as unknown;
}
function decode(sc: Schema, raw: string): unknown {
  if (sc.kind === 'array' && simpleArray(sc))
    return raw.trim() === '' ? [] : raw.split(',').map((x) => decodeScalar(sc.items, x.trim()));
  return decodeScalar(sc, raw);
}

/** The URL pairs for the fields of `value` that differ from `base`. */
export function configToParams(schema: ObjectSchema, value: unknown, base: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { path, schema: sc } of leaves(schema)) {
    const v = get(value, path);
    if (v !== undefined && JSON.stringify(v) !== JSON.stringify(get(base, path))) out[path] = encode(sc, v);
  }
  return out;
}

/** Overrides read from URL pairs (unknown keys ignored; the schema validates the values later). */
export function paramsToOverrides(schema: ObjectSchema, params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { path, schema: sc } of leaves(schema)) {
    const raw = params.get(path);
    if (raw === null) continue;
    try {
      set(out, path, decode(sc, raw));
    } catch {
      /* a malformed value is left to the preset */
    }
  }
  return out;
}

/** A problem with one field, in the reader's words (no internal paths). */
export interface FieldProblem {
  /** The config's dotted path (`optimizer.lr`), as the schema's errors name it after `config.`. */
  path: string;
  message: string;
}

export interface SchemaForm {
  el: HTMLElement;
  /**
   * Marks fields as invalid next to them (highlighted, aria-invalid, the message under the field,
   * the first one focused) and returns the problems that name fields this form shows; `[]` clears.
   */
  showProblems(problems: FieldProblem[]): FieldProblem[];
  /** The label a field has in this form (its last path segment when it has none). */
  labelOf(path: string): string;
  /** The values in the form, on top of `base` (numbers parsed; validation is the schema's job). */
  read(base: unknown): Record<string, unknown>;
  /** Puts a config's values into the controls. */
  write(value: unknown): void;
}

/**
 * Controls for the leaf fields of `schema` whose dotted path is in `include` (all when omitted):
 * numbers, enums (select), booleans (checkbox), strings, and lists (comma-separated; a list of
 * enum values is a group of checkboxes). `labels` renames fields.
 */
export function schemaForm(
  schema: ObjectSchema,
  value: unknown,
  opts: {
    idPrefix: string;
    include?: string[];
    exclude?: string[];
    labels?: Record<string, string>;
    onInput?: () => void;
  },
): SchemaForm {
  const all = leaves(schema)
    .filter((l) => !opts.include || opts.include.includes(l.path))
    .filter((l) => !opts.exclude?.some((x) => l.path === x || l.path.startsWith(`${x}.`)));
  const list = opts.include
    ? opts.include.map((p) => all.find((l) => l.path === p)).filter((l): l is Leaf => Boolean(l))
    : all;
  const readers: ((into: Record<string, unknown>) => void)[] = [];
  const writers: ((v: unknown) => void)[] = [];
  const groups = new Map<string, HTMLElement>();
  const root = h('div', { class: 'schema-form' });
  const container = (path: string): HTMLElement => {
    const parent = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
    if (!parent || opts.include) return root;
    let g = groups.get(parent);
    if (!g) {
      const sc = get({ fields: schema.fields }, `fields.${parent.split('.').join('.fields.')}`) as Schema | undefined;
      g = h(
        'fieldset',
        { class: 'group' },
        h('legend', {}, opts.labels?.[parent] ?? humanize(parent.split('.').pop()!)),
        sc?.description ? h('small', {}, sc.description) : null,
      );
      groups.set(parent, g);
      root.append(g);
    }
    return g;
  };
  for (const { path, schema: sc } of list) {
    const id = `${opts.idPrefix}-${path.replace(/\./g, '-')}`;
    const label = opts.labels?.[path] ?? humanize(path.split('.').pop()!);
    const help = sc.description ?? '';
    let control: HTMLElement;
    if (sc.kind === 'array' && sc.items.kind === 'enum') {
      const items = sc.items.values;
      const boxes = items.map((v) => h('input', { type: 'checkbox', id: `${id}-${String(v)}`, value: String(v) }));
      control = h(
        'fieldset',
        { class: 'field checks', id },
        h('legend', {}, label),
        ...items.map((v, i) =>
          h('span', { class: 'check-item' }, boxes[i]!, h('label', { for: `${id}-${String(v)}` }, String(v))),
        ),
      );
      readers.push((o) =>
        set(
          o,
          path,
          items.filter((_, i) => boxes[i]!.checked),
        ),
      );
      writers.push((v) =>
        boxes.forEach((b, i) => {
          b.checked = Array.isArray(v) && v.includes(items[i]);
        }),
      );
      boxes.forEach((b) => b.addEventListener('change', () => opts.onInput?.()));
      container(path).append(control);
      continue;
    }
    if (sc.kind === 'enum') {
      const sel = h('select', { id }, ...sc.values.map((v) => h('option', { value: String(v) }, String(v))));
      readers.push((o) => set(o, path, decodeScalar(sc, sel.value)));
      writers.push((v) => {
        sel.value = String(v);
      });
      control = sel;
    } else if (sc.kind === 'boolean') {
      const box = h('input', { id, type: 'checkbox' });
      readers.push((o) => set(o, path, box.checked));
      writers.push((v) => {
        box.checked = Boolean(v);
      });
      container(path).append(h('div', { class: 'field check' }, box, h('label', { for: id, title: help }, label)));
      box.addEventListener('change', () => opts.onInput?.());
      continue;
    } else if (sc.kind === 'number') {
      const attrs: Record<string, string> = { id, type: 'number', step: sc.integer ? '1' : 'any' };
      if (sc.min !== undefined) attrs.min = String(sc.min);
      if (sc.max !== undefined) attrs.max = String(sc.max);
      const inp = h('input', attrs);
      readers.push((o) => set(o, path, inp.value.trim() === '' ? NaN : Number(inp.value)));
      writers.push((v) => {
        inp.value = String(v);
      });
      control = inp;
    } else {
      const inp = h('input', { id, type: 'text' });
      const listy = sc.kind === 'array' && simpleArray(sc);
      readers.push((o) => set(o, path, listy || sc.kind === 'string' ? decode(sc, inp.value) : JSON.parse(inp.value)));
      writers.push((v) => {
        inp.value = encode(sc, v);
      });
      control = inp;
    }
    control.addEventListener('input', () => opts.onInput?.());
    control.addEventListener('change', () => opts.onInput?.());
    container(path).append(
      h('div', { class: 'field' }, h('label', { for: id }, label), control, help ? h('small', {}, help) : null),
    );
  }
  const controlOf = (path: string): HTMLElement | null =>
    list.some((l) => l.path === path) ? root.querySelector(`#${opts.idPrefix}-${path.replace(/\./g, '-')}`) : null;
  const form: SchemaForm = {
    el: root,
    labelOf: (path) => opts.labels?.[path] ?? humanize(path.split('.').pop()!),
    showProblems(problems) {
      root.querySelectorAll('.field-error').forEach((e) => e.remove());
      root.querySelectorAll('[aria-invalid]').forEach((e) => {
        e.removeAttribute('aria-invalid');
        const d = (e.getAttribute('aria-describedby') ?? '').split(' ').filter((x) => !x.endsWith('-problem'));
        if (d.length) e.setAttribute('aria-describedby', d.join(' '));
        else e.removeAttribute('aria-describedby');
        e.closest('.field')?.classList.remove('invalid');
      });
      const shown: FieldProblem[] = [];
      for (const p of problems) {
        const control = controlOf(p.path);
        if (!control) continue;
        shown.push(p);
        const note = h('small', { class: 'field-error', id: `${control.id}-problem` }, p.message);
        control.setAttribute('aria-invalid', 'true');
        control.setAttribute(
          'aria-describedby',
          [control.getAttribute('aria-describedby'), note.id].filter(Boolean).join(' '),
        );
        const field = control.closest('.field') ?? control.parentElement!;
        field.classList.add('invalid');
        field.append(note);
      }
      if (shown.length) controlOf(shown[0]!.path)?.focus();
      return shown;
    },
    read(base) {
      const out = JSON.parse(JSON.stringify(base ?? {})) as Record<string, unknown>;
      readers.forEach((r) => r(out));
      return out;
    },
    write(v) {
      list.forEach((l, i) => writers[i]?.(get(v, l.path)));
    },
  };
  form.write(value);
  return form;
}

const isConfigError = (e: unknown): e is Error & { field: string; allowed: string; received: unknown } =>
  e instanceof Error && typeof (e as { field?: unknown }).field === 'string' && 'allowed' in e;

/**
 * An error from `resolveConfig` or `checkResources` in the reader's words: the fields to mark (a
 * too-big run marks the fields its size grows with) and one sentence naming them by their labels,
 * never by internal paths. Any other error is passed on as it is.
 */
export function configProblems(err: unknown, form: SchemaForm): { problems: FieldProblem[]; message: string } {
  if (err instanceof ResourceError) {
    const memory = err.kind === 'memory';
    const need = memory ? `${formatBytes(err.need)} of memory` : `${formatCount(err.need)} arithmetic operations`;
    const limit = memory ? formatBytes(err.limit) : `${formatCount(err.limit)} in this tab`;
    const problems = err.drivers.map((d) => ({
      path: d.field.replace(/^config\./, ''),
      message: `The run would need about ${need} (the limit is ${limit}); make this smaller.`,
    }));
    const names = problems.map((p) => form.labelOf(p.path));
    return {
      problems,
      message:
        `Too big to run here: about ${need}, more than the limit of ${limit}. ${names.length ? `Make ${names.join(', ')} smaller.` : ''}`.trim(),
    };
  }
  if (!isConfigError(err)) return { problems: [], message: err instanceof Error ? err.message : String(err) };
  const path = err.field.replace(/^config\./, '');
  const r = err.received;
  const got =
    typeof r === 'number' && Number.isNaN(r)
      ? 'it is empty or not a number'
      : r === undefined
        ? 'it is missing'
        : `not ${typeof r === 'string' ? `“${r}”` : JSON.stringify(r)}`;
  const message = `Must be ${err.allowed} (${got}).`;
  return {
    problems: [{ path, message }],
    message: `${form.labelOf(path)}: ${message.charAt(0).toLowerCase()}${message.slice(1)}`,
  };
}

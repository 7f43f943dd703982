/**
 * A small schema language for experiment configs and results: validation with errors that name the
 * field, the value and what is allowed; defaults; descriptions (for `--help`, web forms and docs);
 * JSON Schema export. No dependency, browser-safe.
 */

export type Schema =
  NumberSchema | StringSchema | EnumSchema | BooleanSchema | ArraySchema | ObjectSchema | RecordSchema | NullableSchema;

interface Base {
  description?: string;
  /** Optional fields may be absent (`undefined`); required ones must be present after defaults. */
  optional?: boolean;
}
export interface NumberSchema extends Base {
  kind: 'number';
  integer?: boolean;
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  /** The value must be a whole multiple of this (e.g. 4 for a width split into four blocks). */
  multipleOf?: number;
  default?: number;
}
export interface StringSchema extends Base {
  kind: 'string';
  minLength?: number;
  default?: string;
}
export interface EnumSchema<V extends string | number = string | number> extends Base {
  kind: 'enum';
  values: readonly V[];
  default?: V;
}
export interface BooleanSchema extends Base {
  kind: 'boolean';
  default?: boolean;
}
export interface ArraySchema<I extends Schema = Schema> extends Base {
  kind: 'array';
  items: I;
  minItems?: number;
  maxItems?: number;
  default?: readonly unknown[];
}
export interface ObjectSchema<F extends Record<string, Schema> = Record<string, Schema>> extends Base {
  kind: 'object';
  fields: F;
  default?: Record<string, unknown>;
}
export interface RecordSchema<V extends Schema = Schema> extends Base {
  kind: 'record';
  values: V;
}
export interface NullableSchema<I extends Schema = Schema> extends Base {
  kind: 'nullable';
  inner: I;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<F> = { [K in keyof F]: F[K] extends { optional: true } ? K : never }[keyof F];

/**
 * The TypeScript type of the values a schema accepts (after defaults): configs declare their
 * schema once and derive their type from it. A list with minItems = maxItems = 2 is a pair.
 * @example
 * const schema = s.object({ steps: s.int({ default: 10 }), method: s.enum(['adam', 'sgd']) });
 * type Config = Infer<typeof schema>; // { steps: number; method: 'adam' | 'sgd' }
 */
export type Infer<S> = S extends { kind: 'number' }
  ? number
  : S extends { kind: 'string' }
    ? string
    : S extends { kind: 'boolean' }
      ? boolean
      : S extends EnumSchema<infer V>
        ? V
        : S extends ArraySchema<infer I>
          ? S extends { minItems: 2; maxItems: 2 }
            ? [Infer<I>, Infer<I>]
            : Infer<I>[]
          : S extends NullableSchema<infer I>
            ? Infer<I> | null
            : S extends RecordSchema<infer V>
              ? Record<string, Infer<V>>
              : S extends ObjectSchema<infer F>
                ? Simplify<
                    { [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: Infer<F[K]> }
                  >
                : never;

/** Thrown for any invalid config or result; `.field` is the dotted path (e.g. `config.optimizer.lr`). */
export class ConfigError extends Error {
  readonly field: string;
  readonly allowed: string;
  readonly received: unknown;
  constructor(field: string, allowed: string, received: unknown, detail?: string) {
    super(`${field}: ${detail ?? `must be ${allowed}`}; got ${describe(received)}`);
    this.name = 'ConfigError';
    this.field = field;
    this.allowed = allowed;
    this.received = received;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (typeof v === 'string')
    return v.length > 80
      ? `${JSON.stringify(v.slice(0, 60)).slice(0, -1)}…" (${v.length} characters)`
      : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return `a ${typeof v}`;
}

// ---- builders -------------------------------------------------------------------------------

export const s = {
  number: <const O extends Omit<NumberSchema, 'kind'>>(o: O = {} as O): NumberSchema & O => ({ kind: 'number', ...o }),
  int: <const O extends Omit<NumberSchema, 'kind' | 'integer'>>(o: O = {} as O): NumberSchema & O => ({
    kind: 'number',
    integer: true,
    ...o,
  }),
  string: <const O extends Omit<StringSchema, 'kind'>>(o: O = {} as O): StringSchema & O => ({ kind: 'string', ...o }),
  enum: <
    const T extends string | number,
    const O extends Omit<EnumSchema<T>, 'kind' | 'values'> = Omit<EnumSchema<T>, 'kind' | 'values'>,
  >(
    values: readonly T[],
    o: O = {} as O,
  ): EnumSchema<T> & O => ({ kind: 'enum', values, ...o }),
  boolean: <const O extends Omit<BooleanSchema, 'kind'>>(o: O = {} as O): BooleanSchema & O => ({
    kind: 'boolean',
    ...o,
  }),
  array: <
    I extends Schema,
    const O extends Omit<ArraySchema<I>, 'kind' | 'items'> = Omit<ArraySchema<I>, 'kind' | 'items'>,
  >(
    items: I,
    o: O = {} as O,
  ): ArraySchema<I> & O => ({ kind: 'array', items, ...o }),
  object: <
    F extends Record<string, Schema>,
    const O extends Omit<ObjectSchema<F>, 'kind' | 'fields'> = Omit<ObjectSchema<F>, 'kind' | 'fields'>,
  >(
    fields: F,
    o: O = {} as O,
  ): ObjectSchema<F> & O => ({ kind: 'object', fields, ...o }),
  record: <
    V extends Schema,
    const O extends Omit<RecordSchema<V>, 'kind' | 'values'> = Omit<RecordSchema<V>, 'kind' | 'values'>,
  >(
    values: V,
    o: O = {} as O,
  ): RecordSchema<V> & O => ({ kind: 'record', values, ...o }),
  nullable: <
    I extends Schema,
    const O extends Omit<NullableSchema<I>, 'kind' | 'inner'> = Omit<NullableSchema<I>, 'kind' | 'inner'>,
  >(
    inner: I,
    o: O = {} as O,
  ): NullableSchema<I> & O => ({ kind: 'nullable', inner, ...o }),
};

/** Words for what a schema allows, used in error messages and `--help`. */
export function allowedText(schema: Schema): string {
  switch (schema.kind) {
    case 'number': {
      const what = schema.integer ? 'an integer' : 'a number';
      const lo = schema.min !== undefined ? `${schema.exclusiveMin ? '>' : '≥'} ${schema.min}` : '';
      const hi = schema.max !== undefined ? `≤ ${schema.max}` : '';
      const mult = schema.multipleOf !== undefined ? `a multiple of ${schema.multipleOf}` : '';
      return [what, [lo, hi, mult].filter(Boolean).join(' and ')].filter(Boolean).join(' ');
    }
    case 'string':
      return 'a string';
    case 'enum':
      return `one of ${schema.values.map((v) => String(v)).join(', ')}`;
    case 'boolean':
      return 'true or false';
    case 'array': {
      const n =
        schema.minItems !== undefined && schema.maxItems !== undefined
          ? ` (${schema.minItems}–${schema.maxItems} items)`
          : schema.minItems
            ? ` (at least ${schema.minItems})`
            : '';
      return `a list${n} of ${allowedText(schema.items).replace(/^(a|an) /, '')}s`.replace(/ss$/, 's');
    }
    case 'object':
      return `an object with fields ${Object.keys(schema.fields).join(', ')}`;
    case 'record':
      return `an object of ${allowedText(schema.values)}`;
    case 'nullable':
      return `${allowedText(schema.inner)} or null`;
  }
}

// ---- validation -----------------------------------------------------------------------------

/**
 * Validates `value` against `schema`, filling defaults; returns a new value (the input is not changed).
 * Unknown object keys are errors (a typo must not be silently ignored).
 * @example
 * validate(s.object({ steps: s.int({ min: 1, default: 100 }) }), {}, 'config') // → { steps: 100 }
 */
export function validate<T = unknown>(
  schema: Schema,
  value: unknown,
  path = 'value',
  opts: { nonFinite?: boolean } = {},
): T {
  return check(schema, value, path, opts.nonFinite === true) as T;
}

/**
 * Where a value holds numbers that are not finite (NaN, ±∞): their paths and values, at most
 * `limit` of them (JSON writes them as null, so a result records them before it is saved).
 */
export function nonFiniteNumbers(value: unknown, path = 'value', limit = 20): { path: string; value: string }[] {
  const out: { path: string; value: string }[] = [];
  const stack: [unknown, string][] = [[value, path]];
  while (stack.length > 0 && out.length < limit) {
    const [v, p] = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) out.push({ path: p, value: String(v) });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${p}[${i}]`]);
    } else if (ArrayBuffer.isView(v)) {
      const a = v as unknown as ArrayLike<number>;
      for (let i = a.length - 1; i >= 0; i--) if (!Number.isFinite(a[i])) stack.push([a[i], `${p}[${i}]`]);
    } else if (typeof v === 'object' && v !== null) {
      for (const k of Object.keys(v).reverse()) stack.push([(v as Record<string, unknown>)[k], `${p}.${k}`]);
    }
  }
  return out;
}

function check(schema: Schema, value: unknown, path: string, nonFinite = false): unknown {
  if (
    nonFinite &&
    schema.kind === 'number' &&
    (value === null || (typeof value === 'number' && !Number.isFinite(value)))
  )
    return value;
  if (value === undefined && 'default' in schema && schema.default !== undefined)
    value = structuredClone(schema.default);
  if (value === undefined) {
    if (schema.optional) return undefined;
    throw new ConfigError(path, allowedText(schema), value, `is required (${allowedText(schema)})`);
  }
  switch (schema.kind) {
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(path, allowedText(schema), value);
      if (schema.integer && !Number.isInteger(value)) throw new ConfigError(path, allowedText(schema), value);
      if (schema.min !== undefined && (schema.exclusiveMin ? value <= schema.min : value < schema.min))
        throw new ConfigError(path, allowedText(schema), value);
      if (schema.max !== undefined && value > schema.max) throw new ConfigError(path, allowedText(schema), value);
      if (schema.multipleOf !== undefined && value % schema.multipleOf !== 0)
        throw new ConfigError(path, allowedText(schema), value);
      return value;
    }
    case 'string':
      if (typeof value !== 'string' || value.length < (schema.minLength ?? 0))
        throw new ConfigError(path, allowedText(schema), value);
      return value;
    case 'enum':
      if (!schema.values.includes(value as string | number)) throw new ConfigError(path, allowedText(schema), value);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw new ConfigError(path, allowedText(schema), value);
      return value;
    case 'array': {
      if (!Array.isArray(value)) throw new ConfigError(path, allowedText(schema), value);
      if (schema.minItems !== undefined && value.length < schema.minItems)
        throw new ConfigError(path, allowedText(schema), value, `must have at least ${schema.minItems} items`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems)
        throw new ConfigError(path, allowedText(schema), value, `must have at most ${schema.maxItems} items`);
      return value.map((v, i) => check(schema.items, v, `${path}[${i}]`, nonFinite));
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new ConfigError(path, allowedText(schema), value);
      const src = value as Record<string, unknown>;
      for (const k of Object.keys(src)) {
        // Own fields only: '__proto__', 'constructor' or 'toString' are not fields of any schema.
        if (!Object.hasOwn(schema.fields, k)) {
          throw new ConfigError(
            `${path}.${k}`,
            `one of the fields ${Object.keys(schema.fields).join(', ')}`,
            src[k],
            `is not a known field (known: ${Object.keys(schema.fields).join(', ')})`,
          );
        }
      }
      const out: Record<string, unknown> = {};
      for (const [k, f] of Object.entries(schema.fields)) {
        const v = check(f, src[k], `${path}.${k}`, nonFinite);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    case 'record': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new ConfigError(path, allowedText(schema), value);
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, check(schema.values, v, `${path}.${k}`, nonFinite)]),
      );
    }
    case 'nullable':
      return value === null ? null : check(schema.inner, value, path, nonFinite);
  }
}

/** Deep-merges `patch` into `base` (objects merge, everything else replaces). */
export function merge<T>(base: T, patch: unknown): T {
  if (patch === undefined) return structuredClone(base);
  if (isPlainObject(base) && isPlainObject(patch)) {
    const out: Record<string, unknown> = structuredClone(base) as Record<string, unknown>;
    for (const [k, v] of Object.entries(patch)) out[k] = Object.hasOwn(out, k) ? merge(out[k], v) : structuredClone(v);
    return out as T;
  }
  return structuredClone(patch) as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON Schema (draft 2020-12) for a schema, for editors and external validators. */
export function toJsonSchema(schema: Schema): Record<string, unknown> {
  const d = schema.description ? { description: schema.description } : {};
  switch (schema.kind) {
    case 'number':
      return {
        type: schema.integer ? 'integer' : 'number',
        ...d,
        ...(schema.min !== undefined
          ? schema.exclusiveMin
            ? { exclusiveMinimum: schema.min }
            : { minimum: schema.min }
          : {}),
        ...(schema.max !== undefined ? { maximum: schema.max } : {}),
        ...(schema.multipleOf !== undefined ? { multipleOf: schema.multipleOf } : {}),
        ...(schema.default !== undefined ? { default: schema.default } : {}),
      };
    case 'string':
      return { type: 'string', ...d, ...(schema.default !== undefined ? { default: schema.default } : {}) };
    case 'enum':
      return { enum: [...schema.values], ...d, ...(schema.default !== undefined ? { default: schema.default } : {}) };
    case 'boolean':
      return { type: 'boolean', ...d, ...(schema.default !== undefined ? { default: schema.default } : {}) };
    case 'array':
      return {
        type: 'array',
        items: toJsonSchema(schema.items),
        ...d,
        ...(schema.minItems !== undefined ? { minItems: schema.minItems } : {}),
        ...(schema.maxItems !== undefined ? { maxItems: schema.maxItems } : {}),
      };
    case 'object': {
      const required = Object.entries(schema.fields)
        .filter(([, f]) => !f.optional && !('default' in f && f.default !== undefined))
        .map(([k]) => k);
      return {
        type: 'object',
        ...d,
        properties: Object.fromEntries(Object.entries(schema.fields).map(([k, f]) => [k, toJsonSchema(f)])),
        ...(required.length ? { required } : {}),
        additionalProperties: false,
      };
    }
    case 'record':
      return { type: 'object', additionalProperties: toJsonSchema(schema.values), ...d };
    case 'nullable':
      return { anyOf: [toJsonSchema(schema.inner), { type: 'null' }], ...d };
  }
}

/**
 * The schema of the field at a dotted path inside an object schema (e.g. `optimizer.lr`), for
 * tools that build flags or form controls from a config's one schema; a clear error when the
 * path names no field.
 * @example
 * schemaAt(iclConfigSchema, 'optimizer.lr'); // { kind: 'number', min: 0, exclusiveMin: true, … }
 */
export function schemaAt(schema: Schema, path: string): Schema {
  let node: Schema = schema;
  const seen: string[] = [];
  for (const part of path.split('.')) {
    while (node.kind === 'nullable') node = node.inner;
    if (node.kind !== 'object' || !Object.hasOwn(node.fields, part)) {
      const known = node.kind === 'object' ? Object.keys(node.fields).join(', ') : 'none (not an object)';
      throw new RangeError(
        `schemaAt: ${[...seen, part].join('.')} is not a field; the fields of ${seen.join('.') || 'the config'} are ${known}`,
      );
    }
    node = node.fields[part]!;
    seen.push(part);
  }
  return node;
}

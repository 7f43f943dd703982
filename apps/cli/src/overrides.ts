// Command-line flags → experiment config overrides.
import type { ObjectSchema, Schema } from '@attnlab/experiments';
import type { CommandSpec, FlagValue } from './args.js';
import { CliError } from './errors.js';

/** The dotted path of the first field called `key` (breadth-first: top-level fields win), or undefined. */
export function findField(schema: Schema, key: string): string | undefined {
  const queue: { s: Schema; path: string }[] = [{ s: schema, path: '' }];
  while (queue.length) {
    const { s, path } = queue.shift()!;
    if (s.kind !== 'object') continue;
    for (const [k, f] of Object.entries(s.fields)) {
      const p = path ? `${path}.${k}` : k;
      if (k === key) return p;
      queue.push({ s: f, path: p });
    }
  }
  return undefined;
}

/** Sets `obj.a.b.c = value`, creating objects on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]!] = value;
}

/** The config path a flag sets for this experiment (`?name` looked up in the schema). */
export function flagPath(config: string, schema: ObjectSchema, flag: string, experiment: string): string {
  if (!config.startsWith('?')) return config;
  const key = config.slice(1);
  const p = findField(schema, key);
  if (!p)
    throw new CliError(
      `--${flag}: the ${experiment} experiment has no setting '${key}' (its settings: ${Object.keys(schema.fields).join(', ')})`,
      2,
    );
  return p;
}

/** The config overrides given by a command's flags (those with a `config` path). */
export function flagOverrides(
  cmd: CommandSpec,
  flags: Record<string, FlagValue>,
  schema: ObjectSchema,
  experiment: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of cmd.flags) {
    if (f.config === undefined || flags[f.name] === undefined) continue;
    setPath(out, flagPath(f.config, schema, f.name, experiment), flags[f.name]);
  }
  return out;
}

/** The flag that sets a config field (`config.optimizer.lr` → `--lr`), for error messages. */
export function flagForField(cmd: CommandSpec, field: string, schema: ObjectSchema): string | undefined {
  const path = field.replace(/^config\./, '');
  for (const f of cmd.flags) {
    if (f.config === undefined) continue;
    const p = f.config.startsWith('?') ? findField(schema, f.config.slice(1)) : f.config;
    if (p === path) return `--${f.name}`;
  }
  return undefined;
}

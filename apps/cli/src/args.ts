/**
 * A small typed argument parser for `attnlab` (no dependency). Every mistake becomes a
 * `UsageError` whose message is one line naming the problem and the allowed values; the caller
 * prints it with a usage hint and exits 2.
 */

export type FlagType = 'boolean' | 'string' | 'int' | 'number' | 'enum' | 'int-list' | 'enum-list';

export interface FlagSpec {
  /** Long name without dashes, e.g. `backend`. */
  name: string;
  type: FlagType;
  description: string;
  /** One-letter alias without the dash, e.g. `h`. */
  short?: string;
  /** Allowed values for `enum`. */
  values?: readonly string[];
  /** Inclusive bounds for `int` / `number` (each item of an `int-list`). */
  min?: number;
  max?: number;
  /** Exclusive lower bound for `number` (e.g. a learning rate > 0). */
  gt?: number;
  /** Placeholder in help, e.g. `<dir>`. */
  valueName?: string;
  /**
   * The experiment config field this flag sets (dotted path, e.g. `optimizer.lr`); `?name` means
   * the field called `name` wherever it is in the experiment's config schema.
   */
  config?: string;
}

export interface PositionalSpec {
  name: string;
  description: string;
  required: boolean;
}

export interface CommandSpec {
  /** One or two words, e.g. `doctor` or `icl train`. */
  name: string;
  summary: string;
  /** Longer help text (optional). */
  details?: string;
  positionals: readonly PositionalSpec[];
  flags: readonly FlagSpec[];
  examples: readonly string[];
}

export type FlagValue = string | number | boolean | number[] | string[];

export interface ParsedArgs {
  /** The command, or `undefined` for bare `attnlab` / `attnlab --help` / `--version`. */
  command?: CommandSpec;
  flags: Record<string, FlagValue>;
  positionals: Record<string, string>;
  help: boolean;
  version: boolean;
  /** For `attnlab icl --help`: the command group whose subcommands to list. */
  group?: string;
}

/** A mistake on the command line: exit code 2, one line, no stack trace. */
export class UsageError extends Error {
  /** The command whose usage to show, when known. */
  readonly command: CommandSpec | undefined;
  readonly exitCode = 2;
  constructor(message: string, command?: CommandSpec) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** Flags every command takes. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'help', short: 'h', type: 'boolean', description: 'show help for this command' },
  { name: 'json', type: 'boolean', description: 'print the result as JSON on stdout; everything else goes to stderr' },
  { name: 'quiet', short: 'q', type: 'boolean', description: 'print only errors and the final result' },
];

/** Edit distance counting an adjacent transposition as one edit (optimal string alignment). */
export function levenshtein(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate within edit distance 2 (or a prefix match), for "did you mean". */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = c.startsWith(input) && input.length >= 2 ? 0.5 : levenshtein(input, c);
    if (dist < bestD) [best, bestD] = [c, dist];
  }
  return bestD <= Math.min(2, Math.max(1, Math.floor(input.length / 3))) || bestD === 0.5 ? best : undefined;
}

const quote = (s: string): string => `'${s}'`;

/** What a flag accepts, in words: `one of auto, cpu`, `an integer in [0, 4294967295]`. */
export function describeFlagValue(f: FlagSpec): string {
  switch (f.type) {
    case 'boolean':
      return 'no value (or =true / =false)';
    case 'string':
      return f.valueName ?? 'a value';
    case 'enum':
      return `one of ${f.values!.join(', ')}`;
    case 'enum-list':
      return `a comma-separated list of ${f.values!.join(', ')}`;
    case 'int-list': {
      const one = describeFlagValue({ ...f, type: 'int' }).replace(/^an integer/, 'integers');
      return `a comma-separated list of ${one}`;
    }
    case 'int':
    case 'number': {
      const kind = f.type === 'int' ? 'an integer' : 'a number';
      if (f.gt !== undefined) return `${kind} > ${f.gt}${f.max !== undefined ? ` and ≤ ${f.max}` : ''}`;
      if (f.min !== undefined && f.max !== undefined) return `${kind} in [${f.min}, ${f.max}]`;
      if (f.min !== undefined) return `${kind} ≥ ${f.min}`;
      if (f.max !== undefined) return `${kind} ≤ ${f.max}`;
      return kind;
    }
  }
}

function convert(f: FlagSpec, raw: string, cmd: CommandSpec | undefined): FlagValue {
  const bad = (): never => {
    throw new UsageError(`--${f.name} must be ${describeFlagValue(f)}; got ${quote(raw)}`, cmd);
  };
  switch (f.type) {
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      return bad();
    case 'string':
      if (raw === '') bad();
      return raw;
    case 'enum':
      if (!f.values!.includes(raw)) {
        const s = suggest(raw, f.values!);
        throw new UsageError(
          `--${f.name} must be ${describeFlagValue(f)}; got ${quote(raw)}${s ? ` (did you mean ${s}?)` : ''}`,
          cmd,
        );
      }
      return raw;
    case 'enum-list': {
      const items = raw.split(',').map((x) => x.trim());
      const badItem = items.find((x) => !f.values!.includes(x));
      if (badItem !== undefined) {
        const s = suggest(badItem, f.values!);
        throw new UsageError(
          `--${f.name} must be ${describeFlagValue(f)}; got ${quote(raw)}${s ? ` (did you mean ${s}?)` : ''}`,
          cmd,
        );
      }
      return items;
    }
    case 'int-list': {
      const items = raw.split(',').map((x) => x.trim());
      if (items.some((x) => !/^[+-]?\d+$/.test(x))) bad();
      const vs = items.map(Number);
      if (
        vs.some(
          (v) => !Number.isSafeInteger(v) || (f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max),
        )
      )
        bad();
      return vs;
    }
    case 'int':
    case 'number': {
      const syntax = f.type === 'int' ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
      if (!syntax.test(raw.trim())) bad();
      const v = Number(raw);
      if (!Number.isFinite(v) || (f.type === 'int' && !Number.isSafeInteger(v))) bad();
      if (
        (f.min !== undefined && v < f.min) ||
        (f.max !== undefined && v > f.max) ||
        (f.gt !== undefined && !(v > f.gt))
      )
        bad();
      return v;
    }
  }
}

/**
 * Parses `argv` (without `node` and the script) against the command table.
 * Supports `--flag value`, `--flag=value`, `-h`, boolean flags, and `--` to end flags.
 */
export function parseArgs(argv: readonly string[], commands: readonly CommandSpec[]): ParsedArgs {
  const out: ParsedArgs = { flags: {}, positionals: {}, help: false, version: false };
  const words: string[] = [];
  let i = 0;
  // Leading global options before the command: --help / -h / --version / -V.
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--') {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--version' || a === '-V') out.version = true;
    else break;
    i++;
  }
  if (i >= argv.length) return out;

  // The command: the longest match of one or two words.
  const names = commands.map((c) => c.name);
  const first = argv[i]!;
  if (first.startsWith('-')) {
    throw new UsageError(`${first} must come after a command; commands: ${topLevel(names).join(', ')}`);
  }
  let cmd = commands.find((c) => c.name === `${first} ${argv[i + 1] ?? ''}`);
  if (cmd) i += 2;
  else {
    cmd = commands.find((c) => c.name === first);
    if (cmd) i += 1;
  }
  if (!cmd) {
    const subs = names.filter((n) => n.startsWith(`${first} `)).map((n) => n.split(' ')[1]!);
    if (subs.length) {
      const sub = argv[i + 1];
      if (sub === undefined || sub.startsWith('-')) {
        if (sub === '--help' || sub === '-h') return { ...out, help: true, group: first };
        throw new UsageError(`'${first}' needs a subcommand: ${subs.join(', ')}`);
      }
      const s = suggest(sub, subs);
      throw new UsageError(
        `unknown command '${first} ${sub}'${s ? ` (did you mean '${first} ${s}'?)` : ''}; '${first}' subcommands: ${subs.join(', ')}`,
      );
    }
    const s = suggest(first, topLevel(names));
    throw new UsageError(
      `unknown command '${first}'${s ? ` (did you mean '${s}'?)` : ''}; commands: ${topLevel(names).join(', ')}`,
    );
  }
  out.command = cmd;
  const flags = [...cmd.flags, ...GLOBAL_FLAGS];
  const seen = new Set<string>();
  let onlyPositionals = false;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (onlyPositionals || !a.startsWith('-') || a === '-') {
      words.push(a);
      continue;
    }
    if (a === '--') {
      onlyPositionals = true;
      continue;
    }
    let name: string;
    let inline: string | undefined;
    let spec: FlagSpec | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq === -1 ? a.slice(2) : a.slice(2, eq);
      inline = eq === -1 ? undefined : a.slice(eq + 1);
      spec = flags.find((f) => f.name === name);
    } else {
      // -d 5 and -d=5 alike.
      const eq = a.indexOf('=');
      name = eq === -1 ? a.slice(1) : a.slice(1, eq);
      inline = eq === -1 ? undefined : a.slice(eq + 1);
      spec = flags.find((f) => f.short === name);
      if (spec) name = spec.name;
    }
    if (!spec) {
      if (name === 'version' || name === 'V') {
        out.version = true;
        continue;
      }
      const s = suggest(
        name,
        flags.map((f) => f.name),
      );
      throw new UsageError(
        `unknown flag ${a.split('=')[0]} for '${cmd.name}'${s ? ` (did you mean --${s}?)` : ''}; flags: ${flags.map((f) => `--${f.name}`).join(', ')}`,
        cmd,
      );
    }
    if (seen.has(spec.name)) throw new UsageError(`--${spec.name} given more than once`, cmd);
    seen.add(spec.name);
    if (spec.type === 'boolean') {
      out.flags[spec.name] = inline === undefined ? true : convert(spec, inline, cmd);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      // A following token is a value unless it looks like a flag (negative numbers are values).
      if (next === undefined || (next.startsWith('-') && !/^-\d|^-\.\d/.test(next))) {
        throw new UsageError(`--${spec.name} needs a value: ${describeFlagValue(spec)}`, cmd);
      }
      raw = next;
      i++;
    }
    out.flags[spec.name] = convert(spec, raw, cmd);
  }
  out.help ||= out.flags.help === true;
  if (out.help || out.version) return out;
  const pos = cmd.positionals;
  if (words.length > pos.length) {
    const extra = words[pos.length]!;
    throw new UsageError(
      pos.length === 0
        ? `unexpected argument '${extra}': '${cmd.name}' takes no arguments`
        : `unexpected argument '${extra}': '${cmd.name}' takes ${pos.map((p) => `<${p.name}>`).join(' ')}`,
      cmd,
    );
  }
  pos.forEach((p, k) => {
    const w = words[k];
    if (w === undefined) {
      if (p.required) throw new UsageError(`'${cmd.name}' needs <${p.name}> (${p.description})`, cmd);
      return;
    }
    out.positionals[p.name] = w;
  });
  return out;
}

function topLevel(names: readonly string[]): string[] {
  return [...new Set(names.map((n) => n.split(' ')[0]!))];
}

/** One-line usage of a command: `attnlab icl eval <run> [flags]`. */
export function usageLine(cmd: CommandSpec): string {
  const pos = cmd.positionals.map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`)).join(' ');
  return `attnlab ${cmd.name}${pos ? ` ${pos}` : ''}${cmd.flags.length || GLOBAL_FLAGS.length ? ' [flags]' : ''}`;
}

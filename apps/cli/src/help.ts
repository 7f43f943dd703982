import { describeFlagValue, GLOBAL_FLAGS, usageLine, type CommandSpec, type FlagSpec } from './args.js';
import { bold } from './term.js';
import { ATTNLAB_VERSION } from './version.js';

function flagRows(flags: readonly FlagSpec[]): string[] {
  const left = flags.map(
    (f) =>
      `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'boolean' ? '' : ` ${f.type === 'enum' ? `<${f.values!.join('|')}>` : (f.valueName ?? '<value>')}`}`,
  );
  const w = Math.min(44, Math.max(...left.map((l) => l.length)) + 2);
  return flags.map((f, i) => {
    const range =
      f.type === 'int' || f.type === 'number' || f.type === 'int-list' || f.type === 'enum-list'
        ? ` (${describeFlagValue(f)})`
        : '';
    const l = left[i]!;
    return l.length >= w
      ? `  ${l}\n  ${' '.repeat(w)}${f.description}${range}`
      : `  ${l.padEnd(w)}${f.description}${range}`;
  });
}

/** `attnlab --help`. */
export function mainHelp(commands: readonly CommandSpec[], color: boolean): string {
  const w = Math.max(...commands.map((c) => c.name.length)) + 3;
  return [
    `${bold(color, 'attnlab')} ${ATTNLAB_VERSION}: the mechanics of attention, from the terminal`,
    '',
    `${bold(color, 'Usage:')} attnlab <command> [flags]`,
    '',
    bold(color, 'Commands:'),
    ...commands.map((c) => `  ${c.name.padEnd(w)}${c.summary}`),
    '',
    bold(color, 'Flags for every command:'),
    ...flagRows([...GLOBAL_FLAGS, { name: 'version', short: 'V', type: 'boolean', description: 'print the version' }]),
    '',
    "Run 'attnlab <command> --help' for its flags and examples.",
    'Colour is off when output is not a terminal or NO_COLOR is set.',
    '',
  ].join('\n');
}

/** `attnlab <command> --help`. */
export function commandHelp(cmd: CommandSpec, color: boolean): string {
  const lines = [
    `${bold(color, `attnlab ${cmd.name}`)}: ${cmd.summary}`,
    '',
    `${bold(color, 'Usage:')} ${usageLine(cmd)}`,
  ];
  if (cmd.details) lines.push('', cmd.details);
  if (cmd.positionals.length) {
    lines.push('', bold(color, 'Arguments:'));
    for (const p of cmd.positionals) lines.push(`  <${p.name}>  ${p.description}${p.required ? '' : ' (optional)'}`);
  }
  lines.push('', bold(color, 'Flags:'), ...flagRows([...cmd.flags, ...GLOBAL_FLAGS]));
  if (cmd.examples.length) lines.push('', bold(color, 'Examples:'), ...cmd.examples.map((e) => `  ${e}`));
  lines.push('');
  return lines.join('\n');
}

/** `attnlab icl --help`: the subcommands of a group. */
export function groupHelp(group: string, commands: readonly CommandSpec[], color: boolean): string {
  const subs = commands.filter((c) => c.name.startsWith(`${group} `));
  const w = Math.max(...subs.map((c) => c.name.length)) + 3;
  return [
    `${bold(color, 'Usage:')} attnlab ${group} <${subs.map((c) => c.name.split(' ')[1]).join('|')}> [flags]`,
    '',
    ...subs.map((c) => `  ${c.name.padEnd(w)}${c.summary}`),
    '',
    `Run 'attnlab ${group} <command> --help' for its flags and examples.`,
    '',
  ].join('\n');
}

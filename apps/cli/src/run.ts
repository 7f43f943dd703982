import { parseArgs, usageLine, UsageError, type ParsedArgs } from './args.js';
import { COMMANDS } from './commands.js';
import { CliError } from './errors.js';
import { commandHelp, groupHelp, mainHelp } from './help.js';
import { red, type Io } from './term.js';
import { ATTNLAB_VERSION } from './version.js';

type Handler = (args: ParsedArgs, io: Io) => Promise<number>;

/** Commands that run in this build; each loads its module (and TensorFlow.js) only when used. */
const HANDLERS: Record<string, () => Promise<Handler>> = {
  doctor: async () => (await import('./doctor.js')).doctor,
  start: async () => (await import('./start.js')).start,
};

const available = COMMANDS.filter((c) => c.name in HANDLERS);

/** Runs the CLI and returns its exit code (0 ok, 1 failure, 2 bad input). */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let args: ParsedArgs;
  try {
    // Only the commands with a handler are known to users; the full table is tested in args.test.ts.
    args = parseArgs(argv, available);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${red(io.color, 'attnlab: error:')} ${err.message}`);
      const cmd = err.command;
      io.err(cmd ? `usage: ${usageLine(cmd)}  (see 'attnlab ${cmd.name} --help')` : "usage: attnlab <command> [flags]  (see 'attnlab --help')");
      return err.exitCode;
    }
    throw err;
  }
  if (args.version && !args.help) {
    io.out(`attnlab ${ATTNLAB_VERSION}`);
    return 0;
  }
  if (args.help || !args.command) {
    if (args.group) io.out(groupHelp(args.group, available, io.color));
    else if (args.command) io.out(commandHelp(args.command, io.color));
    else if (args.help) io.out(mainHelp(available, io.color));
    else {
      // Bare `attnlab` is a usage mistake: the help goes to stderr, exit 2.
      io.err(mainHelp(available, io.color));
      return 2;
    }
    return 0;
  }
  const handler = await HANDLERS[args.command.name]!();
  try {
    return await handler(args, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`${red(io.color, 'attnlab: error:')} ${err.message}`);
      if (err.exitCode === 2) io.err(`usage: ${usageLine(args.command)}  (see 'attnlab ${args.command.name} --help')`);
      return err.exitCode;
    }
    throw err;
  }
}

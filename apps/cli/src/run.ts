import { parseArgs, usageLine, UsageError, type ParsedArgs } from './args.js';
import { COMMANDS } from './commands.js';
import { clip, CliError } from './errors.js';
import { commandHelp, groupHelp, mainHelp } from './help.js';
import { dim, red, type Io } from './term.js';
import { ATTNLAB_VERSION } from './version.js';

type Handler = (args: ParsedArgs, io: Io) => Promise<number>;

/** Commands that run in this build; each loads its module (and TensorFlow.js) only when used. */
const HANDLERS: Record<string, () => Promise<Handler>> = {
  doctor: async () => (await import('./doctor.js')).doctor,
  start: async () => {
    const m = await import('./experiment-commands.js');
    const iclTrain = COMMANDS.find((c) => c.name === 'icl train')!;
    return (args, io) => m.start(args, io, iclTrain);
  },
  walkthrough: async () => (await import('./experiment-commands.js')).experimentCommand,
  'value-matrix': async () => (await import('./experiment-commands.js')).experimentCommand,
  'cv-sweep': async () => (await import('./experiment-commands.js')).experimentCommand,
  'icl train': async () => (await import('./experiment-commands.js')).experimentCommand,
  'icl heads': async () => (await import('./experiment-commands.js')).experimentCommand,
  'icl length': async () => (await import('./experiment-commands.js')).experimentCommand,
  'icl linear-vs-softmax': async () => (await import('./experiment-commands.js')).experimentCommand,
  'icl multitask': async () => (await import('./experiment-commands.js')).experimentCommand,
  'icl eval': async () => (await import('./experiment-commands.js')).iclEval,
  'kv-cache': async () => (await import('./experiment-commands.js')).kvCache,
  run: async () => (await import('./experiment-commands.js')).runConfigFile,
  resume: async () => (await import('./experiment-commands.js')).resume,
  report: async () => (await import('./report-command.js')).report,
  bench: async () => (await import('./bench.js')).bench,
  sweep: async () => (await import('./sweep/commands.js')).sweep,
  'sweep resume': async () => (await import('./sweep/commands.js')).sweepResume,
  'sweep status': async () => (await import('./sweep/commands.js')).sweepStatus,
  'sweep collect': async () => (await import('./sweep/commands.js')).sweepCollect,
  worker: async () => (await import('./sweep/commands.js')).worker,
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
      io.err(`${red(io.color, 'attnlab: error:')} ${clip(err.message)}`);
      const cmd = err.command;
      io.err(
        cmd
          ? `usage: ${usageLine(cmd)}  (see 'attnlab ${cmd.name} --help')`
          : "usage: attnlab <command> [flags]  (see 'attnlab --help')",
      );
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
  // On a terminal, say at once that something is happening (loading TensorFlow.js takes a second);
  // the note is erased before anything else is printed.
  const status = args.flags.quiet === true ? undefined : statusLine(io, `attnlab ${args.command.name}: loading…`);
  const runIo = status?.io ?? io;
  try {
    const handler = await HANDLERS[args.command.name]!();
    return await handler(args, runIo);
  } catch (err) {
    status?.clear();
    if (err instanceof CliError) {
      io.err(`${red(io.color, 'attnlab: error:')} ${clip(err.message)}`);
      if (err.exitCode === 2) io.err(`usage: ${usageLine(args.command)}  (see 'attnlab ${args.command.name} --help')`);
      return err.exitCode;
    }
    throw err;
  } finally {
    status?.clear();
  }
}

/** A transient note on a terminal's stderr, erased by the first output through the returned Io. */
function statusLine(io: Io, text: string): { io: Io; clear(): void } | undefined {
  if (!io.tty || !io.errRaw) return undefined;
  const raw = io.errRaw.bind(io);
  raw(dim(io.color, text));
  let shown = true;
  const clear = (): void => {
    if (shown) {
      shown = false;
      raw('\r\u001b[2K');
    }
  };
  return {
    clear,
    io: {
      ...io,
      out: (t) => {
        clear();
        io.out(t);
      },
      err: (t) => {
        clear();
        io.err(t);
      },
      errRaw: (t) => {
        clear();
        raw(t);
      },
    },
  };
}

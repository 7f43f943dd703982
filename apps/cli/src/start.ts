import type { ParsedArgs } from './args.js';
import { initCliBackend, loadBackend } from './backend.js';
import type { CliBackend } from './commands.js';
import { bold, type Io } from './term.js';

/**
 * `attnlab start`: the README's first command. Until @attnlab/experiments lands it reports the
 * backend the quick in-context regression run will use.
 */
export async function start(args: ParsedArgs, io: Io): Promise<number> {
  const prefer = (args.flags.backend as CliBackend | undefined) ?? 'auto';
  const report = await initCliBackend(prefer);
  const { formatBackendReport } = await loadBackend();
  const c = io.color;
  if (args.flags.json === true) {
    io.out(JSON.stringify({ chosen: report.chosen, via: report.via, candidates: report.candidates, versions: report.versions }, null, 2));
    return 0;
  }
  if (!args.flags.quiet) {
    io.err(bold(c, 'Backends (best first):'));
    io.err(formatBackendReport(report).split('\n').map((l) => `  ${l}`).join('\n'));
  }
  io.out(`attnlab is ready on ${bold(c, report.chosen)} (${report.via}).`);
  io.out('The quick in-context regression run (icl train, H = 2) will run here once @attnlab/experiments lands;');
  io.out("until then, 'attnlab doctor' shows the full backend report.");
  return 0;
}

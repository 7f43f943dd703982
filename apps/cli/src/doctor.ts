import type { ParsedArgs } from './args.js';
import { initCliBackend, loadBackend, mergeReport } from './backend.js';
import type { CliBackend } from './commands.js';
import { bold, green, red, type Io } from './term.js';
import { ATTNLAB_VERSION } from './version.js';

/** The machine-readable doctor report (`attnlab doctor --json`). */
export interface DoctorReport {
  attnlab: string;
  node: string;
  tfjsCore: string;
  platform: string;
  preference: string;
  chosen: string;
  via: string;
  adapter?: { vendor: string; architecture: string; description: string; software: boolean };
  backends: { name: string; via: string; status: string; reason?: string; hint?: string }[];
}

export async function doctor(args: ParsedArgs, io: Io): Promise<number> {
  const prefer = (args.flags.backend as CliBackend | undefined) ?? 'auto';
  const json = args.flags.json === true;
  if (!args.flags.quiet && !json) io.err('checking backends…');
  const report = await initCliBackend(prefer);
  const { probeBackends, formatBackendReport } = await loadBackend();
  const backends = mergeReport(report, await probeBackends());
  const result: DoctorReport = {
    attnlab: ATTNLAB_VERSION,
    node: process.versions.node,
    tfjsCore: report.versions.tfjsCore,
    platform: `${process.platform}-${process.arch}`,
    preference: report.preference,
    chosen: report.chosen,
    via: report.via,
    ...(report.adapter ? { adapter: report.adapter } : {}),
    backends: backends.map((b) => ({
      name: b.name,
      via: b.via,
      status: b.status,
      ...(b.reason ? { reason: b.reason } : {}),
      ...(b.hint ? { hint: b.hint } : {}),
    })),
  };
  if (json) {
    io.out(JSON.stringify(result, null, 2));
    return 0;
  }
  const c = io.outColor ?? io.color;
  const lines = formatBackendReport({ chosen: report.chosen, candidates: backends })
    .split('\n')
    .map((l) => (l.startsWith('→') ? green(c, l) : l.startsWith('✗') ? red(c, l) : l));
  io.out(
    [
      bold(c, 'attnlab doctor'),
      `  attnlab ${result.attnlab} · node ${result.node} · tfjs-core ${result.tfjsCore} · ${result.platform}`,
      '',
      bold(c, 'Backends (best first):'),
      ...lines.map((l) => `  ${l}`),
      '',
      `${prefer === 'auto' ? 'auto picks' : `--backend ${prefer} uses`}: ${bold(c, report.chosen)} (${report.via})` +
        (report.adapter
          ? ` on ${report.adapter.description || report.adapter.architecture || report.adapter.vendor}${report.adapter.software ? ' (software)' : ''}`
          : ''),
    ].join('\n'),
  );
  return 0;
}

import type { BackendCandidate, BackendReport } from '@attnlab/backend';
import { CliError } from './errors.js';
import type { CliBackend } from './commands.js';

/** Loads @attnlab/backend (and with it TensorFlow.js) only when a command needs it. */
export async function loadBackend(): Promise<typeof import('@attnlab/backend')> {
  return import('@attnlab/backend');
}

/**
 * Initialises the backend the user asked for; an unavailable forced backend becomes a one-line
 * CliError with exit code 2 (bad input), naming what to install.
 */
export async function initCliBackend(prefer: CliBackend): Promise<BackendReport> {
  const backend = await loadBackend();
  try {
    return await backend.initBackend({ prefer });
  } catch (err) {
    if (err instanceof backend.BackendUnavailableError) throw new CliError(`--backend ${prefer}: ${err.message}`, 2);
    throw err;
  }
}

/** Releases the GPU device (Dawn keeps a Node process alive otherwise). Safe to call always. */
export async function releaseBackend(): Promise<void> {
  const backend = await loadBackend();
  await backend.disposeBackend();
}

/**
 * Merges a probe of every backend with what `initBackend` chose: the chosen one is marked
 * `chosen`; the others keep their availability and reason.
 */
export function mergeReport(report: BackendReport, probe: BackendCandidate[]): BackendCandidate[] {
  return probe.map((p) => {
    if (p.name === report.chosen) return { ...p, status: 'chosen' as const, reason: undefined };
    const c = report.candidates.find((x) => x.name === p.name);
    if (p.status === 'available' && c?.status === 'skipped' && !p.reason) return { ...p, reason: c.reason };
    return p;
  });
}

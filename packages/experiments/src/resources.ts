// What a run will hold in memory, estimated from its config before it starts, and the limit a
// user raises explicitly (CLI --max-memory, the web form's limit). Each experiment that can be
// made big keeps its estimate beside its schema (`Experiment.estimate`).
import { ConfigError } from './schema.js';

/** A run's estimated peak memory, and the config fields that drive it (largest share first). */
export interface ResourceEstimate {
  /** Trainable numbers (summed over the models trained). */
  parameters: number;
  /** Numbers alive at once besides parameters and optimizer state (activations, scores, gradients, data). */
  activations: number;
  /** Estimated peak bytes. */
  bytes: number;
  /** The config fields behind the estimate, with their values (for a refusal that names them). */
  drivers: { field: string; value: number }[];
}

/** The default memory limit: 4 GiB (a browser tab's typed arrays stop near there too). */
export const DEFAULT_MEMORY_LIMIT = 4 * 2 ** 30;

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Parses a size such as `8GB`, `512MiB`, `1.5gb` or `1000000` (bytes); undefined when it is not one. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!;
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** A size for people in binary units, as parseByteSize reads them: `3.2 GiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return `${bytes} B`;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let k = 0;
  let v = bytes;
  while (v >= 1024 && k < units.length - 1) {
    v /= 1024;
    k++;
  }
  return `${v >= 100 || k === 0 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} ${units[k]}`;
}

/** A count for people: 271M, 48.8G. */
function compact(n: number): string {
  const units = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let k = 0;
  let v = n;
  while (v >= 1000 && k < units.length - 1) {
    v /= 1000;
    k++;
  }
  return `${v >= 100 || k === 0 ? Math.round(v) : v.toFixed(1)}${units[k]}`;
}

/**
 * The estimate of `config` for `exp` (undefined when the experiment has none) and, when it is over
 * `limit` bytes, a ConfigError (field `resources`) naming the estimate, the fields that make it
 * big, and how to raise the limit. Call it before the run starts.
 * @example
 * checkResources(iclRegression, config, parseByteSize('8GB')!);
 */
export function checkResources(
  exp: { estimate?(config: unknown): ResourceEstimate },
  config: unknown,
  limit = DEFAULT_MEMORY_LIMIT,
): ResourceEstimate | undefined {
  const est = exp.estimate?.(config);
  if (!est || est.bytes <= limit) return est;
  const fields = est.drivers.map((d) => `${d.field} = ${d.value}`).join(', ');
  throw new ConfigError(
    'resources',
    `at most ${formatBytes(limit)}`,
    est.bytes,
    `this run would need about ${formatBytes(est.bytes)} (${compact(est.parameters)} parameters, ${compact(est.activations)} activations), more than the limit of ${formatBytes(limit)}; it grows with ${fields}: make them smaller, or raise the limit (attnlab: --max-memory ${formatBytes(Math.ceil((est.bytes * 1.25) / 2 ** 30) * 2 ** 30).replace(/ /g, '')})`,
  );
}

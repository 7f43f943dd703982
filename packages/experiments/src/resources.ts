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
  /**
   * The run's arithmetic, for experiments whose work can be made huge without much memory: floating-point
   * operations (a multiply–add counts 2), and the fields it grows with. Checked only against a limit
   * given explicitly (the web lab's, {@link BROWSER_OPERATION_LIMIT}); the CLI runs as long as it takes.
   */
  operations?: { count: number; drivers: { field: string; value: number }[] };
}

/** The default memory limit: 4 GiB (a browser tab's typed arrays stop near there too). */
export const DEFAULT_MEMORY_LIMIT = 4 * 2 ** 30;

/**
 * The most arithmetic the web lab starts in a tab: 2·10¹¹ floating-point operations, 3–4 minutes of
 * the host float64 loops value-matrix runs (about 10⁹ a second in Chromium on a shared 2-core machine:
 * BENCHMARKS.md, "value-matrix in the browser").
 */
export const BROWSER_OPERATION_LIMIT = 2e11;

/** A refusal by {@link checkResources}: which limit (memory in bytes, or operations), the need and the limit, the fields to make smaller. */
export class ResourceError extends ConfigError {
  readonly kind: 'memory' | 'operations';
  readonly need: number;
  readonly limit: number;
  readonly drivers: { field: string; value: number }[];
  constructor(
    kind: 'memory' | 'operations',
    need: number,
    limit: number,
    drivers: { field: string; value: number }[],
    detail: string,
  ) {
    super(
      'resources',
      kind === 'memory' ? `at most ${formatBytes(limit)}` : `at most ${formatCount(limit)} operations`,
      need,
      detail,
    );
    this.name = 'ResourceError';
    this.kind = kind;
    this.need = need;
    this.limit = limit;
    this.drivers = drivers;
  }
}

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
export function formatCount(n: number): string {
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
 * `limit` bytes or (when the estimate counts them) over `maxOperations` operations, a ResourceError
 * (a ConfigError, field `resources`) naming the estimate, the fields that make it big, and how to
 * raise the limit. Call it before the run starts.
 * @example
 * checkResources(iclRegression, config, parseByteSize('8GB')!);
 * checkResources(valueMatrix, config, DEFAULT_MEMORY_LIMIT, BROWSER_OPERATION_LIMIT); // the web lab
 */
export function checkResources(
  exp: { estimate?(config: unknown): ResourceEstimate },
  config: unknown,
  limit = DEFAULT_MEMORY_LIMIT,
  maxOperations = Infinity,
): ResourceEstimate | undefined {
  const est = exp.estimate?.(config);
  if (!est) return est;
  const grows = (drivers: { field: string; value: number }[]) =>
    drivers.map((d) => `${d.field} = ${d.value}`).join(', ');
  if (est.bytes > limit)
    throw new ResourceError(
      'memory',
      est.bytes,
      limit,
      est.drivers,
      `this run would need about ${formatBytes(est.bytes)} (${formatCount(est.parameters)} parameters, ${formatCount(est.activations)} activations), more than the limit of ${formatBytes(limit)}; it grows with ${grows(est.drivers)}: make them smaller, or raise the limit (attnlab: --max-memory ${formatBytes(Math.ceil((est.bytes * 1.25) / 2 ** 30) * 2 ** 30).replace(/ /g, '')})`,
    );
  const ops = est.operations;
  if (ops && ops.count > maxOperations)
    throw new ResourceError(
      'operations',
      ops.count,
      maxOperations,
      ops.drivers,
      `this run would take about ${formatCount(ops.count)} arithmetic operations, more than the limit of ${formatCount(maxOperations)}; it grows with ${grows(ops.drivers)}: make them smaller, or run it with the attnlab command, which has no such limit`,
    );
  return est;
}

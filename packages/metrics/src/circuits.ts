/** Seed 004's circuit statistics, gathered per layer and head. */
import {
  iclCircuitStatistics,
  type IclAttentionParams,
  type IclCircuitStatistics,
  type IclStackParams,
} from '@attnlab/attention';

export interface CircuitStatisticsTable {
  /** `layers[l][h]`: the statistics of head h of layer l (w^h, variance, sup-norms, μ^h, QK, OV). */
  layers: IclCircuitStatistics[][];
  /** w^h per layer and head. */
  w: number[][];
  /** μ^h per layer and head. */
  mu: number[][];
  /** Heads whose |μ^h| or |w^h| is below `dummyThreshold` of the largest in their layer (layers with ≥ 2 heads). */
  dummyHeads: { layer: number; head: number }[];
}

/**
 * Circuit statistics of a seed-004 model (single layer or causal stack) as a layer × head table,
 * with the heads that do next to nothing ("dummy" heads) named.
 * @example
 * const { w, mu, dummyHeads } = await circuitStatistics(params);   // w[0][h] = w^h of layer 0
 */
export async function circuitStatistics(
  params: IclAttentionParams | IclStackParams,
  options: { dummyThreshold?: number } = {},
): Promise<CircuitStatisticsTable> {
  const threshold = options.dummyThreshold ?? 0.1;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold < 1)) {
    throw new RangeError(
      `circuitStatistics: options.dummyThreshold must be a number in [0, 1); got ${String(options.dummyThreshold)}`,
    );
  }
  const stats = await iclCircuitStatistics(params);
  const nLayers = Math.max(...stats.map((s) => s.layer)) + 1;
  const layers = Array.from({ length: nLayers }, (_, l) =>
    stats.filter((s) => s.layer === l).sort((a, b) => a.head - b.head),
  );
  const dummyHeads: { layer: number; head: number }[] = [];
  layers.forEach((hs, l) => {
    if (hs.length < 2) return;
    const maxMu = Math.max(...hs.map((s) => Math.abs(s.mu)));
    const maxW = Math.max(...hs.map((s) => Math.abs(s.w)));
    for (const s of hs)
      if (Math.abs(s.mu) < threshold * maxMu || Math.abs(s.w) < threshold * maxW)
        dummyHeads.push({ layer: l, head: s.head });
  });
  return { layers, w: layers.map((hs) => hs.map((s) => s.w)), mu: layers.map((hs) => hs.map((s) => s.mu)), dummyHeads };
}

/** How closely one head's circuits follow the paper's patterns (He, Pan, Chen & Yang 2025). */
export interface CircuitAlignment {
  /**
   * ‖diag of QK's x-block‖ / ‖QK's first d rows‖_F: 1 when QK is diagonal on the inputs and 0
   * elsewhere. The last row meets z_q's y entry, which is 0, so it never acts (nor trains) and is left out.
   */
  diagonalRatio: number;
  /** var / mean² of that diagonal: 0 when it is homogeneous (ω·I); null when its mean is 0. */
  diagonalDispersion: number | null;
  /** |OV[last, last]| / ‖OV‖_F: 1 when the head only carries y to the output ("last entry only"). */
  ovLastEntryRatio: number;
}

/**
 * The alignment measures of one head from its circuits (the `qk` and `ov` of circuit statistics:
 * QK is [d+1, d+1], OV is [d+1, C] with the prediction in its last column).
 * @example
 * const a = circuitAlignment(stats.layers[0][0]); // { diagonalRatio: 0.99, diagonalDispersion: 0.001, ovLastEntryRatio: 0.98 }
 */
export function circuitAlignment(head: {
  qk: readonly (readonly number[])[];
  ov: readonly (readonly number[])[];
}): CircuitAlignment {
  const fn = 'circuitAlignment';
  const isArr = (v: unknown): v is readonly unknown[] => Array.isArray(v);
  const matrix = (m: unknown, cols: number): m is readonly (readonly number[])[] =>
    isArr(m) && m.every((r) => isArr(r) && r.length === cols && r.every((v) => Number.isFinite(v)));
  const { qk, ov } = (head ?? {}) as { qk?: unknown; ov?: unknown };
  const D = isArr(qk) ? qk.length : 0;
  if (D < 2 || !matrix(qk, D))
    throw new RangeError(`${fn}: head.qk must be a square [d+1, d+1] array of finite numbers with d ≥ 1`);
  const first = isArr(ov) ? ov[0] : undefined;
  const C = isArr(first) ? first.length : 0;
  if (!isArr(ov) || ov.length !== D || C < 1 || !matrix(ov, C))
    throw new RangeError(`${fn}: head.ov must be a [${D}, C] array of finite numbers (C ≥ 1), like qk's rows`);
  const d = D - 1;
  let fro = 0;
  for (const r of qk.slice(0, d)) for (const v of r) fro += v * v;
  const diag = Array.from({ length: d }, (_, i) => qk[i]![i]!);
  const dn = diag.reduce((a, v) => a + v * v, 0);
  const mean = diag.reduce((a, v) => a + v, 0) / d;
  const variance = diag.reduce((a, v) => a + (v - mean) ** 2, 0) / d;
  let ovF = 0;
  for (const r of ov) for (const v of r) ovF += v * v;
  const last = ov[d]![C - 1]!;
  return {
    diagonalRatio: fro > 0 ? Math.sqrt(dn / fro) : 0,
    diagonalDispersion: mean !== 0 ? variance / (mean * mean) : null,
    ovLastEntryRatio: ovF > 0 ? Math.abs(last) / Math.sqrt(ovF) : 0,
  };
}

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

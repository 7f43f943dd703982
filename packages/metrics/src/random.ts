/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): a tiny, fast, seeded PRNG with a 2³² period,
 * plenty for choosing random subsets. Same seed → same sequence on every platform.
 * @example
 * const next = mulberry32(0);
 * next();   // 0.26642920868471265, then 0.00032974570058286…
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fills `out` with `out.length` distinct indices drawn uniformly from [0, pool) by a partial
 * Fisher–Yates shuffle of `scratch` (length ≥ pool, holding a permutation of 0..pool−1; it is
 * left permuted, which keeps later draws uniform).
 */
export function sampleDistinct(random: () => number, pool: number, scratch: Int32Array, out: Int32Array): void {
  for (let i = 0; i < out.length; i++) {
    const j = i + Math.floor(random() * (pool - i));
    const t = scratch[i]!;
    scratch[i] = scratch[j]!;
    scratch[j] = t;
    out[i] = scratch[i]!;
  }
}

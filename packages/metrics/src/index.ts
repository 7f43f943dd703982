/**
 * @attnlab/metrics: numbers that describe attention mechanics: singular spectra and effective
 * ranks, reconstruction through the pseudo-inverse, head correlation, retrieval norms, KV-cache
 * sizes and the simplex-volume CV. Heavy numerics run in float64 on the host via @attnlab/linalg.
 */
export { singularSpectrum, energyEffectiveRank, entropyEffectiveRank } from './spectrum.js';
export { pinvReconstructionError } from './reconstruction.js';
export type { ReconstructionError } from './reconstruction.js';
export { meanAbsHeadCorrelation, HEAD_DIVERSITY_THRESHOLD } from './heads.js';
export type { HeadCorrelation } from './heads.js';
export { retrievalNorms, SEED_RETRIEVAL_GROUPS } from './retrieval.js';
export type { DimensionGroups, RetrievalNorms } from './retrieval.js';
export { kvCacheBytes, kvCacheBytesPerToken, kvCacheReduction, mebibytes, KV_CACHE_PRESETS } from './kvcache.js';
export type { AttentionKind, KvCacheModel, KvCacheUsage, KvCacheConfig, KvCachePresetName } from './kvcache.js';
export { simplexVolumeCV, simplexVolumeCVs, inCvBand, CV_BAND } from './simplex.js';
export type { SimplexVolumeCV, SimplexVolumeCVOptions } from './simplex.js';
export { mulberry32 } from './random.js';
export { circuitStatistics, circuitAlignment } from './circuits.js';
export type { CircuitStatisticsTable, CircuitAlignment } from './circuits.js';

export {
  RESULT_SCHEMA_VERSION, PRESET_NAMES, resolveConfig, validateResult,
  type Experiment, type ExperimentId, type ExperimentEvent, type ExperimentResult, type RunContext,
  type CheckpointStore, type ResultMeta, type NamedFigure, type PresetName,
} from './experiment.js';
export { s, validate, merge, toJsonSchema, allowedText, ConfigError, type Schema, type ObjectSchema } from './schema.js';
export { ATTNLAB_VERSION } from './meta.js';
export { attentionWalkthrough, SEED_001, SEED_002, type WalkthroughConfig, type WalkthroughData, type WalkthroughHead } from './walkthrough.js';
export { experiments, getExperiment, EXPERIMENT_IDS } from './registry.js';
export { valueMatrix, type ValueMatrixConfig, type ValueMatrixData } from './value-matrix.js';
export { kvCache, kvCacheFigures, type KvCacheSectionConfig, type KvCacheData } from './kv-cache.js';
export { iclRegression, iclConfigSchema, type IclConfig, type IclData, type IclRunData } from './icl-regression.js';
export { cvSweep, cvSweepConfigSchema, cvSweepDataSchema, gaussianSimplexCv, type CvSweepConfig, type CvSweepData, type CvSweepRun, type CvMeasurement, type CvTable } from './cv-sweep.js';
export { runSeedBenchmark, SEED_BENCH_ROWS, type SeedBenchmarkOptions, type SeedBenchmarkResult, type SeedBenchmarkRow, type SeedBenchRowId } from './bench.js';

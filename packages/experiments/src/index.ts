export {
  RESULT_SCHEMA_VERSION,
  PRESET_NAMES,
  resolveConfig,
  presetNames,
  validateResult,
  flagNonFinite,
  type Experiment,
  type ExperimentId,
  type ExperimentEvent,
  type ExperimentResult,
  type RunContext,
  type CheckpointStore,
  type ResultMeta,
  type NamedFigure,
  type Claim,
  type PresetName,
} from './experiment.js';
export {
  s,
  validate,
  merge,
  toJsonSchema,
  allowedText,
  schemaAt,
  ConfigError,
  type Schema,
  type ObjectSchema,
  type Infer,
} from './schema.js';
export { ATTNLAB_VERSION } from './meta.js';
export {
  checkResources,
  parseByteSize,
  formatBytes,
  formatCount,
  DEFAULT_MEMORY_LIMIT,
  BROWSER_OPERATION_LIMIT,
  ResourceError,
  type ResourceEstimate,
} from './resources.js';
export {
  attentionWalkthrough,
  walkthroughConfigSchema,
  SEED_001,
  SEED_002,
  type WalkthroughConfig,
  type WalkthroughData,
  type WalkthroughHead,
} from './walkthrough.js';
export { experiments, getExperiment, EXPERIMENT_IDS } from './registry.js';
export { valueMatrix, valueMatrixConfigSchema, type ValueMatrixConfig, type ValueMatrixData } from './value-matrix.js';
export { kvCache, kvCacheFigures, type KvCacheSectionConfig, type KvCacheData } from './kv-cache.js';
export {
  iclRegression,
  iclConfigSchema,
  ICL_TRAINERS,
  type IclConfig,
  type IclData,
  type IclRunData,
  type IclTrainer,
} from './icl-regression.js';
export {
  cvSweep,
  cvSweepConfigSchema,
  cvSweepDataSchema,
  gaussianSimplexCv,
  type CvSweepConfig,
  type CvSweepData,
  type CvSweepRun,
  type CvMeasurement,
  type CvTable,
  type CvTrainerKind,
} from './cv-sweep.js';
export { iclEstimators, iclTheory, iclTheoryComparison, iclClaims } from './icl-regression.js';
export {
  iclLength,
  iclLengthConfigSchema,
  iclLengthClaims,
  type IclLengthConfig,
  type IclLengthData,
  type IclLengthSummary,
} from './icl-length.js';
export {
  iclMultitask,
  iclMultitaskConfigSchema,
  iclMultitaskClaims,
  type IclMultitaskConfig,
  type IclMultitaskData,
  type MultitaskHead,
  type MultitaskTask,
} from './icl-multitask.js';
export {
  parseCsvTask,
  evaluateCsvTask,
  evaluateOwnTask,
  readCheckpointWeights,
  EXAMPLE_CSV,
  type CsvTask,
  type EstimatorRow,
  type IclWeights,
} from './icl-own-task.js';
export { keyNumbers, metricNumbers, metricCurves, formatValue } from './summary.js';
export {
  resolveSweep,
  expandSweep,
  pointId,
  canonicalJson,
  seedAxes,
  MAX_SWEEP_POINTS,
  type SweepSpec,
  type AxisSpec,
  type ResolvedSweep,
  type SweepPoint,
} from './sweep/spec.js';
export {
  sweepRow,
  aggregateSweep,
  sweepRowsTable,
  parseSweepRows,
  meanSe,
  formatMeanSe,
  type SweepRow,
  type SweepGroup,
  type SweepAggregate,
  type MeanSe,
} from './sweep/aggregate.js';
export { sweepClaims, type SweepClaims, type ClaimBlock, type ClaimRow } from './sweep/claims.js';

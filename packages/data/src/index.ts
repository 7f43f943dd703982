export {
  philox4x32,
  philox4x32Into,
  philoxKey,
  uint32ToUniform,
  normalAt,
  normals,
  PHILOX_M0,
  PHILOX_M1,
  PHILOX_W0,
  PHILOX_W1,
} from './philox.js';
export { Rng, RNG_COUNTER_TAG } from './rng.js';
export type { RngState } from './rng.js';
export {
  TRAIN_STREAM,
  VALIDATION_STREAM,
  EVALUATION_STREAM,
  BETA_SCALES,
  iclNormalsPerExample,
  iclBatchArrays,
  iclBatch,
  iclTokens,
  iclTokensArrays,
  iclTaskFromArrays,
  IclTaskStream,
} from './icl.js';
export type {
  BetaScale,
  IclTaskConfig,
  IclBatchOptions,
  IclBatchArrays,
  IclBatch,
  IclTokens,
  IclTokenArrays,
  IclTaskStreamState,
} from './icl.js';
export { tokenPatternArrays, tokenPatternData } from './tokenPatterns.js';
export type { TokenPatternOptions, TokenPatternArrays } from './tokenPatterns.js';
export {
  randomEmbeddings,
  randomValueProjection,
  structuredValueMatrix,
  retrievalAttentionPatterns,
  colorCompressionData,
} from './valueMatrices.js';
export type { SeedOptions, ValueGroups, StructuredValueOptions, ColorCompressionOptions } from './valueMatrices.js';

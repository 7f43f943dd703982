export { causalMask, paddingMask, combineMasks, MASK_ALIGNMENTS } from './masks.js';
export type { MaskAlignment, CausalMaskOptions, PaddingMaskOptions } from './masks.js';
export { scaledDotProductAttention, attentionSteps, maskedSoftmax } from './sdpa.js';
export type { AttentionOptions, AttentionResult, AttentionStepsResult } from './sdpa.js';
export { rope } from './rope.js';
export type { RopeOptions, RopeStyle } from './rope.js';
export {
  multiHeadAttention,
  initMultiHeadAttention,
  resolveMultiHeadAttentionConfig,
  repeatKvHeads,
  fromPyTorchStateDict,
  toPyTorchStateDict,
  disposeParams,
} from './mha.js';
export type {
  MultiHeadAttentionConfig,
  ResolvedMultiHeadAttentionConfig,
  MultiHeadAttentionParams,
  MultiHeadAttentionOptions,
  MultiHeadAttentionResult,
  PyTorchMultiheadAttentionStateDict,
  TensorInput,
} from './mha.js';
export {
  multiHeadLatentAttention,
  initMultiHeadLatentAttention,
  resolveMultiHeadLatentAttentionConfig,
  absorbLatentAttention,
} from './mla.js';
export type {
  MultiHeadLatentAttentionConfig,
  ResolvedMultiHeadLatentAttentionConfig,
  MultiHeadLatentAttentionParams,
  MultiHeadLatentAttentionOptions,
  MultiHeadLatentAttentionResult,
  AbsorbedLatentWeights,
  LatentAttentionForm,
} from './mla.js';
export { createKvCache, decodeStep } from './cache.js';
export type { KvCache, LatentKvCache, DecodeStepOptions } from './cache.js';
export * from './icl/index.js';

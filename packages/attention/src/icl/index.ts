export {
  ICL_INITS,
  initIclAttention,
  initIclStack,
  iclAttentionFromTorch,
  iclAttentionToTorch,
  disposeIclParams,
} from './params.js';
export type {
  IclInit,
  IclAttentionParams,
  IclCausalLayerParams,
  IclStackParams,
  IclAttentionConfig,
  IclStackConfig,
  IclTorchWeights,
} from './params.js';
export { iclAttention, iclStack } from './model.js';
export type { IclForwardOptions, IclAttentionResult, IclStackResult } from './model.js';
export { iclCircuits, disposeIclCircuits, iclCircuitStatistics } from './circuits.js';
export type { IclHeadCircuit, IclCircuitStatistics } from './circuits.js';
export {
  ICL_ATTENTION_KINDS,
  iclModelShape,
  iclParamLayout,
  iclInitialParams,
  iclStructure,
  iclNamedParams,
} from './layout.js';
export type { IclAttentionKind, IclModelConfig, IclModelShape, IclHostParam } from './layout.js';

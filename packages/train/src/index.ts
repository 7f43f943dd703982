export { meanSquaredError, crossEntropy } from './losses.js';
export { sgd, adam, adamw, optimizerFromState } from './optimizers.js';
export type {
  Optimizer,
  OptimizerType,
  OptimizerState,
  ParamOptimizerState,
  SgdConfig,
  AdamConfig,
} from './optimizers.js';
export { train, yieldToEvents } from './loop.js';
export { autodiffEngine } from './engine.js';
export type { Engine, EngineState, AutodiffEngineOptions } from './engine.js';
export type {
  TrainOptions,
  TrainResult,
  TrainEvent,
  TrainSchedule,
  DataStream,
  Probe,
  Validation,
  ResumeFrom,
  CheckpointOptions,
} from './loop.js';
export { tensorProbe } from './probes.js';
export { emptyHistory, cloneHistory } from './history.js';
export type { History, Series } from './history.js';
export {
  serializeCheckpoint,
  deserializeCheckpoint,
  restoreParams,
  variablesFromCheckpoint,
  crc32,
  CHECKPOINT_FORMAT_VERSION,
  hostToTensor,
} from './checkpoint.js';
export type { Checkpoint, CheckpointInput } from './checkpoint.js';
export { saveCheckpoint, loadCheckpoint } from './checkpoint-node.js';
export type { Json, HostTensor, HostDtype, ParamMap, TensorMap, GradMap } from './types.js';

/**
 * @attnlab/fused/internal: the building blocks behind the public API, for this package's tests,
 * the benchmark and experiments on the engines themselves. No stability promise.
 */
export { allocBatch, fillIclBatch, fillNormals, philoxInto, iclDataParams, normalsPerExample } from './data.js';
export type { IclBatch, IclDataParams } from './data.js';
export { optimizeFlat, METHOD_CODES } from './optimizer.js';
export type { FlatOptimizer, Segment } from './optimizer.js';
export { resolveIclSpec, ICL_OPTIMIZERS } from './spec.js';
export type { ResolvedIclSpec } from './spec.js';
export { paramCount, paramOffsets, allocWork, fusedForward, fusedLossGrad } from './single/float64.js';
export type { IclShape, StepWork } from './single/float64.js';
export { initialSingleParams } from './single/init.js';
export { singleSimdKernel, singleScratchBytes } from './single/simd.js';
export { stackOffsets, stackParamCount, allocStackWork, stackForward, stackLossGrad } from './stack/float64.js';
export type { StackShape, StackOffsets, StackWork } from './stack/float64.js';
export { stackSimdKernel, stackScratchBytes } from './stack/simd.js';
export {
  createIclWasm,
  simdAvailable,
  wasmBytes,
  batchBytes,
  dataBlockValues,
  writeDataBlock,
  writeOptimizerBlock,
} from './simd/module.js';
export type { IclWasm, IclWasmExports, BatchBuffers, OptimizerBlock } from './simd/module.js';
export { createSimdModel, cpuCount } from './simd/model.js';
export { threadHost, workerExamplesFor } from './simd/threads.js';
export type { ThreadHost, WorkerThread, WorkerData } from './simd/threads.js';
export type { SimdKernel, SimdModel, SimdModelOptions } from './simd/model.js';
export { createSimdMultiModel } from './simd/multi.js';
export type { SimdMultiSpec, SimdMultiModel } from './simd/multi.js';
export { FUSED_KERNEL_CONFIGS } from './kernels/register.js';
export { iclShaderSource, stateStride } from './wgsl/single.js';
export type { ShaderConfig } from './wgsl/single.js';
export { stackExampleShader, stackReduceShader } from './wgsl/stack.js';
export { pickEngine } from './engine.js';
export {
  ICL_FORWARD,
  ICL_BACKWARD,
  ICL_LOSS_GRAD,
  ADAM_FLAT,
  ICL_STACK_FORWARD,
  ICL_STACK_BACKWARD,
  ICL_STACK_LOSS_GRAD,
} from './kernels/names.js';
export type { AdamFlatAttrs } from './kernels/names.js';
export { MULTI_BACKENDS } from './multi.js';

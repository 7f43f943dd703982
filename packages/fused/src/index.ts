/**
 * @attnlab/fused: fused training of seed 004's single-layer in-context-regression attention
 * (forward, backward, loss and Adam in one pass) in plain TypeScript, as custom tfjs kernels
 * (cpu, wasm, webgpu), and as a many-models WGSL trainer with Philox data made on the GPU.
 */
export {
  paramCount, paramOffsets, initParams, allocWork, fusedForward, fusedLossGrad, adamFlat, fusedStep,
  createCpuModel, cpuModelStep,
} from './single/float64.js';
export type { IclShape, AdamConfig, StepWork, CpuModel } from './single/float64.js';
export { allocBatch, fillIclBatch, fillNormals, philoxInto } from './data.js';
export type { IclBatch } from './data.js';
export {
  registerFusedKernels, iclForward, iclLossGrad, adamFlatUpdate, iclStackForward, iclStackLossGrad,
  ICL_FORWARD, ICL_BACKWARD, ICL_LOSS_GRAD, ADAM_FLAT, ICL_STACK_FORWARD, ICL_STACK_BACKWARD, ICL_STACK_LOSS_GRAD,
} from './kernels/register.js';
export type { IclAttrs, IclStackAttrs } from './kernels/register.js';
export { createReferenceModel, referenceForward, referenceLoss, referenceStep, referenceFlat } from './reference.js';
export type { ReferenceModel } from './reference.js';
export { createWebGPUIclTrainer } from './wgsl/trainer.js';
export type { ModelSpec, WebGPUTrainerOptions, WebGPUIclTrainer } from './wgsl/trainer.js';
export { iclShaderSource } from './wgsl/single.js';
export type { ShaderConfig } from './wgsl/single.js';
export { createFusedIclTrainer, createMultiIclTrainer, splitParams, FUSED_BACKENDS } from './multi.js';
export type {
  FusedBackend, FusedTrainerOptions, FusedIclTrainer, IclParams, MultiTrainerOptions, MultiIclTrainer,
} from './multi.js';
export { createStackModel, stackForward, stackLossGrad, stackOffsets, stackParamCount, allocStackWork } from './stack/float64.js';
export type { StackShape, StackOffsets, StackWork, StackModel } from './stack/float64.js';
export { createIclEngine, createStackEngine, ICL_ENGINES } from './engine.js';
export type { IclEngine, StackEngine, IclEngineKind, IclEngineOptions } from './engine.js';
export { createSimdIclModel, createSimdStackModel, createSimdMultiModel, simdAvailable, simdUnsupported, simdStackUnsupported } from './simd/module.js';
export type { SimdIclModel, SimdStackModel, SimdModelBase, SimdModelOptions, SimdMultiModel, SimdMultiSpec } from './simd/module.js';
export { runBenchmark } from './bench/index.js';
export type { BenchmarkOptions, BenchmarkRow, BenchmarkResult } from './bench/index.js';

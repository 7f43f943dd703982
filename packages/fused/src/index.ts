/**
 * @attnlab/fused: fast training of seed 004's in-context-regression attention (the single
 * query-only layer and the causal stack). `createIclEngine(spec)` gives an @attnlab/train `Engine`
 * on the fastest engine that runs the spec (WebAssembly SIMD, else float64 TypeScript), for
 * `train({ engine })`; plus a many-models trainer (SIMD, float64 or WebGPU), a WebGPU trainer, and
 * the fused forward/backward/loss kernels as tfjs ops (cpu, wasm, webgpu).
 */
export { createIclEngine, iclEngineCandidates, ICL_ENGINE_KINDS } from './engine.js';
export type { IclEngine, IclEngineKind, IclEngineCandidate, IclEngineOptions } from './engine.js';
export type { IclTrainingSpec, IclOptimizerSpec } from './spec.js';
export { createMultiIclTrainer } from './multi.js';
export type { MultiTrainerOptions, MultiIclTrainer } from './multi.js';
export { createWebGPUIclTrainer } from './wgsl/trainer.js';
export type { ModelSpec, WebGPUTrainerOptions, WebGPUIclTrainer } from './wgsl/trainer.js';
export { registerFusedKernels } from './kernels/register.js';
export { iclForward, iclLossGrad, adamFlatUpdate, iclStackForward, iclStackLossGrad } from './kernels/ops.js';
export type { AdamFlatConfig } from './kernels/ops.js';
export type { IclAttrs, IclStackAttrs } from './kernels/names.js';
export { createCvAttentionWasm } from './cv/attention.js';
export type { CvAttentionWasm, CvAttentionExports } from './cv/attention.js';

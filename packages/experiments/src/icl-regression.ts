import * as tf from '@tensorflow/tfjs-core';
import {
  ICL_INITS, iclAttention, iclStack, initIclAttention, initIclStack,
  type IclAttentionParams, type IclCircuitStatistics, type IclInit, type IclStackParams,
} from '@attnlab/attention';
import { circuitStatistics } from '@attnlab/metrics';
import { BETA_SCALES, EVALUATION_STREAM, TRAIN_STREAM, VALIDATION_STREAM, iclBatchArrays, iclTokensArrays, type BetaScale, type IclTaskConfig } from '@attnlab/data';
import {
  bayesPosteriorMean, errorCurve, kernelEstimator, modelEstimator, oneStepGd, optimalOneStepGd, type ErrorCurve, type Estimator,
} from '@attnlab/estimators';
import type { FigureSpec } from '@attnlab/plot';
import {
  adam, adamw, deserializeCheckpoint, emptyHistory, meanSquaredError, restoreParams, serializeCheckpoint, sgd, train,
  type Checkpoint, type History, type Json, type Optimizer, type OptimizerState, type ParamMap, type TensorMap,
} from '@attnlab/train';
import { createIclEngine, createStackEngine, paramOffsets, stackOffsets, type StackShape } from '@attnlab/fused';
import { RESULT_SCHEMA_VERSION, type Experiment, type ExperimentResult, type NamedFigure, type RunContext } from './experiment.js';
import { startMeta, throwIfAborted } from './meta.js';
import { ConfigError, s } from './schema.js';

export interface IclConfig {
  layers: number;
  heads: number;
  nOut: number;
  d: number;
  L: number;
  optimizer: { method: 'adam' | 'adamw' | 'sgd'; lr: number; betas: [number, number]; eps: number; weightDecay: number };
  batch: number;
  steps: number;
  log: { loss: number; validation: number; dynamics: number; qk: number };
  noiseStd: number;
  betaScale: BetaScale;
  init: IclInit;
  weightTying: boolean;
  seed: number;
  /** Fresh tasks for the final validation MSE (0 = skip). */
  finalValidationSamples: number;
  /** Error-vs-context-length curves: L = 1, 1 + stepL, … ≤ maxL, `samples` tasks each (0 = skip). */
  evaluation: { maxL: number; stepL: number; samples: number };
  /** Train one model per head count (the head-count comparison); empty = only `heads`. */
  headCounts: number[];
  checkpointEvery: number;
  /** `fused`: the fused CPU trainer (@attnlab/fused); `reference`: tfjs autodiff; `auto`: fused when it supports the config. */
  path: 'auto' | 'fused' | 'reference';
}

export interface IclRunData {
  heads: number;
  completedSteps: number;
  stepsPerSecond: number;
  loss: { step: number[]; value: number[] };
  validation: { step: number[]; value: number[] };
  /** Seed 004's circuit dynamics: w^h and μ^h per layer and head at each logged step. */
  dynamics: { step: number[]; w: number[][][]; mu: number[][][] };
  /** Seed 004's QK matrices W_Q W_Kᵀ per layer and head at each logged step. */
  qkSnapshots: { step: number[]; matrices: number[][][][][] };
  statistics: IclCircuitStatistics[];
  finalValidation: { samples: number; mse: number; stderr: number } | null;
  /** Heads whose |μ^h| or |w^h| is below 10% of the largest in their layer. */
  dummyHeads: { layer: number; head: number }[];
}

export interface IclData {
  /** The training path used: the fused trainer or tfjs autodiff. */
  path: 'fused' | 'reference';
  runs: IclRunData[];
  errorCurves: ErrorCurve | null;
  /** 1/√d, the seed's hypothesised |w^h|. */
  hypothesisedW: number;
}

const pos = (def: number, description: string, max = 1e9) => s.int({ min: 1, max, default: def, description });

export const iclConfigSchema = s.object({
  layers: pos(1, 'attention layers (1 = the query-only model; more = the causal stack)', 16),
  heads: pos(2, 'attention heads H', 64),
  nOut: pos(1, 'outputs of the final projection (the prediction is the last)', 64),
  d: pos(5, 'input dimension d (tokens have width d + 1)', 256),
  L: pos(40, 'context length L during training', 4096),
  optimizer: s.object({
    method: s.enum(['adam', 'adamw', 'sgd'], { default: 'adam', description: 'optimizer (PyTorch semantics)' }),
    lr: s.number({ min: 0, exclusiveMin: true, default: 1e-3, description: 'learning rate' }),
    betas: s.array(s.number({ min: 0, max: 0.999999 }), { minItems: 2, maxItems: 2, default: [0.9, 0.999], description: 'Adam betas' }),
    eps: s.number({ min: 0, default: 1e-8, description: 'Adam epsilon (outside the square root)' }),
    weightDecay: s.number({ min: 0, default: 0, description: 'weight decay (L2 for adam/sgd, decoupled for adamw)' }),
  }, { default: {} }),
  batch: pos(128, 'tasks per training step', 1 << 16),
  steps: pos(20000, 'training steps', 1e8),
  log: s.object({
    loss: pos(100, 'record the training loss every N steps'),
    validation: pos(1000, 'validation loss on a fresh batch every N steps'),
    dynamics: pos(1000, 'record w^h and μ^h every N steps'),
    qk: pos(1000, 'snapshot the QK matrices every N steps'),
  }, { default: {} }),
  noiseStd: s.number({ min: 0, default: 0.01, description: 'label noise δ (y noise is √d·δ·ε)' }),
  betaScale: s.enum(BETA_SCALES, { default: 'unit', description: "prior on β: 'unit' N(0, I) as the seed, 'inverse-d' N(0, I/d)" }),
  init: s.enum(ICL_INITS, { default: 'random', description: 'initialisation' }),
  weightTying: s.boolean({ default: false, description: 'share one layer across the stack' }),
  seed: s.int({ min: 0, max: 2 ** 32 - 1, default: 0, description: 'seed of the initialisation and of every task' }),
  finalValidationSamples: s.int({ min: 0, max: 1e7, default: 10000, description: 'fresh tasks for the final validation MSE (0 = skip)' }),
  evaluation: s.object({
    maxL: pos(500, 'longest context of the error curves', 100000),
    stepL: pos(5, 'step between context lengths', 100000),
    samples: s.int({ min: 0, max: 1e6, default: 100, description: 'tasks per context length (0 = skip the curves)' }),
  }, { default: {} }),
  headCounts: s.array(s.int({ min: 1, max: 64 }), { default: [], maxItems: 16, description: 'head counts to compare, e.g. [1, 2, 4, 8]' }),
  checkpointEvery: pos(1000, 'steps between checkpoints'),
  path: s.enum(['auto', 'fused', 'reference'], { default: 'auto', description: 'training path: fused (the fast CPU engines: Adam without weight decay, nOut 1) or reference (tfjs autodiff)' }),
});

const series = s.object({ step: s.array(s.int()), value: s.array(s.nullable(s.number())) });
const stat = s.object({
  layer: s.int(), head: s.int(), w: s.number(), diagVariance: s.number(), offDiagSupNorm: s.number(), mu: s.number(), ovRestSupNorm: s.number(),
  qk: s.array(s.array(s.number())), ov: s.array(s.array(s.number())),
});
const runSchema = s.object({
  heads: s.int(), completedSteps: s.int(), stepsPerSecond: s.number(), loss: series, validation: series,
  dynamics: s.object({ step: s.array(s.int()), w: s.array(s.array(s.array(s.number()))), mu: s.array(s.array(s.array(s.number()))) }),
  qkSnapshots: s.object({ step: s.array(s.int()), matrices: s.array(s.array(s.array(s.array(s.array(s.number()))))) }),
  statistics: s.array(stat),
  finalValidation: s.nullable(s.object({ samples: s.int(), mse: s.number(), stderr: s.number() })),
  dummyHeads: s.array(s.object({ layer: s.int(), head: s.int() })),
});
export const iclDataSchema = s.object({
  path: s.enum(['fused', 'reference']),
  runs: s.array(runSchema, { minItems: 1 }),
  errorCurves: s.nullable(s.object({
    contextLengths: s.array(s.int()), samples: s.int(), seed: s.int(),
    series: s.array(s.object({ name: s.string(), mse: s.array(s.number()), stderr: s.array(s.number()) })),
  })),
  hypothesisedW: s.number(),
});

const seedPreset: IclConfig = {
  layers: 1, heads: 2, nOut: 1, d: 5, L: 40,
  optimizer: { method: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
  batch: 128, steps: 500000,
  log: { loss: 1000, validation: 1000, dynamics: 1000, qk: 1000 },
  noiseStd: 0.01, betaScale: 'unit', init: 'random', weightTying: false, seed: 0,
  finalValidationSamples: 10000, evaluation: { maxL: 500, stepL: 5, samples: 100 }, headCounts: [], checkpointEvery: 10000, path: 'auto',
};
const quickPreset: IclConfig = {
  ...seedPreset, steps: 3000, log: { loss: 10, validation: 100, dynamics: 100, qk: 500 },
  finalValidationSamples: 2000, evaluation: { maxL: 201, stepL: 20, samples: 200 }, checkpointEvery: 500,
};

// ---- model plumbing ---------------------------------------------------------------------------

type Structured = IclAttentionParams | IclStackParams;

function initParams(c: IclConfig, heads: number): ParamMap {
  const init = { d: c.d, numHeads: heads, nOut: c.nOut, init: c.init, seed: c.seed };
  const out: ParamMap = {};
  const add = (name: string, t: tf.Tensor) => { out[name] = tf.variable(t, true, undefined); t.dispose(); };
  if (c.layers === 1) {
    const p = initIclAttention(init);
    (['Wq', 'Wk', 'Wv', 'Wo'] as const).forEach((k) => add(k, p[k]));
  } else {
    const p = initIclStack({ ...init, numLayers: c.layers, tied: c.weightTying });
    p.layers.forEach((l, i) => (['Wq', 'Wk', 'Wv', 'Wo'] as const).forEach((k) => add(`l${i}.${k}`, l[k])));
    add('final', p.final);
  }
  return out;
}

function structure(c: IclConfig, p: TensorMap): Structured {
  if (c.layers === 1) return { Wq: p.Wq as tf.Tensor3D, Wk: p.Wk as tf.Tensor3D, Wv: p.Wv as tf.Tensor3D, Wo: p.Wo as tf.Tensor3D };
  const n = c.weightTying ? 1 : c.layers;
  return {
    layers: Array.from({ length: n }, (_, i) => ({ Wq: p[`l${i}.Wq`] as tf.Tensor3D, Wk: p[`l${i}.Wk`] as tf.Tensor3D, Wv: p[`l${i}.Wv`] as tf.Tensor3D, Wo: p[`l${i}.Wo`] as tf.Tensor3D })),
    final: p.final as tf.Tensor2D, numLayers: c.layers, tied: c.weightTying, residual: false,
  } as IclStackParams;
}

/** The model's prediction of y_q: the last output column, `[B]`. */
function predict(c: IclConfig, p: Structured, Z: tf.Tensor3D, zq: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const out = c.layers === 1 ? iclAttention(p as IclAttentionParams, Z, zq).output : iclStack(p as IclStackParams, Z, zq).output;
    return tf.reshape(tf.slice(out, [0, c.nOut - 1], [-1, 1]), [-1]) as tf.Tensor1D;
  });
}

function makeOptimizer(c: IclConfig): Optimizer {
  const o = c.optimizer;
  if (o.method === 'sgd') return sgd({ lr: o.lr, weightDecay: o.weightDecay });
  const cfg = { lr: o.lr, betas: [o.betas[0], o.betas[1]] as [number, number], eps: o.eps, weightDecay: o.weightDecay };
  return o.method === 'adam' ? adam(cfg) : adamw(cfg);
}

function task(c: IclConfig): IclTaskConfig {
  return { L: c.L, dx: c.d, dy: 1, noiseStd: c.noiseStd, betaScale: c.betaScale };
}

interface TokenBatch { Z: tf.Tensor3D; zq: tf.Tensor2D; yq: tf.Tensor1D }
function tokens(c: IclConfig, stream: number, step: number, batch: number, offset = 0): TokenBatch {
  // Host arrays straight into three tensors: no per-step concat kernels.
  const t = iclTokensArrays(iclBatchArrays(task(c), { seed: c.seed, stream, step, batch, offset }));
  const D = c.d + 1;
  return { Z: tf.tensor3d(t.Z, [batch, c.L, D]), zq: tf.tensor2d(t.zq, [batch, D]), yq: tf.tensor1d(t.yq) };
}

async function qkMatrices(c: IclConfig, p: TensorMap): Promise<number[][][][]> {
  // Seed 004's QK_mat_stack: W_Q^h W_K^hᵀ (unscaled) per layer and head.
  const st = structure(c, p);
  const layers = 'layers' in st ? st.layers : [st];
  const out: number[][][][] = [];
  for (const l of layers) {
    const m = tf.tidy(() => tf.matMul(l.Wq, l.Wk, false, true));
    out.push(await m.array() as number[][][]);
    m.dispose();
  }
  return out;
}

async function finalValidation(c: IclConfig, p: Structured, samples: number): Promise<IclRunData['finalValidation']> {
  if (samples === 0) return null;
  let sum = 0;
  let sum2 = 0;
  for (let start = 0; start < samples; start += 1000) {
    const n = Math.min(1000, samples - start);
    // Evaluation stream, step 0: disjoint from the error curves (step = L ≥ 1) and from training.
    const b = tokens(c, EVALUATION_STREAM, 0, n, start);
    const sq = tf.tidy(() => tf.square(tf.sub(predict(c, p, b.Z, b.zq), b.yq)));
    const v = await sq.data();
    tf.dispose([sq, b.Z, b.zq, b.yq]);
    for (let i = 0; i < v.length; i++) { sum += v[i]!; sum2 += v[i]! * v[i]!; }
  }
  const mse = sum / samples;
  return { samples, mse, stderr: Math.sqrt(Math.max(0, sum2 / samples - mse * mse) / Math.max(1, samples - 1)) };
}

interface ResumeState { runIndex: number; runs: IclRunData[]; checkpoint: Checkpoint | null }

function configKey(c: IclConfig): string {
  const { evaluation: _e, finalValidationSamples: _f, checkpointEvery: _k, path: _p, ...rest } = c;
  return JSON.stringify({ ...rest, steps: undefined });
}

async function loadResume(c: IclConfig, ctx: RunContext): Promise<ResumeState> {
  const bytes = await ctx.checkpoints?.load();
  if (!bytes) return { runIndex: 0, runs: [], checkpoint: null };
  const cp = deserializeCheckpoint(bytes);
  const meta = cp.meta as { experiment?: string; configKey?: string; runIndex?: number; runs?: IclRunData[] } | null;
  if (!meta || meta.experiment !== 'icl-regression' || typeof meta.runIndex !== 'number') {
    throw new ConfigError('checkpoint', 'a checkpoint written by icl-regression', meta?.experiment, 'is not an icl-regression checkpoint');
  }
  if (meta.configKey !== configKey(c)) {
    throw new ConfigError('checkpoint', 'a checkpoint of the same model, data and optimizer settings', 'a different config', 'was written for a different configuration (only steps, evaluation and checkpoint settings may change on resume)');
  }
  return { runIndex: meta.runIndex, runs: meta.runs ?? [], checkpoint: cp };
}

async function finishRun(c: IclConfig, heads: number, params: ParamMap, history: History, completed: number, stepsPerSecond: number, aborted: boolean): Promise<IclRunData> {
  const st = structure(c, params);
  const table = await circuitStatistics(st);
  const statistics = table.layers.flat();
  const dyn = history.probes.dynamics ?? { step: [], value: [] };
  const qk = history.probes.qk ?? { step: [], value: [] };
  return {
    heads,
    completedSteps: completed,
    stepsPerSecond,
    loss: { step: history.loss.step, value: history.loss.value },
    validation: { step: history.validation.step, value: history.validation.value },
    dynamics: {
      step: dyn.step,
      w: dyn.value.map((v) => (v as { w: number[][] }).w),
      mu: dyn.value.map((v) => (v as { mu: number[][] }).mu),
    },
    qkSnapshots: { step: qk.step, matrices: qk.value as unknown as number[][][][][] },
    statistics,
    finalValidation: aborted ? null : await finalValidation(c, st, c.finalValidationSamples),
    dummyHeads: table.dummyHeads,
  };
}

async function dynamicsProbe(c: IclConfig, p: TensorMap): Promise<Json> {
  const { w, mu } = await circuitStatistics(structure(c, p));
  return { w, mu };
}

/** Why the fused trainer cannot run this config, or undefined when it can. */
export function fusedUnsupported(c: IclConfig): string | undefined {
  if (c.nOut !== 1) return 'trains nOut = 1 only';
  if (c.optimizer.method !== 'adam') return 'implements Adam only (optimizer.method = adam)';
  if (c.optimizer.weightDecay !== 0) return 'implements Adam without weight decay only (optimizer.weightDecay = 0)';
  if (c.betaScale !== 'unit') return "draws β ~ N(0, I) only (betaScale = 'unit')";
  return undefined;
}

function base64(a: Float64Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/**
 * Seed 004's loop on @attnlab/fused's fastest CPU engine (the WebAssembly SIMD engine with a data
 * worker where it applies, else the float64 TypeScript engine; single layer and stack): the same
 * initial weights, tasks
 * (Philox stream 0, step t), Adam (PyTorch form, float64 state), schedule, probes, history and
 * checkpoints as the reference path. Steps between two recorded steps run as one call.
 */
async function trainOneFused(c: IclConfig, heads: number, runIndex: number, done: IclRunData[], resume: Checkpoint | null, ctx: RunContext): Promise<{ run: IclRunData; params: ParamMap; aborted: boolean }> {
  const D = c.d + 1;
  // Named parameter slots of the flat float64 vector, in the reference path's ParamMap names.
  const slots: Array<{ name: string; start: number; end: number; shape: number[] }> = [];
  let P: number;
  let stackShape: StackShape | undefined;
  if (c.layers === 1) {
    const off = paramOffsets({ heads, d: c.d });
    P = off.size;
    slots.push({ name: 'Wq', start: off.wq, end: off.wk, shape: [heads, D, D] }, { name: 'Wk', start: off.wk, end: off.wv, shape: [heads, D, D] },
      { name: 'Wv', start: off.wv, end: off.wo, shape: [heads, D, D] }, { name: 'Wo', start: off.wo, end: off.size, shape: [heads, D, 1] });
  } else {
    stackShape = { heads, d: c.d, layers: c.layers, tied: c.weightTying, residual: false };
    const off = stackOffsets(stackShape);
    P = off.size;
    const m = heads * D * D;
    off.layers.forEach((l, i) => {
      for (const [k, start] of [['Wq', l.wq], ['Wk', l.wk], ['Wv', l.wv], ['Wo', l.wo]] as const) slots.push({ name: `l${i}.${k}`, start, end: start + m, shape: [heads, D, D] });
    });
    slots.push({ name: 'final', start: off.final, end: off.size, shape: [D, 1] });
  }
  // The starting [p | m | v] state: the reference path's initial weights (so both paths start
  // from the same point), or the checkpoint's.
  const state = new Float64Array(3 * P);
  const init = initParams(c, heads);
  for (const k of slots) state.set(await init[k.name]!.data(), k.start);
  tf.dispose(Object.values(init));
  let history: History = emptyHistory();
  let startStep = 0;
  const exact = (resume?.meta as { fusedState?: string } | null)?.fusedState;
  if (resume && exact) {
    // A fused checkpoint: the exact float64 [p | m | v] state.
    const bytes = Uint8Array.from(atob(exact), (ch) => ch.charCodeAt(0));
    const restored = new Float64Array(bytes.buffer);
    if (restored.length !== state.length) throw new ConfigError('checkpoint', `a fused state of ${state.length} numbers`, restored.length, 'holds a fused state of the wrong size');
    state.set(restored);
  } else if (resume) {
    for (const { name: k, start } of slots) {
      const saved = resume.params[k];
      if (!saved) throw new ConfigError('checkpoint', 'every parameter of the model', k, `has no ${k}`);
      state.set(saved.values, start);
      const mv = resume.optimizerState?.params[k]?.slots;
      if (!mv?.m || !mv.v) throw new ConfigError('checkpoint', 'Adam moments for every parameter', k, `has no Adam moments for ${k}`);
      state.set(mv.m.values, P + start);
      state.set(mv.v.values, 2 * P + start);
    }
  }
  if (resume) {
    startStep = resume.step;
    history = resume.history;
  }
  const o = c.optimizer;
  const adam = { lr: o.lr, beta1: o.betas[0], beta2: o.betas[1], eps: o.eps };
  const model = stackShape
    ? await createStackEngine(stackShape, c.L, c.batch, c.seed, adam, c.noiseStd, state)
    : await createIclEngine({ heads, d: c.d }, c.L, c.batch, c.seed, adam, c.noiseStd);
  try {
    if (!stackShape) model.setState(state);
    model.t = startStep;
    const paramTensors = (): ParamMap => {
      const state = model.getState();
      const out: ParamMap = {};
      for (const { name, start, end, shape } of slots) {
        const t = tf.tensor(Float32Array.from(state.subarray(start, end)), shape);
        out[name] = tf.variable(t, false);
        t.dispose();
      }
      return out;
    };
    const hostOf = (state: Float64Array, base: number) => Object.fromEntries(slots.map(({ name, start, end, shape }) => [name, { values: Float32Array.from(state.subarray(base + start, base + end)), shape, dtype: 'float32' as const }]));
    const phase = `train H=${heads}`;
    const writeCheckpoint = async () => {
      if (!ctx.checkpoints) return;
      const state = model.getState();
      const m = hostOf(state, P), v = hostOf(state, 2 * P);
      const optimizerState: OptimizerState = {
        type: 'adam',
        config: { lr: o.lr, weightDecay: 0, betas: [o.betas[0], o.betas[1]], eps: o.eps },
        params: Object.fromEntries(slots.map(({ name: k }) => [k, { step: model.t, slots: { m: m[k]!, v: v[k]! } }])),
      };
      await ctx.checkpoints.save(await serializeCheckpoint({
        params: hostOf(state, 0), optimizerState, step: model.t, history,
        meta: { experiment: 'icl-regression', configKey: configKey(c), runIndex, runs: done as unknown as Json, fusedState: base64(state) },
      }));
      ctx.onEvent?.({ type: 'checkpoint', phase, step: model.t });
    };
    const started = performance.now();
    const progressEvery = Math.max(1, Math.min(1000, Math.floor(c.steps / 50)));
    let aborted = false;
    while (model.t < c.steps) {
      if (ctx.signal?.aborted) { aborted = true; break; }
      // Run plain steps up to the next step that records something, in slices of ≤ 25 ms.
      const sliceEnd = performance.now() + 25;
      while (model.t < c.steps && performance.now() < sliceEnd && !ctx.signal?.aborted) {
        // Steps t0 .. t run in one call: none before t records anything but its loss.
        const t0 = model.t;
        let t = Math.min(c.steps, t0 + 64) - 1;
        for (let s = t0; s < t; s++) {
          if (s % c.log.validation === 0 || s % c.log.dynamics === 0 || s % c.log.qk === 0 || (s + 1) % c.checkpointEvery === 0 || (s + 1) % progressEvery === 0) { t = s; break; }
        }
        const losses = model.train(t - t0 + 1);
        for (let s = t0; s <= t; s++) if (s % c.log.loss === 0) { history.loss.step.push(s); history.loss.value.push(losses[s - t0]!); }
        const loss = losses[t - t0]!;
        const doVal = t % c.log.validation === 0, doDyn = t % c.log.dynamics === 0, doQk = t % c.log.qk === 0;
        if (doVal || doDyn || doQk) {
          const p = paramTensors();
          try {
            if (doVal) {
              const b = tokens(c, VALIDATION_STREAM, t, c.batch);
              const l = tf.tidy(() => meanSquaredError(predict(c, structure(c, p), b.Z, b.zq), b.yq));
              const vl = (await l.data())[0]!;
              tf.dispose([l, b.Z, b.zq, b.yq]);
              history.validation.step.push(t); history.validation.value.push(vl);
              ctx.onEvent?.({ type: 'metrics', phase, step: t, values: { validationLoss: vl, loss } });
            }
            if (doDyn) {
              const value = await dynamicsProbe(c, p);
              (history.probes.dynamics ??= { step: [], value: [] }).step.push(t);
              history.probes.dynamics.value.push(value);
              ctx.onEvent?.({ type: 'snapshot', phase, step: t, name: 'dynamics', value });
            }
            if (doQk) {
              const value = (await qkMatrices(c, p)) as unknown as Json;
              (history.probes.qk ??= { step: [], value: [] }).step.push(t);
              history.probes.qk.value.push(value);
              ctx.onEvent?.({ type: 'snapshot', phase, step: t, name: 'qk', value });
            }
          } finally {
            tf.dispose(Object.values(p));
          }
        }
        if (model.t % c.checkpointEvery === 0 && model.t < c.steps) await writeCheckpoint();
        if (model.t % progressEvery === 0 || model.t === c.steps) {
          const now = performance.now();
          ctx.onEvent?.({ type: 'progress', phase, done: model.t, total: c.steps, rate: ((model.t - startStep) * 1000) / Math.max(1, now - started), loss });
        }
      }
      // Let timers, I/O and abort handlers run.
      await new Promise<void>((r) => setTimeout(r, 0));
    }
    await writeCheckpoint();
    const elapsed = performance.now() - started;
    const params = paramTensors();
    const run = await finishRun(c, heads, params, history, model.t, ((model.t - startStep) * 1000) / Math.max(1, elapsed), aborted);
    return { run, params, aborted };
  } finally {
    model.dispose();
  }
}

async function trainOne(c: IclConfig, heads: number, runIndex: number, done: IclRunData[], resume: Checkpoint | null, ctx: RunContext): Promise<{ run: IclRunData; params: ParamMap; aborted: boolean }> {
  const params = initParams(c, heads);
  const optimizer = makeOptimizer(c);
  let history: History | undefined;
  let startStep = 0;
  if (resume) {
    restoreParams(params, resume.params);
    if (resume.optimizerState) optimizer.setState(resume.optimizerState);
    history = resume.history;
    startStep = resume.step;
  }
  const phase = `train H=${heads}`;
  const lossOf = (p: ParamMap, b: TokenBatch) => meanSquaredError(predict(c, structure(c, p), b.Z, b.zq), b.yq);
  try {
    const result = await train<TokenBatch>({
      params,
      loss: lossOf,
      data: { batch: (t) => tokens(c, TRAIN_STREAM, t, c.batch) },
      validation: { batch: (t) => tokens(c, VALIDATION_STREAM, t, c.batch) },
      optimizer,
      steps: c.steps,
      ...(history ? { state: { step: startStep, history } } : {}),
      schedule: { lossEvery: c.log.loss, validationEvery: c.log.validation, progressEvery: Math.max(1, Math.min(1000, Math.floor(c.steps / 50))), checkpointEvery: c.checkpointEvery },
      probes: {
        dynamics: { every: c.log.dynamics, run: (p) => dynamicsProbe(c, p) },
        qk: { every: c.log.qk, run: async (p) => (await qkMatrices(c, p)) as unknown as Json },
      },
      ...(ctx.checkpoints ? {
        checkpoint: {
          write: async (input) => {
            await ctx.checkpoints!.save(await serializeCheckpoint({
              ...input,
              meta: { experiment: 'icl-regression', configKey: configKey(c), runIndex, runs: done as unknown as Json },
            }));
            ctx.onEvent?.({ type: 'checkpoint', phase, step: input.step });
          },
        },
      } : {}),
      signal: ctx.signal,
      onEvent: (e) => {
        if (e.type === 'progress') ctx.onEvent?.({ type: 'progress', phase, done: e.completed, total: e.steps, rate: e.stepsPerSecond, ...(e.loss !== undefined ? { loss: e.loss } : {}) });
        else if (e.type === 'metrics') ctx.onEvent?.({ type: 'metrics', phase, step: e.step, values: { validationLoss: e.validationLoss, ...(e.loss !== undefined ? { loss: e.loss } : {}) } });
        else if (e.type === 'snapshot') ctx.onEvent?.({ type: 'snapshot', phase, step: e.step, name: e.name, value: e.value });
      },
    });
    const run = await finishRun(c, heads, params, result.history, result.completed, result.stepsPerSecond, result.aborted);
    return { run, params, aborted: result.aborted };
  } catch (err) {
    tf.dispose(Object.values(params));
    throw err;
  } finally {
    optimizer.dispose();
  }
}

// ---- figures ----------------------------------------------------------------------------------

function figures(c: IclConfig, d: IclData): NamedFigure[] {
  const figs: NamedFigure[] = [];
  const multi = d.runs.length > 1;
  figs.push({
    id: 'loss',
    spec: {
      kind: 'line', title: 'Training and validation loss', x: { label: 'step' }, y: { label: 'MSE', scale: 'log' },
      series: d.runs.flatMap((r) => [
        { name: `training${multi ? ` H=${r.heads}` : ''}`, x: r.loss.step, y: r.loss.value },
        { name: `validation${multi ? ` H=${r.heads}` : ''}`, x: r.validation.step, y: r.validation.value, dashed: true },
      ]),
    } as FigureSpec,
  });
  const main = d.runs.find((r) => r.heads === c.heads) ?? d.runs[0]!;
  const heads = main.statistics.filter((x) => x.layer === 0).length;
  for (const [id, key, label] of [['dynamics-w', 'w', 'w^h (mean QK diagonal)'], ['dynamics-mu', 'mu', 'μ^h (OV last entry)']] as const) {
    figs.push({
      id,
      spec: {
        kind: 'line', title: `Circuit dynamics: ${label}, H=${main.heads}`, x: { label: 'step' }, y: { label },
        series: main.dynamics[key][0]
          ? Array.from({ length: main.dynamics[key][0]!.length }, (_, l) => Array.from({ length: heads }, (_, h) => ({
            name: `${c.layers > 1 ? `layer ${l} ` : ''}head ${h}`, x: main.dynamics.step, y: main.dynamics[key].map((v) => v[l]![h]!),
          }))).flat()
          : [],
      } as FigureSpec,
    });
  }
  figs.push({
    id: 'qk-circuits',
    spec: {
      kind: 'heatmap-grid', title: `QK circuits W_Q W_Kᵀ/√(d+1), H=${main.heads}`, scale: 'diverging', colorbarLabel: 'QK',
      panels: main.statistics.map((x) => ({ title: `${c.layers > 1 ? `L${x.layer} ` : ''}head ${x.head}: w=${x.w.toFixed(3)}`, values: x.qk })),
    } as FigureSpec,
  });
  const labelOf = (x: IclCircuitStatistics) => `${c.layers > 1 ? `L${x.layer} ` : ''}head ${x.head}`;
  figs.push({
    id: 'ov-circuits',
    spec: c.nOut === 1
      // One column per head: OV^h is (d+1)×1, too narrow for a panel of its own.
      ? {
        kind: 'heatmap', title: `OV circuits W_V W_O (column h = head h; μ^h is row y), H=${main.heads}`, scale: 'diverging', colorbarLabel: 'OV', showValues: true,
        values: main.statistics[0]!.ov.map((_, i) => main.statistics.map((x) => x.ov[i]![0]!)),
        rowLabels: [...Array.from({ length: c.d }, (_, i) => `x${i + 1}`), 'y'],
        colLabels: main.statistics.map((x) => `${c.layers > 1 ? `L${x.layer}` : ''}h${x.head}`),
      }
      : {
        kind: 'heatmap-grid', title: `OV circuits W_V W_O, H=${main.heads}`, scale: 'diverging', colorbarLabel: 'OV',
        panels: main.statistics.map((x) => ({ title: `${labelOf(x)}: μ=${x.mu.toFixed(3)}`, values: x.ov })),
      },
  });
  const snaps = main.qkSnapshots;
  if (snaps.step.length > 0) {
    const n = snaps.step.length;
    const picks = [...new Set([0, 1, Math.floor(n / 10), Math.floor(n / 2), n - 1].filter((i) => i >= 0 && i < n))];
    figs.push({
      id: 'qk-evolution',
      spec: {
        kind: 'heatmap-grid', title: 'QK matrices W_Q W_Kᵀ during training (layer 0)', scale: 'diverging', columns: picks.length,
        panels: Array.from({ length: heads }, (_, h) => picks.map((i) => ({ title: `head ${h}, step ${snaps.step[i]}`, values: snaps.matrices[i]![0]![h]! }))).flat(),
      } as FigureSpec,
    });
  }
  if (d.errorCurves) {
    figs.push({
      id: 'error-curves',
      spec: {
        kind: 'line', title: 'Error against context length', x: { label: 'context length L' }, y: { label: 'MSE', scale: 'log' },
        series: d.errorCurves.series.map((sr) => ({ name: sr.name, x: d.errorCurves!.contextLengths, y: sr.mse, dashed: sr.name.startsWith('kernel') })),
      } as FigureSpec,
    });
  }
  figs.push({
    id: 'statistics',
    spec: {
      kind: 'table', title: `Circuit statistics (hypothesised |w^h| = 1/√d = ${d.hypothesisedW.toFixed(4)})`,
      columns: ['H', 'layer', 'head', 'w^h', 'var diag', 'sup off-diag', 'μ^h', 'sup OV rest', 'dummy'],
      rows: d.runs.flatMap((r) => r.statistics.map((x) => [
        r.heads, x.layer, x.head, round(x.w), round(x.diagVariance), round(x.offDiagSupNorm), round(x.mu), round(x.ovRestSupNorm),
        r.dummyHeads.some((h) => h.layer === x.layer && h.head === x.head),
      ])),
    } as FigureSpec,
  });
  if (multi) {
    figs.push({
      id: 'heads',
      spec: {
        kind: 'table', title: 'Head-count comparison', columns: ['H', 'steps', 'final validation MSE', 'w^h', 'μ^h', 'dummy heads'],
        rows: d.runs.map((r) => [
          r.heads, r.completedSteps, r.finalValidation ? round(r.finalValidation.mse) : null,
          r.statistics.map((x) => round(x.w)).join(', '), r.statistics.map((x) => round(x.mu)).join(', '),
          r.dummyHeads.map((h) => h.head).join(', ') || 'none',
        ]),
      } as FigureSpec,
    });
  }
  return figs;
}

const round = (x: number) => Number(x.toFixed(4));

// ---- the experiment ---------------------------------------------------------------------------

/** Seed 004: one-layer multi-head softmax attention trained on in-context linear regression learns a kernel estimator. */
export const iclRegression: Experiment<IclConfig, IclData> = {
  id: 'icl-regression',
  title: 'In-context regression (seed 004)',
  summary: 'Train multi-head softmax attention on in-context linear regression; circuits, dynamics, kernel estimator, error-vs-L curves, head-count comparison.',
  configSchema: iclConfigSchema,
  dataSchema: iclDataSchema,
  presets: { seed: seedPreset, quick: quickPreset },
  async run(config, ctx = {}): Promise<ExperimentResult<IclConfig, IclData>> {
    const meta = startMeta();
    if (config.layers > 1 && config.nOut !== 1) throw new ConfigError('config.nOut', '1 for a stack', config.nOut, 'must be 1 when layers > 1 (the stack predicts through its final linear)');
    const headCounts = config.headCounts.length ? config.headCounts : [config.heads];
    if (config.init === 'oppo_small_id') {
      headCounts.forEach((h, i) => {
        if (h % 2 !== 0) throw new ConfigError(config.headCounts.length ? `config.headCounts[${i}]` : 'config.heads', 'an even number with init oppo_small_id', h, 'must be even with init oppo_small_id (two halves of opposite sign)');
      });
    }
    const unsupported = fusedUnsupported(config);
    if (config.path === 'fused' && unsupported) throw new ConfigError('config.path', "'reference' or 'auto' for this config", 'fused', `cannot be 'fused': the fused trainer ${unsupported}`);
    const path: IclData['path'] = config.path === 'reference' || unsupported ? 'reference' : 'fused';
    const resume = await loadResume(config, ctx);
    const runs: IclRunData[] = [...resume.runs];
    const trained: { heads: number; params: ParamMap }[] = [];
    let aborted = false;
    try {
      for (let i = resume.runIndex; i < headCounts.length; i++) {
        throwIfAborted(ctx.signal);
        ctx.onEvent?.({ type: 'phase', phase: `train H=${headCounts[i]}`, message: `Training H = ${headCounts[i]} (${i + 1} of ${headCounts.length})` });
        const trainer = path === 'fused' ? trainOneFused : trainOne;
        const r = await trainer(config, headCounts[i]!, i, runs, i === resume.runIndex ? resume.checkpoint : null, ctx);
        runs.push(r.run);
        trained.push({ heads: r.run.heads, params: r.params });
        if (r.aborted) { aborted = true; break; }
      }
      let errorCurves: ErrorCurve | null = null;
      if (!aborted && config.evaluation.samples > 0 && trained.length === runs.length) {
        ctx.onEvent?.({ type: 'phase', phase: 'evaluate', message: 'Error against context length' });
        const noiseVar = config.d * config.noiseStd ** 2;
        const betaVar = config.betaScale === 'unit' ? 1 : 1 / config.d;
        const estimators: Estimator[] = [];
        for (const t of trained) {
          const tag = runs.length > 1 ? ` (H=${t.heads})` : '';
          const st = structure(config, t.params);
          estimators.push(modelEstimator(`transformer${tag}`, (Z, zq) => predict(config, st, Z, zq)));
          const stats = runs.find((r) => r.heads === t.heads)!.statistics.filter((x) => x.layer === 0);
          if (config.layers === 1) estimators.push(kernelEstimator({ w: stats.map((x) => x.w), mu: stats.map((x) => x.mu) }, `kernel estimator${tag}`));
        }
        estimators.push(oneStepGd(), optimalOneStepGd({ betaVar, noiseVar }), bayesPosteriorMean({ d: config.d, L: config.L, betaVar, noiseVar }, 'ridge (Bayes λ)'));
        const Ls: number[] = [];
        for (let L = 1; L <= config.evaluation.maxL; L += config.evaluation.stepL) Ls.push(L);
        errorCurves = await errorCurve(estimators, { dx: config.d, noiseStd: config.noiseStd, betaScale: config.betaScale }, Ls, {
          samples: config.evaluation.samples, seed: config.seed,
          onProgress: (done, total) => ctx.onEvent?.({ type: 'progress', phase: 'evaluate', done, total }),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
      }
      const data: IclData = { path, runs, errorCurves, hypothesisedW: 1 / Math.sqrt(config.d) };
      return {
        experiment: 'icl-regression', schemaVersion: RESULT_SCHEMA_VERSION, config, data, figures: figures(config, data),
        meta: meta.finish({ aborted, ...(resume.checkpoint ? { resumedFrom: resume.checkpoint.step } : {}) }),
      };
    } finally {
      for (const t of trained) tf.dispose(Object.values(t.params));
    }
  },
};

import * as tf from '@tensorflow/tfjs-core';
import {
  ICL_ATTENTION_KINDS,
  ICL_INITS,
  iclAttention,
  iclInitialParams,
  iclParamLayout,
  iclStack,
  iclStructure,
  type IclAttentionParams,
  type IclCircuitStatistics,
  type IclModelConfig,
  type IclStackParams,
} from '@attnlab/attention';
import { circuitAlignment, circuitStatistics } from '@attnlab/metrics';
import {
  BETA_SCALES,
  EVALUATION_STREAM,
  TRAIN_STREAM,
  VALIDATION_STREAM,
  iclBatchArrays,
  iclTokensArrays,
  type IclTaskConfig,
} from '@attnlab/data';
import {
  bayesPosteriorMean,
  bayesRiskLimit,
  debiasedGdOptimalStep,
  debiasedGdRisk,
  errorCurve,
  gdAlignment,
  multiHeadTheory,
  optimalDebiasedGd,
  singleHeadOptimum,
  type HeadTheory,
  type SingleHeadOptimum,
  kernelEstimator,
  modelEstimator,
  oneStepGd,
  optimalOneStepGd,
  optimalOneStepGdStep,
  preconditionedGd,
  type ErrorCurve,
  type Estimator,
  type GdAlignment,
} from '@attnlab/estimators';
import type { FigureSpec } from '@attnlab/plot';
import {
  adam,
  adamw,
  autodiffEngine,
  meanSquaredError,
  serializeCheckpoint,
  sgd,
  train,
  type Checkpoint,
  type Engine,
  type Json,
  type Optimizer,
  type ParamMap,
  type TensorMap,
  yieldToEvents,
} from '@attnlab/train';
import { ICL_ENGINE_KINDS, createIclEngine, iclEngineCandidates, type IclTrainingSpec } from '@attnlab/fused';
import {
  RESULT_SCHEMA_VERSION,
  loadCheckpoint,
  type Claim,
  type Experiment,
  type ExperimentResult,
  type NamedFigure,
  type RunContext,
  trainProgress,
} from './experiment.js';
import { startMeta, throwIfAborted } from './meta.js';
import type { ResourceEstimate } from './resources.js';
import { ConfigError, s, type Infer } from './schema.js';

/** The config of an icl-regression run: derived from {@link iclConfigSchema}, its one definition. */
export type IclConfig = Infer<typeof iclConfigSchema>;

/** The trainers: the fast engines of @attnlab/fused, the tfjs autodiff reference, or the fastest that applies. */
export type IclTrainer = 'auto' | 'simd' | 'float64' | 'reference';
export const ICL_TRAINERS: readonly IclTrainer[] = ['auto', ...ICL_ENGINE_KINDS, 'reference'];

export interface IclRunData {
  heads: number;
  /** What ran the training iterations, and why it was chosen. */
  engine: { name: string; reason: string };
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
  /**
   * The trained model against debiased GD at its optimal step on up to 1,000 evaluation tasks
   * (von Oswald et al.'s prediction difference and cosine of ∂ŷ/∂x_q); null when not evaluated.
   * Absent in results written before it existed.
   */
  gdAlignment?: GdAlignment | null;
  /** With anisotropic inputs: the same against GD preconditioned by Σ⁻¹ (the paper's prediction). */
  preconditionedGdAlignment?: GdAlignment | null;
}

export interface IclData {
  runs: IclRunData[];
  errorCurves: ErrorCurve | null;
  /** 1/√d: the single-head optimum of |w^h| (for every H, see {@link iclTheory}). */
  hypothesisedW: number;
}

const pos = (def: number, description: string, max = 1e9) => s.int({ min: 1, max, default: def, description });

export const iclConfigSchema = s.object({
  layers: pos(1, 'attention layers (1 = the query-only model; more = the causal stack)', 16),
  heads: pos(2, 'attention heads H', 64),
  nOut: pos(1, 'outputs of the final projection (the prediction is the last)', 64),
  d: pos(5, 'input dimension d (tokens have width d + 1)', 256),
  L: pos(40, 'context length L during training', 4096),
  optimizer: s.object(
    {
      method: s.enum(['adam', 'adamw', 'sgd'], { default: 'adam', description: 'optimizer (PyTorch semantics)' }),
      lr: s.number({ min: 0, exclusiveMin: true, max: 10, default: 1e-3, description: 'learning rate' }),
      betas: s.array(s.number({ min: 0, max: 0.999999 }), {
        minItems: 2,
        maxItems: 2,
        default: [0.9, 0.999],
        description: 'Adam betas',
      }),
      eps: s.number({ min: 0, max: 1, default: 1e-8, description: 'Adam epsilon (outside the square root)' }),
      weightDecay: s.number({
        min: 0,
        max: 10,
        default: 0,
        description: 'weight decay (L2 for adam/sgd, decoupled for adamw)',
      }),
    },
    { default: {} },
  ),
  batch: pos(128, 'tasks per training step', 1 << 16),
  steps: pos(20000, 'training steps', 1e8),
  log: s.object(
    {
      loss: pos(100, 'record the training loss every N steps'),
      validation: pos(1000, 'validation loss on a fresh batch every N steps'),
      dynamics: pos(1000, 'record w^h and μ^h every N steps'),
      qk: pos(1000, 'snapshot the QK matrices every N steps'),
    },
    { default: {} },
  ),
  noiseVariance: s.number({
    min: 0,
    max: 1e6,
    default: 5e-4,
    description: 'σ², the variance of the noise on y (the seed: 5e-4; the paper: 0.1)',
  }),
  queryNoise: s.boolean({
    default: false,
    description: 'noisy query target y_q (the paper) instead of noiseless (the seed)',
  }),
  betaScale: s.enum(BETA_SCALES, {
    default: 'unit',
    description: "prior on β: 'unit' N(0, I) as the seed, 'inverse-d' N(0, I/d) as the paper",
  }),
  covarianceRho: s.number({
    min: 0,
    max: 0.95,
    default: 0,
    description: 'anisotropic inputs x ~ N(0, Σ) with Σ_ij = ρ^|i−j| (0: isotropic, as the seed)',
  }),
  init: s.enum(ICL_INITS, { default: 'random', description: 'initialisation' }),
  attention: s.enum(ICL_ATTENTION_KINDS, {
    default: 'softmax',
    description:
      "attention of the single layer: 'softmax' (the seed), 'linear' (no softmax, scores/L) or 'linear-unnormalised' (no softmax, scores: von Oswald et al.'s); the linear ones train on the reference",
  }),
  weightTying: s.boolean({ default: false, description: 'share one layer across the stack' }),
  seed: s.int({ min: 0, max: 2 ** 32 - 1, default: 0, description: 'seed of the initialisation and of every task' }),
  finalValidationSamples: s.int({
    min: 0,
    max: 1e7,
    default: 10000,
    description: 'fresh tasks for the final validation MSE (0 = skip)',
  }),
  evaluation: s.object(
    {
      maxL: pos(500, 'longest context of the error curves', 100000),
      stepL: pos(5, 'step between context lengths', 100000),
      samples: s.int({ min: 0, max: 1e6, default: 100, description: 'tasks per context length (0 = skip the curves)' }),
    },
    { default: {} },
  ),
  headCounts: s.array(s.int({ min: 1, max: 64 }), {
    default: [],
    maxItems: 16,
    description: 'head counts to compare, e.g. [1, 2, 4, 8]',
  }),
  checkpointEvery: pos(1000, 'steps between checkpoints'),
  trainer: s.enum(ICL_TRAINERS, {
    default: 'auto',
    description:
      'what trains: auto (the fastest engine that runs this config), simd (WebAssembly SIMD), float64 (TypeScript), reference (tfjs autodiff)',
  }),
});

const series = s.object({ step: s.array(s.int()), value: s.array(s.nullable(s.number())) });
const stat = s.object({
  layer: s.int(),
  head: s.int(),
  w: s.number(),
  diagVariance: s.number(),
  offDiagSupNorm: s.number(),
  mu: s.number(),
  ovRestSupNorm: s.number(),
  qk: s.array(s.array(s.number())),
  ov: s.array(s.array(s.number())),
});
/** A run against one-step GD ({@link IclRunData.gdAlignment}); optional: absent in older results. */
const alignmentSchema = s.nullable(
  s.object({
    samples: s.int(),
    predictionDifference: s.number(),
    relativePredictionDifference: s.nullable(s.number()),
    gradientCosine: s.number(),
  }),
  { optional: true },
);
const runSchema = s.object({
  heads: s.int(),
  engine: s.object({ name: s.string(), reason: s.string() }),
  completedSteps: s.int(),
  stepsPerSecond: s.number(),
  loss: series,
  validation: series,
  dynamics: s.object({
    step: s.array(s.int()),
    w: s.array(s.array(s.array(s.number()))),
    mu: s.array(s.array(s.array(s.number()))),
  }),
  qkSnapshots: s.object({ step: s.array(s.int()), matrices: s.array(s.array(s.array(s.array(s.array(s.number()))))) }),
  statistics: s.array(stat),
  finalValidation: s.nullable(s.object({ samples: s.int(), mse: s.number(), stderr: s.number() })),
  dummyHeads: s.array(s.object({ layer: s.int(), head: s.int() })),
  gdAlignment: alignmentSchema,
  preconditionedGdAlignment: alignmentSchema,
});
export const iclDataSchema = s.object({
  runs: s.array(runSchema, { minItems: 1 }),
  errorCurves: s.nullable(
    s.object({
      contextLengths: s.array(s.int()),
      samples: s.int(),
      seed: s.int(),
      series: s.array(s.object({ name: s.string(), mse: s.array(s.number()), stderr: s.array(s.number()) })),
    }),
  ),
  hypothesisedW: s.number(),
});

const seedPreset: IclConfig = {
  layers: 1,
  heads: 2,
  nOut: 1,
  d: 5,
  L: 40,
  optimizer: { method: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
  batch: 128,
  steps: 500000,
  log: { loss: 1000, validation: 1000, dynamics: 1000, qk: 1000 },
  noiseVariance: 5e-4,
  queryNoise: false,
  betaScale: 'unit',
  covarianceRho: 0,
  init: 'random',
  attention: 'softmax',
  weightTying: false,
  seed: 0,
  finalValidationSamples: 10000,
  evaluation: { maxL: 500, stepL: 5, samples: 100 },
  headCounts: [],
  checkpointEvery: 10000,
  trainer: 'auto',
};
const quickPreset: IclConfig = {
  ...seedPreset,
  steps: 3000,
  log: { loss: 10, validation: 100, dynamics: 100, qk: 500 },
  finalValidationSamples: 2000,
  evaluation: { maxL: 201, stepL: 20, samples: 200 },
  checkpointEvery: 500,
};
/**
 * The authors' sampling in their public code for the paper (He, Pan, Chen, Yang, ICML 2025):
 * β ~ N(0, I/d), y noise variance σ² = 0.1 on the context and on the query target, batch 256;
 * model, d = 5, L = 40, Adam 1e-3 and the schedule as the seed.
 */
const paperPreset: IclConfig = {
  ...seedPreset,
  steps: 20000,
  batch: 256,
  noiseVariance: 0.1,
  queryNoise: true,
  betaScale: 'inverse-d',
  checkpointEvery: 1000,
};

// ---- model plumbing ---------------------------------------------------------------------------

type Structured = IclAttentionParams | IclStackParams;

function modelConfig(c: IclConfig, heads: number): IclModelConfig {
  return {
    d: c.d,
    numHeads: heads,
    layers: c.layers,
    nOut: c.nOut,
    tied: c.layers > 1 && c.weightTying,
    init: c.init,
    seed: c.seed,
    attention: c.attention,
  };
}

/** The model's prediction of y_q: the last output column, `[B]`. */
function predict(c: IclConfig, p: Structured, Z: tf.Tensor3D, zq: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const out =
      c.layers === 1
        ? iclAttention(p as IclAttentionParams, Z, zq, { attention: c.attention }).output
        : iclStack(p as IclStackParams, Z, zq).output;
    return tf.reshape(tf.slice(out, [0, c.nOut - 1], [-1, 1]), [-1]) as tf.Tensor1D;
  });
}

function makeOptimizer(c: IclConfig): Optimizer {
  const o = c.optimizer;
  if (o.method === 'sgd') return sgd({ lr: o.lr, weightDecay: o.weightDecay });
  const cfg = { lr: o.lr, betas: [o.betas[0], o.betas[1]] as [number, number], eps: o.eps, weightDecay: o.weightDecay };
  return o.method === 'adam' ? adam(cfg) : adamw(cfg);
}

/** The task family in @attnlab/data's terms: its δ is σ/√d (its y noise is √d·δ·ε). */
function task(c: IclConfig, L = c.L): IclTaskConfig {
  return {
    L,
    dx: c.d,
    dy: 1,
    noiseStd: Math.sqrt(c.noiseVariance / c.d),
    betaScale: c.betaScale,
    queryNoise: c.queryNoise,
    ...(c.covarianceRho > 0 ? { covariance: toeplitz(c.d, c.covarianceRho) } : {}),
  };
}

/** Σ_ij = ρ^|i−j| (an AR(1) covariance). */
export function toeplitz(d: number, rho: number): number[][] {
  return Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => rho ** Math.abs(i - j)));
}

/** Σ⁻¹ of {@link toeplitz} in closed form: tridiagonal, (1 + ρ²) inside and 1 at the ends on the diagonal, −ρ beside it, all over 1 − ρ². */
export function toeplitzInverse(d: number, rho: number): number[][] {
  if (d === 1) return [[1]];
  const k = 1 / (1 - rho * rho);
  return Array.from({ length: d }, (_, i) =>
    Array.from({ length: d }, (_, j) =>
      i === j ? (i > 0 && i < d - 1 ? (1 + rho * rho) * k : k) : Math.abs(i - j) === 1 ? -rho * k : 0,
    ),
  );
}

interface TokenBatch {
  Z: tf.Tensor3D;
  zq: tf.Tensor2D;
  yq: tf.Tensor1D;
}
function tokens(c: IclConfig, stream: number, step: number, batch: number, offset = 0): TokenBatch {
  // Host arrays straight into three tensors: no per-step concat kernels.
  const t = iclTokensArrays(iclBatchArrays(task(c), { seed: c.seed, stream, step, batch, offset }));
  const D = c.d + 1;
  return { Z: tf.tensor3d(t.Z, [batch, c.L, D]), zq: tf.tensor2d(t.zq, [batch, D]), yq: tf.tensor1d(t.yq) };
}

async function qkMatrices(st: Structured): Promise<number[][][][]> {
  // Seed 004's QK_mat_stack: W_Q^h W_K^hᵀ (unscaled) per layer and head.
  const layers = 'layers' in st ? st.layers : [st];
  const out: number[][][][] = [];
  for (const l of layers) {
    const m = tf.tidy(() => tf.matMul(l.Wq, l.Wk, false, true));
    out.push((await m.array()) as number[][][]);
    m.dispose();
  }
  return out;
}

async function finalValidation(
  c: IclConfig,
  p: Structured,
  samples: number,
  signal?: AbortSignal,
): Promise<IclRunData['finalValidation']> {
  if (samples === 0) return null;
  let sum = 0;
  let sum2 = 0;
  for (let start = 0; start < samples; start += 1000) {
    await yieldToEvents();
    throwIfAborted(signal);
    const n = Math.min(1000, samples - start);
    // Evaluation stream, step 0: disjoint from the error curves (step = L ≥ 1) and from training.
    const b = tokens(c, EVALUATION_STREAM, 0, n, start);
    const sq = tf.tidy(() => tf.square(tf.sub(predict(c, p, b.Z, b.zq), b.yq)));
    const v = await sq.data();
    tf.dispose([sq, b.Z, b.zq, b.yq]);
    for (let i = 0; i < v.length; i++) {
      sum += v[i]!;
      sum2 += v[i]! * v[i]!;
    }
  }
  const mse = sum / samples;
  return { samples, mse, stderr: Math.sqrt(Math.max(0, sum2 / samples - mse * mse) / Math.max(1, samples - 1)) };
}

/** {@link IclRunData.gdAlignment}: the model against debiased GD with η*, on evaluation tasks (step 0). */
async function alignmentWithGd(
  c: IclConfig,
  p: Structured,
  samples: number,
  preconditioner?: number[][],
): Promise<GdAlignment | null> {
  const n = Math.min(1000, samples);
  if (n < 2) return null;
  const b = tokens(c, EVALUATION_STREAM, 0, n, 0);
  const [x, y, xq] = tf.tidy(() => [
    tf.slice(b.Z, [0, 0, 0], [-1, -1, c.d]) as tf.Tensor3D,
    tf.reshape(tf.slice(b.Z, [0, 0, c.d], [-1, -1, 1]), [n, -1]) as tf.Tensor2D,
    tf.slice(b.zq, [0, 0], [-1, c.d]) as tf.Tensor2D,
  ]);
  try {
    return await gdAlignment(
      (Z, zq) =>
        c.layers === 1
          ? iclAttention(p as IclAttentionParams, Z, zq, { attention: c.attention }).output
          : iclStack(p as IclStackParams, Z, zq).output,
      { x, y, xq },
      { stepSize: debiasedGdOptimalStep(taskModel(c)), ...(preconditioner ? { preconditioner } : {}) },
    );
  } finally {
    tf.dispose([x, y, xq, b.Z, b.zq, b.yq]);
  }
}

interface ResumeState {
  runIndex: number;
  runs: IclRunData[];
  /** Final weights of the runs before `runIndex` (the error curves evaluate every trained model). */
  finals: FinalParams[];
  checkpoint: Checkpoint | null;
}

/** A finished run's final weights as JSON, kept in later checkpoints of the same head-count comparison. */
type FinalParams = { heads: number; params: Record<string, { shape: number[]; values: number[] }> };

async function finalParamsJson(trained: readonly { heads: number; params: TensorMap }[]): Promise<FinalParams[]> {
  const out: FinalParams[] = [];
  for (const t of trained) {
    const params: FinalParams['params'] = {};
    for (const [k, v] of Object.entries(t.params))
      params[k] = { shape: [...v.shape], values: Array.from(await v.data()) };
    out.push({ heads: t.heads, params });
  }
  return out;
}

function finalParamsTensors(f: FinalParams): { heads: number; params: TensorMap } {
  const params: TensorMap = {};
  for (const [k, v] of Object.entries(f.params)) params[k] = tf.tensor(v.values, v.shape, 'float32');
  return { heads: f.heads, params };
}

/** What a checkpoint must agree on: everything but the length of the run, evaluation, checkpointing and the trainer. */
function configKey(c: IclConfig): string {
  const {
    evaluation: _e,
    finalValidationSamples: _f,
    checkpointEvery: _k,
    trainer: _t,
    covarianceRho,
    attention,
    ...rest
  } = c;
  // covarianceRho and attention joined the config later: isotropic softmax runs keep the key their checkpoints were written with.
  return JSON.stringify({
    ...rest,
    ...(covarianceRho > 0 ? { covarianceRho } : {}),
    ...(attention !== 'softmax' ? { attention } : {}),
    steps: undefined,
  });
}

async function loadResume(c: IclConfig, ctx: RunContext): Promise<ResumeState> {
  const cp = await loadCheckpoint(
    ctx,
    'icl-regression',
    configKey(c),
    'steps, evaluation, checkpoint and trainer settings',
    (m) => typeof m.runIndex === 'number',
  );
  if (!cp) return { runIndex: 0, runs: [], finals: [], checkpoint: null };
  const meta = cp.meta as unknown as { runIndex: number; runs?: IclRunData[]; finals?: FinalParams[] };
  return { runIndex: meta.runIndex, runs: meta.runs ?? [], finals: meta.finals ?? [], checkpoint: cp };
}

async function dynamicsProbe(st: Structured): Promise<Json> {
  const { w, mu } = await circuitStatistics(st);
  return { w, mu };
}

/**
 * The estimators that seed 004's story compares with a trained model, for context length L:
 * per trained run, the transformer itself (when its weights are given) and its kernel estimator
 * from the learned (w^h, μ^h) (single layer); then one-step GD (the seed's step), one-step GD
 * with the optimal step, and ridge with the Bayes λ of the run's prior and noise. The run's error
 * curves and the own-data comparison use this one set.
 */
export function iclEstimators(
  c: IclConfig,
  L: number,
  trained: readonly { run: IclRunData; params?: TensorMap }[],
  options: { tag?: boolean } = {},
): Estimator[] {
  const betaVar = c.betaScale === 'unit' ? 1 : 1 / c.d;
  const noiseVar = c.noiseVariance;
  const out: Estimator[] = [];
  for (const { run, params } of trained) {
    const tag = (options.tag ?? trained.length > 1) ? ` (H=${run.heads})` : '';
    if (params) {
      const st = iclStructure(modelConfig(c, run.heads), params);
      out.push(modelEstimator(`transformer${tag}`, (Z, zq) => predict(c, st, Z, zq)));
    }
    const stats = run.statistics.filter((x) => x.layer === 0);
    // The kernel estimator is what a softmax head computes; a linear head has no softmax.
    if (c.layers === 1 && (c.attention ?? 'softmax') === 'softmax')
      out.push(kernelEstimator({ w: stats.map((x) => x.w), mu: stats.map((x) => x.mu) }, `kernel estimator${tag}`));
  }
  out.push(
    oneStepGd(),
    optimalOneStepGd({ betaVar, noiseVar }),
    optimalDebiasedGd({ betaVar, noiseVar }),
    ...(c.covarianceRho > 0
      ? [
          preconditionedGd(
            {
              preconditioner: toeplitzInverse(c.d, c.covarianceRho),
              stepSize: optimalOneStepGdStep({ d: c.d, L, betaVar, noiseVar }),
            },
            'preconditioned GD (Σ⁻¹)',
          ),
        ]
      : []),
    bayesPosteriorMean({ d: c.d, L, betaVar, noiseVar }, 'ridge (Bayes λ)'),
  );
  return out;
}

/** The Gaussian task model of a config: x ~ N(0, I), β ~ N(0, betaVar·I), noise variance σ². */
function taskModel(c: IclConfig, L = c.L): { d: number; L: number; betaVar: number; noiseVar: number } {
  return { d: c.d, L, betaVar: c.betaScale === 'unit' ? 1 : 1 / c.d, noiseVar: c.noiseVariance };
}

/**
 * What the theory of He, Pan, Chen & Yang (ICML 2025) predicts for a one-layer model with `heads`
 * heads trained on this config: |w| = 1/√d with the optimal μ for one head; for two or more,
 * paired heads of opposite signs with Σ μ^h → 0 and Σ w^h μ^h → the optimal step of debiased GD.
 * Risks are against the target the config evaluates (noisy when `queryNoise`). Null for stacks,
 * anisotropic inputs (the closed forms assume x ~ N(0, I)) and linear attention (a softmax theory).
 * @example
 * iclTheory(iclRegression.presets.paper, 2); // { kind: 'paired', step: 0.8791, risk: 0.2429, … }
 */
export function iclTheory(c: IclConfig, heads: number): (HeadTheory & { target: 'noisy' | 'noiseless' }) | null {
  if (c.layers !== 1 || c.covarianceRho > 0 || c.attention !== 'softmax') return null;
  return { ...multiHeadTheory(taskModel(c), heads), target: c.queryNoise ? 'noisy' : 'noiseless' };
}

/** The theory's risk against the evaluated target. */
const theoryRisk = (t: HeadTheory & { target: 'noisy' | 'noiseless' }) => (t.target === 'noisy' ? t.noisyRisk : t.risk);

const exactCache = new Map<string, SingleHeadOptimum>();
/** The single head's exact optimum for a config's task model (Monte Carlo, 20,000 tasks; cached). */
function singleHeadExact(c: IclConfig): SingleHeadOptimum {
  const m = taskModel(c);
  const key = JSON.stringify(m);
  let o = exactCache.get(key);
  if (!o) {
    o = singleHeadOptimum(m, { samples: 20000, seed: 0 });
    exactCache.set(key, o);
  }
  return o;
}

/**
 * The trained model beside the theory, quantity by quantity (the statistics of layer 0; the risk
 * is the final validation MSE). Empty for stacks.
 */
export function iclTheoryComparison(
  c: IclConfig,
  run: {
    heads: number;
    statistics: readonly { layer: number; w: number; mu: number }[];
    finalValidation: { mse: number } | null;
  },
): { quantity: string; trained: number | string | null; theory: number | string }[] {
  const t = iclTheory(c, run.heads);
  if (!t) return [];
  const st = run.statistics.filter((x) => x.layer === 0);
  const sum = (f: (x: (typeof st)[number]) => number) => st.reduce((a, x) => a + f(x), 0);
  const risk = {
    quantity: `risk (${t.target} target)`,
    trained: run.finalValidation?.mse ?? null,
    theory: theoryRisk(t),
  };
  if (t.kind === 'single') {
    const o = singleHeadExact(c);
    return [
      { quantity: '|w^h| (exact optimum)', trained: Math.abs(st[0]?.w ?? NaN), theory: o.omega },
      { quantity: '|w^h| (approximate loss: 1/√d)', trained: Math.abs(st[0]?.w ?? NaN), theory: t.omega },
      { quantity: '|μ^h| (exact optimum)', trained: Math.abs(st[0]?.mu ?? NaN), theory: o.mu },
      { ...risk, theory: t.target === 'noisy' ? o.noisyRisk : o.risk },
    ];
  }
  const pos = st.filter((x) => x.w > 0).length;
  return [
    { quantity: 'heads with w^h > 0 / < 0', trained: `${pos} / ${st.length - pos}`, theory: 'both signs' },
    { quantity: 'Σ μ^h', trained: sum((x) => x.mu), theory: 0 },
    { quantity: 'Σ w^h μ^h (the GD step)', trained: sum((x) => x.w * x.mu), theory: t.step },
    risk,
  ];
}

/** The context lengths an evaluation draws: 1, 1 + stepL, … up to maxL. */
export function evaluatedLengths(e: { maxL: number; stepL: number }): number[] {
  const Ls: number[] = [];
  for (let L = 1; L <= e.maxL; L += e.stepL) Ls.push(L);
  return Ls;
}

type TaskFields = Pick<IclConfig, 'd' | 'L' | 'betaScale' | 'noiseVariance' | 'queryNoise'>;

/**
 * What paired heads trained at the config's L predict at another context length: debiased GD with
 * the step that is optimal at the training length (closed form), against the evaluated target. The
 * trained model keeps its step when the prompt grows; the softmax normalises over whatever L comes.
 */
export function debiasedGdAtTrainingStep(c: TaskFields, L: number): number {
  const m = taskModel(c as IclConfig);
  return debiasedGdRisk({ ...m, L }, debiasedGdOptimalStep(m)) + (c.queryNoise ? c.noiseVariance : 0);
}

/**
 * The claims of He, Pan, Chen & Yang (ICML 2025) that a run of this config tests, each with the
 * theory's number for its head count: paired heads (Σ μ^h → 0, Σ w^h μ^h → debiased GD's optimal
 * step, its risk, gradient cosine 1 with debiased GD, its error against L), one head (the exact
 * single-head optimum), anisotropic inputs (Σ⁻¹-preconditioned GD). Empty for stacks and linear attention.
 * @example
 * iclClaims(resolveConfig(iclRegression, { preset: 'paper' })).map((c) => c.id); // ['mu-sum', 'gd-step', 'risk', …]
 */
export function iclClaims(c: IclConfig): Claim[] {
  if (c.layers !== 1 || c.attention !== 'softmax') return [];
  const heads = c.headCounts.length ? c.headCounts : [c.heads];
  const target = c.queryNoise ? 'noisy' : 'noiseless';
  const out: Claim[] = [];
  const riskClaim =
    "the risk at the training length is the theory's for the head count: the exact single-head optimum for H = 1, debiased GD with its optimal step for H ≥ 2";
  for (const h of heads) {
    const tag = heads.length > 1 ? ` (H=${h})` : '';
    if (c.covarianceRho > 0) {
      if (h < 2) continue;
      out.push(
        {
          id: 'preconditioned-gd',
          claim: 'anisotropic x (Σ_ij = ρ^|i−j|): the heads implement Σ⁻¹-preconditioned GD',
          metric: `cos(∂ŷ/∂x_q) with Σ⁻¹-preconditioned GD${tag}`,
          theory: 1,
          theoryNote: "cosine 1: the model's gradient in x_q is preconditioned GD's",
        },
        {
          id: 'plain-gd-anisotropic',
          claim: 'anisotropic x: plain (debiased) GD fits the heads less well than the preconditioned one',
          metric: `cos(∂ŷ/∂x_q) with debiased GD${tag}`,
          theory: null,
          theoryNote: 'below the preconditioned cosine (plain GD ignores Σ)',
        },
      );
      continue;
    }
    const t = iclTheory(c, h)!;
    if (t.kind === 'single') {
      const o = singleHeadExact(c);
      out.push(
        {
          id: 'single-head-w',
          claim: "H = 1 settles at the exact single-head optimum, not at the approximate loss's |w| = 1/√d",
          metric: `|w^h|${tag}`,
          theory: o.omega,
          theoryNote: `singleHeadOptimum (Monte Carlo, ${o.samples} tasks); the approximate loss says 1/√d = ${Number(t.omega.toFixed(4))}`,
        },
        {
          id: 'single-head-mu',
          claim: 'H = 1: |μ| at the exact single-head optimum',
          metric: `|μ^h|${tag}`,
          theory: o.mu,
          theoryNote: `singleHeadOptimum (Monte Carlo, ${o.samples} tasks)`,
        },
        {
          id: 'risk',
          claim: riskClaim,
          metric: `final validation MSE${tag}`,
          theory: target === 'noisy' ? o.noisyRisk : o.risk,
          theoryNote: `singleHeadOptimum's risk (${target} target)`,
        },
      );
      continue;
    }
    out.push(
      {
        id: 'mu-sum',
        claim: 'H ≥ 2: the heads pair with opposite signs and Σ_h μ^h → 0',
        metric: `Σ μ^h${tag}`,
        theory: 0,
        theoryNote: 'multiHeadTheory: paired heads, μ summing to 0',
      },
      {
        id: 'gd-step',
        claim: "H ≥ 2: Σ_h w^h μ^h → debiased GD's optimal step L/(L + (1 + σ²)d)",
        metric: `Σ w^h μ^h${tag}`,
        theory: t.step,
        theoryNote: 'debiasedGdOptimalStep',
      },
      {
        id: 'risk',
        claim: riskClaim,
        metric: `final validation MSE${tag}`,
        theory: theoryRisk(t),
        theoryNote: `debiasedGdRisk at the optimal step (${target} target)`,
      },
      {
        id: 'gd-cosine',
        claim: "H ≥ 2 implements debiased GD: the model's gradient in x_q is debiased GD's",
        metric: `cos(∂ŷ/∂x_q) with debiased GD${tag}`,
        theory: 1,
        theoryNote: 'cosine 1',
      },
    );
    // The error curves' series carry a head-count tag when several head counts train in one run.
    if (c.evaluation.samples > 0 && heads.length === 1) {
      const Lmax = evaluatedLengths(c.evaluation).at(-1)!;
      out.push({
        id: 'error-vs-L',
        claim: `H ≥ 2, trained at L = ${c.L}: the error at every context length (to L = ${Lmax}) follows debiased GD with the training step`,
        metric: `MSE at L=${Lmax}: transformer`,
        theory: debiasedGdAtTrainingStep(c, Lmax),
        theoryNote: `debiasedGdRisk at L = ${Lmax} with the step optimal at L = ${c.L} (${target} target)`,
        curves: ['transformer', 'optimal debiased GD', 'ridge (Bayes λ)'],
        theoryCurve: { name: 'debiased GD, training step (closed form)', at: (L) => debiasedGdAtTrainingStep(c, L) },
      });
    }
  }
  return out;
}

/** An engine that trains one model of this config, the name it reports, and why it was chosen. */
interface BuiltEngine {
  engine: Engine;
  reason: string;
  dispose(): void;
}

/**
 * The engine for one head count: the fastest @attnlab/fused engine that runs the config (or the
 * one asked for), else — or when asked — the tfjs reference (attention's model, @attnlab/train's
 * optimizer, autodiff). Every engine starts from the same weights (attention's initialisation).
 */
async function buildEngine(c: IclConfig, heads: number): Promise<BuiltEngine> {
  const model = modelConfig(c, heads);
  const spec: IclTrainingSpec = { model, task: task(c), batch: c.batch, dataSeed: c.seed, optimizer: c.optimizer };
  // 'auto' falls back to the reference when no fast engine runs the config (linear attention), saying why.
  const fast = c.trainer === 'auto' ? iclEngineCandidates(spec).filter((x) => !x.unsupported) : [];
  const refusal =
    c.trainer === 'auto' && fast.length === 0
      ? `auto: no fast engine runs this config (${iclEngineCandidates(spec)
          .map((x) => `${x.kind} ${x.unsupported}`)
          .join('; ')})`
      : null;
  if (c.trainer !== 'reference' && refusal === null) {
    try {
      const engine = await createIclEngine(spec, { engine: c.trainer });
      return { engine, reason: engine.reason, dispose: () => engine.dispose() };
    } catch (e) {
      if (c.trainer === 'auto' || !(e instanceof RangeError)) throw e;
      throw new ConfigError(
        'config.trainer',
        `one of ${ICL_TRAINERS.join(', ')} that runs this config`,
        c.trainer,
        `cannot be '${c.trainer}': ${e.message.replace(/^createIclEngine: /, '')}`,
      );
    }
  }
  const params: ParamMap = {};
  for (const [name, h] of Object.entries(iclInitialParams(model)))
    params[name] = tf.variable(tf.tensor(h.values, h.shape), true);
  const optimizer = makeOptimizer(c);
  const engine = autodiffEngine<TokenBatch>({
    params,
    optimizer,
    data: { batch: (t) => tokens(c, TRAIN_STREAM, t, c.batch) },
    loss: (p, b) => meanSquaredError(predict(c, iclStructure(model, p), b.Z, b.zq), b.yq),
    name: `reference: tfjs autodiff (${tf.getBackend()})`,
  });
  return {
    engine,
    reason: refusal ?? 'asked for (trainer: reference)',
    dispose: () => {
      tf.dispose(Object.values(params));
      optimizer.dispose();
    },
  };
}

/** Trains one head count through `train()` and returns its record and its final weights (tensors the caller disposes). */
async function trainOne(
  c: IclConfig,
  heads: number,
  runIndex: number,
  done: IclRunData[],
  finals: FinalParams[],
  resume: Checkpoint | null,
  ctx: RunContext,
): Promise<{ run: IclRunData; params: TensorMap; aborted: boolean }> {
  const model = modelConfig(c, heads);
  const built = await buildEngine(c, heads);
  const { engine } = built;
  const phase = `train H=${heads}`;
  ctx.onEvent?.({ type: 'phase', phase, message: `Training on ${engine.name}: ${built.reason}` });
  try {
    const result = await train({
      engine,
      steps: c.steps,
      ...(resume ? { resume } : {}),
      schedule: {
        lossEvery: c.log.loss,
        validationEvery: c.log.validation,
        progressEvery: Math.max(1, Math.min(1000, Math.floor(c.steps / 50))),
        checkpointEvery: c.checkpointEvery,
        readEvery: 4096,
      },
      validation: async (p, t) => {
        const b = tokens(c, VALIDATION_STREAM, t, c.batch);
        const l = tf.tidy(() => meanSquaredError(predict(c, iclStructure(model, p), b.Z, b.zq), b.yq));
        tf.dispose([b.Z, b.zq, b.yq]);
        return l;
      },
      probes: {
        dynamics: { every: c.log.dynamics, run: (p) => dynamicsProbe(iclStructure(model, p)) },
        qk: { every: c.log.qk, run: async (p) => (await qkMatrices(iclStructure(model, p))) as unknown as Json },
      },
      ...(ctx.checkpoints
        ? {
            checkpoint: {
              meta: {
                experiment: 'icl-regression',
                configKey: configKey(c),
                runIndex,
                runs: done as unknown as Json,
                finals: finals as unknown as Json,
              },
              write: async (input) => {
                await ctx.checkpoints!.save(await serializeCheckpoint(input));
                ctx.onEvent?.({ type: 'checkpoint', phase, step: input.step });
              },
            },
          }
        : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onEvent: (e) => {
        if (e.type === 'progress') ctx.onEvent?.(trainProgress(e, phase));
        else if (e.type === 'metrics')
          ctx.onEvent?.({
            type: 'metrics',
            phase,
            step: e.step,
            values: { validationLoss: e.validationLoss, ...(e.loss !== undefined ? { loss: e.loss } : {}) },
          });
        else if (e.type === 'snapshot')
          ctx.onEvent?.({ type: 'snapshot', phase, step: e.step, name: e.name, value: e.value });
      },
    });
    // The final weights outlive the engine (evaluation runs after every head count has trained).
    const params: TensorMap = {};
    for (const [k, t] of Object.entries(engine.params())) params[k] = tf.clone(t);
    const st = iclStructure(model, params);
    const table = await circuitStatistics(st);
    const history = result.history;
    const dyn = history.probes.dynamics ?? { step: [], value: [] };
    const qk = history.probes.qk ?? { step: [], value: [] };
    const run: IclRunData = {
      heads,
      engine: { name: engine.name, reason: built.reason },
      completedSteps: result.completed,
      stepsPerSecond: result.stepsPerSecond,
      loss: { step: history.loss.step, value: history.loss.value },
      validation: { step: history.validation.step, value: history.validation.value },
      dynamics: {
        step: dyn.step,
        w: dyn.value.map((v) => (v as { w: number[][] }).w),
        mu: dyn.value.map((v) => (v as { mu: number[][] }).mu),
      },
      qkSnapshots: { step: qk.step, matrices: qk.value as unknown as number[][][][][] },
      statistics: table.layers.flat(),
      finalValidation: result.aborted ? null : await finalValidation(c, st, c.finalValidationSamples, ctx.signal),
      dummyHeads: table.dummyHeads,
      gdAlignment: result.aborted ? null : await alignmentWithGd(c, st, c.finalValidationSamples),
      ...(c.covarianceRho > 0
        ? {
            preconditionedGdAlignment: result.aborted
              ? null
              : await alignmentWithGd(c, st, c.finalValidationSamples, toeplitzInverse(c.d, c.covarianceRho)),
          }
        : {}),
    };
    return { run, params, aborted: result.aborted };
  } finally {
    built.dispose();
  }
}

// ---- figures ----------------------------------------------------------------------------------

function figures(c: IclConfig, d: IclData): NamedFigure[] {
  const figs: NamedFigure[] = [];
  const multi = d.runs.length > 1;
  figs.push({
    id: 'loss',
    spec: {
      kind: 'line',
      title: 'Training and validation loss',
      x: { label: 'step' },
      y: { label: 'MSE', scale: 'log' },
      series: d.runs.flatMap((r) => [
        { name: `training${multi ? ` H=${r.heads}` : ''}`, x: r.loss.step, y: r.loss.value },
        {
          name: `validation${multi ? ` H=${r.heads}` : ''}`,
          x: r.validation.step,
          y: r.validation.value,
          dashed: true,
        },
      ]),
    } as FigureSpec,
  });
  const main = d.runs.find((r) => r.heads === c.heads) ?? d.runs[0]!;
  const heads = main.statistics.filter((x) => x.layer === 0).length;
  for (const [id, key, label] of [
    ['dynamics-w', 'w', 'w^h (mean QK diagonal)'],
    ['dynamics-mu', 'mu', 'μ^h (OV last entry)'],
  ] as const) {
    figs.push({
      id,
      spec: {
        kind: 'line',
        title: `Circuit dynamics: ${label}, H=${main.heads}`,
        x: { label: 'step' },
        y: { label },
        series: main.dynamics[key][0]
          ? Array.from({ length: main.dynamics[key][0]!.length }, (_, l) =>
              Array.from({ length: heads }, (_, h) => ({
                name: `${c.layers > 1 ? `layer ${l} ` : ''}head ${h}`,
                x: main.dynamics.step,
                y: main.dynamics[key].map((v) => v[l]![h]!),
              })),
            ).flat()
          : [],
      } as FigureSpec,
    });
  }
  figs.push({
    id: 'qk-circuits',
    spec: {
      kind: 'heatmap-grid',
      title: `QK circuits W_Q W_Kᵀ/√(d+1), H=${main.heads}`,
      scale: 'diverging',
      colorbarLabel: 'QK',
      panels: main.statistics.map((x) => ({
        title: `${c.layers > 1 ? `L${x.layer} ` : ''}head ${x.head}: w=${x.w.toFixed(3)}`,
        values: x.qk,
      })),
    } as FigureSpec,
  });
  const labelOf = (x: IclCircuitStatistics) => `${c.layers > 1 ? `L${x.layer} ` : ''}head ${x.head}`;
  figs.push({
    id: 'ov-circuits',
    spec:
      c.nOut === 1
        ? // One column per head: OV^h is (d+1)×1, too narrow for a panel of its own.
          {
            kind: 'heatmap',
            title: `OV circuits W_V W_O (column h = head h; μ^h is row y), H=${main.heads}`,
            scale: 'diverging',
            colorbarLabel: 'OV',
            showValues: true,
            values: main.statistics[0]!.ov.map((_, i) => main.statistics.map((x) => x.ov[i]![0]!)),
            rowLabels: [...Array.from({ length: c.d }, (_, i) => `x${i + 1}`), 'y'],
            colLabels: main.statistics.map((x) => `${c.layers > 1 ? `L${x.layer}` : ''}h${x.head}`),
          }
        : {
            kind: 'heatmap-grid',
            title: `OV circuits W_V W_O, H=${main.heads}`,
            scale: 'diverging',
            colorbarLabel: 'OV',
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
        kind: 'heatmap-grid',
        title: 'QK matrices W_Q W_Kᵀ during training (layer 0)',
        scale: 'diverging',
        columns: picks.length,
        panels: Array.from({ length: heads }, (_, h) =>
          picks.map((i) => ({ title: `head ${h}, step ${snaps.step[i]}`, values: snaps.matrices[i]![0]![h]! })),
        ).flat(),
      } as FigureSpec,
    });
  }
  if (d.errorCurves) {
    figs.push({
      id: 'error-curves',
      spec: {
        kind: 'line',
        title: 'Error against context length',
        x: { label: 'context length L' },
        y: { label: 'MSE', scale: 'log' },
        series: [
          ...d.errorCurves.series.map((sr) => ({
            name: sr.name,
            x: d.errorCurves!.contextLengths,
            y: sr.mse,
            // ±1 standard error of the Monte Carlo mean over the evaluation tasks.
            lower: sr.mse.map((m, i) => m - sr.stderr[i]!),
            upper: sr.mse.map((m, i) => m + sr.stderr[i]!),
            dashed: sr.name.startsWith('kernel'),
          })),
          {
            name: 'Bayes-optimal risk (large-d limit)',
            x: d.errorCurves.contextLengths,
            y: d.errorCurves.contextLengths.map(
              (L) => bayesRiskLimit(taskModel(c, L)) + (c.queryNoise ? c.noiseVariance : 0),
            ),
            dashed: true,
          },
        ],
      } as FigureSpec,
    });
  }
  figs.push({
    id: 'statistics',
    spec: {
      kind: 'table',
      title: 'Circuit statistics (the theory for each H is in the next table)',
      columns: [
        'H',
        'layer',
        'head',
        'w^h',
        'var diag',
        'sup off-diag',
        'μ^h',
        'sup OV rest',
        '‖diag QK‖/‖QK‖',
        'var/mean² diag',
        'OV last-entry ratio',
        'dummy',
      ],
      rows: d.runs.flatMap((r) =>
        r.statistics.map((x) => {
          const a = circuitAlignment(x);
          return [
            r.heads,
            x.layer,
            x.head,
            round(x.w),
            round(x.diagVariance),
            round(x.offDiagSupNorm),
            round(x.mu),
            round(x.ovRestSupNorm),
            round(a.diagonalRatio),
            a.diagonalDispersion === null ? null : round(a.diagonalDispersion),
            round(a.ovLastEntryRatio),
            r.dummyHeads.some((h) => h.layer === x.layer && h.head === x.head),
          ];
        }),
      ),
    } as FigureSpec,
  });
  const theoryRuns = d.runs.map((r) => ({ r, rows: iclTheoryComparison(c, r) })).filter((x) => x.rows.length);
  if (theoryRuns.length) {
    figs.push({
      id: 'theory',
      spec: {
        kind: 'table',
        title: 'Trained model against the theory (He, Pan, Chen & Yang 2025)',
        description:
          'One head: the exact single-head optimum (Monte Carlo; the approximate loss puts it at 1/√d). Two or more: heads pair up with opposite signs, Σ μ^h → 0 and Σ w^h μ^h → the optimal step of debiased GD.',
        columns: ['H', 'quantity', 'trained', 'theory'],
        rows: theoryRuns.flatMap(({ r, rows }) =>
          rows.map((x) => [
            r.heads,
            x.quantity,
            typeof x.trained === 'number' ? round(x.trained) : x.trained,
            typeof x.theory === 'number' ? round(x.theory) : x.theory,
          ]),
        ),
      },
    });
  }
  if (multi) {
    figs.push({
      id: 'heads',
      spec: {
        kind: 'table',
        title: 'Head-count comparison',
        columns: ['H', 'steps', 'final validation MSE', 'w^h', 'μ^h', 'dummy heads'],
        rows: d.runs.map((r) => [
          r.heads,
          r.completedSteps,
          r.finalValidation ? round(r.finalValidation.mse) : null,
          r.statistics.map((x) => round(x.w)).join(', '),
          r.statistics.map((x) => round(x.mu)).join(', '),
          r.dummyHeads.map((h) => h.head).join(', ') || 'none',
        ]),
      } as FigureSpec,
    });
  }
  return figs;
}

const round = (x: number) => Number(x.toFixed(4));

// ---- the experiment ---------------------------------------------------------------------------

/**
 * Peak memory of an icl-regression run, estimated from its config: parameters with their gradients
 * and Adam state (exact, from the layout), the training step's activations (tokens, Q/K/V and the
 * attention scores per layer, kept for the backward pass) and the evaluation at the longest context; float32 throughout (the float64 engines hold the same numbers twice as wide).
 */
export function estimateIcl(c: IclConfig): ResourceEstimate {
  const heads = c.headCounts.length ? c.headCounts : [c.heads];
  const H = heads.reduce((a, b) => Math.max(a, b), 1);
  let parameters = 0;
  for (const h of heads)
    for (const p of iclParamLayout(modelConfig(c, h))) parameters += p.shape.reduce((a, b) => a * b, 1);
  const D = c.d + 1;
  // Training keeps every layer's tokens, Q/K/V and scores (with their gradients) for the backward pass;
  // evaluation runs forward only, a layer at a time, in chunks of 1000 tasks (errorCurve's default).
  // The query-only layer scores the query against the context (T numbers per head); the causal stack
  // scores every token against every earlier one (T²).
  const scores = (T: number) => (c.layers === 1 ? T : T * T);
  const T = c.L + 1;
  const train = c.layers * c.batch * (T * D * (2 + 6 * H) + 4 * H * scores(T));
  const evalL = c.evaluation.samples > 0 ? c.evaluation.maxL + 1 : 0;
  const evalB = Math.min(c.evaluation.samples, 1000);
  const evaluate = evalB * (evalL * D * (2 + 3 * H) + H * scores(evalL));
  const activations = Math.max(train, evaluate);
  const drivers = [
    { field: 'batch', value: c.batch },
    { field: 'L', value: c.L },
    { field: 'heads', value: H },
    { field: 'layers', value: c.layers },
    { field: 'd', value: c.d },
    ...(evaluate > train
      ? [
          { field: 'evaluation.maxL', value: c.evaluation.maxL },
          { field: 'evaluation.samples', value: c.evaluation.samples },
        ]
      : []),
  ];
  return { parameters, activations, bytes: 4 * (4 * parameters + activations), drivers };
}

/** Seed 004: one-layer multi-head softmax attention trained on in-context linear regression learns a kernel estimator. */
export const iclRegression: Experiment<IclConfig, IclData> = {
  id: 'icl-regression',
  title: 'In-context regression (seed 004)',
  summary:
    'Train multi-head softmax attention on in-context linear regression; circuits, dynamics, kernel estimator, error-vs-L curves, head-count comparison.',
  configSchema: iclConfigSchema,
  dataSchema: iclDataSchema,
  presets: { quick: quickPreset, seed: seedPreset, paper: paperPreset },
  estimate: estimateIcl,
  claims: iclClaims,
  async run(config, ctx = {}): Promise<ExperimentResult<IclConfig, IclData>> {
    const meta = startMeta();
    if (config.layers > 1 && config.nOut !== 1)
      throw new ConfigError(
        'config.nOut',
        '1 for a stack',
        config.nOut,
        'must be 1 when layers > 1 (the stack predicts through its final linear)',
      );
    if (config.layers > 1 && config.attention !== 'softmax')
      throw new ConfigError(
        'config.attention',
        "'softmax' for a stack",
        config.attention,
        "must be 'softmax' when layers > 1 (linear attention is built for the query-only layer)",
      );
    const headCounts = config.headCounts.length ? config.headCounts : [config.heads];
    if (config.init === 'oppo_small_id') {
      headCounts.forEach((h, i) => {
        if (h % 2 !== 0)
          throw new ConfigError(
            config.headCounts.length ? `config.headCounts[${i}]` : 'config.heads',
            'an even number with init oppo_small_id',
            h,
            'must be even with init oppo_small_id (two halves of opposite sign)',
          );
      });
    }
    const resume = await loadResume(config, ctx);
    const runs: IclRunData[] = [...resume.runs];
    const trained: { heads: number; params: TensorMap }[] = resume.finals.map(finalParamsTensors);
    let aborted = false;
    try {
      for (let i = resume.runIndex; i < headCounts.length; i++) {
        throwIfAborted(ctx.signal);
        ctx.onEvent?.({
          type: 'phase',
          phase: `train H=${headCounts[i]}`,
          message: `Training H = ${headCounts[i]} (${i + 1} of ${headCounts.length})`,
        });
        const r = await trainOne(
          config,
          headCounts[i]!,
          i,
          runs,
          ctx.checkpoints ? await finalParamsJson(trained) : [],
          i === resume.runIndex ? resume.checkpoint : null,
          ctx,
        );
        runs.push(r.run);
        trained.push({ heads: r.run.heads, params: r.params });
        if (r.aborted) {
          aborted = true;
          break;
        }
      }
      let errorCurves: ErrorCurve | null = null;
      if (!aborted && config.evaluation.samples > 0) {
        ctx.onEvent?.({ type: 'phase', phase: 'evaluate', message: 'Error against context length' });
        // Every run, with its weights when known (a checkpoint of an older version kept only its record:
        // its kernel estimator still joins the curves, the transformer itself cannot).
        const estimators = iclEstimators(
          config,
          config.L,
          runs.map((run) => {
            const params = trained.find((t) => t.heads === run.heads)?.params;
            return params ? { run, params } : { run };
          }),
        );
        const Ls = evaluatedLengths(config.evaluation);
        const { L: _L, ...family } = task(config);
        errorCurves = await errorCurve(estimators, family, Ls, {
          samples: config.evaluation.samples,
          seed: config.seed,
          onProgress: (done, total) => ctx.onEvent?.({ type: 'progress', phase: 'evaluate', done, total }),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
      }
      const data: IclData = { runs, errorCurves, hypothesisedW: 1 / Math.sqrt(config.d) };
      return {
        experiment: 'icl-regression',
        schemaVersion: RESULT_SCHEMA_VERSION,
        config,
        data,
        figures: figures(config, data),
        meta: meta.finish({ aborted, ...(resume.checkpoint ? { resumedFrom: resume.checkpoint.step } : {}) }),
      };
    } finally {
      for (const t of trained) tf.dispose(Object.values(t.params));
    }
  },
};

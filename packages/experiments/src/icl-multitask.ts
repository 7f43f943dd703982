/**
 * Multi-task in-context regression (He, Pan, Chen & Yang, ICML 2025; the authors'
 * `icl_linear_multitask` notebook): every prompt token carries k outputs y_i = (β_1ᵀx_i, …, β_kᵀx_i)
 * + noise from k independent β, the query token ends in k zeros, and one-layer multi-head softmax
 * attention with k outputs predicts all k at once. Each output is its own regression: the theory of
 * one task (debiased GD with the optimal step, paired heads of opposite signs) applies to each, and the
 * heads are shared between the tasks — each head's OV circuit has one entry per task (μ^h_j, the
 * y_j → output j entry), so one head can serve several tasks at once (superposition).
 *
 * The model is seed 004's query-only layer on tokens of width D = d + k (its layout is
 * `iclParamLayout` of width D, with nOut = k); the data is @attnlab/data's task family with dy = k.
 * It trains on the tfjs reference (the fast engines fit the last output only).
 */
import * as tf from '@tensorflow/tfjs-core';
import { iclAttention, iclInitialParams, type IclAttentionParams } from '@attnlab/attention';
import {
  BETA_SCALES,
  EVALUATION_STREAM,
  TRAIN_STREAM,
  VALIDATION_STREAM,
  iclBatchArrays,
  iclTokensArrays,
  type IclTaskConfig,
} from '@attnlab/data';
import { multiHeadTheory } from '@attnlab/estimators';
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
  type Optimizer,
  type ParamMap,
  yieldToEvents,
} from '@attnlab/train';
import {
  RESULT_SCHEMA_VERSION,
  loadCheckpoint,
  trainProgress,
  type Claim,
  type Experiment,
  type ExperimentResult,
  type NamedFigure,
  type RunContext,
} from './experiment.js';
import { iclConfigSchema } from './icl-regression.js';
import { startMeta, throwIfAborted } from './meta.js';
import { s, type Infer } from './schema.js';

const f = iclConfigSchema.fields;
export const iclMultitaskConfigSchema = s.object({
  tasks: s.int({ min: 1, max: 16, default: 2, description: 'tasks k: outputs per token, each from its own β' }),
  heads: s.int({ min: 1, max: 64, default: 4, description: 'attention heads H' }),
  d: f.d,
  L: f.L,
  optimizer: f.optimizer,
  batch: f.batch,
  steps: f.steps,
  log: s.object(
    {
      loss: s.int({ min: 1, max: 1e9, default: 100, description: 'record the training loss every N steps' }),
      validation: s.int({
        min: 1,
        max: 1e9,
        default: 1000,
        description: 'validation loss on a fresh batch every N steps',
      }),
    },
    { default: {} },
  ),
  noiseVariance: f.noiseVariance,
  queryNoise: f.queryNoise,
  betaScale: s.enum(BETA_SCALES, { default: 'unit', description: f.betaScale.description }),
  seed: f.seed,
  finalValidationSamples: s.int({
    min: 1,
    max: 1e7,
    default: 10000,
    description: 'fresh tasks for the final per-task validation MSE',
  }),
  checkpointEvery: f.checkpointEvery,
});
export type IclMultitaskConfig = Infer<typeof iclMultitaskConfigSchema>;

/** One head's circuit: w^h (mean QK diagonal over the x block, /√D) and μ^h_j = OV^h[y_j, j] per task. */
export interface MultitaskHead {
  head: number;
  w: number;
  mu: number[];
  /** The tasks this head serves: |w^h μ^h_j| ≥ 10% of the largest |w μ| over heads and tasks. */
  serves: number[];
}

export interface MultitaskTask {
  task: number;
  /** Final validation MSE of output j (against the noisy target with queryNoise). */
  mse: number;
  stderr: number;
  /** Σ_h μ^h_j (the theory: → 0) and Σ_h w^h μ^h_j (the theory: → debiased GD's optimal step). */
  muSum: number;
  step: number;
  /** Heads serving this task. */
  heads: number[];
}

export interface IclMultitaskData {
  engine: { name: string; reason: string };
  completedSteps: number;
  loss: { step: number[]; value: (number | null)[] };
  validation: { step: number[]; value: (number | null)[] };
  heads: MultitaskHead[];
  tasks: MultitaskTask[];
  /** Heads serving two or more tasks (superposition). */
  superposed: number[];
  /** One task's theory (every task is the same regression): debiased GD's optimal step and its risk. */
  theory: { step: number; risk: number; target: 'noisy' | 'noiseless' };
}

const series = s.object({ step: s.array(s.int()), value: s.array(s.nullable(s.number())) });
const iclMultitaskDataSchema = s.object({
  engine: s.object({ name: s.string(), reason: s.string() }),
  completedSteps: s.int(),
  loss: series,
  validation: series,
  heads: s.array(s.object({ head: s.int(), w: s.number(), mu: s.array(s.number()), serves: s.array(s.int()) })),
  tasks: s.array(
    s.object({
      task: s.int(),
      mse: s.number(),
      stderr: s.number(),
      muSum: s.number(),
      step: s.number(),
      heads: s.array(s.int()),
    }),
  ),
  superposed: s.array(s.int()),
  theory: s.object({ step: s.number(), risk: s.number(), target: s.enum(['noisy', 'noiseless'] as const) }),
});

const seedPreset: IclMultitaskConfig = {
  tasks: 2,
  heads: 4,
  d: 5,
  L: 40,
  optimizer: { method: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
  batch: 128,
  steps: 20000,
  log: { loss: 100, validation: 1000 },
  noiseVariance: 5e-4,
  queryNoise: false,
  betaScale: 'unit',
  seed: 0,
  finalValidationSamples: 10000,
  checkpointEvery: 1000,
};
const paperPreset: IclMultitaskConfig = {
  ...seedPreset,
  batch: 256,
  noiseVariance: 0.1,
  queryNoise: true,
  betaScale: 'inverse-d',
};
const quickPreset: IclMultitaskConfig = {
  ...paperPreset,
  d: 2,
  L: 10,
  batch: 64,
  steps: 3000,
  log: { loss: 20, validation: 200 },
  finalValidationSamples: 4000,
  checkpointEvery: 500,
};

/** The task family with k outputs in @attnlab/data's terms (its δ is σ/√d). */
function task(c: IclMultitaskConfig): IclTaskConfig {
  return {
    L: c.L,
    dx: c.d,
    dy: c.tasks,
    noiseStd: Math.sqrt(c.noiseVariance / c.d),
    betaScale: c.betaScale,
    queryNoise: c.queryNoise,
  };
}

interface Batch {
  Z: tf.Tensor3D;
  zq: tf.Tensor2D;
  yq: tf.Tensor2D;
}
function tokens(c: IclMultitaskConfig, stream: number, step: number, batch: number, offset = 0): Batch {
  const t = iclTokensArrays(iclBatchArrays(task(c), { seed: c.seed, stream, step, batch, offset }));
  const D = c.d + c.tasks;
  return {
    Z: tf.tensor3d(t.Z, [batch, c.L, D]),
    zq: tf.tensor2d(t.zq, [batch, D]),
    yq: tf.tensor2d(t.yq, [batch, c.tasks]),
  };
}

function makeOptimizer(c: IclMultitaskConfig): Optimizer {
  const o = c.optimizer;
  if (o.method === 'sgd') return sgd({ lr: o.lr, weightDecay: o.weightDecay });
  const cfg = { lr: o.lr, betas: [o.betas[0], o.betas[1]] as [number, number], eps: o.eps, weightDecay: o.weightDecay };
  return o.method === 'adam' ? adam(cfg) : adamw(cfg);
}

/** Per-head w^h and μ^h_j from the weights (host arrays, x·W orientation, [H][D][·] row-major). */
export function multitaskCircuits(
  wq: ArrayLike<number>,
  wk: ArrayLike<number>,
  wv: ArrayLike<number>,
  wo: ArrayLike<number>,
  H: number,
  d: number,
  k: number,
): { w: number; mu: number[] }[] {
  const D = d + k;
  const out: { w: number; mu: number[] }[] = [];
  for (let h = 0; h < H; h++) {
    const o = h * D * D;
    let diag = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < D; j++) diag += wq[o + i * D + j]! * wk[o + i * D + j]!;
    const mu: number[] = [];
    for (let t = 0; t < k; t++) {
      // OV^h = Wv^h Wo^h ([D, k]); μ^h_t is its (y_t row, output t) entry.
      let m = 0;
      for (let j = 0; j < D; j++) m += wv[o + (d + t) * D + j]! * wo[h * D * k + j * k + t]!;
      mu.push(m);
    }
    out.push({ w: diag / d / Math.sqrt(D), mu });
  }
  return out;
}

const round = (x: number) => Number(x.toFixed(4));

function figures(c: IclMultitaskConfig, d: IclMultitaskData): NamedFigure[] {
  const taskLabels = Array.from({ length: c.tasks }, (_, j) => `task ${j + 1}`);
  return [
    {
      id: 'loss',
      spec: {
        kind: 'line',
        title: `Training and validation loss (k = ${c.tasks} tasks, H = ${c.heads})`,
        x: { label: 'step' },
        y: { label: 'MSE (mean over the k outputs)', scale: 'log' },
        series: [
          { name: 'training', x: d.loss.step, y: d.loss.value },
          { name: 'validation', x: d.validation.step, y: d.validation.value, dashed: true },
        ],
      } as FigureSpec,
    },
    {
      id: 'head-task-circuits',
      spec: {
        kind: 'heatmap',
        title:
          'μ^h_j, the y_j → output j entry of OV^h: heads of opposite w pair up per task; a head with two or more non-zero entries serves several tasks (superposition)',
        scale: 'diverging',
        colorbarLabel: 'μ^h_j',
        showValues: true,
        values: d.heads.map((h) => h.mu),
        rowLabels: d.heads.map((h) => `head ${h.head} (w=${h.w.toFixed(3)})`),
        colLabels: taskLabels,
      } as FigureSpec,
    },
    {
      id: 'tasks',
      spec: {
        kind: 'table',
        title: "Each task against one task's theory (debiased GD with the optimal step)",
        columns: [
          'task',
          'heads serving it',
          'Σ_h μ^h_j',
          'Σ_h w^h μ^h_j',
          'theory step',
          `risk (${d.theory.target})`,
          'theory risk',
        ],
        rows: d.tasks.map((t) => [
          t.task + 1,
          t.heads.join(', ') || 'none',
          round(t.muSum),
          round(t.step),
          round(d.theory.step),
          `${round(t.mse)} ± ${round(t.stderr)}`,
          round(d.theory.risk),
        ]),
      } as FigureSpec,
    },
  ];
}

/** What a checkpoint must agree on: everything but the run's length, its final evaluation and checkpointing. */
function configKey(c: IclMultitaskConfig): string {
  return JSON.stringify({ ...c, steps: undefined, finalValidationSamples: undefined, checkpointEvery: undefined });
}

/** The checkpoint to resume from, or null; one of another experiment or config is a ConfigError on `checkpoint`. */
function loadResume(c: IclMultitaskConfig, ctx: RunContext): Promise<Checkpoint | null> {
  return loadCheckpoint(ctx, 'icl-multitask', configKey(c), 'steps, finalValidationSamples and checkpointEvery');
}

/** One task's theory (every task is the same regression): paired heads, debiased GD's optimal step and its risk. */
function multitaskTheory(c: IclMultitaskConfig): IclMultitaskData['theory'] {
  const th = multiHeadTheory(
    { d: c.d, L: c.L, betaVar: c.betaScale === 'unit' ? 1 : 1 / c.d, noiseVar: c.noiseVariance },
    2,
  );
  return {
    step: th.kind === 'paired' ? th.step : NaN,
    risk: c.queryNoise ? th.noisyRisk : th.risk,
    target: c.queryNoise ? 'noisy' : 'noiseless',
  };
}

/**
 * The paper's multi-task claims a run of this config tests, per task: its risk is one task's debiased
 * GD risk, its heads' Σ_h μ^h_j → 0 and Σ_h w^h μ^h_j → debiased GD's optimal step; and heads are
 * shared between tasks (superposition).
 */
export function iclMultitaskClaims(c: IclMultitaskConfig): Claim[] {
  const t = multitaskTheory(c);
  const out: Claim[] = [];
  for (let j = 1; j <= c.tasks; j++)
    out.push(
      {
        id: 'task-risk',
        claim: "each task is solved as one task is: its risk is one task's debiased GD risk at the optimal step",
        metric: `task ${j}: validation MSE`,
        theory: t.risk,
        theoryNote: `debiasedGdRisk at the optimal step (${t.target} target)`,
      },
      {
        id: 'task-mu-sum',
        claim: 'per task, the heads serving it pair with opposite signs: Σ_h μ^h_j → 0',
        metric: `task ${j}: Σ μ^h`,
        theory: 0,
        theoryNote: 'multiHeadTheory: paired heads',
      },
      {
        id: 'task-gd-step',
        claim: "per task, Σ_h w^h μ^h_j → debiased GD's optimal step",
        metric: `task ${j}: Σ w^h μ^h`,
        theory: t.step,
        theoryNote: 'debiasedGdOptimalStep',
      },
    );
  if (c.tasks >= 2)
    out.push({
      id: 'superposition',
      claim: `the heads are shared: with H = ${c.heads} heads for k = ${c.tasks} tasks, some heads serve two or more tasks (superposition)`,
      metric: 'superposed heads',
      theory: null,
      theoryNote: 'at least one head serving several tasks',
    });
  return out;
}

/** Multi-task in-context regression: k outputs from k independent β, one model, heads shared. */
export const iclMultitask: Experiment<IclMultitaskConfig, IclMultitaskData> = {
  id: 'icl-multitask',
  title: 'Multi-task in-context regression (He et al. 2025)',
  summary:
    'Train one-layer multi-head softmax attention to predict k outputs from k independent regressions at once; which heads serve which task (superposition) and each task against debiased GD.',
  configSchema: iclMultitaskConfigSchema,
  dataSchema: iclMultitaskDataSchema,
  presets: { quick: quickPreset, seed: seedPreset, paper: paperPreset },
  claims: iclMultitaskClaims,
  async run(config, ctx = {}): Promise<ExperimentResult<IclMultitaskConfig, IclMultitaskData>> {
    const meta = startMeta();
    const c = config;
    const k = c.tasks;
    const D = c.d + k;
    // The layout of the query-only layer on tokens of width D: iclParamLayout's, with d + k − 1 for its d.
    const init = iclInitialParams({ d: D - 1, numHeads: c.heads, layers: 1, nOut: k, seed: c.seed });
    const params: ParamMap = {};
    for (const [name, h] of Object.entries(init)) params[name] = tf.variable(tf.tensor(h.values, h.shape), true);
    const optimizer = makeOptimizer(c);
    const st = (p: Record<string, tf.Tensor>): IclAttentionParams => ({
      Wq: p.Wq as tf.Tensor3D,
      Wk: p.Wk as tf.Tensor3D,
      Wv: p.Wv as tf.Tensor3D,
      Wo: p.Wo as tf.Tensor3D,
    });
    const reason = 'the fast engines fit the last output only; k outputs train on the tfjs reference';
    const engine = autodiffEngine<Batch>({
      params,
      optimizer,
      data: { batch: (t) => tokens(c, TRAIN_STREAM, t, c.batch) },
      loss: (p, b) => meanSquaredError(iclAttention(st(p), b.Z, b.zq).output, b.yq),
      name: `reference: tfjs autodiff (${tf.getBackend()})`,
    });
    const phase = `train k=${k} H=${c.heads}`;
    try {
      const resume = await loadResume(c, ctx);
      ctx.onEvent?.({ type: 'phase', phase, message: `Training on ${engine.name}: ${reason}` });
      const result = await train({
        engine,
        steps: c.steps,
        ...(resume ? { resume } : {}),
        schedule: {
          lossEvery: c.log.loss,
          validationEvery: c.log.validation,
          progressEvery: Math.max(1, Math.min(1000, Math.floor(c.steps / 50))),
          checkpointEvery: c.checkpointEvery,
        },
        ...(ctx.checkpoints
          ? {
              checkpoint: {
                meta: { experiment: 'icl-multitask', configKey: configKey(c) },
                write: async (input) => {
                  await ctx.checkpoints!.save(await serializeCheckpoint(input));
                  ctx.onEvent?.({ type: 'checkpoint', phase, step: input.step });
                },
              },
            }
          : {}),
        validation: async (p, t) => {
          const b = tokens(c, VALIDATION_STREAM, t, c.batch);
          const l = tf.tidy(() => meanSquaredError(iclAttention(st(p), b.Z, b.zq).output, b.yq));
          tf.dispose([b.Z, b.zq, b.yq]);
          return l;
        },
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        onEvent: (e) => {
          if (e.type === 'progress') ctx.onEvent?.(trainProgress(e, phase));
        },
      });
      // Per-task validation MSE on fresh evaluation tasks.
      const sums = new Float64Array(k);
      const sums2 = new Float64Array(k);
      const n = c.finalValidationSamples;
      if (!result.aborted) {
        for (let start = 0; start < n; start += 1000) {
          await yieldToEvents();
          throwIfAborted(ctx.signal);
          const m = Math.min(1000, n - start);
          const b = tokens(c, EVALUATION_STREAM, 0, m, start);
          const sq = tf.tidy(() => tf.square(tf.sub(iclAttention(st(params), b.Z, b.zq).output, b.yq)));
          const v = await sq.data();
          tf.dispose([sq, b.Z, b.zq, b.yq]);
          for (let i = 0; i < v.length; i++) {
            sums[i % k] = sums[i % k]! + v[i]!;
            sums2[i % k] = sums2[i % k]! + v[i]! * v[i]!;
          }
        }
      }
      const host = async (name: string) => (params[name] as tf.Variable).data();
      const circuits = multitaskCircuits(
        await host('Wq'),
        await host('Wk'),
        await host('Wv'),
        await host('Wo'),
        c.heads,
        c.d,
        k,
      );
      const contrib = circuits.map((h) => h.mu.map((m) => Math.abs(h.w * m)));
      const top = Math.max(1e-12, ...contrib.flat());
      const heads: MultitaskHead[] = circuits.map((h, i) => ({
        head: i,
        w: h.w,
        mu: h.mu,
        serves: contrib[i]!.flatMap((x, j) => (x >= 0.1 * top ? [j] : [])),
      }));
      const tasks: MultitaskTask[] = Array.from({ length: k }, (_, j) => {
        const mse = result.aborted ? NaN : sums[j]! / n;
        return {
          task: j,
          mse,
          stderr: Math.sqrt(Math.max(0, sums2[j]! / n - mse * mse) / Math.max(1, n - 1)),
          muSum: circuits.reduce((a, h) => a + h.mu[j]!, 0),
          step: circuits.reduce((a, h) => a + h.w * h.mu[j]!, 0),
          heads: heads.filter((h) => h.serves.includes(j)).map((h) => h.head),
        };
      });
      const data: IclMultitaskData = {
        engine: { name: engine.name, reason },
        completedSteps: result.completed,
        loss: { step: result.history.loss.step, value: result.history.loss.value },
        validation: { step: result.history.validation.step, value: result.history.validation.value },
        heads,
        tasks,
        superposed: heads.filter((h) => h.serves.length >= 2).map((h) => h.head),
        theory: multitaskTheory(c),
      };
      return {
        experiment: 'icl-multitask',
        schemaVersion: RESULT_SCHEMA_VERSION,
        config,
        data,
        figures: figures(c, data),
        meta: meta.finish({ aborted: result.aborted, ...(resume ? { resumedFrom: resume.step } : {}) }),
      };
    } finally {
      tf.dispose(Object.values(params));
      optimizer.dispose();
    }
  },
};

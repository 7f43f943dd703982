import * as tf from '@tensorflow/tfjs-core';
import { initMultiHeadAttention, multiHeadAttention, type MultiHeadAttentionParams } from '@attnlab/attention';
import { Rng, tokenPatternArrays } from '@attnlab/data';
import { CV_BAND, inCvBand, simplexVolumeCVs } from '@attnlab/metrics';
import type { FigureSpec } from '@attnlab/plot';
import { adam, autodiffEngine, train, yieldToEvents, type Engine, type ParamMap } from '@attnlab/train';
import { CV_PARAM_NAMES, cvClassifierEngine, jsGemm, tfjsGemm, type CvBatch, type CvParamName } from './cv-engine.js';
import {
  RESULT_SCHEMA_VERSION,
  type Experiment,
  type ExperimentResult,
  type NamedFigure,
  type RunContext,
} from './experiment.js';
import { startMeta } from './meta.js';
import { ConfigError, s } from './schema.js';

/** Seed 003's sweep: widths × head counts, the token-pattern data, Adam and the CV probe settings. */
export interface CvSweepConfig {
  /** Seed 003's `make_data`: nClasses base patterns of seqLen tokens, each position re-drawn with probability perturbProb. */
  data: { nClasses: number; samplesPerClass: number; seqLen: number; vocab: number; perturbProb: number };
  /** Model widths D (seed: 64, 128, 256). */
  widths: number[];
  /** Head counts per width (seed: 1, 2, 4, 8); every width must be divisible by every head count. */
  heads: number[];
  /** Epochs (seed: 50). */
  epochs: number;
  /** Samples per Adam step; 0 = the whole data set (the seed: one full-batch step per epoch). */
  batchSize: number;
  /** Adam learning rate (betas 0.9, 0.999, eps 1e-8, no weight decay, as torch.optim.Adam's defaults). */
  lr: number;
  /** Simplex-volume CV: simplices per measurement (seed 300), rows sampled from (seed 512). */
  cv: { samples: number; pool: number };
  /** Seed of the data (the seed script's `torch.manual_seed(42)`), of the initialisation and of the CV subsets. */
  seed: number;
  /** What trains: `auto` and `fused` the fused float64 step (cv-engine.ts), `reference` tfjs autodiff. */
  trainer: CvTrainerKind;
}

/** cv-sweep's trainers: `auto` (the fused step, which runs every config), `fused`, or the tfjs `reference`. */
export type CvTrainerKind = 'auto' | 'fused' | 'reference';
const CV_TRAINERS: readonly CvTrainerKind[] = ['auto', 'fused', 'reference'];

/** CV of every measured matrix by seed 003's names (`emb`, `Q_full`, `Q_h0`, `act_post_full`, …); null = N/A. */
export type CvTable = Record<string, number | null>;

/** One measurement of every CV: after `epoch` epochs (0 = before training). */
export interface CvMeasurement {
  epoch: number;
  /** Accuracy and loss on the whole training set at that point (one evaluation forward, which also gives the activations). */
  accuracy: number;
  loss: number;
  cv: CvTable;
}

/** One configuration of the sweep. */
export interface CvSweepRun {
  width: number;
  heads: number;
  headDim: number;
  /** What ran the training steps (the engine's name); absent in results written before it was recorded. */
  engine?: string;
  /** Epochs completed (less than `config.epochs` when the run was aborted). */
  completedEpochs: number;
  /**
   * Per epoch e = 1…: mean training loss of its steps and the fraction of its samples classified
   * correctly, both from the training forward passes (before each update, as the seed prints its
   * loss). With full-batch steps that accuracy is the accuracy after e − 1 epochs; the seed evaluates
   * only midway and at the end, and so does this experiment (`mid`, `post`).
   */
  history: { epoch: number[]; loss: number[]; accuracy: number[] };
  pre: CvMeasurement;
  /** After ⌊epochs/2⌋ epochs (null when that is 0 or was not reached). */
  mid: CvMeasurement | null;
  /** After the last epoch (null when aborted). */
  post: CvMeasurement | null;
  /** Wall time of this configuration (training and measurements), seconds. */
  seconds: number;
}

export interface CvSweepData {
  runs: CvSweepRun[];
  /** Seed 003's band: CV strictly between low and high is flagged. */
  band: { low: number; high: number };
  /**
   * Closed-form CV of 4-simplex volumes for i.i.d. Gaussian rows of each width (volume ∝ χ_D χ_{D−1} χ_{D−2} χ_{D−3}),
   * what the untrained embedding (N(0, 1)) should show.
   */
  gaussianCv: { width: number; cv: number }[];
}

// ---- config ---------------------------------------------------------------------------------

const pos = (def: number, description: string, max = 1 << 20) => s.int({ min: 1, max, default: def, description });

export const cvSweepConfigSchema = s.object({
  data: s.object(
    {
      nClasses: s.int({ min: 2, max: 4096, default: 10, description: 'classes (one base token pattern each)' }),
      samplesPerClass: pos(50, 'samples per class', 1 << 16),
      seqLen: pos(8, 'tokens per sample', 4096),
      vocab: s.int({ min: 5, max: 1 << 20, default: 256, description: 'vocabulary size (rows of the embedding)' }),
      perturbProb: s.number({
        min: 0,
        max: 1,
        default: 0.25,
        description: 'probability that a position is replaced by a random token',
      }),
    },
    { default: {} },
  ),
  widths: s.array(s.int({ min: 1, max: 4096 }), {
    minItems: 1,
    maxItems: 16,
    default: [64, 128, 256],
    description: 'model widths D',
  }),
  heads: s.array(s.int({ min: 1, max: 256 }), {
    minItems: 1,
    maxItems: 16,
    default: [1, 2, 4, 8],
    description: 'head counts (each width must be divisible by each)',
  }),
  epochs: pos(50, 'epochs', 1e6),
  batchSize: s.int({
    min: 0,
    max: 1 << 20,
    default: 0,
    description: 'samples per Adam step (0 = the whole data set, as the seed)',
  }),
  lr: s.number({ min: 0, exclusiveMin: true, default: 1e-3, description: 'Adam learning rate' }),
  cv: s.object(
    {
      samples: s.int({ min: 10, max: 1e6, default: 300, description: 'random 4-simplices per CV' }),
      pool: s.int({ min: 5, max: 1 << 20, default: 512, description: 'CV samples rows among the first `pool` rows' }),
    },
    { default: {} },
  ),
  seed: s.int({
    min: 0,
    max: 2 ** 32 - 1,
    default: 42,
    description: 'seed of the data, the initialisation and the CV subsets',
  }),
  trainer: s.enum(CV_TRAINERS, {
    default: 'auto',
    description: 'what trains: auto or fused (the fused float64 step), reference (tfjs autodiff)',
  }),
});

const cvTableSchema = s.record(s.nullable(s.number()));
const measurementSchema = s.object({
  epoch: s.int({ min: 0 }),
  accuracy: s.number(),
  loss: s.number(),
  cv: cvTableSchema,
});
export const cvSweepDataSchema = s.object({
  runs: s.array(
    s.object({
      width: s.int({ min: 1 }),
      heads: s.int({ min: 1 }),
      headDim: s.int({ min: 1 }),
      engine: s.string({ optional: true }),
      completedEpochs: s.int({ min: 0 }),
      history: s.object({
        epoch: s.array(s.int()),
        loss: s.array(s.number()),
        accuracy: s.array(s.number({ min: 0, max: 1 })),
      }),
      pre: measurementSchema,
      mid: s.nullable(measurementSchema),
      post: s.nullable(measurementSchema),
      seconds: s.number({ min: 0 }),
    }),
  ),
  band: s.object({ low: s.number(), high: s.number() }),
  gaussianCv: s.array(s.object({ width: s.int(), cv: s.number() })),
});

const seedPreset: CvSweepConfig = {
  data: { nClasses: 10, samplesPerClass: 50, seqLen: 8, vocab: 256, perturbProb: 0.25 },
  widths: [64, 128, 256],
  heads: [1, 2, 4, 8],
  epochs: 50,
  batchSize: 0,
  lr: 1e-3,
  cv: { samples: 300, pool: 512 },
  seed: 42,
  trainer: 'auto',
};
/** Two widths × two head counts, 120 samples, 5 epochs at a 10× learning rate, 200 simplices per CV: ≈ 10–40 s on a 2-core CPU. */
const quickPreset: CvSweepConfig = {
  ...seedPreset,
  data: { ...seedPreset.data, samplesPerClass: 12 },
  widths: [32, 64],
  heads: [2, 4],
  epochs: 5,
  lr: 1e-2,
  cv: { samples: 200, pool: 512 },
};

// ---- closed form ------------------------------------------------------------------------------

/**
 * CV of 4-simplex volumes of i.i.d. Gaussian points in D dimensions: the volume is a constant times
 * χ_D χ_{D−1} χ_{D−2} χ_{D−3} (independent), so CV² = Π E[χ_n²]/E[χ_n]² − 1 with E[χ_n²] = n and
 * E[χ_n] = √2·a(n), a(n) = Γ((n+1)/2)/Γ(n/2), from a(1) = 1/√π, a(2) = √π/2 and a(n)·a(n+1) = n/2.
 * @example
 * gaussianSimplexCv(64); // 0.18035…
 */
export function gaussianSimplexCv(width: number, points = 5): number {
  if (!Number.isInteger(points) || points < 2)
    throw new RangeError(`gaussianSimplexCv: points must be an integer ≥ 2; got ${String(points)}`);
  const k = points - 1;
  if (!Number.isInteger(width) || width < k)
    throw new RangeError(`gaussianSimplexCv: width must be an integer ≥ points − 1 = ${k}; got ${String(width)}`);
  const a: number[] = [NaN, 1 / Math.sqrt(Math.PI), Math.sqrt(Math.PI) / 2];
  for (let n = 2; n < width; n++) a[n + 1] = n / (2 * a[n]!);
  let prod = 1;
  for (let i = 0; i < k; i++) {
    const n = width - i;
    prod *= n / (2 * a[n]! ** 2);
  }
  return Math.sqrt(prod - 1);
}

// ---- the model --------------------------------------------------------------------------------

/** Trainable parameters of one configuration (all tf.Variables). */
interface Model {
  width: number;
  heads: number;
  vars: ParamMap;
  mha: MultiHeadAttentionParams;
}

function variable(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

/**
 * Seed 003's MHAClassifier with PyTorch's initialisation: embedding N(0, 1), positions N(0, 0.02²),
 * nn.MultiheadAttention (Xavier-uniform stacked in-projection, out-projection U(±1/√D), zero biases),
 * LayerNorm gain 1 / bias 0, classifier weight and bias U(±1/√D).
 */
function initModel(c: CvSweepConfig, width: number, heads: number): Model {
  const { vocab, seqLen, nClasses } = c.data;
  const normal = (n: number, stream: number, std: number) =>
    Float32Array.from(new Rng(c.seed, stream).normal(n, 0, std));
  const uniform = (n: number, stream: number, bound: number) =>
    Float32Array.from(new Rng(c.seed, stream).uniform(n, -bound, bound));
  const init = initMultiHeadAttention({ embedDim: width, numHeads: heads }, c.seed);
  const vars: ParamMap = {
    emb: variable(tf.tensor2d(normal(vocab * width, 1, 1), [vocab, width])),
    pos: variable(tf.tensor3d(normal(seqLen * width, 2, 0.02), [1, seqLen, width])),
    wQ: variable(init.wQ),
    wK: variable(init.wK),
    wV: variable(init.wV),
    wO: variable(init.wO),
    bQ: variable(init.bQ!),
    bK: variable(init.bK!),
    bV: variable(init.bV!),
    bO: variable(init.bO!),
    lnGain: variable(tf.ones([width])),
    lnBias: variable(tf.zeros([width])),
    // y = x W + b layout: W is [D, C], the transpose of nn.Linear.weight.
    wC: variable(tf.tensor2d(uniform(width * nClasses, 3, 1 / Math.sqrt(width)), [width, nClasses])),
    bC: variable(tf.tensor1d(uniform(nClasses, 4, 1 / Math.sqrt(width)))),
  };
  const v = vars as Record<string, tf.Variable>;
  const mha: MultiHeadAttentionParams = {
    kind: 'mha',
    config: init.config,
    wQ: v.wQ as tf.Tensor2D,
    wK: v.wK as tf.Tensor2D,
    wV: v.wV as tf.Tensor2D,
    wO: v.wO as tf.Tensor2D,
    bQ: v.bQ as tf.Tensor1D,
    bK: v.bK as tf.Tensor1D,
    bV: v.bV as tf.Tensor1D,
    bO: v.bO as tf.Tensor1D,
  };
  return { width, heads, vars, mha };
}

/** Token ids `[B, S]` (int32). */
interface Tokens {
  ids: tf.Tensor2D;
}

function makeTokens(x: Int32Array, n: number, seqLen: number): Tokens {
  return { ids: tf.tensor2d(x.subarray(0, n * seqLen), [n, seqLen], 'int32') };
}

/**
 * Embedding lookup `emb[ids]` with its gradient as a scatter-add (tf.scatterND sums duplicate
 * indices). tf.gather's own gradient goes through UnsortedSegmentSum, which is very slow on the
 * cpu backend (≈17 s for 4000 lookups into 256 × 32) and missing from tfjs-backend-wasm 4.22.
 */
const lookup = tf.customGrad((...inputs) => {
  const [emb, ids] = inputs as [tf.Tensor, tf.Tensor];
  return {
    value: tf.gather(emb, ids),
    gradFunc: (dy: tf.Tensor) => [tf.scatterND(tf.reshape(ids, [-1, 1]), dy, emb.shape), tf.zerosLike(ids)],
  };
}) as (emb: tf.Tensor, ids: tf.Tensor) => tf.Tensor;

/** h = emb[x] + pos, `[B, S, D]`. */
function embed(m: Model, t: Tokens): tf.Tensor3D {
  const [b, sLen] = t.ids.shape;
  const rows = lookup(m.vars.emb!, tf.reshape(t.ids, [-1]));
  return tf.add(tf.reshape(rows, [b, sLen, m.width]), m.vars.pos!) as tf.Tensor3D;
}

/** nn.LayerNorm over the last axis: biased variance, eps 1e-5, learnable gain and bias. */
function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gain), bias);
}

/** The model's hidden states: h (embedding + positions) and norm(h + attention(h)). */
function hidden(m: Model, t: Tokens): { h: tf.Tensor3D; post: tf.Tensor3D } {
  const h = embed(m, t);
  const attn = multiHeadAttention(m.mha, h, h, h).output;
  return { h, post: layerNorm(tf.add(h, attn), m.vars.lnGain!, m.vars.lnBias!) as tf.Tensor3D };
}

/** The classifier on the sequence mean of the hidden states: logits `[B, C]`. */
function classify(m: Model, post: tf.Tensor3D): tf.Tensor2D {
  return tf.add(tf.matMul(tf.mean(post, 1), m.vars.wC!), m.vars.bC!) as tf.Tensor2D;
}

function logits(m: Model, t: Tokens): tf.Tensor2D {
  return classify(m, hidden(m, t).post);
}

/**
 * nn.CrossEntropyLoss (mean over samples): mean(logsumexp(z) − z[y]). Same numbers as
 * @attnlab/train's crossEntropy, but without tf.logSoftmax: that op is a custom-gradient op that
 * saves its output, which tfjs's kernel leak check (on under jest, IS_TEST) reports as a leak on
 * the wasm backend. oneHot in int32, then cast (wasm 4.22's float32 oneHot writes int32 data).
 */
function softmaxCrossEntropy(z: tf.Tensor2D, y: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(tf.cast(tf.oneHot(y, z.shape[1]), 'float32'), z), 1);
    return tf.mean(tf.sub(tf.logSumExp(z, 1), picked)) as tf.Scalar;
  });
}

/** Correctly classified samples of a batch (a float32 scalar), for the accuracy of a training forward. */
function correctCount(z: tf.Tensor2D, y: tf.Tensor1D): tf.Scalar {
  return tf.sum(tf.cast(tf.equal(tf.argMax(z, 1), y), 'float32')) as tf.Scalar;
}

/**
 * Internal: seed 003's model on tfjs, the reference that the fused step (cv-engine.ts) is tested
 * against. Not part of the package's API.
 */
export const cvReferenceModel = {
  init: initModel,
  tokens: makeTokens,
  loss: (m: Model, t: Tokens, y: tf.Tensor1D): tf.Scalar => softmaxCrossEntropy(logits(m, t), y),
  hidden,
};

// ---- CV measurement ---------------------------------------------------------------------------

/**
 * Seed 003's evaluation and `measure_all_cv` from one forward pass over the whole data set: loss and
 * accuracy from its logits, and the activation CVs from its hidden states. Weights in PyTorch's
 * orientation (rows = output units: the embedding's tokens, in_proj Q/K/V rows and their per-head
 * blocks, out_proj rows, classifier rows); activations on the data (rows = tokens: per-head Q/K/V,
 * per-head and full norm(h + attn), and h). Only the first `pool` rows can be drawn, so the
 * activations are those of the first ⌈pool/seqLen⌉ samples (all that the seed's cv_metric can see).
 * Every CV of the measurement comes from one simplexVolumeCVs call (one read, per-head blocks as
 * stacks); seed 003's cv_metric gives None below 5 rows, and so null here.
 */
/** A forward pass over the whole data set: loss, accuracy, and the weights and activations the CV table reads. */
interface Evaluation {
  loss: number;
  accuracy: number;
  w: CvWeights;
  a: CvActivations;
}

/** Rows of activations the CV can draw: those of the first ⌈pool/seqLen⌉ samples. */
function activationRows(c: CvSweepConfig, n: number): number {
  return Math.min(n, Math.ceil(c.cv.pool / c.data.seqLen)) * c.data.seqLen;
}

/** The tfjs model's evaluation (one forward on its variables). The caller disposes `a`. */
async function evaluateReference(m: Model, c: CvSweepConfig, all: Tokens, y: tf.Tensor1D): Promise<Evaluation> {
  const D = m.width;
  const rows = activationRows(c, all.ids.shape[0]);
  const { scores, acts } = tf.tidy(() => {
    const v = m.vars;
    const { h, post } = hidden(m, all);
    const z = classify(m, post);
    const scores = tf.stack([softmaxCrossEntropy(z, y), tf.div(correctCount(z, y), y.shape[0])]);
    const flat = (x: tf.Tensor) => tf.slice(tf.reshape(x, [-1, D]), [0, 0], [rows, D]) as tf.Tensor2D;
    const hFlat = flat(h);
    return {
      scores,
      acts: {
        h: hFlat,
        post: flat(post),
        q: tf.add(tf.matMul(hFlat, v.wQ!), v.bQ!) as tf.Tensor2D,
        k: tf.add(tf.matMul(hFlat, v.wK!), v.bK!) as tf.Tensor2D,
        v: tf.add(tf.matMul(hFlat, v.wV!), v.bV!) as tf.Tensor2D,
      },
    };
  });
  try {
    const [loss, accuracy] = await scores.data();
    const v = m.vars;
    return {
      loss: loss!,
      accuracy: accuracy!,
      w: { emb: v.emb!, wQ: v.wQ!, wK: v.wK!, wV: v.wV!, wO: v.wO!, wC: v.wC! },
      a: acts,
    };
  } finally {
    scores.dispose();
  }
}

/** The weights seed 003 measures, in y = x·W layout (W `[in, out]`); and the activations, `[rows, width]`. */
interface CvWeights {
  emb: tf.Tensor;
  wQ: tf.Tensor;
  wK: tf.Tensor;
  wV: tf.Tensor;
  wO: tf.Tensor;
  wC: tf.Tensor;
}
interface CvActivations {
  h: tf.Tensor;
  q: tf.Tensor;
  k: tf.Tensor;
  v: tf.Tensor;
  post: tf.Tensor;
}

/**
 * Seed 003's `measure_all_cv` on given weights and activations: weights in PyTorch's orientation
 * (rows = output units: the embedding's tokens, in_proj Q/K/V rows and their per-head blocks,
 * out_proj rows, classifier rows), activations with rows = tokens (per-head Q/K/V, per-head and full
 * norm(h + attn), and h). Every CV comes from one simplexVolumeCVs call (one read, per-head blocks as
 * stacks); seed 003's cv_metric gives None below 5 rows, and so null here.
 */
async function cvTable(w: CvWeights, a: CvActivations, H: number, c: CvSweepConfig): Promise<CvTable> {
  const D = w.wQ.shape[0]!;
  const hd = D / H;
  const rows = a.h.shape[0]!;
  const perHead = (prefix: string) => Array.from({ length: H }, (_, i) => `${prefix}_h${i}`);
  const entries = tf.tidy(() => {
    // [names, tensor [V, D] (one name) or stack [H, V, D] (one name per head)].
    const e: [string[], tf.Tensor][] = [];
    const qkv = { Q: tf.transpose(w.wQ), K: tf.transpose(w.wK), V: tf.transpose(w.wV) };
    e.push([['emb'], tf.clone(w.emb)]);
    for (const [name, t] of Object.entries(qkv)) e.push([[`${name}_full`], t]);
    for (const [name, t] of Object.entries(qkv)) e.push([perHead(name), tf.reshape(t, [H, hd, D])]);
    e.push([['out_proj'], tf.transpose(w.wO)]);
    e.push([['cls_head'], tf.transpose(w.wC)]);
    const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [rows, H, hd]), [1, 0, 2]);
    for (const [name, t] of [
      ['Q', a.q],
      ['K', a.k],
      ['V', a.v],
      ['post', a.post],
    ] as const)
      e.push([perHead(`act_${name}`), heads(t)]);
    e.push([['act_emb'], tf.clone(a.h)]);
    e.push([['act_post_full'], tf.clone(a.post)]);
    return e;
  });
  try {
    const measured = entries.filter(([, t]) => t.shape[t.rank - 2]! >= 5);
    const results = await simplexVolumeCVs(
      measured.map(([, t]) => t),
      { samples: c.cv.samples, points: 5, pool: c.cv.pool, seed: c.seed },
    );
    const byName = new Map<string, number | null>();
    measured.forEach(([names], i) => names.forEach((name, j) => byName.set(name, results[i]![j]!.cv)));
    // Seed 003's order: emb, Q/K/V_full, per-head Q/K/V, out_proj, cls_head, then activations per head, act_emb, act_post_full.
    const order = [
      'emb',
      'Q_full',
      'K_full',
      'V_full',
      ...Array.from({ length: H }, (_, i) => [`Q_h${i}`, `K_h${i}`, `V_h${i}`]).flat(),
      'out_proj',
      'cls_head',
      ...Array.from({ length: H }, (_, i) => [`act_Q_h${i}`, `act_K_h${i}`, `act_V_h${i}`, `act_post_h${i}`]).flat(),
      'act_emb',
      'act_post_full',
    ];
    const cv: CvTable = {};
    for (const name of order) cv[name] = byName.get(name) ?? null;
    return cv;
  } finally {
    tf.dispose(entries.map(([, t]) => t));
  }
}

// ---- one configuration ------------------------------------------------------------------------

interface Dataset {
  all: Tokens;
  y: tf.Tensor1D;
  batches: { t: Tokens; y: tf.Tensor1D }[];
  /** The same data on the host, for the fused engine: every sample, and each step's batch. */
  host: { all: CvBatch; batches: CvBatch[] };
}

function makeDataset(c: CvSweepConfig): Dataset {
  const { nClasses, samplesPerClass, seqLen, vocab, perturbProb } = c.data;
  const arrays = tokenPatternArrays({ nClasses, samplesPerClass, seqLen, vocab, perturbProb, seed: c.seed });
  const n = arrays.n;
  const all = makeTokens(arrays.x, n, seqLen);
  const y = tf.tensor1d(arrays.y, 'int32');
  const bs = c.batchSize === 0 ? n : Math.min(c.batchSize, n);
  const hostAll: CvBatch = { ids: Int32Array.from(arrays.x), labels: Int32Array.from(arrays.y) };
  const batches: Dataset['batches'] = [];
  const hostBatches: CvBatch[] = [];
  if (bs === n) {
    batches.push({ t: all, y });
    hostBatches.push(hostAll);
  } else {
    for (let start = 0; start < n; start += bs) {
      const len = Math.min(bs, n - start);
      batches.push({
        t: makeTokens(arrays.x.subarray(start * seqLen), len, seqLen),
        y: tf.tensor1d(arrays.y.subarray(start, start + len), 'int32'),
      });
      hostBatches.push({
        ids: hostAll.ids.subarray(start * seqLen, (start + len) * seqLen),
        labels: hostAll.labels.subarray(start, start + len),
      });
    }
  }
  return { all, y, batches, host: { all: hostAll, batches: hostBatches } };
}

function disposeDataset(d: Dataset): void {
  const ts: tf.Tensor[] = [d.all.ids, d.y];
  for (const b of d.batches) if (b.t !== d.all) ts.push(b.t.ids, b.y);
  tf.dispose([...new Set(ts)]);
}

/**
 * One configuration's training engine and what the experiment reads besides its losses: the
 * training forwards' correct counts, and an evaluation over the whole data set. Both trainers start
 * from the same initialisation (`initModel`) and run through the same `train()` loop below.
 */
interface CvTrainer {
  engine: Engine;
  /** Samples the training forwards classified correctly since the last call. */
  takeCorrect(): Promise<number>;
  /** Loss, accuracy, weights and activations of the current parameters (`a` is the caller's to dispose). */
  evaluate(): Promise<Evaluation>;
  dispose(): void;
}

/** The tfjs reference: autodiff over the model's variables and @attnlab/train's Adam. */
function referenceTrainer(c: CvSweepConfig, d: Dataset, width: number, heads: number): CvTrainer {
  const model = initModel(c, width, heads);
  const optimizer = adam({ lr: c.lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
  // Each training forward's correct count, kept out of the step's tidy and read after the epoch.
  const correct: tf.Scalar[] = [];
  const spe = d.batches.length;
  const engine = autodiffEngine<Dataset['batches'][number]>({
    params: model.vars,
    loss: (_p, b) => {
      const z = logits(model, b.t);
      correct.push(tf.keep(correctCount(z, b.y)));
      return softmaxCrossEntropy(z, b.y);
    },
    data: { batch: (t) => d.batches[t % spe]! },
    disposeBatches: false,
    optimizer,
    name: `reference: tfjs autodiff (${tf.getBackend()})`,
  });
  return {
    engine,
    async takeCorrect() {
      if (correct.length === 0) return 0;
      const counts = correct.length === 1 ? correct[0]! : tf.addN(correct);
      const n = (await counts.data())[0]!;
      tf.dispose([...new Set([...correct.splice(0), counts])]);
      return n;
    },
    evaluate: () => evaluateReference(model, c, d.all, d.y),
    dispose() {
      tf.dispose(correct.splice(0));
      optimizer.dispose();
      tf.dispose(Object.values(model.vars));
    },
  };
}

/**
 * The fused float64 step (cv-engine.ts) from the same initialisation: the products on XNNPACK through
 * tf.matMul on wasm, in plain TypeScript elsewhere; evaluation with its own forward pass.
 */
async function fusedTrainer(c: CvSweepConfig, d: Dataset, width: number, heads: number): Promise<CvTrainer> {
  const { vocab, seqLen, nClasses } = c.data;
  const shape = { vocab, seqLen, classes: nClasses, width, heads };
  const model = initModel(c, width, heads);
  const values = {} as Record<CvParamName, Float32Array>;
  try {
    for (const name of CV_PARAM_NAMES) values[name] = (await model.vars[name]!.data()) as Float32Array;
  } finally {
    tf.dispose(Object.values(model.vars));
  }
  const spe = d.host.batches.length;
  const wasm = tf.getBackend() === 'wasm';
  const engine = cvClassifierEngine({
    shape,
    values,
    batch: (t) => d.host.batches[t % spe]!,
    maxBatch: d.host.all.labels.length,
    adam: { lr: c.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    gemm: wasm ? tfjsGemm() : jsGemm,
    name: `fused float64 step (${wasm ? 'products on tfjs-wasm' : 'TypeScript'})`,
  });
  const all = d.host.all;
  return {
    engine,
    takeCorrect: () => Promise.resolve(engine.takeCorrect()),
    evaluate() {
      const n = all.labels.length;
      const rows = activationRows(c, n);
      const r = engine.evaluate(all, rows);
      const p = engine.params();
      const act = (x: Float32Array) => tf.tensor2d(x, [rows, width]);
      const a = {
        h: act(r.hidden.h),
        q: act(r.hidden.q),
        k: act(r.hidden.k),
        v: act(r.hidden.v),
        post: act(r.hidden.post),
      };
      const w = { emb: p.emb!, wQ: p.wQ!, wK: p.wK!, wV: p.wV!, wO: p.wO!, wC: p.wC! };
      return Promise.resolve({ loss: r.loss, accuracy: r.correct / n, w, a });
    },
    dispose: () => engine.dispose(),
  };
}

/** The trainer a config asks for: `auto` and `fused` train on the fused step, `reference` on tfjs autodiff. */
function buildTrainer(c: CvSweepConfig, d: Dataset, width: number, heads: number): Promise<CvTrainer> {
  if (c.trainer === 'reference') return Promise.resolve(referenceTrainer(c, d, width, heads));
  return fusedTrainer(c, d, width, heads);
}

async function runOne(
  c: CvSweepConfig,
  d: Dataset,
  width: number,
  heads: number,
  ctx: RunContext,
): Promise<{ run: CvSweepRun; aborted: boolean }> {
  const t0 = Date.now();
  const phase = `D=${width} H=${heads}`;
  const trainer = await buildTrainer(c, d, width, heads);
  const { engine } = trainer;
  const measure = async (epoch: number): Promise<CvMeasurement> => {
    const e = await trainer.evaluate();
    try {
      const cv = await cvTable(e.w, e.a, heads, c);
      ctx.onEvent?.({ type: 'snapshot', phase, step: epoch, name: 'cv', value: cv });
      return { epoch, accuracy: e.accuracy, loss: e.loss, cv };
    } finally {
      tf.dispose(Object.values(e.a));
    }
  };
  const n = d.host.all.labels.length;
  try {
    const pre = await measure(0);
    const midEpoch = Math.floor(c.epochs / 2);
    let mid: CvMeasurement | null = null;
    let post: CvMeasurement | null = null;
    const history: CvSweepRun['history'] = { epoch: [], loss: [], accuracy: [] };
    const spe = d.batches.length;
    let aborted = false;
    for (let epoch = 1; epoch <= c.epochs; epoch++) {
      if (ctx.signal?.aborted) {
        aborted = true;
        break;
      }
      const result = await train({
        engine,
        steps: epoch * spe,
        schedule: { lossEvery: 1, readEvery: spe, progressEvery: spe },
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      if (result.aborted) {
        aborted = true;
        break;
      }
      const losses = result.history.loss.value;
      const loss = losses.reduce((a, b) => a + b, 0) / losses.length;
      const accuracy = (await trainer.takeCorrect()) / n;
      history.epoch.push(epoch);
      history.loss.push(loss);
      history.accuracy.push(accuracy);
      ctx.onEvent?.({ type: 'progress', phase, done: epoch, total: c.epochs, loss });
      ctx.onEvent?.({ type: 'metrics', phase, step: epoch, values: { loss, accuracy } });
      if (epoch === midEpoch && epoch < c.epochs) mid = await measure(epoch);
      await yieldToEvents();
    }
    if (!aborted) post = await measure(c.epochs);
    const run: CvSweepRun = {
      width,
      heads,
      headDim: width / heads,
      engine: engine.name,
      completedEpochs: history.epoch.length,
      history,
      pre,
      mid,
      post,
      seconds: (Date.now() - t0) / 1000,
    };
    return { run, aborted };
  } finally {
    trainer.dispose();
  }
}

// ---- figures ----------------------------------------------------------------------------------

/** A CV as the seed prints it: 4 decimals, `*` on both sides inside the band, `N/A` when undefined. */
function fmtCv(cv: number | null | undefined): string {
  if (cv === null || cv === undefined) return 'N/A';
  return inCvBand(cv) ? `*${cv.toFixed(4)}*` : cv.toFixed(4);
}
const round = (x: number) => Number(x.toFixed(4));

/**
 * Accuracy against epochs completed: each epoch's training-forward accuracy at e − 1 (the parameters
 * it saw, with full-batch steps), then the last evaluation (post, or mid when the run stopped there).
 */
function accuracyCurve(r: CvSweepRun): { x: number[]; y: number[] } {
  const x = r.history.epoch.map((e) => e - 1);
  const y = [...r.history.accuracy];
  const last = [r.post, r.mid, r.pre].find((m) => m !== null && m.epoch === r.completedEpochs);
  if (last) {
    x.push(last.epoch);
    y.push(last.accuracy);
  }
  return { x, y };
}

function figures(c: CvSweepConfig, d: CvSweepData): NamedFigure[] {
  const figs: NamedFigure[] = [];
  const finished = d.runs.filter((r) => r.post);
  const band = `band ${CV_BAND.low} < CV < ${CV_BAND.high} marked *`;
  const acc = (r: CvSweepRun) => round(r.post!.accuracy);
  figs.push({
    id: 'weight-cv',
    spec: {
      kind: 'table',
      title: `Post-training WEIGHT CV by head_dim (${band})`,
      columns: ['D', 'heads', 'hdim', 'emb', 'Q_full', 'K_full', 'V_full', 'out', 'acc'],
      rows: finished.map((r) => [
        r.width,
        r.heads,
        r.headDim,
        ...['emb', 'Q_full', 'K_full', 'V_full', 'out_proj'].map((k) => fmtCv(r.post!.cv[k])),
        acc(r),
      ]),
    },
  });
  const acts = ['act_emb', 'act_Q_h0', 'act_K_h0', 'act_V_h0', 'act_post_h0', 'act_post_full'];
  const actCols = ['act_emb', 'aQ_h0', 'aK_h0', 'aV_h0', 'aPost0', 'act_full'];
  figs.push({
    id: 'activation-cv',
    spec: {
      kind: 'table',
      title: `Post-training ACTIVATION CV by head_dim (${band})`,
      columns: ['D', 'heads', 'hdim', ...actCols, 'acc'],
      rows: finished.map((r) => [r.width, r.heads, r.headDim, ...acts.map((k) => fmtCv(r.post!.cv[k])), acc(r)]),
    },
  });
  figs.push({
    id: 'activation-cv-delta',
    spec: {
      kind: 'table',
      title: 'ACTIVATION CV movement (post − pre)',
      columns: ['D', 'heads', 'hdim', ...actCols],
      rows: finished.map((r) => [
        r.width,
        r.heads,
        r.headDim,
        ...acts.map((k) => {
          const a = r.pre.cv[k];
          const b = r.post!.cv[k];
          return a === null || a === undefined || b === null || b === undefined ? null : round(b - a);
        }),
      ]),
    },
  });
  figs.push({
    id: 'accuracy',
    spec: {
      kind: 'line',
      title: 'Training accuracy per epoch',
      x: { label: 'epoch' },
      y: { label: 'accuracy', min: 0, max: 1 },
      series: d.runs.map((r) => ({ name: `D=${r.width} H=${r.heads}`, ...accuracyCurve(r), dashed: r.heads > 2 })),
    },
  });
  figs.push({
    id: 'loss',
    spec: {
      kind: 'line',
      title: 'Training loss per epoch (cross-entropy)',
      x: { label: 'epoch' },
      y: { label: 'loss', scale: 'log' },
      series: d.runs.map((r) => ({
        name: `D=${r.width} H=${r.heads}`,
        x: r.history.epoch,
        y: r.history.loss,
        dashed: r.heads > 2,
      })),
    },
  });
  if (finished.length > 0) {
    const widths = c.widths;
    const heads = c.heads;
    const panel = (key: string, title: string) => {
      const values: number[][] = [];
      const masked: boolean[][] = [];
      for (const w of widths) {
        const row: number[] = [];
        const mrow: boolean[] = [];
        for (const h of heads) {
          const v = finished.find((r) => r.width === w && r.heads === h)?.post!.cv[key];
          row.push(typeof v === 'number' ? v : 0);
          mrow.push(typeof v !== 'number');
        }
        values.push(row);
        masked.push(mrow);
      }
      return { title, values, masked, rowLabels: widths.map((w) => `D=${w}`), colLabels: heads.map((h) => `H=${h}`) };
    };
    figs.push({
      id: 'cv-grid',
      spec: {
        kind: 'heatmap-grid',
        title: 'Post-training CV by width (rows) and head count (columns)',
        scale: 'sequential',
        colorbarLabel: 'CV',
        xLabel: 'heads',
        yLabel: 'width',
        columns: 3,
        showValues: true,
        panels: [
          panel('emb', 'embedding'),
          panel('Q_full', 'Q weights'),
          panel('out_proj', 'out_proj weights'),
          panel('act_Q_h0', 'activations Q head 0'),
          panel('act_post_h0', 'post-attention head 0'),
          panel('act_post_full', 'post-attention (full)'),
        ],
      } as FigureSpec,
    });
  }
  return figs;
}

// ---- the experiment ---------------------------------------------------------------------------

function checkGrid(c: CvSweepConfig): void {
  c.heads.forEach((h, i) => {
    const bad = c.widths.find((w) => w % h !== 0);
    if (bad !== undefined)
      throw new ConfigError(
        `config.heads[${i}]`,
        `a divisor of every width (${c.widths.join(', ')})`,
        h,
        `must divide every width (${c.widths.join(', ')}); ${bad} is not divisible by ${h}`,
      );
  });
  c.widths.forEach((w, i) => {
    if (w < 4) throw new ConfigError(`config.widths[${i}]`, 'an integer ≥ 4 (a 4-simplex needs 4 dimensions)', w);
  });
  const n = c.data.nClasses * c.data.samplesPerClass;
  if (c.batchSize > n)
    throw new ConfigError('config.batchSize', `0 (full batch) or at most the ${n} samples`, c.batchSize);
}

/** Seed 003: simplex-volume CV of the weights and activations of embedding + MHA + LayerNorm + classifier over a grid of widths and head counts. */
export const cvSweep: Experiment<CvSweepConfig, CvSweepData> = {
  id: 'cv-sweep',
  title: 'CV sweep over widths and heads (seed 003)',
  summary:
    'Train embedding + multi-head attention + LayerNorm + classifier on noisy token patterns for each width × head count; simplex-volume CV of weights, per-head projections and activations before, midway and after training.',
  configSchema: cvSweepConfigSchema,
  dataSchema: cvSweepDataSchema,
  presets: { seed: seedPreset, quick: quickPreset },
  async run(config, ctx = {}): Promise<ExperimentResult<CvSweepConfig, CvSweepData>> {
    const meta = startMeta();
    checkGrid(config);
    const grid = config.widths.flatMap((width) => config.heads.map((heads) => ({ width, heads })));
    const runs: CvSweepRun[] = [];
    let aborted = false;
    const data = makeDataset(config);
    try {
      for (let i = 0; i < grid.length; i++) {
        if (ctx.signal?.aborted) {
          aborted = true;
          break;
        }
        const { width, heads } = grid[i]!;
        ctx.onEvent?.({
          type: 'phase',
          phase: `D=${width} H=${heads}`,
          message: `Training D = ${width}, ${heads} head${heads > 1 ? 's' : ''} (head_dim ${width / heads}; ${i + 1} of ${grid.length})`,
        });
        const r = await runOne(config, data, width, heads, ctx);
        runs.push(r.run);
        ctx.onEvent?.({ type: 'progress', phase: 'sweep', done: i + 1, total: grid.length });
        if (r.aborted) {
          aborted = true;
          break;
        }
      }
    } finally {
      disposeDataset(data);
    }
    const result: CvSweepData = {
      runs,
      band: { low: CV_BAND.low, high: CV_BAND.high },
      gaussianCv: config.widths.map((width) => ({ width, cv: gaussianSimplexCv(width) })),
    };
    return {
      experiment: 'cv-sweep',
      schemaVersion: RESULT_SCHEMA_VERSION,
      config,
      data: result,
      figures: figures(config, result),
      meta: meta.finish({ aborted }),
    };
  },
};

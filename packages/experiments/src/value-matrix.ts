import * as tf from '@tensorflow/tfjs-core';
import {
  colorCompressionData,
  randomEmbeddings,
  randomValueProjection,
  retrievalAttentionPatterns,
  structuredValueMatrix,
} from '@attnlab/data';
import {
  energyEffectiveRank,
  entropyEffectiveRank,
  meanAbsHeadCorrelation,
  pinvReconstructionError,
  retrievalNorms,
  HEAD_DIVERSITY_THRESHOLD,
} from '@attnlab/metrics';
import { adam, meanSquaredError, train } from '@attnlab/train';
import type { FigureSpec } from '@attnlab/plot';
import {
  RESULT_SCHEMA_VERSION,
  type Experiment,
  type ExperimentResult,
  type NamedFigure,
  type RunContext,
  trainProgress,
} from './experiment.js';
import {
  kvCacheSection,
  kvCacheSectionSchema,
  kvCacheDataSchema,
  kvCacheFigures,
  type KvCacheSectionConfig,
  type KvCacheData,
} from './kv-cache.js';
import { startMeta, throwIfAborted } from './meta.js';
import type { ResourceEstimate } from './resources.js';
import { s } from './schema.js';

export interface ValueMatrixConfig {
  seed: number;
  compression: { dModel: number; dV: number; nTokens: number; energyThreshold: number };
  multihead: { dModel: number; nTokens: number; heads: number; headDim: number };
  retrieval: { nTokens: number; dV: number; noiseStd: number };
  kvCache: KvCacheSectionConfig;
  learning: { dModel: number; dV: number; nSamples: number; colorDims: number; epochs: number; lr: number };
}

export interface ValueMatrixData {
  compression: {
    compressionRatio: number;
    mse: number;
    relativeError: number;
    expectedRelativeError: number;
    spectrum: number[];
    effectiveRank: number;
    entropyEffectiveRank: number;
    maxRank: number;
  };
  multihead: {
    meanAbsCorrelation: number;
    pairs: number;
    diverse: boolean;
    singleHeadDims: number;
    multiHeadDims: number;
  };
  retrieval: { patterns: { name: string; weights: number[]; outputNorm: number; groups: Record<string, number> }[] };
  kvCache: KvCacheData;
  learning: {
    losses: number[];
    finalLoss: number;
    colorWeight: number;
    noiseWeight: number;
    ratio: number;
    focused: boolean;
  };
}

const posInt = (d: number, description: string, max = 1 << 16) => s.int({ min: 1, max, default: d, description });

export const valueMatrixConfigSchema = s.object({
  seed: s.int({ min: 0, default: 42, description: 'seed of every random draw' }),
  compression: s.object(
    {
      dModel: posInt(512, 'embedding width'),
      dV: posInt(64, 'value width'),
      nTokens: posInt(10, 'tokens'),
      energyThreshold: s.number({
        min: 0,
        max: 1,
        exclusiveMin: true,
        default: 0.95,
        description: 'energy share for the effective rank',
      }),
    },
    { default: {} },
  ),
  multihead: s.object(
    {
      dModel: posInt(512, 'embedding width'),
      nTokens: posInt(20, 'tokens'),
      heads: posInt(8, 'heads', 64),
      headDim: posInt(64, 'width per head'),
    },
    { default: {} },
  ),
  retrieval: s.object(
    {
      nTokens: s.int({
        min: 6,
        max: 4096,
        default: 8,
        description: 'tokens (0–1 person, 2–3 location, 4–5 action, rest noise)',
      }),
      dV: s.int({ min: 4, max: 4096, multipleOf: 4, default: 64, description: 'value width (multiple of 4)' }),
      noiseStd: s.number({ min: 0, default: 0.1, description: 'std of the noise rows' }),
    },
    { default: {} },
  ),
  kvCache: kvCacheSectionSchema,
  learning: s.object(
    {
      dModel: posInt(16, 'embedding width'),
      dV: posInt(4, 'compressed width'),
      nSamples: posInt(100, 'samples'),
      colorDims: posInt(3, 'leading colour dimensions to remember'),
      epochs: posInt(500, 'full-batch Adam steps', 1e6),
      lr: s.number({ min: 0, exclusiveMin: true, default: 0.01, description: 'Adam learning rate' }),
    },
    { default: {} },
  ),
});

export const valueMatrixDataSchema = s.object({
  compression: s.object({
    compressionRatio: s.number(),
    mse: s.number(),
    relativeError: s.number(),
    expectedRelativeError: s.number(),
    spectrum: s.array(s.number()),
    effectiveRank: s.int(),
    entropyEffectiveRank: s.number(),
    maxRank: s.int(),
  }),
  multihead: s.object({
    meanAbsCorrelation: s.number(),
    pairs: s.int(),
    diverse: s.boolean(),
    singleHeadDims: s.int(),
    multiHeadDims: s.int(),
  }),
  retrieval: s.object({
    patterns: s.array(
      s.object({
        name: s.string(),
        weights: s.array(s.number()),
        outputNorm: s.number(),
        groups: s.record(s.number()),
      }),
    ),
  }),
  kvCache: kvCacheDataSchema,
  learning: s.object({
    losses: s.array(s.number()),
    finalLoss: s.number(),
    colorWeight: s.number(),
    noiseWeight: s.number(),
    ratio: s.number(),
    focused: s.boolean(),
  }),
});

const defaults = (): ValueMatrixConfig => ({
  seed: 42,
  compression: { dModel: 512, dV: 64, nTokens: 10, energyThreshold: 0.95 },
  multihead: { dModel: 512, nTokens: 20, heads: 8, headDim: 64 },
  retrieval: { nTokens: 8, dV: 64, noiseStd: 0.1 },
  kvCache: kvCacheSection.presets.seed,
  learning: { dModel: 16, dV: 4, nSamples: 100, colorDims: 3, epochs: 500, lr: 0.01 },
});

async function compression(c: ValueMatrixConfig): Promise<ValueMatrixData['compression']> {
  const { dModel, dV, nTokens, energyThreshold } = c.compression;
  const X = randomEmbeddings(nTokens, dModel, { seed: c.seed, stream: 1 });
  const W = randomValueProjection(dModel, dV, { seed: c.seed, stream: 2 });
  let spec: tf.Tensor1D | undefined;
  try {
    // One SVD: the reconstruction's singular values are the spectrum, and both effective ranks take it.
    const err = await pinvReconstructionError(X, W);
    spec = tf.tensor1d(err.singularValues);
    const spectrum = Array.from(await spec.data());
    const effectiveRank = await energyEffectiveRank(spec, energyThreshold);
    return {
      compressionRatio: dModel / dV,
      mse: err.mse,
      relativeError: err.relativeError,
      expectedRelativeError: Math.max(0, 1 - Math.min(dV, dModel) / dModel),
      spectrum,
      effectiveRank,
      entropyEffectiveRank: await entropyEffectiveRank(spec),
      maxRank: Math.min(dModel, dV),
    };
  } finally {
    tf.dispose([X, W, ...(spec ? [spec] : [])]);
  }
}

async function multihead(c: ValueMatrixConfig): Promise<ValueMatrixData['multihead']> {
  const { dModel, nTokens, heads, headDim } = c.multihead;
  const X = randomEmbeddings(nTokens, dModel, { seed: c.seed, stream: 3 });
  const perHead: tf.Tensor[] = [];
  try {
    for (let h = 0; h < heads; h++) {
      const W = randomValueProjection(dModel, headDim, { seed: c.seed, stream: 100 + h });
      perHead.push(tf.matMul(X, W));
      W.dispose();
    }
    const corr = heads > 1 ? await meanAbsHeadCorrelation(perHead) : { meanAbs: 0, pairs: 0, diverse: true };
    return {
      meanAbsCorrelation: corr.meanAbs,
      pairs: corr.pairs,
      diverse: corr.diverse,
      singleHeadDims: heads * headDim,
      multiHeadDims: heads * headDim,
    };
  } finally {
    tf.dispose([X, ...perHead]);
  }
}

async function retrieval(c: ValueMatrixConfig): Promise<ValueMatrixData['retrieval']> {
  const { nTokens, dV, noiseStd } = c.retrieval;
  const { V, groups } = structuredValueMatrix({ nTokens, dV, noiseStd, seed: c.seed, stream: 4 });
  const patterns = retrievalAttentionPatterns(nTokens);
  const names = ['uniform', 'person', 'location', 'mixed'] as const;
  const W = tf.stack(names.map((n) => patterns[n]));
  try {
    const norms = await retrievalNorms(V, W, { ...groups });
    const weights = (await W.array()) as number[][];
    return {
      patterns: names.map((name, i) => ({
        name,
        weights: weights[i]!,
        outputNorm: norms[i]!.total,
        groups: norms[i]!.groups,
      })),
    };
  } finally {
    tf.dispose([V, W, ...Object.values(patterns)]);
  }
}

/** Experiment 5's shapes and Adam settings. */
export interface LearningShape {
  n: number;
  dModel: number;
  dV: number;
  colorDims: number;
  lr: number;
}

/**
 * State of experiment 5's fused trainer: W_V `[dModel, dV]` then W_out `[dV, colorDims]` (row-major)
 * in one float64 vector, with its Adam moments and step count.
 */
export interface LinearPairState {
  params: Float64Array;
  m: Float64Array;
  v: Float64Array;
  step: number;
}

/**
 * Experiment 5's fixed data, X `[n, dModel]` and Y `[n, colorDims]` (row-major, float64), with the
 * sufficient statistics A = XᵀX, B = XᵀY and ‖Y‖² that the full-batch loss and gradient need, and
 * scratch for {@link linearPairStep}.
 */
export interface LinearPairProblem {
  shape: LearningShape;
  X: Float64Array;
  Y: Float64Array;
  A: Float64Array;
  B: Float64Array;
  yy: number;
  /** Scratch: W = W_V·W_out `[dModel, colorDims]`, G = A·W − B, the parameters' gradient. */
  W: Float64Array;
  G: Float64Array;
  grad: Float64Array;
}

export function linearPairProblem(X: Float64Array, Y: Float64Array, shape: LearningShape): LinearPairProblem {
  const { n, dModel: d, dV: k, colorDims: c } = shape;
  if (X.length !== n * d || Y.length !== n * c) {
    throw new RangeError(
      `linearPairProblem: X must hold n·dModel = ${n * d} and Y n·colorDims = ${n * c} values; got ${X.length} and ${Y.length}`,
    );
  }
  const A = new Float64Array(d * d);
  const B = new Float64Array(d * c);
  let yy = 0;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const xa = X[i * d + a]!;
      for (let b = 0; b < d; b++) A[a * d + b] = A[a * d + b]! + xa * X[i * d + b]!;
      for (let j = 0; j < c; j++) B[a * c + j] = B[a * c + j]! + xa * Y[i * c + j]!;
    }
    for (let j = 0; j < c; j++) yy += Y[i * c + j]! ** 2;
  }
  return {
    shape,
    X,
    Y,
    A,
    B,
    yy,
    W: new Float64Array(d * c),
    G: new Float64Array(d * c),
    grad: new Float64Array(d * k + k * c),
  };
}

/**
 * One full-batch step of seed 000's experiment 5 in float64 host code: loss = mean((Y − X·W_V·W_out)²)
 * and its exact gradient, then Adam with PyTorch's update (bias-corrected step size, eps outside the
 * corrected square root, no weight decay: @attnlab/train's adam). Returns the loss before the update
 * (what the seed's `losses` records).
 *
 * With W = W_V·W_out and R = X·W − Y: XᵀR = A·W − B = G, so ∂loss/∂W = 2G/(n·c), ∂/∂W_V = (∂/∂W)·W_outᵀ
 * and ∂/∂W_out = W_Vᵀ·(∂/∂W), and ‖R‖² = tr(WᵀG) − tr(WᵀB) + ‖Y‖²: a step costs O(dModel²·colorDims),
 * not O(n·dModel·colorDims). That sum cancels as the loss goes to 0, so below 1e-6·‖Y‖² (where it
 * would keep fewer than ≈ 9 digits) ‖R‖² is summed from the residuals themselves.
 */
export function linearPairStep(state: LinearPairState, pr: LinearPairProblem): number {
  const { n, dModel: d, dV: k, colorDims: c, lr } = pr.shape;
  const p = state.params;
  const o = d * k; // offset of W_out
  const { A, B, W, G, grad } = pr;
  for (let t = 0; t < d; t++) {
    for (let j = 0; j < c; j++) {
      let acc = 0;
      for (let h = 0; h < k; h++) acc += p[t * k + h]! * p[o + h * c + j]!;
      W[t * c + j] = acc;
    }
  }
  let wg = 0,
    wb = 0;
  for (let a = 0; a < d; a++) {
    for (let j = 0; j < c; j++) {
      let acc = 0;
      for (let b = 0; b < d; b++) acc += A[a * d + b]! * W[b * c + j]!;
      const g = acc - B[a * c + j]!;
      G[a * c + j] = g;
      wg += W[a * c + j]! * g;
      wb += W[a * c + j]! * B[a * c + j]!;
    }
  }
  let se = wg - wb + pr.yy;
  if (!(se > 1e-6 * pr.yy)) {
    const { X, Y } = pr;
    se = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < c; j++) {
        let acc = -Y[i * c + j]!;
        for (let t = 0; t < d; t++) acc += X[i * d + t]! * W[t * c + j]!;
        se += acc * acc;
      }
    }
  }
  const loss = se / (n * c);
  const scale = 2 / (n * c);
  for (let t = 0; t < d; t++) {
    for (let h = 0; h < k; h++) {
      let acc = 0;
      for (let j = 0; j < c; j++) acc += G[t * c + j]! * p[o + h * c + j]!;
      grad[t * k + h] = acc * scale;
    }
  }
  for (let h = 0; h < k; h++) {
    for (let j = 0; j < c; j++) {
      let acc = 0;
      for (let t = 0; t < d; t++) acc += p[t * k + h]! * G[t * c + j]!;
      grad[o + h * c + j] = acc * scale;
    }
  }
  // Adam (betas 0.9, 0.999, eps 1e-8), as torch.optim.Adam.
  state.step += 1;
  const b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8;
  const stepSize = lr / (1 - b1 ** state.step);
  const bc2Sqrt = Math.sqrt(1 - b2 ** state.step);
  const { m, v } = state;
  for (let i = 0; i < p.length; i++) {
    const g = grad[i]!;
    m[i] = b1 * m[i]! + (1 - b1) * g;
    v[i] = b2 * v[i]! + (1 - b2) * g * g;
    p[i] = p[i]! - stepSize * (m[i]! / (Math.sqrt(v[i]!) / bc2Sqrt + eps));
  }
  return loss;
}

/** Experiment 5's data and starting weights, as the reference path draws them (float32 values). */
async function learningStart(
  c: ValueMatrixConfig,
): Promise<{ X: Float64Array; Y: Float64Array; wV: Float64Array; wOut: Float64Array }> {
  const { dModel, dV, nSamples, colorDims } = c.learning;
  const { X, Y } = colorCompressionData({ nSamples, dModel, colorDims, seed: c.seed, stream: 5 });
  const draw = (rows: number, cols: number, stream: number) =>
    tf.tidy(() => tf.div(randomEmbeddings(rows, cols, { seed: c.seed, stream }), Math.sqrt(rows)));
  const wV = draw(dModel, dV, 6);
  const wOut = draw(dV, colorDims, 7);
  try {
    const [x, y, a, b] = await Promise.all([X.data(), Y.data(), wV.data(), wOut.data()]);
    return { X: Float64Array.from(x), Y: Float64Array.from(y), wV: Float64Array.from(a), wOut: Float64Array.from(b) };
  } finally {
    tf.dispose([X, Y, wV, wOut]);
  }
}

/** What experiment 5 reports from its losses and the learned W_V `[dModel, dV]` (row-major). */
function learningResult(losses: number[], wV: ArrayLike<number>, c: ValueMatrixConfig): ValueMatrixData['learning'] {
  const { dModel, dV, colorDims } = c.learning;
  const rowNorm = (r: number) => {
    let s = 0;
    for (let j = 0; j < dV; j++) s += wV[r * dV + j]! ** 2;
    return Math.sqrt(s);
  };
  const mean = (from: number, to: number) => {
    let s = 0;
    for (let r = from; r < to; r++) s += rowNorm(r);
    return s / (to - from);
  };
  const colorWeight = mean(0, colorDims);
  const noiseWeight = mean(colorDims, dModel);
  const ratio = colorWeight / noiseWeight;
  return { losses, finalLoss: losses[losses.length - 1] ?? NaN, colorWeight, noiseWeight, ratio, focused: ratio > 1.5 };
}

/**
 * Experiment 5 on the fused float64 host path ({@link linearPairStep}): the same data, starting
 * weights, loss and Adam as {@link learningReference}, 500 tiny steps without a tensor op each.
 */
export async function learningFused(c: ValueMatrixConfig, ctx: RunContext = {}): Promise<ValueMatrixData['learning']> {
  const { dModel, dV, nSamples, colorDims, epochs, lr } = c.learning;
  const shape: LearningShape = { n: nSamples, dModel, dV, colorDims, lr };
  const start = await learningStart(c);
  const params = new Float64Array(dModel * dV + dV * colorDims);
  params.set(start.wV, 0);
  params.set(start.wOut, dModel * dV);
  const state: LinearPairState = {
    params,
    m: new Float64Array(params.length),
    v: new Float64Array(params.length),
    step: 0,
  };
  const problem = linearPairProblem(start.X, start.Y, shape);
  const every = Math.max(1, Math.floor(epochs / 20));
  const losses: number[] = [];
  const t0 = performance.now();
  let window = t0,
    windowDone = 0;
  for (let t = 0; t < epochs; t++) {
    if (ctx.signal?.aborted) break;
    losses.push(linearPairStep(state, problem));
    const done = t + 1;
    if (done % every === 0 || done === epochs) {
      const now = performance.now();
      const rate = (done - windowDone) / Math.max(1e-9, (now - window) / 1000);
      window = now;
      windowDone = done;
      ctx.onEvent?.({ type: 'progress', phase: 'learning', done, total: epochs, rate, loss: losses[t]! });
    }
  }
  return learningResult(losses, params.subarray(0, dModel * dV), c);
}

/** Experiment 5 as tfjs ops, autodiff and @attnlab/train's Adam: the reference the fused path is tested against. */
export async function learningReference(
  c: ValueMatrixConfig,
  ctx: RunContext = {},
): Promise<ValueMatrixData['learning']> {
  const { dModel, dV, nSamples, colorDims, epochs, lr } = c.learning;
  const { X, Y } = colorCompressionData({ nSamples, dModel, colorDims, seed: c.seed, stream: 5 });
  const draw = (rows: number, cols: number, stream: number) => {
    const init = tf.tidy(() => tf.div(randomEmbeddings(rows, cols, { seed: c.seed, stream }), Math.sqrt(rows)));
    const v = tf.variable(init);
    init.dispose();
    return v;
  };
  const params = { wV: draw(dModel, dV, 6), wOut: draw(dV, colorDims, 7) };
  const optimizer = adam({ lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
  try {
    const result = await train({
      params,
      loss: (p) => meanSquaredError(tf.matMul(tf.matMul(X, p.wV!), p.wOut!), Y),
      data: { batch: () => null },
      optimizer,
      steps: epochs,
      schedule: { lossEvery: 1, progressEvery: Math.max(1, Math.floor(epochs / 20)) },
      signal: ctx.signal,
      onEvent: (e) => {
        if (e.type === 'progress') ctx.onEvent?.(trainProgress(e, 'learning'));
      },
    });
    return learningResult(result.history.loss.value, await params.wV.data(), c);
  } finally {
    optimizer.dispose();
    tf.dispose([X, Y, params.wV, params.wOut]);
  }
}

function figures(d: ValueMatrixData): NamedFigure[] {
  const figs: NamedFigure[] = [
    {
      id: 'spectrum',
      spec: {
        kind: 'line',
        title: `Singular values of W_V (effective rank ${d.compression.effectiveRank} of ${d.compression.maxRank})`,
        x: { label: 'index' },
        y: { label: 'singular value' },
        series: [
          { name: 'σ', x: d.compression.spectrum.map((_, i) => i + 1), y: d.compression.spectrum, markers: true },
        ],
      } as FigureSpec,
    },
    {
      id: 'retrieval',
      spec: {
        kind: 'bar',
        title: 'What each attention pattern retrieves (‖output‖ per dimension group)',
        yLabel: 'norm',
        categories: d.retrieval.patterns.map((p) => p.name),
        groups: Object.keys(d.retrieval.patterns[0]?.groups ?? {}).map((g) => ({
          name: g,
          values: d.retrieval.patterns.map((p) => p.groups[g]!),
        })),
      } as FigureSpec,
    },
    ...kvCacheFigures(d.kvCache),
    {
      id: 'learning',
      spec: {
        kind: 'line',
        title: `Learning to compress colour (weight ratio ${d.learning.ratio.toFixed(2)}×)`,
        x: { label: 'epoch' },
        y: { label: 'MSE', scale: 'log' },
        series: [{ name: 'training loss', x: d.learning.losses.map((_, i) => i), y: d.learning.losses }],
      } as FigureSpec,
    },
    {
      id: 'summary',
      spec: {
        kind: 'table',
        title: 'Value matrix experiments: the numbers',
        columns: ['quantity', 'value'],
        rows: [
          ['compression ratio', d.compression.compressionRatio],
          ['reconstruction MSE', d.compression.mse],
          ['relative error', `${(d.compression.relativeError * 100).toFixed(2)}%`],
          ['effective rank (energy)', d.compression.effectiveRank],
          ['effective rank (entropy)', Number(d.compression.entropyEffectiveRank.toFixed(2))],
          ['mean |head correlation|', Number(d.multihead.meanAbsCorrelation.toFixed(3))],
          [`heads diverse (< ${HEAD_DIVERSITY_THRESHOLD})`, d.multihead.diverse],
          ['learned colour/noise weight ratio', Number(d.learning.ratio.toFixed(2))],
        ],
      } as FigureSpec,
    },
  ];
  return figs;
}

// ---- the estimate ------------------------------------------------------------------------------

/** One part's peak bytes and operations, from the sizes it reads. */
type PartCost = (v: Record<string, number>) => { bytes: number; ops: number };

/** Sweeps of one-sided Jacobi SVD counted in the estimate (linalg's SVD stops sooner on these matrices). */
const JACOBI_SWEEPS = 10;

/**
 * The five parts, one after another (so the run's peak memory is the largest part's, its work the sum),
 * each as the arrays its code allocates (float32 tensors 4 bytes a number, host float64 copies 8) and
 * the floating-point operations it does (a multiply–add counts 2).
 */
const PARTS: { part: 'compression' | 'multihead' | 'retrieval' | 'learning'; cost: PartCost }[] = [
  {
    // X [n, m] and W [m, k] as tensors and float64 copies; a tall W is reduced by Householder QR
    // (its reflectors, m·k) to R [k, k], whose SVD (Jacobi, with vectors) gives the spectrum, and X·W
    // is projected on it. A wide W goes through its pseudo-inverse (an SVD with U [k, m]) instead.
    part: 'compression',
    cost: ({ nTokens: n = 0, dModel: m = 0, dV: k = 0 }) => {
      const r = Math.min(m, k);
      const big = Math.max(m, k);
      const bytes = 12 * n * m + 12 * m * k + 8 * n * k + (m > k ? 16 * m * k + 32 * k * k : 48 * m * k + 32 * r * r);
      const svd = 4 * big * r * r + 6 * JACOBI_SWEEPS * r * r * r;
      const ops = 2 * n * m * k + (m > k ? svd + 2 * n * k * r : 2 * svd + 2 * big * r * r + 2 * n * k * m);
      return { bytes, ops };
    },
  },
  {
    // X [n, m]; per head W [m, hd] (drawn, then freed) and X·W [n, hd]; the heads stacked, read back
    // as float64 and centred for their correlation [H, H].
    part: 'multihead',
    cost: ({ nTokens: n = 0, dModel: m = 0, heads: H = 0, headDim: hd = 0 }) => ({
      bytes: 4 * n * m + 12 * m * hd + 28 * H * n * hd + 8 * H * H,
      ops: H * 2 * n * m * hd + 2 * H * H * n * hd,
    }),
  },
  {
    // V [n, dV] with its groups, four patterns [4, n], their outputs' norms.
    part: 'retrieval',
    cost: ({ nTokens: n = 0, dV = 0 }) => ({ bytes: 24 * n * dV + 64 * n, ops: 20 * n * dV }),
  },
  {
    // X [n, m] and Y [n, c] as tensors, their data and float64 copies; A = XᵀX [m, m] and B = XᵀY once;
    // W_V [m, k] and W_out [k, c] with Adam's two moments and the gradient; one loss a step. A step
    // forms W = W_V·W_out and A·W − B, then both gradients and Adam's update.
    part: 'learning',
    cost: ({ nSamples: n = 0, dModel: m = 0, dV: k = 0, colorDims: c = 0, epochs = 0 }) => {
      const P = m * k + k * c;
      return {
        bytes: 16 * n * m + 16 * n * c + 8 * m * m + 24 * m * c + 44 * P + 24 * epochs,
        ops: 2 * n * m * (m + c) + epochs * (2 * m * m * c + 6 * m * k * c + 12 * P),
      };
    },
  },
];

/** The fields of a part whose halving cuts its cost by at least a quarter, the largest share first. */
function driversOf(
  part: string,
  values: Record<string, number>,
  cost: PartCost,
  key: 'bytes' | 'ops',
): { field: string; value: number }[] {
  const total = cost(values)[key];
  const shares = Object.keys(values)
    .filter((f) => values[f]! > 1)
    .map((f) => ({
      field: `${part}.${f}`,
      value: values[f]!,
      share: 1 - cost({ ...values, [f]: values[f]! / 2 })[key] / total,
    }))
    .sort((a, b) => b.share - a.share);
  const kept = shares.filter((d) => d.share >= 0.25);
  return (kept.length ? kept : shares.slice(0, 1)).map(({ field, value }) => ({ field, value }));
}

/**
 * Peak memory and work of a value-matrix run, estimated from its config: the parts run one after
 * another, so memory is the largest part's and the work their sum (the KV-cache section is a closed
 * form, too small to count). The drivers are the fields of the part that sets each.
 */
export function estimateValueMatrix(c: ValueMatrixConfig): ResourceEstimate {
  const costs = PARTS.map(({ part, cost }) => {
    const values = Object.fromEntries(
      Object.entries(c[part]).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isInteger(e[1])),
    );
    return { part, values, cost, ...cost(values) };
  });
  const byBytes = costs.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const byOps = costs.reduce((a, b) => (b.ops > a.ops ? b : a));
  const { dModel: m, dV: k, colorDims } = c.learning;
  const parameters = m * k + k * colorDims;
  return {
    parameters,
    activations: Math.max(0, Math.round(byBytes.bytes / 8 - 4 * parameters)),
    bytes: byBytes.bytes,
    drivers: driversOf(byBytes.part, byBytes.values, byBytes.cost, 'bytes'),
    operations: {
      count: costs.reduce((a, b) => a + b.ops, 0),
      drivers: driversOf(byOps.part, byOps.values, byOps.cost, 'ops'),
    },
  };
}

/** Seed 000: the value matrix as lossy compression, multi-head storage, retrieval, KV-cache memory and learned compression. */
export const valueMatrix: Experiment<ValueMatrixConfig, ValueMatrixData> = {
  id: 'value-matrix',
  title: 'Value-matrix playground',
  summary:
    'Seed 000: compression through W_V (pinv reconstruction, spectrum, effective rank), head diversity, retrieval by attention pattern, KV-cache memory, learned compression.',
  configSchema: valueMatrixConfigSchema,
  dataSchema: valueMatrixDataSchema,
  presets: { seed: defaults(), quick: defaults() },
  estimate: estimateValueMatrix,
  async run(config, ctx = {}): Promise<ExperimentResult<ValueMatrixConfig, ValueMatrixData>> {
    const meta = startMeta();
    const phase = (p: string, message: string) => {
      throwIfAborted(ctx.signal);
      ctx.onEvent?.({ type: 'phase', phase: p, message });
    };
    phase('compression', 'Experiment 1: value matrix as lossy compression');
    const c1 = await compression(config);
    phase('multihead', 'Experiment 2: multi-head value storage');
    const c2 = await multihead(config);
    phase('retrieval', 'Experiment 3: retrieval under four attention patterns');
    const c3 = await retrieval(config);
    phase('kv-cache', 'Experiment 4: KV-cache memory');
    const c4 = kvCacheSection.compute(config.kvCache);
    phase('learning', 'Experiment 5: learning value compression');
    const c5 = await learningFused(config, ctx);
    const data: ValueMatrixData = { compression: c1, multihead: c2, retrieval: c3, kvCache: c4, learning: c5 };
    return {
      experiment: 'value-matrix',
      schemaVersion: RESULT_SCHEMA_VERSION,
      config,
      data,
      figures: figures(data),
      meta: meta.finish({ aborted: Boolean(ctx.signal?.aborted) }),
    };
  },
};

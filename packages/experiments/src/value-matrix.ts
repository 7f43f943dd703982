import * as tf from '@tensorflow/tfjs-core';
import {
  colorCompressionData, randomEmbeddings, randomValueProjection, retrievalAttentionPatterns, structuredValueMatrix,
} from '@attnlab/data';
import {
  energyEffectiveRank, entropyEffectiveRank, meanAbsHeadCorrelation, pinvReconstructionError, retrievalNorms,
  singularSpectrum, HEAD_DIVERSITY_THRESHOLD,
} from '@attnlab/metrics';
import { adam, meanSquaredError, train } from '@attnlab/train';
import type { FigureSpec } from '@attnlab/plot';
import { RESULT_SCHEMA_VERSION, type Experiment, type ExperimentResult, type NamedFigure, type RunContext } from './experiment.js';
import { kvCacheSection, kvCacheSectionSchema, kvCacheDataSchema, kvCacheFigures, type KvCacheSectionConfig, type KvCacheData } from './kv-cache.js';
import { startMeta, throwIfAborted } from './meta.js';
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
    compressionRatio: number; mse: number; relativeError: number; expectedRelativeError: number;
    spectrum: number[]; effectiveRank: number; entropyEffectiveRank: number; maxRank: number;
  };
  multihead: { meanAbsCorrelation: number; pairs: number; diverse: boolean; singleHeadDims: number; multiHeadDims: number };
  retrieval: { patterns: { name: string; weights: number[]; outputNorm: number; groups: Record<string, number> }[] };
  kvCache: KvCacheData;
  learning: { losses: number[]; finalLoss: number; colorWeight: number; noiseWeight: number; ratio: number; focused: boolean };
}

const posInt = (d: number, description: string, max = 1 << 16) => s.int({ min: 1, max, default: d, description });

export const valueMatrixConfigSchema = s.object({
  seed: s.int({ min: 0, default: 42, description: 'seed of every random draw' }),
  compression: s.object({
    dModel: posInt(512, 'embedding width'), dV: posInt(64, 'value width'), nTokens: posInt(10, 'tokens'),
    energyThreshold: s.number({ min: 0, max: 1, exclusiveMin: true, default: 0.95, description: 'energy share for the effective rank' }),
  }, { default: {} }),
  multihead: s.object({
    dModel: posInt(512, 'embedding width'), nTokens: posInt(20, 'tokens'), heads: posInt(8, 'heads', 64), headDim: posInt(64, 'width per head'),
  }, { default: {} }),
  retrieval: s.object({
    nTokens: s.int({ min: 6, max: 4096, default: 8, description: 'tokens (0–1 person, 2–3 location, 4–5 action, rest noise)' }),
    dV: s.int({ min: 4, max: 4096, default: 64, description: 'value width (multiple of 4)' }),
    noiseStd: s.number({ min: 0, default: 0.1, description: 'std of the noise rows' }),
  }, { default: {} }),
  kvCache: kvCacheSectionSchema,
  learning: s.object({
    dModel: posInt(16, 'embedding width'), dV: posInt(4, 'compressed width'), nSamples: posInt(100, 'samples'),
    colorDims: posInt(3, 'leading colour dimensions to remember'), epochs: posInt(500, 'full-batch Adam steps', 1e6),
    lr: s.number({ min: 0, exclusiveMin: true, default: 0.01, description: 'Adam learning rate' }),
  }, { default: {} }),
});

export const valueMatrixDataSchema = s.object({
  compression: s.object({
    compressionRatio: s.number(), mse: s.number(), relativeError: s.number(), expectedRelativeError: s.number(),
    spectrum: s.array(s.number()), effectiveRank: s.int(), entropyEffectiveRank: s.number(), maxRank: s.int(),
  }),
  multihead: s.object({ meanAbsCorrelation: s.number(), pairs: s.int(), diverse: s.boolean(), singleHeadDims: s.int(), multiHeadDims: s.int() }),
  retrieval: s.object({ patterns: s.array(s.object({ name: s.string(), weights: s.array(s.number()), outputNorm: s.number(), groups: s.record(s.number()) })) }),
  kvCache: kvCacheDataSchema,
  learning: s.object({
    losses: s.array(s.number()), finalLoss: s.number(), colorWeight: s.number(), noiseWeight: s.number(), ratio: s.number(), focused: s.boolean(),
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
  try {
    const err = await pinvReconstructionError(X, W);
    const spec = await singularSpectrum(W);
    const spectrum = Array.from(await spec.data());
    spec.dispose();
    const effectiveRank = await energyEffectiveRank(W, energyThreshold);
    return {
      compressionRatio: dModel / dV, mse: err.mse, relativeError: err.relativeError,
      expectedRelativeError: Math.max(0, 1 - Math.min(dV, dModel) / dModel),
      spectrum, effectiveRank, entropyEffectiveRank: await entropyEffectiveRank(W), maxRank: Math.min(dModel, dV),
    };
  } finally {
    tf.dispose([X, W]);
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
    return { meanAbsCorrelation: corr.meanAbs, pairs: corr.pairs, diverse: corr.diverse, singleHeadDims: heads * headDim, multiHeadDims: heads * headDim };
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
    const weights = await W.array() as number[][];
    return { patterns: names.map((name, i) => ({ name, weights: weights[i]!, outputNorm: norms[i]!.total, groups: norms[i]!.groups })) };
  } finally {
    tf.dispose([V, W, ...Object.values(patterns)]);
  }
}

async function learning(c: ValueMatrixConfig, ctx: RunContext): Promise<ValueMatrixData['learning']> {
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
      onEvent: (e) => { if (e.type === 'progress') ctx.onEvent?.({ type: 'progress', phase: 'learning', done: e.completed, total: e.steps, rate: e.stepsPerSecond, loss: e.loss }); },
    });
    const losses = result.history.loss.value;
    const w = await params.wV.array() as number[][];
    const rowNorm = (r: number[]) => Math.sqrt(r.reduce((a, x) => a + x * x, 0));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const colorWeight = mean(w.slice(0, colorDims).map(rowNorm));
    const noiseWeight = mean(w.slice(colorDims).map(rowNorm));
    const ratio = colorWeight / noiseWeight;
    return { losses, finalLoss: losses[losses.length - 1] ?? NaN, colorWeight, noiseWeight, ratio, focused: ratio > 1.5 };
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
        kind: 'line', title: `Singular values of W_V (effective rank ${d.compression.effectiveRank} of ${d.compression.maxRank})`,
        x: { label: 'index' }, y: { label: 'singular value' },
        series: [{ name: 'σ', x: d.compression.spectrum.map((_, i) => i + 1), y: d.compression.spectrum, markers: true }],
      } as FigureSpec,
    },
    {
      id: 'retrieval',
      spec: {
        kind: 'bar', title: 'What each attention pattern retrieves (‖output‖ per dimension group)', yLabel: 'norm',
        categories: d.retrieval.patterns.map((p) => p.name),
        groups: Object.keys(d.retrieval.patterns[0]?.groups ?? {}).map((g) => ({ name: g, values: d.retrieval.patterns.map((p) => p.groups[g]!) })),
      } as FigureSpec,
    },
    ...kvCacheFigures(d.kvCache),
    {
      id: 'learning',
      spec: {
        kind: 'line', title: `Learning to compress colour (weight ratio ${d.learning.ratio.toFixed(2)}×)`,
        x: { label: 'epoch' }, y: { label: 'MSE', scale: 'log' },
        series: [{ name: 'training loss', x: d.learning.losses.map((_, i) => i), y: d.learning.losses }],
      } as FigureSpec,
    },
    {
      id: 'summary',
      spec: {
        kind: 'table', title: 'Value matrix experiments (seed 000)', columns: ['quantity', 'value'],
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

/** Seed 000: the value matrix as lossy compression, multi-head storage, retrieval, KV-cache memory and learned compression. */
export const valueMatrix: Experiment<ValueMatrixConfig, ValueMatrixData> = {
  id: 'value-matrix',
  title: 'Value-matrix playground',
  summary: 'Seed 000: compression through W_V (pinv reconstruction, spectrum, effective rank), head diversity, retrieval by attention pattern, KV-cache memory, learned compression.',
  configSchema: valueMatrixConfigSchema,
  dataSchema: valueMatrixDataSchema,
  presets: { seed: defaults(), quick: defaults() },
  async run(config, ctx = {}): Promise<ExperimentResult<ValueMatrixConfig, ValueMatrixData>> {
    const meta = startMeta();
    const phase = (p: string, message: string) => { throwIfAborted(ctx.signal); ctx.onEvent?.({ type: 'phase', phase: p, message }); };
    phase('compression', 'Experiment 1: value matrix as lossy compression');
    const c1 = await compression(config);
    phase('multihead', 'Experiment 2: multi-head value storage');
    const c2 = await multihead(config);
    phase('retrieval', 'Experiment 3: retrieval under four attention patterns');
    const c3 = await retrieval(config);
    phase('kv-cache', 'Experiment 4: KV-cache memory');
    const c4 = kvCacheSection.compute(config.kvCache);
    phase('learning', 'Experiment 5: learning value compression');
    const c5 = await learning(config, ctx);
    const data: ValueMatrixData = { compression: c1, multihead: c2, retrieval: c3, kvCache: c4, learning: c5 };
    return { experiment: 'value-matrix', schemaVersion: RESULT_SCHEMA_VERSION, config, data, figures: figures(data), meta: meta.finish({ aborted: Boolean(ctx.signal?.aborted) }) };
  },
};

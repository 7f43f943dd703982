import * as tf from '@tensorflow/tfjs-core';
import { attentionSteps } from '@attnlab/attention';
import { Rng } from '@attnlab/data';
import type { FigureSpec } from '@attnlab/plot';
import { RESULT_SCHEMA_VERSION, type Experiment, type ExperimentResult, type NamedFigure } from './experiment.js';
import { startMeta, toJsonMatrix } from './meta.js';
import { ConfigError, s, type Infer } from './schema.js';

/** Seed 002's complete-attention example: three tokens, d_k = 4. */
export const SEED_002 = {
  tokens: ['Me', 'against', 'the'],
  q: [
    [1, 0, 1, 0],
    [0, 1, 0, 1],
    [1, 1, 0, 0],
  ],
  k: [
    [1, 0, 0, 1],
    [0, 1, 1, 0],
    [1, 0, 1, 1],
  ],
  v: [
    [1, 2, 3, 4],
    [0.5, 1.5, 2.5, 3.5],
    [2, 1, 4, 3],
  ],
};

/** Seed 001's toy embeddings for "The dog ran quickly around the". */
export const SEED_001 = {
  tokens: ['The', 'dog', 'ran', 'quickly', 'around', 'the'],
  embeddings: [
    [0.3, 0.2, 0.1],
    [0.5, 0.1, 0.3],
    [0.8, 0.4, 0.2],
    [0.2, 0.7, 0.1],
    [0.2, 0.7, 0.1],
    [0.3, 0.2, 0.1],
  ],
};

type Matrix = (number | null)[][];
export interface WalkthroughHead {
  q: Matrix;
  k: Matrix;
  v: Matrix;
  scores: Matrix;
  scaledScores: Matrix;
  maskedScores: Matrix;
  weights: Matrix;
  output: Matrix;
  /** true = may attend */
  mask: boolean[][];
}
export interface WalkthroughData {
  tokens: string[];
  scale: number;
  heads: WalkthroughHead[];
  /** Per-head outputs side by side `[T, H·headDim]` (equal to the single head's output in qkv mode). */
  concat: Matrix;
  /** W_O `[H·headDim, dModel]` and the projected output `[T, dModel]` (embeddings mode; null in qkv mode). */
  wO: Matrix | null;
  projected: Matrix | null;
}

const nullableMatrix = s.array(s.array(s.nullable(s.number())));

export const walkthroughConfigSchema = s.object({
  mode: s.enum(['qkv', 'embeddings'], {
    default: 'qkv',
    description: 'qkv: given Q, K, V (seed 002); embeddings: project token embeddings (seed 001)',
  }),
  tokens: s.array(s.string({ minLength: 1 }), {
    minItems: 1,
    maxItems: 64,
    optional: true,
    description: "token labels, one per row (default: the mode's seed example)",
  }),
  q: s.array(s.array(s.number()), { description: 'query rows [T][dk] (qkv mode)' }),
  k: s.array(s.array(s.number()), { description: 'key rows [T][dk] (qkv mode)' }),
  v: s.array(s.array(s.number()), { description: 'value rows [T][dv] (qkv mode)' }),
  embeddings: s.array(s.array(s.number()), { description: 'token embeddings [T][dModel] (embeddings mode)' }),
  heads: s.int({ min: 1, max: 16, default: 2, description: 'heads (embeddings mode)' }),
  headDim: s.int({ min: 1, max: 256, default: 2, description: 'width of each head (embeddings mode)' }),
  causal: s.boolean({ default: true, description: 'mask future tokens (token i sees j ≤ i)' }),
  seed: s.int({ min: 0, default: 0, description: 'seed of the random projections (embeddings mode)' }),
});

/** The config of a walkthrough: derived from {@link walkthroughConfigSchema}. */
export type WalkthroughConfig = Infer<typeof walkthroughConfigSchema>;

const headSchema = s.object({
  q: nullableMatrix,
  k: nullableMatrix,
  v: nullableMatrix,
  scores: nullableMatrix,
  scaledScores: nullableMatrix,
  maskedScores: nullableMatrix,
  weights: nullableMatrix,
  output: nullableMatrix,
  mask: s.array(s.array(s.boolean())),
});
export const walkthroughDataSchema = s.object({
  tokens: s.array(s.string()),
  scale: s.number(),
  heads: s.array(headSchema, { minItems: 1 }),
  concat: nullableMatrix,
  wO: s.nullable(nullableMatrix),
  projected: s.nullable(nullableMatrix),
});

const defaults: WalkthroughConfig = {
  mode: 'qkv',
  q: SEED_002.q,
  k: SEED_002.k,
  v: SEED_002.v,
  embeddings: SEED_001.embeddings,
  heads: 2,
  headDim: 2,
  causal: false,
  seed: 0,
};

function rectangular(name: string, m: number[][], rows: number): number {
  if (m.length !== rows)
    throw new ConfigError(`config.${name}`, `${rows} rows (one per token)`, m, `must have ${rows} rows, one per token`);
  const cols = m[0]?.length ?? 0;
  if (cols < 1) throw new ConfigError(`config.${name}`, 'non-empty rows', m, 'rows must not be empty');
  m.forEach((r, i) => {
    if (r.length !== cols)
      throw new ConfigError(
        `config.${name}[${i}]`,
        `${cols} numbers like row 0`,
        r,
        `must have ${cols} numbers like row 0`,
      );
  });
  return cols;
}

async function headResult(
  steps: ReturnType<typeof attentionSteps>,
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  T: number,
): Promise<WalkthroughHead> {
  const maskVals = steps.mask ? await steps.mask.data() : undefined;
  const mask = Array.from({ length: T }, (_, i) =>
    Array.from({ length: T }, (_, j) => (maskVals ? Boolean(maskVals[i * T + j]) : true)),
  );
  return {
    q: await toJsonMatrix(q),
    k: await toJsonMatrix(k),
    v: await toJsonMatrix(v),
    scores: await toJsonMatrix(steps.scores),
    scaledScores: await toJsonMatrix(steps.scaledScores),
    maskedScores: await toJsonMatrix(steps.maskedScores),
    weights: await toJsonMatrix(steps.weights),
    output: await toJsonMatrix(steps.output),
    mask,
  };
}

function weightFigures(data: WalkthroughData): NamedFigure[] {
  const masked = (h: WalkthroughHead) => h.mask.map((row) => row.map((ok) => !ok));
  const figs: NamedFigure[] = [
    {
      id: 'weights',
      spec: {
        kind: 'heatmap-grid',
        title: 'Attention weights softmax(QKᵀ/√d) per head',
        scale: 'sequential',
        domain: [0, 1],
        xLabel: 'key',
        yLabel: 'query',
        colorbarLabel: 'weight',
        showValues: true,
        panels: data.heads.map((h, i) => ({
          title: data.heads.length > 1 ? `head ${i + 1}` : 'weights',
          values: h.weights.map((r) => r.map((x) => x ?? 0)),
          rowLabels: data.tokens,
          colLabels: data.tokens,
          masked: masked(h),
        })),
      } as FigureSpec,
    },
    {
      id: 'scores',
      spec: {
        kind: 'heatmap-grid',
        title: 'Scaled scores QKᵀ/√d (masked cells hatched)',
        xLabel: 'key',
        yLabel: 'query',
        showValues: true,
        panels: data.heads.map((h, i) => ({
          title: data.heads.length > 1 ? `head ${i + 1}` : 'scaled scores',
          values: h.scaledScores.map((r) => r.map((x) => x ?? 0)),
          rowLabels: data.tokens,
          colLabels: data.tokens,
          masked: masked(h),
        })),
      } as FigureSpec,
    },
  ];
  const out = data.projected ?? data.concat;
  figs.push({
    id: 'output',
    spec: {
      kind: 'heatmap',
      title: data.projected ? 'Output: concat(heads) · W_O' : 'Output: weights · V',
      showValues: true,
      values: out.map((r) => r.map((x) => x ?? 0)),
      rowLabels: data.tokens,
      xLabel: 'dimension',
      yLabel: 'token',
    } as FigureSpec,
  });
  return figs;
}

/**
 * Seeds 001 and 002 step by step: scores QKᵀ → ÷√d → mask → softmax → ·V per head, concatenation and
 * output projection, every intermediate returned.
 */
export const attentionWalkthrough: Experiment<WalkthroughConfig, WalkthroughData> = {
  id: 'attention-walkthrough',
  title: 'Attention walkthrough',
  summary:
    'Q, K, V → scores → scaled → masked → softmax → weighted values, per head, with concatenation and W_O (seeds 001, 002).',
  configSchema: walkthroughConfigSchema,
  dataSchema: walkthroughDataSchema,
  presets: { quick: defaults, seed: defaults },
  async run(config: WalkthroughConfig): Promise<ExperimentResult<WalkthroughConfig, WalkthroughData>> {
    const meta = startMeta();
    // Each mode's own example unless tokens are given (seed 002 has three tokens, seed 001 six).
    const tokens = config.tokens ?? (config.mode === 'qkv' ? SEED_002.tokens : SEED_001.tokens);
    const T = tokens.length;
    const heads: WalkthroughHead[] = [];
    let concat: Matrix;
    let wO: Matrix | null = null;
    let projected: Matrix | null = null;
    let scale: number;
    if (config.mode === 'qkv') {
      const dk = rectangular('q', config.q, T);
      if (rectangular('k', config.k, T) !== dk)
        throw new ConfigError(
          'config.k',
          `rows of ${dk} numbers (as q)`,
          config.k[0],
          `rows must have ${dk} numbers, as q`,
        );
      rectangular('v', config.v, T);
      scale = 1 / Math.sqrt(dk);
      const [q, k, v] = [tf.tensor2d(config.q), tf.tensor2d(config.k), tf.tensor2d(config.v)];
      const steps = attentionSteps(q, k, v, { causal: config.causal });
      try {
        heads.push(await headResult(steps, q, k, v, T));
      } finally {
        tf.dispose([
          q,
          k,
          v,
          steps.scores,
          steps.scaledScores,
          steps.maskedScores,
          steps.weights,
          steps.output,
          ...(steps.mask ? [steps.mask] : []),
        ]);
      }
      concat = heads[0]!.output;
    } else {
      const dModel = rectangular('embeddings', config.embeddings, T);
      const { heads: H, headDim } = config;
      scale = 1 / Math.sqrt(headDim);
      const rng = new Rng(config.seed);
      // Xavier-like scale keeps the toy scores in a readable range.
      const draw = (rows: number, cols: number) =>
        tf.tensor2d(
          Array.from(rng.normal(rows * cols), (x) => x / Math.sqrt(rows)),
          [rows, cols],
        );
      const X = tf.tensor2d(config.embeddings);
      const outs: tf.Tensor[] = [];
      try {
        for (let h = 0; h < H; h++) {
          const [wq, wk, wv] = [draw(dModel, headDim), draw(dModel, headDim), draw(dModel, headDim)];
          const [q, k, v] = [tf.matMul(X, wq), tf.matMul(X, wk), tf.matMul(X, wv)];
          const steps = attentionSteps(q, k, v, { causal: config.causal });
          heads.push(await headResult(steps, q, k, v, T));
          outs.push(steps.output);
          tf.dispose([
            wq,
            wk,
            wv,
            q,
            k,
            v,
            steps.scores,
            steps.scaledScores,
            steps.maskedScores,
            steps.weights,
            ...(steps.mask ? [steps.mask] : []),
          ]);
        }
        const cat = tf.concat(outs, 1);
        const W = draw(H * headDim, dModel);
        const proj = tf.matMul(cat, W);
        concat = await toJsonMatrix(cat);
        wO = await toJsonMatrix(W);
        projected = await toJsonMatrix(proj);
        tf.dispose([cat, W, proj]);
      } finally {
        tf.dispose([X, ...outs]);
      }
    }
    const data: WalkthroughData = { tokens: [...tokens], scale, heads, concat, wO, projected };
    return {
      experiment: 'attention-walkthrough',
      schemaVersion: RESULT_SCHEMA_VERSION,
      config,
      data,
      figures: weightFigures(data),
      meta: meta.finish(),
    };
  },
};

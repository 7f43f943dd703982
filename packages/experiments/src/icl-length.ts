/**
 * Length generalisation (He, Pan, Chen & Yang, ICML 2025, "softmax attention generalises to prompts
 * longer than those seen in training, linear attention does not"): models trained at one prompt
 * length L evaluated at L = 1 … maxL, softmax attention beside linear attention. A thin composition of
 * icl-regression: each attention is one icl-regression run (same data, seed and evaluation tasks),
 * and this experiment puts their error-vs-L curves side by side with the estimators the paper
 * compares against.
 */
import { ICL_ATTENTION_KINDS } from '@attnlab/attention';
import type { FigureSpec } from '@attnlab/plot';
import {
  RESULT_SCHEMA_VERSION,
  type Claim,
  type Experiment,
  type ExperimentResult,
  type NamedFigure,
} from './experiment.js';
import {
  debiasedGdAtTrainingStep,
  estimateIcl,
  evaluatedLengths,
  iclConfigSchema,
  iclDataSchema,
  iclRegression,
  type IclConfig,
  type IclData,
} from './icl-regression.js';
import { checkpointScopes } from './checkpoint-scopes.js';
import { startMeta, throwIfAborted } from './meta.js';
import { ConfigError, s, type Infer } from './schema.js';

const { attention: _a, headCounts: _h, ...iclFields } = iclConfigSchema.fields;

/** The config of an icl-length run: icl-regression's fields (one head count) and the attentions to compare. */
export const iclLengthConfigSchema = s.object({
  ...iclFields,
  attentions: s.array(s.enum(ICL_ATTENTION_KINDS), {
    minItems: 1,
    maxItems: 3,
    default: ['softmax', 'linear', 'linear-unnormalised'],
    description:
      "attentions to train and compare: 'softmax' (the seed), 'linear' (scores/L, no softmax), 'linear-unnormalised' (scores, no softmax)",
  }),
});
export type IclLengthConfig = Infer<typeof iclLengthConfigSchema>;

/** Where a trained model stands at the training length and at the longest evaluated one. */
export interface IclLengthSummary {
  attention: string;
  /** MSE at the evaluated length nearest the training L. */
  atTrain: number;
  /** MSE at the longest evaluated length. */
  atMax: number;
  /** The same, each over the Bayes-optimal ridge at that length (1 = Bayes-optimal). */
  ratioAtTrain: number;
  ratioAtMax: number;
}

export interface IclLengthData {
  trainL: number;
  /** One icl-regression result's data per attention, in `attentions` order. */
  runs: { attention: string; data: IclData }[];
  summary: IclLengthSummary[];
}

const iclLengthDataSchema = s.object({
  trainL: s.int(),
  runs: s.array(s.object({ attention: s.string(), data: iclDataSchema }), { minItems: 1 }),
  summary: s.array(
    s.object({
      attention: s.string(),
      atTrain: s.number(),
      atMax: s.number(),
      ratioAtTrain: s.number(),
      ratioAtMax: s.number(),
    }),
  ),
});

/** The series name of the trained model and of the Bayes-optimal ridge in icl-regression's curves. */
const MODEL_SERIES = 'transformer';
const RIDGE_SERIES = 'ridge (Bayes λ)';

const lengthEvaluation = { maxL: 241, stepL: 10, samples: 1000 };
const base = (p: IclConfig, steps: number, extra: Partial<IclConfig> = {}): IclLengthConfig => {
  const { attention: _x, headCounts: _y, ...rest } = p;
  return {
    ...rest,
    steps,
    evaluation: lengthEvaluation,
    attentions: ['softmax', 'linear', 'linear-unnormalised'],
    ...extra,
  };
};
const presets = {
  // The paper's sampling (noisy targets: every estimator's risk stays above σ², so ratios to ridge are readable).
  quick: base(iclRegression.presets.paper!, 3000, {
    log: iclRegression.presets.quick.log,
    finalValidationSamples: 2000,
    checkpointEvery: 500,
    evaluation: { maxL: 201, stepL: 20, samples: 500 },
  }),
  seed: base(iclRegression.presets.seed, 20000, {
    log: { loss: 100, validation: 1000, dynamics: 1000, qk: 5000 },
    checkpointEvery: 5000,
  }),
  paper: base(iclRegression.presets.paper!, 20000, {
    log: { loss: 100, validation: 1000, dynamics: 1000, qk: 5000 },
  }),
};

/** The summary row of one run: MSE and ratio to ridge at the training length and the longest one. */
function lengthSummary(attention: string, d: IclData, trainL: number): IclLengthSummary {
  const c = d.errorCurves!;
  const model = c.series.find((x) => x.name === MODEL_SERIES)!;
  const ridge = c.series.find((x) => x.name === RIDGE_SERIES)!;
  let iTrain = 0;
  c.contextLengths.forEach((L, i) => {
    if (Math.abs(L - trainL) < Math.abs(c.contextLengths[iTrain]! - trainL)) iTrain = i;
  });
  const iMax = c.contextLengths.length - 1;
  return {
    attention,
    atTrain: model.mse[iTrain]!,
    atMax: model.mse[iMax]!,
    ratioAtTrain: model.mse[iTrain]! / ridge.mse[iTrain]!,
    ratioAtMax: model.mse[iMax]! / ridge.mse[iMax]!,
  };
}

/** The evaluated length nearest the training L (the first of two equally near), as the summary takes it. */
function nearestLength(Ls: readonly number[], L: number): number {
  let best = Ls[0]!;
  for (const x of Ls) if (Math.abs(x - L) < Math.abs(best - L)) best = x;
  return best;
}

/**
 * The paper's length-generalisation claims a run of this config tests: softmax attention keeps
 * debiased GD's error (with the step of its training length) at longer prompts; von Oswald et al.'s
 * unnormalised linear attention does not. The figure of each is every attention's error against L.
 */
export function iclLengthClaims(c: IclLengthConfig): Claim[] {
  if (c.layers !== 1 || c.covarianceRho > 0) return [];
  const Ls = evaluatedLengths(c.evaluation);
  const Lmax = Ls[Ls.length - 1]!;
  const Lt = nearestLength(Ls, c.L);
  const target = c.queryNoise ? 'noisy' : 'noiseless';
  const figure = {
    curves: [...c.attentions.map((a) => `${a} attention`), 'optimal debiased GD', 'ridge (Bayes λ)'],
    theoryCurve: {
      name: 'debiased GD, training step (closed form)',
      at: (L: number) => debiasedGdAtTrainingStep(c, L),
    },
  };
  const out: Claim[] = [];
  if (c.attentions.includes('softmax') && c.heads >= 2)
    out.push(
      {
        id: 'length-softmax-train',
        claim: `softmax attention (H = ${c.heads}) at its training length: debiased GD's risk`,
        metric: 'MSE at training L: softmax',
        theory: debiasedGdAtTrainingStep(c, Lt),
        theoryNote: `debiasedGdRisk at L = ${Lt} with the step optimal at L = ${c.L} (${target} target)`,
        ...figure,
      },
      {
        id: 'length-softmax',
        claim: `softmax attention trained at L = ${c.L} generalises to longer prompts: at L = ${Lmax} it still follows debiased GD with its training step`,
        metric: 'MSE at longest L: softmax',
        theory: debiasedGdAtTrainingStep(c, Lmax),
        theoryNote: `debiasedGdRisk at L = ${Lmax} with the step optimal at L = ${c.L} (${target} target)`,
        ...figure,
      },
    );
  if (c.attentions.includes('linear-unnormalised'))
    out.push({
      id: 'length-linear-unnormalised',
      claim:
        "unnormalised linear attention (von Oswald et al.'s) does not generalise: its error at longer prompts grows many times over ridge's",
      metric: 'ratio to ridge at longest L: linear-unnormalised',
      theory: null,
      theoryNote: `grows with L: an unnormalised sum of L terms overshoots by about L/${c.L}`,
      ...figure,
    });
  if (c.attentions.includes('linear'))
    out.push({
      id: 'length-linear',
      claim: 'linear attention normalised by L (scores/L) generalises too (not a claim of the paper)',
      metric: 'ratio to ridge at longest L: linear',
      theory: null,
      theoryNote: 'a mean over the prompt has no scale to get wrong',
      ...figure,
    });
  return out;
}

/** A finished attention's run as the checkpoint keeps it (its config, so a changed one trains again). */
interface FinishedRun {
  config: IclConfig;
  data: IclData;
  figures: NamedFigure[];
}

const label = (attention: string, heads: number) => `${attention} attention (H=${heads})`;

function figures(
  c: IclLengthConfig,
  d: IclLengthData,
  sub: { attention: string; figures: NamedFigure[] }[],
): NamedFigure[] {
  const first = d.runs[0]!.data.errorCurves!;
  const Ls = first.contextLengths;
  const band = (mse: number[], se: number[]) => ({
    lower: mse.map((m, i) => m - se[i]!),
    upper: mse.map((m, i) => m + se[i]!),
  });
  const models = d.runs.map((r) => ({
    attention: r.attention,
    series: r.data.errorCurves!.series.find((x) => x.name === MODEL_SERIES)!,
  }));
  const references = first.series.filter((x) => x.name !== MODEL_SERIES && !x.name.startsWith('kernel'));
  const ridge = first.series.find((x) => x.name === RIDGE_SERIES)!;
  const figs: NamedFigure[] = [
    {
      id: 'length-generalisation',
      spec: {
        kind: 'line',
        title: `Length generalisation: trained at L = ${c.L}, evaluated at L = ${Ls[0]} … ${Ls[Ls.length - 1]}`,
        x: { label: 'context length L' },
        y: { label: 'MSE', scale: 'log' },
        series: [
          ...models.map((m) => ({
            name: label(m.attention, c.heads),
            x: Ls,
            y: m.series.mse,
            ...band(m.series.mse, m.series.stderr),
          })),
          ...references.map((r) => ({ name: r.name, x: Ls, y: r.mse, dashed: true })),
        ],
      } as FigureSpec,
    },
    {
      id: 'length-ratio',
      spec: {
        kind: 'line',
        title: 'MSE over the Bayes-optimal ridge at each L (1 = Bayes-optimal)',
        x: { label: 'context length L' },
        y: { label: 'MSE / ridge (Bayes λ) MSE' },
        series: models.map((m) => ({
          name: label(m.attention, c.heads),
          x: Ls,
          y: m.series.mse.map((v, i) => v / ridge.mse[i]!),
        })),
      } as FigureSpec,
    },
    {
      id: 'length-summary',
      spec: {
        kind: 'table',
        title: `At the training length (L = ${c.L}) and the longest (L = ${Ls[Ls.length - 1]})`,
        columns: [
          'attention',
          'engine',
          'MSE at training L',
          'MSE at longest L',
          'ratio to ridge at training L',
          'ratio to ridge at longest L',
        ],
        rows: d.summary.map((x, i) => [
          x.attention,
          d.runs[i]!.data.runs[0]!.engine.name,
          round(x.atTrain),
          round(x.atMax),
          round(x.ratioAtTrain),
          round(x.ratioAtMax),
        ]),
      } as FigureSpec,
    },
  ];
  // Each run's own figures (loss, circuits, theory), named by its attention.
  for (const r of sub)
    for (const f of r.figures)
      if (f.id !== 'error-curves')
        figs.push({
          id: `${r.attention}-${f.id}`,
          spec: { ...f.spec, title: `${r.attention} attention: ${f.spec.title ?? ''}` } as FigureSpec,
        });
  return figs;
}

const round = (x: number) => Number(x.toFixed(4));

/**
 * Length generalisation, softmax against linear attention: one icl-regression run per attention
 * (trained at `L`, evaluated on the same tasks up to `evaluation.maxL`). Resumable: with a checkpoint
 * store each attention's run checkpoints in its own namespace and a finished one's result is kept, so
 * a stopped run continues inside the attention it was training and ends as an uninterrupted one.
 * @example
 * const r = await iclLength.run(iclLength.presets.quick);
 * r.data.summary; // [{ attention: 'softmax', ratioAtMax: … }, { attention: 'linear', … }]
 */
export const iclLength: Experiment<IclLengthConfig, IclLengthData> = {
  id: 'icl-length',
  title: 'Length generalisation: softmax vs linear attention (He et al. 2025)',
  summary:
    'Train one-layer multi-head softmax and linear attention at one prompt length and compare their error at longer prompts with debiased GD, one-step GD and ridge.',
  configSchema: iclLengthConfigSchema,
  dataSchema: iclLengthDataSchema,
  presets,
  estimate: (c) => {
    const { attentions: _x, ...rest } = c;
    return estimateIcl({ ...rest, attention: 'softmax', headCounts: [] });
  },
  claims: iclLengthClaims,
  async run(config, ctx = {}): Promise<ExperimentResult<IclLengthConfig, IclLengthData>> {
    const meta = startMeta();
    if (config.evaluation.samples < 1)
      throw new ConfigError(
        'config.evaluation.samples',
        'at least 1',
        config.evaluation.samples,
        'must be ≥ 1: the error-vs-L curves are what this experiment compares',
      );
    const { attentions, ...rest } = config;
    // One checkpoint namespace per attention (its icl-regression run's), and each finished run's result.
    const scopes = ctx.checkpoints ? await checkpointScopes(ctx.checkpoints, 'icl-length') : undefined;
    const runs: IclLengthData['runs'] = [];
    const sub: { attention: string; figures: NamedFigure[] }[] = [];
    let aborted = false;
    let resumedFrom: number | undefined;
    for (const attention of attentions) {
      throwIfAborted(ctx.signal);
      const subConfig: IclConfig = { ...rest, attention, headCounts: [] };
      const kept = scopes?.get(`${attention}/result`);
      const done = kept ? (JSON.parse(new TextDecoder().decode(kept)) as FinishedRun) : undefined;
      let r: FinishedRun & { aborted: boolean };
      if (done && JSON.stringify(done.config) === JSON.stringify(subConfig)) r = { ...done, aborted: false };
      else {
        const res = await iclRegression.run(subConfig, {
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          onEvent: (e) => ctx.onEvent?.({ ...e, phase: `${attention}: ${e.phase}` }),
          ...(scopes ? { checkpoints: scopes.scope(`${attention}/train`) } : {}),
        });
        r = { config: subConfig, data: res.data, figures: res.figures, aborted: res.meta.aborted };
        if (scopes?.resumed && resumedFrom === undefined) resumedFrom = res.meta.resumedFrom ?? 0;
        if (scopes && !res.meta.aborted)
          await scopes.set(
            `${attention}/result`,
            new TextEncoder().encode(JSON.stringify({ config: r.config, data: r.data, figures: r.figures })),
          );
      }
      runs.push({ attention, data: r.data });
      sub.push({ attention, figures: r.figures });
      if (r.aborted || !r.data.errorCurves) {
        aborted = r.aborted;
        break;
      }
    }
    const complete = !aborted && runs.length === attentions.length && runs.every((r) => r.data.errorCurves);
    const data: IclLengthData = {
      trainL: config.L,
      runs,
      summary: complete ? runs.map((r) => lengthSummary(r.attention, r.data, config.L)) : [],
    };
    return {
      experiment: 'icl-length',
      schemaVersion: RESULT_SCHEMA_VERSION,
      config,
      data,
      figures: complete
        ? figures(config, data, sub)
        : sub.flatMap((r) => r.figures.map((f) => ({ ...f, id: `${r.attention}-${f.id}` }))),
      meta: meta.finish({ aborted, ...(resumedFrom !== undefined ? { resumedFrom } : {}) }),
    };
  },
};

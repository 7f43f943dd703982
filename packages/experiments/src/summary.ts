/**
 * What a run found, in a few lines: the key numbers of each experiment's result, as [label, value]
 * rows that the CLI prints, report.html tabulates and the web lab can show. Presentation only:
 * every number comes from the result.
 */
import type { ExperimentResult } from './experiment.js';
import { iclTheoryComparison, type IclConfig } from './icl-regression.js';

/** A number in about 4 significant digits (exponent form below 1e-3 and from 1e5). */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return Number(v.toPrecision(4)).toExponential();
  return Number(v.toPrecision(4)).toString();
}

type Cell = string | number | boolean | null | undefined;
const fmt = (v: Cell): string =>
  v === null || v === undefined
    ? '–'
    : typeof v === 'number'
      ? Number.isSafeInteger(v)
        ? String(v)
        : formatValue(v)
      : String(v);
const list = (xs: number[]): string => xs.map((x) => formatValue(x)).join(', ');
const last = <T>(xs: readonly T[]): T | undefined => xs[xs.length - 1];

interface IclRun {
  heads: number;
  completedSteps: number;
  stepsPerSecond: number;
  engine: { name: string; reason: string };
  loss: { value: (number | null)[] };
  validation: { value: (number | null)[] };
  statistics: { layer: number; head: number; w: number; mu: number }[];
  finalValidation: { samples: number; mse: number; stderr: number } | null;
  dummyHeads: { layer: number; head: number }[];
  gdAlignment?: { samples: number; gradientCosine: number; relativePredictionDifference: number | null } | null;
  preconditionedGdAlignment?: { gradientCosine: number; relativePredictionDifference: number | null } | null;
}

/**
 * The key numbers of a result as numbers, for tables over many runs (a sweep's rows and its mean ±
 * standard error over seeds): the numeric ones among {@link keyNumbers}, under the same labels
 * (`final training loss`, `MSE at L=201: transformer`, …), plus `duration (s)`. Missing or
 * non-finite values are null.
 */
export function metricNumbers(result: ExperimentResult): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const put = (k: string, v: unknown): void => {
    out[k] = typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const d = result.data as Record<string, unknown>;
  try {
    switch (result.experiment) {
      case 'icl-regression': {
        const runs = d.runs as IclRun[];
        for (const r of runs) {
          const tag = runs.length > 1 ? ` (H=${r.heads})` : '';
          put(`final training loss${tag}`, last(r.loss.value));
          put(`last validation loss${tag}`, last(r.validation.value));
          if (r.finalValidation) put(`final validation MSE${tag}`, r.finalValidation.mse);
          put(`steps/s${tag}`, r.stepsPerSecond);
          // The paper's measures: the GD step the heads implement, and the gradient alignment with GD.
          const st = r.statistics.filter((x) => x.layer === 0);
          // One head: where it settles (the exact single-head optimum, not 1/√d).
          if (st.length === 1) {
            put(`|w^h|${tag}`, Math.abs(st[0]!.w));
            put(`|μ^h|${tag}`, Math.abs(st[0]!.mu));
          }
          if (st.length > 1) {
            put(
              `Σ μ^h${tag}`,
              st.reduce((a, x) => a + x.mu, 0),
            );
            put(
              `Σ w^h μ^h${tag}`,
              st.reduce((a, x) => a + x.w * x.mu, 0),
            );
          }
          if (r.gdAlignment) put(`cos(∂ŷ/∂x_q) with debiased GD${tag}`, r.gdAlignment.gradientCosine);
          if (r.preconditionedGdAlignment)
            put(`cos(∂ŷ/∂x_q) with Σ⁻¹-preconditioned GD${tag}`, r.preconditionedGdAlignment.gradientCosine);
        }
        const ec = d.errorCurves as { contextLengths: number[]; series: { name: string; mse: number[] }[] } | null;
        if (ec && ec.contextLengths.length)
          for (const sr of ec.series) put(`MSE at L=${last(ec.contextLengths)}: ${sr.name}`, last(sr.mse));
        break;
      }
      case 'icl-multitask': {
        for (const t of d.tasks as { task: number; mse: number; step: number; muSum: number }[]) {
          put(`task ${t.task + 1}: validation MSE`, t.mse);
          put(`task ${t.task + 1}: Σ w^h μ^h`, t.step);
          put(`task ${t.task + 1}: Σ μ^h`, t.muSum);
        }
        put('superposed heads', (d.superposed as number[]).length);
        break;
      }
      case 'icl-length': {
        for (const x of d.summary as { attention: string; atTrain: number; atMax: number; ratioAtMax: number }[]) {
          put(`MSE at training L: ${x.attention}`, x.atTrain);
          put(`MSE at longest L: ${x.attention}`, x.atMax);
          put(`ratio to ridge at longest L: ${x.attention}`, x.ratioAtMax);
        }
        break;
      }
      case 'value-matrix': {
        const c = d.compression as { compressionRatio: number; relativeError: number; effectiveRank: number };
        const m = d.multihead as { meanAbsCorrelation: number };
        const l = d.learning as { finalLoss: number; ratio: number };
        put('compression ratio d_model/d_v', c.compressionRatio);
        put('reconstruction relative error', c.relativeError);
        put('effective rank (95% energy)', c.effectiveRank);
        put('mean |head correlation|', m.meanAbsCorrelation);
        put('learned compression: final loss', l.finalLoss);
        put('learned colour/noise weight ratio', l.ratio);
        break;
      }
      default:
        break;
    }
  } catch {
    // An unexpected data shape: only the generic number below.
  }
  put('duration (s)', result.meta.durationMs / 1000);
  return out;
}

type IclCurves = { contextLengths: number[]; series: { name: string; mse: number[] }[] };

/**
 * Curves of a result that a sweep averages pointwise over seeds: icl-regression's error against
 * context length, one per estimator (`transformer`, `ridge (Bayes λ)`, …); icl-length's, one per
 * attention (`softmax attention`, …) and per estimator.
 */
export function metricCurves(result: ExperimentResult): Record<string, { x: number[]; y: number[] }> {
  if (result.experiment === 'icl-length') {
    // Each attention's trained model, and the estimators once (every run evaluates the same tasks).
    const runs = (result.data as { runs: { attention: string; data: { errorCurves: IclCurves | null } }[] }).runs;
    const out: Record<string, { x: number[]; y: number[] }> = {};
    runs.forEach((r, i) => {
      const ec = r.data.errorCurves;
      if (!ec) return;
      for (const sr of ec.series)
        if (sr.name === 'transformer') out[`${r.attention} attention`] = { x: [...ec.contextLengths], y: [...sr.mse] };
        else if (i === 0 && !sr.name.startsWith('kernel')) out[sr.name] = { x: [...ec.contextLengths], y: [...sr.mse] };
    });
    return out;
  }
  if (result.experiment !== 'icl-regression') return {};
  const ec = (result.data as { errorCurves?: { contextLengths: number[]; series: { name: string; mse: number[] }[] } })
    .errorCurves;
  if (!ec) return {};
  return Object.fromEntries(ec.series.map((sr) => [sr.name, { x: [...ec.contextLengths], y: [...sr.mse] }]));
}

/**
 * The key numbers of a result: `[label, value]` rows.
 * @example
 * keyNumbers(result); // [['steps', '3000 of 3000 at 3800 steps/s'], ['engine', 'simd (2 threads): …'], …]
 */
export function keyNumbers(result: ExperimentResult): [string, string][] {
  const rows: [string, string][] = [];
  const d = result.data as Record<string, unknown>;
  try {
    switch (result.experiment) {
      case 'icl-regression': {
        const runs = d.runs as IclRun[];
        const c = result.config as { steps: number; d: number };
        for (const r of runs) {
          const tag = runs.length > 1 ? ` (H=${r.heads})` : '';
          rows.push([`steps${tag}`, `${r.completedSteps} of ${c.steps} at ${formatValue(r.stepsPerSecond)} steps/s`]);
          rows.push([`engine${tag}`, `${r.engine.name} — ${r.engine.reason.replace(/^[a-z0-9]+: /, '')}`]);
          rows.push([`final training loss${tag}`, fmt(last(r.loss.value))]);
          rows.push([`last validation loss${tag}`, fmt(last(r.validation.value))]);
          if (r.finalValidation)
            rows.push([
              `final validation MSE${tag}`,
              `${formatValue(r.finalValidation.mse)} ± ${formatValue(r.finalValidation.stderr)} (${r.finalValidation.samples} tasks)`,
            ]);
          rows.push([`w^h${tag}`, list(r.statistics.map((x) => x.w))]);
          rows.push([`μ^h${tag}`, list(r.statistics.map((x) => x.mu))]);
          if (r.gdAlignment)
            rows.push([
              `against debiased GD${tag}`,
              `cos(∂ŷ/∂x_q) ${formatValue(r.gdAlignment.gradientCosine)}, relative prediction difference ${r.gdAlignment.relativePredictionDifference === null ? 'n/a' : formatValue(r.gdAlignment.relativePredictionDifference)} (${r.gdAlignment.samples} tasks)`,
            ]);
          if (r.preconditionedGdAlignment)
            rows.push([
              `against Σ⁻¹-preconditioned GD${tag}`,
              `cos(∂ŷ/∂x_q) ${formatValue(r.preconditionedGdAlignment.gradientCosine)}, relative prediction difference ${r.preconditionedGdAlignment.relativePredictionDifference === null ? 'n/a' : formatValue(r.preconditionedGdAlignment.relativePredictionDifference)}`,
            ]);
          if (r.statistics.length > 1)
            rows.push([`dummy heads${tag}`, r.dummyHeads.map((h) => `L${h.layer}h${h.head}`).join(', ') || 'none']);
        }
        for (const r of runs) {
          const tag = runs.length > 1 ? ` (H=${r.heads})` : '';
          for (const x of iclTheoryComparison(result.config as IclConfig, r))
            rows.push([
              `theory${tag}: ${x.quantity}`,
              `${typeof x.theory === 'number' ? formatValue(x.theory) : x.theory} (trained ${typeof x.trained === 'number' ? formatValue(x.trained) : (x.trained ?? 'n/a')})`,
            ]);
        }
        const ec = d.errorCurves as { contextLengths: number[]; series: { name: string; mse: number[] }[] } | null;
        if (ec && ec.contextLengths.length) {
          for (const sr of ec.series) rows.push([`MSE at L=${last(ec.contextLengths)}: ${sr.name}`, fmt(last(sr.mse))]);
        }
        break;
      }
      case 'icl-multitask': {
        const th = d.theory as { step: number; risk: number; target: string };
        rows.push(['engine', `${(d.engine as { name: string }).name}`]);
        for (const t of d.tasks as {
          task: number;
          mse: number;
          stderr: number;
          step: number;
          muSum: number;
          heads: number[];
        }[])
          rows.push([
            `task ${t.task + 1}`,
            `MSE ${fmt(t.mse)} ± ${fmt(t.stderr)} (theory ${fmt(th.risk)}, ${th.target}); Σ w^h μ^h ${fmt(t.step)} (theory ${fmt(th.step)}); Σ μ^h ${fmt(t.muSum)}; heads ${t.heads.join(', ') || 'none'}`,
          ]);
        for (const h of d.heads as { head: number; w: number; mu: number[] }[])
          rows.push([`head ${h.head}`, `w ${fmt(h.w)}, μ per task ${list(h.mu)}`]);
        rows.push(['superposed heads (serving ≥ 2 tasks)', (d.superposed as number[]).join(', ') || 'none']);
        break;
      }
      case 'icl-length': {
        const runs = d.runs as { attention: string; data: { runs: IclRun[] } }[];
        const Lmax = (result.config as { evaluation: { maxL: number; stepL: number } }).evaluation;
        const longest = 1 + Math.floor((Lmax.maxL - 1) / Lmax.stepL) * Lmax.stepL;
        for (const r of runs) {
          const run = r.data.runs[0]!;
          rows.push([
            `${r.attention}: engine`,
            `${run.engine.name} — ${run.engine.reason.replace(/^[a-z0-9]+: /, '')}`,
          ]);
          if (run.finalValidation)
            rows.push([
              `${r.attention}: final validation MSE (training L)`,
              `${formatValue(run.finalValidation.mse)} ± ${formatValue(run.finalValidation.stderr)}`,
            ]);
        }
        for (const x of d.summary as {
          attention: string;
          atTrain: number;
          atMax: number;
          ratioAtTrain: number;
          ratioAtMax: number;
        }[])
          rows.push([
            `${x.attention}: MSE at L=${longest}`,
            `${fmt(x.atMax)} (${fmt(x.ratioAtMax)}× ridge; at the training L ${fmt(x.atTrain)}, ${fmt(x.ratioAtTrain)}× ridge)`,
          ]);
        break;
      }
      case 'value-matrix': {
        const c = d.compression as {
          compressionRatio: number;
          relativeError: number;
          effectiveRank: number;
          maxRank: number;
        };
        const m = d.multihead as { meanAbsCorrelation: number; diverse: boolean };
        const l = d.learning as { finalLoss: number; ratio: number; focused: boolean };
        rows.push(['compression ratio d_model/d_v', fmt(c.compressionRatio)]);
        rows.push(['reconstruction relative error', `${(c.relativeError * 100).toFixed(2)}%`]);
        rows.push(['effective rank (95% energy)', `${c.effectiveRank} of ${c.maxRank}`]);
        rows.push([
          'mean |head correlation|',
          `${fmt(m.meanAbsCorrelation)} (${m.diverse ? 'diverse' : 'not diverse'})`,
        ]);
        rows.push(['learned compression: final loss', fmt(l.finalLoss)]);
        rows.push([
          'learned colour/noise weight ratio',
          `${fmt(l.ratio)}× (${l.focused ? 'focused on colour' : 'not focused'})`,
        ]);
        break;
      }
      case 'kv-cache': {
        const cmp = d.comparison as {
          model: string;
          seqLen: number;
          variants: { name: string; attention: string; mebibytes: number; reduction: number }[];
        };
        const custom = new Set(((result.config as { custom?: { label: string }[] }).custom ?? []).map((m) => m.label));
        const mine = (
          d.table as { label: string; attention: string; sizes: { seqLen: number; mebibytes: number }[] }[]
        ).filter((r) => custom.has(r.label));
        const base = mine.find((r) => r.attention === 'mha');
        for (const r of mine) {
          const at = last(r.sizes);
          const ref = base ? last(base.sizes) : undefined;
          if (!at) continue;
          const ratio = ref && r !== base ? ` (${(ref.mebibytes / at.mebibytes).toFixed(1)}× smaller than MHA)` : '';
          rows.push([`${r.label} @ ${at.seqLen} tokens`, `${at.mebibytes.toFixed(1)} MB${ratio}`]);
        }
        if (mine.length > 0 && (result.config as { models?: unknown[] }).models?.length === 0) break;
        for (const v of cmp.variants)
          rows.push([
            `${cmp.model} @ ${cmp.seqLen} tokens: ${v.name}`,
            `${v.mebibytes.toFixed(1)} MB${v.attention === 'mha' ? '' : ` (${v.reduction.toFixed(1)}× smaller than MHA)`}`,
          ]);
        break;
      }
      case 'attention-walkthrough': {
        const heads = d.heads as unknown[];
        rows.push(['tokens', (d.tokens as string[]).join(' ')]);
        rows.push(['heads', String(heads.length)]);
        rows.push(['scale 1/√d', formatValue(d.scale as number)]);
        break;
      }
      default:
        break;
    }
  } catch {
    // An unexpected data shape: fall back to the generic rows below.
  }
  rows.push(['backend', result.meta.backend]);
  rows.push(['duration', `${(result.meta.durationMs / 1000).toFixed(1)} s`]);
  if (result.meta.resumedFrom !== undefined) rows.push(['resumed from step', String(result.meta.resumedFrom)]);
  if (result.meta.aborted) rows.push(['status', 'interrupted (partial result)']);
  return rows;
}

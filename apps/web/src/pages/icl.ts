import {
  checkResources,
  EXAMPLE_CSV,
  evaluateOwnTask,
  iclRegression,
  parseCsvTask,
  readCheckpointWeights,
  resolveConfig,
  type ExperimentEvent,
  type ExperimentResult,
  type IclConfig,
  type IclData,
  type IclWeights,
} from '@attnlab/experiments';
import type { FigureSpec, LineChartSpec, LineSeries } from '@attnlab/plot';
import { button, download, fmtSig, frameThrottle, h, reducedMotion } from '../dom.js';
import { figurePanel, type FigurePanel } from '../figure.js';
import example from '../fixtures/icl-example.json';
import type { Page, PageContext } from '../router.js';
import { frameMeter, hook, pageWorker, progressView } from '../runner.js';
import { configProblems, configToParams, paramsToOverrides, schemaForm } from '../schema-form.js';

type IclResult = ExperimentResult<IclConfig, IclData>;
const EXAMPLE = example as unknown as IclResult;

/** The page's starting point: the quick preset (seed 004's model, 1,500 steps). */
const BASE: IclConfig = iclRegression.presets.quick;
const LABELS: Record<string, string> = {
  heads: 'Heads H',
  d: 'Dimension d',
  L: 'Context length L',
  covarianceRho: 'Input correlation ρ (Σ_ij = ρ^|i−j|; 0 = isotropic)',
  'optimizer.lr': 'Learning rate',
  steps: 'Steps',
  batch: 'Batch',
  seed: 'Random seed',
  headCounts: 'Head-count comparison (e.g. 1,2,4,8; empty = only H)',
  'evaluation.samples': 'Tasks per L for the error curves (0 = skip)',
};
const INCLUDE = Object.keys(LABELS);

/** The task settings a reader can start from: the fields the form does not show, plus the batch. */
type Setting = 'seed' | 'paper';
const settingFields = (c: IclConfig) => ({
  noiseVariance: c.noiseVariance,
  queryNoise: c.queryNoise,
  betaScale: c.betaScale,
  batch: c.batch,
});
const SETTINGS: Record<Setting, { label: string; fields: ReturnType<typeof settingFields> }> = {
  seed: {
    label: 'Standard: β ~ N(0, I), almost no noise, the query’s y without noise',
    fields: settingFields(iclRegression.presets.seed),
  },
  paper: {
    label: 'As in He et al. (2025): β ~ N(0, I/d), noise 0.1, noisy query, batch 256',
    fields: settingFields(iclRegression.presets.paper!),
  },
};
const settingOf = (c: IclConfig): Setting =>
  c.betaScale === SETTINGS.paper.fields.betaScale &&
  c.queryNoise === SETTINGS.paper.fields.queryNoise &&
  c.noiseVariance === SETTINGS.paper.fields.noiseVariance
    ? 'paper'
    : 'seed';

interface Live {
  train: Map<string, { step: number[]; value: number[] }>;
  val: Map<string, { step: number[]; value: number[] }>;
  dyn: Map<string, { step: number[]; w: number[][]; mu: number[][] }>;
  qk: { phase: string; step: number; value: number[][][][] } | undefined;
  phase: string;
}
const emptyLive = (): Live => ({ train: new Map(), val: new Map(), dyn: new Map(), qk: undefined, phase: '' });
const entry = <T>(m: Map<string, T>, k: string, make: () => T): T => {
  let v = m.get(k);
  if (!v) {
    v = make();
    m.set(k, v);
  }
  return v;
};

function figureData(id: string, r: IclResult): unknown {
  const d = r.data;
  const pick: Record<string, () => unknown> = {
    loss: () => d.runs.map((x) => ({ heads: x.heads, loss: x.loss, validation: x.validation })),
    'dynamics-w': () => d.runs.map((x) => ({ heads: x.heads, step: x.dynamics.step, w: x.dynamics.w })),
    'dynamics-mu': () => d.runs.map((x) => ({ heads: x.heads, step: x.dynamics.step, mu: x.dynamics.mu })),
    'qk-circuits': () => d.runs.map((x) => ({ heads: x.heads, qk: x.statistics.map((s) => s.qk) })),
    'ov-circuits': () => d.runs.map((x) => ({ heads: x.heads, ov: x.statistics.map((s) => s.ov) })),
    'qk-evolution': () => d.runs.map((x) => ({ heads: x.heads, ...x.qkSnapshots })),
    'error-curves': () => d.errorCurves,
    statistics: () =>
      d.runs.map((x) => ({
        heads: x.heads,
        statistics: x.statistics.map(({ qk: _q, ov: _o, ...rest }) => rest),
        dummyHeads: x.dummyHeads,
      })),
    heads: () =>
      d.runs.map((x) => ({
        heads: x.heads,
        completedSteps: x.completedSteps,
        finalValidation: x.finalValidation,
        dummyHeads: x.dummyHeads,
      })),
  };
  return { experiment: r.experiment, figure: id, config: r.config, data: (pick[id] ?? (() => d))() };
}

/** Where the page keeps its settings for this tab, for a return through the nav (a link without them). */
const STORAGE_KEY = 'attnlab:icl:settings';
/**
 * A run that was training when the page was left through the nav: paused (its checkpoint kept
 * here, in this tab's memory) and offered again on return. A reload or a closed tab asks first
 * (beforeunload), and the settings stay in the URL.
 */
let parked: { config: IclConfig; checkpoint: Uint8Array; step: number; live: Live; evaluating?: boolean } | undefined;
/**
 * Settles once the run left while training has parked (its last message arrived, or its worker was
 * given up): a return through the nav waits for it, else a quick return would miss the paused run.
 */
let parking: { done: Promise<void>; settle(): void } | undefined;
function startParking(): void {
  let settle = (): void => undefined;
  const done = new Promise<void>((r) => (settle = r));
  parking = { done, settle };
}

/** Table columns in the reader's words (the experiment's short names stay in the tooltips of its exports). */
const COLUMN_WORDS: Record<string, string> = {
  H: 'heads',
  'w^h': 'w^h (QK diagonal)',
  'var diag': 'spread of the QK diagonal',
  'sup off-diag': 'largest QK entry off the diagonal',
  'μ^h': 'μ^h (OV weight on y)',
  'sup OV rest': 'largest other OV entry',
  dummy: 'unused head?',
  'dummy heads': 'unused heads',
};
function readable(spec: FigureSpec): FigureSpec {
  if (spec.kind !== 'table') return spec;
  return { ...spec, columns: spec.columns.map((c) => COLUMN_WORDS[c] ?? c) };
}

/** Colour and dash per kind of estimator (Okabe–Ito), so no two shown series look alike. */
const CURVE_STYLE: [RegExp, string, boolean][] = [
  [/^transformer/, '#0072B2', false],
  [/^kernel estimator/, '#56B4E9', true],
  [/^ridge/, '#000000', true],
  [/^optimal one-step GD/, '#CC79A7', true],
  [/^one-step GD/, '#E69F00', false],
  [/debiased/, '#009E73', true],
  [/Bayes/, '#999999', true],
  [/preconditioned/, '#D55E00', false],
];
/**
 * The error-vs-L chart with a checkbox per series: by default the trained model's own head count
 * (transformer and its kernel estimator), ridge, one-step and debiased GD; the other head counts and
 * estimators one click away. Colours and dashes come from the kind of estimator, the head counts' from the order.
 */
function seriesToggles(panel: FigurePanel, spec: LineChartSpec, heads: number): void {
  const classical = /^(ridge|one-step GD|optimal debiased GD)/;
  const own = (n: string) => (/\(H=\d+\)/.test(n) ? n.includes(`(H=${heads})`) : classical.test(n));
  // Head counts in colours none of the estimators uses (Paul Tol's muted palette).
  const hcolors = ['#332288', '#882255', '#117733', '#AA4499', '#44AA99', '#999933'];
  const hs = [...new Set(spec.series.map((x) => /\(H=(\d+)\)/.exec(x.name)?.[1]).filter(Boolean))];
  const styled = spec.series.map((x) => {
    const style = CURVE_STYLE.find(([re]) => re.test(x.name));
    const hk = /\(H=(\d+)\)/.exec(x.name)?.[1];
    const multi = hs.length > 1 && hk !== undefined;
    return {
      ...x,
      color: multi ? hcolors[hs.indexOf(hk) % hcolors.length]! : (style?.[1] ?? x.color),
      dashed: style ? style[2] : x.dashed,
    };
  });
  const on = new Set(styled.filter((x) => own(x.name)).map((x) => x.name));
  const draw = () => panel.update({ ...spec, series: styled.filter((x) => on.has(x.name)) });
  const box = h('fieldset', { class: 'checks series-toggles', id: 'icl-error-curves-series' }, h('legend', {}, 'Show'));
  styled.forEach((x, i) => {
    const id = `icl-curve-${i}`;
    const cb = h('input', { type: 'checkbox', id, checked: on.has(x.name), 'data-series': x.name });
    cb.addEventListener('change', () => {
      if (cb.checked) on.add(x.name);
      else on.delete(x.name);
      draw();
    });
    box.append(h('span', { class: 'check-item' }, cb, h('label', { for: id }, x.name)));
  });
  panel.el.prepend(box);
  draw();
}

/** Seed 004's in-context regression trainer: iclRegression.run in a worker, drawn live. */
export const iclPage: Page = {
  path: 'icl',
  title: 'In-context regression',
  render(root: HTMLElement, ctx: PageContext): () => void {
    const schema = iclRegression.configSchema;
    let config: IclConfig;
    const error = h('p', { class: 'error', role: 'alert', id: 'icl-error' });
    const resumeInfo = h('p', { class: 'muted', role: 'status', id: 'icl-resume-note' });
    // A link without settings (the nav) brings back this tab's last ones.
    let params = ctx.params;
    const stored = sessionStorage.getItem(STORAGE_KEY);
    if ([...params.keys()].length === 0 && stored) {
      params = new URLSearchParams(stored);
      ctx.setParams(Object.fromEntries(params));
    }
    const saveParams = (values: Record<string, string>): void => {
      ctx.setParams(values);
      sessionStorage.setItem(STORAGE_KEY, new URLSearchParams(values).toString());
    };
    const form = schemaForm(schema, BASE, {
      idPrefix: 'icl',
      include: INCLUDE,
      labels: LABELS,
      onInput: () => keepSettings(),
    });
    try {
      config = resolveConfig(iclRegression, { preset: 'quick', overrides: paramsToOverrides(schema, params) });
    } catch (e) {
      config = BASE;
      error.textContent = `The link's settings were not valid, so the quick preset is shown. ${configProblems(e, form).message}`;
    }
    form.write(config);
    // Which task to learn: seed 004's sampling or the paper's (He, Pan, Chen & Yang 2025).
    const settingSelect = h('select', { id: 'icl-setting' });
    for (const [value, { label }] of Object.entries(SETTINGS))
      settingSelect.append(h('option', { value, selected: value === settingOf(config) }, label));
    settingSelect.addEventListener('change', () => {
      const batch = document.getElementById('icl-batch') as HTMLInputElement | null;
      if (batch) batch.value = String(SETTINGS[settingSelect.value as Setting].fields.batch);
      keepSettings();
    });
    /** The form as a config (the task setting's fields on top); throws what the schema or the size check finds. */
    const formConfig = (): IclConfig => {
      const { batch: _b, ...task } = SETTINGS[settingSelect.value as Setting].fields;
      return resolveConfig(iclRegression, { preset: 'quick', overrides: { ...form.read(config), ...task } });
    };
    /** Edits are kept in the URL (and this tab) as they are made, once valid: a reload keeps them. */
    function keepSettings(): void {
      if (state === 'running' || state === 'pausing' || state === 'paused') return; // the URL names the run
      try {
        saveParams(configToParams(schema, formConfig(), BASE));
      } catch {
        /* not valid yet: the URL keeps the last valid settings */
      }
    }
    const setting = h('div', { class: 'field' }, h('label', { for: 'icl-setting' }, 'Kind of task'), settingSelect);
    const section = h('section', { id: 'icl', 'data-status': 'idle' });
    const progress = progressView('icl');
    const frames = h('p', { class: 'muted', id: 'icl-frames', 'aria-live': 'off' });
    const workerInfo = h('p', { class: 'muted', id: 'icl-worker' }, 'Starting the training worker…');
    const live = h('div', { class: 'figures', id: 'icl-live' });
    const results = h('div', { class: 'figures', id: 'icl-results' });
    const resultsTitle = h('h2', { id: 'icl-results-title' });
    const resultsNote = h('p', { class: 'muted', id: 'icl-results-note' });
    const staleNote = h(
      'p',
      { class: 'notice', id: 'icl-stale', hidden: true },
      'The results below are from earlier settings, not from the form above (it has a problem, marked in red).',
    );
    const resultExports = h('div', { class: 'exports' });
    const worker = pageWorker();
    const meter = frameMeter();
    let state: 'idle' | 'running' | 'pausing' | 'paused' | 'done' | 'error' = 'idle';
    let runConfig: IclConfig = config;
    let liveData = emptyLive();
    let shown: IclResult = EXAMPLE;
    let weights: IclWeights | undefined;
    const livePanels = new Map<string, FigurePanel>();

    const trainBtn = button('Train', () => start(false), { id: 'icl-train', class: 'primary' });
    const pauseBtn = button('Pause', () => pause(), { id: 'icl-pause' });
    const resumeBtn = button('Resume', () => start(true), { id: 'icl-resume' });
    const resetBtn = button('Reset', () => reset(), { id: 'icl-reset' });
    const compareBtn = button(
      'Head-count comparison (1, 2, 4, 8)',
      () => {
        const input = document.getElementById('icl-headCounts') as HTMLInputElement | null;
        if (input) input.value = '1,2,4,8';
      },
      { id: 'icl-compare' },
    );

    const setState = (s: typeof state, text?: string): void => {
      state = s;
      section.dataset.status = s;
      trainBtn.disabled = s === 'running' || s === 'pausing';
      pauseBtn.disabled = s !== 'running';
      resumeBtn.disabled = s !== 'paused';
      resetBtn.disabled = s === 'idle';
      progress.busy(s === 'running' || s === 'pausing');
      if (text !== undefined) progress.set(text);
      hook('icl', { status: s });
    };

    const showLive = (id: string, spec: FigureSpec): void => {
      const p = livePanels.get(id);
      if (p) p.update(spec, spec);
      else {
        const np = figurePanel(id, spec);
        livePanels.set(id, np);
        live.append(np.el);
      }
    };

    let drawStats = { draws: 0, ms: 0, maxMs: 0 };
    const drawLive = (): void => {
      const t0 = performance.now();
      drawLiveFigures();
      const ms = performance.now() - t0;
      drawStats = { draws: drawStats.draws + 1, ms: drawStats.ms + ms, maxMs: Math.max(drawStats.maxMs, ms) };
    };
    // Only what changed since the last frame is redrawn.
    const dirty = new Set<'loss' | 'dynamics' | 'qk'>();
    const drawLiveFigures = (): void => {
      const L = liveData;
      if (dirty.has('loss')) drawLoss(L);
      if (dirty.has('dynamics')) drawDynamics(L);
      if (dirty.has('qk')) drawQk(L);
      dirty.clear();
    };
    const drawLoss = (L: Live): void => {
      const series: LineSeries[] = [];
      // Copies: the live arrays keep growing, and a panel may draw its spec again later (a resize).
      for (const [phase, s] of L.train)
        series.push({
          name: `training${L.train.size > 1 ? ` ${phase.replace('train ', '')}` : ''}`,
          x: s.step.slice(),
          y: s.value.slice(),
        });
      for (const [phase, s] of L.val)
        series.push({
          name: `validation${L.val.size > 1 ? ` ${phase.replace('train ', '')}` : ''}`,
          x: s.step.slice(),
          y: s.value.slice(),
          dashed: true,
        });
      if (series.length)
        showLive('live-loss', {
          kind: 'line',
          title: 'Loss (live)',
          x: { label: 'step' },
          y: { label: 'MSE', scale: 'log' },
          series,
        });
    };
    const drawDynamics = (L: Live): void => {
      const dyn = L.dyn.get(L.phase) ?? [...L.dyn.values()].pop();
      if (dyn && dyn.step.length) {
        const heads = dyn.w[0]?.length ?? 0;
        for (const [key, label] of [
          ['w', 'w^h (mean QK diagonal)'],
          ['mu', 'μ^h (OV last entry)'],
        ] as const) {
          showLive(`live-${key}`, {
            kind: 'line',
            title: `Circuit dynamics (live): ${label}`,
            x: { label: 'step' },
            y: { label },
            series: Array.from({ length: heads }, (_, hh) => ({
              name: `head ${hh}`,
              x: dyn.step.slice(),
              y: dyn[key].map((v) => v[hh]!),
              markers: dyn.step.length < 30,
            })),
          });
        }
      }
    };
    const drawQk = (L: Live): void => {
      if (L.qk) {
        const mats = L.qk.value[0] ?? [];
        showLive('live-qk', {
          kind: 'heatmap-grid',
          title: `QK circuits W_Q W_Kᵀ at step ${L.qk.step} (${L.qk.phase}, live)`,
          scale: 'diverging',
          colorbarLabel: 'QK',
          panels: mats.map((m, hh) => ({ title: `head ${hh}`, values: m })),
        });
      }
    };
    // At most one redraw per animation frame and 10 per second (1 per second with reduced motion).
    // Live redraws take at most ~10% of the main thread: on a 2-core machine the training worker's two
    // threads need both cores (measured: 31 redraws of 28 ms in a 4.5 s run at load 11 before the cap).
    const throttle = frameThrottle(drawLive, reducedMotion() ? 1000 : 100, 0.1);

    const onEvent = (e: ExperimentEvent): void => {
      const L = liveData;
      if (e.type === 'phase') {
        L.phase = e.phase;
        progress.set(e.message);
        return;
      }
      if (e.type === 'progress') {
        progress.set(
          `${e.phase}: ${e.done} / ${e.total}${e.loss !== undefined ? `, loss ${fmtSig(e.loss)}` : ''}${e.rate ? `, ${fmtSig(e.rate)} steps/s` : ''}`,
          e.done,
          e.total,
        );
        if (e.phase.startsWith('train') && e.loss !== undefined) {
          const s = entry(L.train, e.phase, () => ({ step: [], value: [] }));
          if (s.step[s.step.length - 1] !== e.done) {
            s.step.push(e.done);
            s.value.push(e.loss);
            dirty.add('loss');
          }
        }
      } else if (e.type === 'metrics') {
        const v = e.values.validationLoss;
        if (v !== undefined) {
          const s = entry(L.val, e.phase, () => ({ step: [], value: [] }));
          s.step.push(e.step);
          s.value.push(v);
          dirty.add('loss');
        }
      } else if (e.type === 'snapshot') {
        if (e.name === 'dynamics') {
          const v = e.value as { w: number[][]; mu: number[][] };
          const s = entry(L.dyn, e.phase, () => ({ step: [], w: [], mu: [] }));
          s.step.push(e.step);
          s.w.push(v.w[0] ?? []);
          s.mu.push(v.mu[0] ?? []);
          dirty.add('dynamics');
        } else if (e.name === 'qk') {
          L.qk = { phase: e.phase, step: e.step, value: e.value as number[][][][] };
          dirty.add('qk');
        }
      }
      throttle.schedule();
    };

    const showResult = (r: IclResult, title: string, note: string): void => {
      shown = r;
      resultsTitle.textContent = title;
      resultsNote.textContent = note;
      results.replaceChildren(
        ...r.figures.map((f) => {
          const spec = readable(f.spec);
          const panel = figurePanel(`icl-${f.id}`, spec, { file: `icl-${f.id}`, data: figureData(f.id, r) });
          if (f.id === 'error-curves' && spec.kind === 'line') seriesToggles(panel, spec, r.config.heads);
          return panel.el;
        }),
      );
      const main = r.data.runs.find((x) => x.heads === r.config.heads) ?? r.data.runs[0]!;
      results.dataset.losses = JSON.stringify(main.loss.value.slice(0, 20));
      resultExports.replaceChildren(
        h('span', { class: 'muted' }, 'Download'),
        button(
          'Result (JSON)',
          () => download('icl-regression-result.json', JSON.stringify(r, null, 1), 'application/json'),
          { 'data-export': 'result-json' },
        ),
        ...(weights
          ? [
              button(
                `Weights H=${weights.heads} (JSON)`,
                () =>
                  download(
                    'icl-regression-weights.json',
                    JSON.stringify({
                      experiment: 'icl-regression',
                      config: runConfig,
                      heads: weights!.heads,
                      step: weights!.step,
                      params: Object.fromEntries(
                        Object.entries(weights!.params).map(([k, t]) => [
                          k,
                          { shape: t.shape, dtype: t.dtype, values: Array.from(t.values) },
                        ]),
                      ),
                    }),
                    'application/json',
                  ),
                { 'data-export': 'weights-json' },
              ),
            ]
          : []),
      );
    };

    /** Set when the page is left while training: the run's last messages park it instead of drawing. */
    let leaving = false;
    /** The paused run's checkpoint (a copy of the worker's), kept should the page be left while paused. */
    let lastPause: { checkpoint: Uint8Array; step: number; evaluating?: boolean } | undefined;
    const handlers = {
      onEvent: (e: ExperimentEvent) => {
        if (!leaving) onEvent(e);
      },
      onDone: (r: ExperimentResult, checkpoint?: Uint8Array) => {
        const res = r as IclResult;
        if (leaving) {
          const main = res.data.runs.find((x) => x.heads === res.config.heads) ?? res.data.runs.at(-1)!;
          if (res.meta.aborted && checkpoint)
            parked = { config: res.config, checkpoint, step: main.completedSteps, live: liveData };
          else if (!res.meta.aborted) parked = undefined; // it finished as the page was left: nothing to keep
          worker.terminate();
          parking?.settle();
          return;
        }
        const stats = meter.stop();
        throttle.flush();
        if (stats) {
          const perDraw = drawStats.draws ? drawStats.ms / drawStats.draws : 0;
          frames.textContent = `Main thread while training: ${stats.frames} frames, mean ${stats.meanMs} ms, 95th percentile ${stats.p95Ms} ms, worst ${stats.maxMs} ms, ${stats.over50Ms} over 50 ms; ${drawStats.draws} live redraws, ${perDraw.toFixed(1)} ms each on average (worst ${drawStats.maxMs.toFixed(1)} ms).`;
          hook('icl', {
            frames: stats,
            redraws: {
              count: drawStats.draws,
              meanMs: Math.round(perDraw * 10) / 10,
              maxMs: Math.round(drawStats.maxMs * 10) / 10,
            },
          });
        }
        const main =
          res.data.runs.find((x) => x.heads === res.config.heads) ?? res.data.runs[res.data.runs.length - 1]!;
        hook('icl', {
          losses: main.loss.value,
          lossSteps: main.loss.step,
          validation: main.validation.value,
          meta: res.meta,
          engine: main.engine,
          stepsPerSecond: main.stepsPerSecond,
        });
        if (res.meta.aborted) {
          lastPause = checkpoint ? { checkpoint, step: main.completedSteps } : undefined;
          setState(
            'paused',
            `Paused at step ${main.completedSteps} of ${res.config.steps}${res.data.runs.length > 1 ? ` (H=${main.heads})` : ''}. Resume continues from the checkpoint kept in memory.`,
          );
          return;
        }
        if (checkpoint) weights = readCheckpointWeights(res.config, checkpoint);
        live.replaceChildren();
        livePanels.clear();
        showResult(
          res,
          'Your run',
          `Trained on ${res.meta.backend} in ${(res.meta.durationMs / 1000).toFixed(1)} s${res.meta.resumedFrom !== undefined ? ` (resumed from step ${res.meta.resumedFrom})` : ''}; training engine ${main.engine.name}, ${Math.round(main.stepsPerSecond)} steps/s.`,
        );
        setState(
          'done',
          `Done: ${main.completedSteps} steps${main.finalValidation ? `, final validation MSE ${fmtSig(main.finalValidation.mse)}` : ''}.`,
        );
      },
      onError: (message: string, _field?: string, checkpoint?: Uint8Array) => {
        if (leaving) {
          if (checkpoint)
            parked = { config: runConfig, checkpoint, step: runConfig.steps, live: liveData, evaluating: true };
          worker.terminate();
          parking?.settle();
          return;
        }
        meter.stop();
        if (message === 'aborted') {
          if (state === 'idle') return setState('idle');
          // The pause landed after training, in the evaluation: training is kept (its last checkpoint).
          lastPause = checkpoint ? { checkpoint, step: runConfig.steps, evaluating: true } : undefined;
          setState(
            'paused',
            checkpoint
              ? `Paused in the evaluation after training (training is done and kept). Resume finishes the evaluation.`
              : 'Paused before anything was saved: Train starts again.',
          );
          hook('icl', { pausedIn: liveData.phase });
          return;
        }
        error.textContent = message;
        setState('error', 'Stopped by an error.');
      },
    };

    const start = (resume: boolean): void => {
      if (worker.busy) return;
      error.textContent = '';
      form.showProblems([]);
      if (!resume) {
        let candidate: IclConfig | undefined;
        try {
          candidate = formConfig();
          // Too big for this tab (the CLI's estimate and limit): refused before the worker starts.
          checkResources(iclRegression, candidate);
        } catch (e) {
          // Next to the fields, in plain words; the results below no longer match the form.
          const { problems, message } = configProblems(e, form);
          form.showProblems(problems);
          error.textContent = `Not started: ${message}`;
          markStale(true);
          return;
        }
        runConfig = candidate;
        config = runConfig;
        markStale(false);
        saveParams(configToParams(schema, runConfig, BASE));
        liveData = emptyLive();
        live.replaceChildren();
        livePanels.clear();
        weights = undefined;
      }
      let resumeNote = '';
      if (resume) {
        // Resume continues the paused run as it was configured; settings edited since are put back in
        // the form (and said so), so what the form shows is what runs. Train starts a run with new ones.
        let edited: IclConfig | undefined;
        try {
          edited = formConfig();
        } catch {
          edited = undefined; // unreadable edits: the paused run's settings are written back all the same
        }
        if (!edited || JSON.stringify(edited) !== JSON.stringify(runConfig)) {
          form.write(runConfig);
          settingSelect.value = settingOf(runConfig);
          resumeNote =
            ' The settings edited since the pause were put back: Resume continues the paused run as it was; press Train to start one with new settings.';
        }
      }
      resumeInfo.textContent = resumeNote;
      setState('running', resume ? 'Resuming…' : 'Starting…');
      drawStats = { draws: 0, ms: 0, maxMs: 0 };
      meter.start();
      worker.run('icl-regression', runConfig, handlers, { resume });
    };
    const pause = (): void => {
      if (state !== 'running') return;
      setState('pausing', 'Pausing at the next step…');
      worker.abort();
    };
    /** Results shown under a form whose settings could not run are marked as from other settings. */
    const markStale = (on: boolean): void => {
      if (on) results.dataset.stale = 'true';
      else delete results.dataset.stale;
      staleNote.hidden = !on;
    };
    const reset = (): void => {
      worker.reset();
      liveData = emptyLive();
      live.replaceChildren();
      livePanels.clear();
      weights = undefined;
      meter.stop();
      showResult(EXAMPLE, 'Precomputed example', exampleNote);
      setState('idle', 'Reset: the checkpoint is forgotten.');
    };

    // ---- your own data -----------------------------------------------------------------------
    const csvIn = h('textarea', {
      id: 'icl-csv',
      rows: '8',
      spellcheck: 'false',
      placeholder: 'x1,x2,y\n0.5,-1.2,1.35\n…',
    });
    const csvFile = h('input', { id: 'icl-csv-file', type: 'file', accept: '.csv,text/csv,text/plain' });
    const csvError = h('p', { class: 'error', role: 'alert', id: 'icl-csv-error' });
    const csvInfo = h('p', { class: 'muted', id: 'icl-csv-info' });
    const csvOut = h('div', { id: 'icl-csv-results' });
    csvFile.addEventListener('change', () => {
      const f = csvFile.files?.[0];
      if (f)
        void f.text().then((t) => {
          csvIn.value = t;
        });
    });
    const evaluateCsv = async (): Promise<void> => {
      csvError.textContent = '';
      try {
        const task = parseCsvTask(csvIn.value);
        const d = task.x[0]!.length;
        const { rows } = await evaluateOwnTask(task, shown, weights && runConfig.layers === 1 ? weights : undefined);
        const n = task.xq.length;
        const shownQ = Math.min(n, 6);
        csvInfo.textContent = `${task.split}; d = ${d}.${weights && runConfig.d !== d ? ` The trained transformer expects d = ${runConfig.d}, so only the estimators are compared.` : ''}${!weights ? ' Train a model (with this d) to add the transformer itself.' : ''}`;
        const spec: FigureSpec = {
          kind: 'table',
          title: `Your data as an in-context task: predictions for ${n} quer${n === 1 ? 'y' : 'ies'}`,
          columns: [
            'estimator',
            ...Array.from({ length: shownQ }, (_, i) => `ŷ${i + 1}${task.yq ? ` (y=${fmtSig(task.yq[i]!)})` : ''}`),
            ...(task.yq ? ['MSE'] : []),
          ],
          rows: rows.map((r) => [r.name, ...r.predictions.slice(0, shownQ), ...(task.yq ? [r.mse] : [])]),
        };
        csvOut.replaceChildren(figurePanel('icl-csv-table', spec, { data: { task, estimators: rows } }).el);
        csvOut.dataset.rows = JSON.stringify(rows);
      } catch (e) {
        csvError.textContent = (e as Error).message;
        csvOut.replaceChildren();
      }
    };

    const exampleNote = `Computed ahead of time with the same code: ${EXAMPLE.config.steps.toLocaleString('en')} training steps, ${EXAMPLE.config.heads} heads, inputs of dimension ${EXAMPLE.config.d}, prompts of ${EXAMPLE.config.L} points${EXAMPLE.config.headCounts.length ? `, and the same model with ${EXAMPLE.config.headCounts.join(', ')} heads for comparison` : ''}. Press Train to run your own.`;
    section.append(
      h('h1', {}, 'Watch a transformer learn to regress in context'),
      h(
        'p',
        { class: 'lede' },
        'Each training example is a prompt of points (x₁, y₁), …, (x_L, y_L) from a random line y = β·x, then a query x whose y is hidden. One layer of attention learns to predict it from the prompt alone: it ends up weighting the prompt’s points by how similar their x is to the query’s (a ',
        h(
          'abbr',
          {
            title:
              'A kernel estimator predicts y as a weighted average of the prompt’s y values, with weights from a similarity (kernel) of each x to the query.',
          },
          'kernel estimator',
        ),
        '). Training runs in the background; the curves and the learned circuits update as it learns.',
      ),
      h(
        'div',
        { class: 'icl-layout' },
        h(
          'div',
          { class: 'icl-side' },
          h('form', { class: 'inputs', id: 'icl-form' }, setting, form.el),
          h(
            'div',
            { class: 'controls', role: 'group', 'aria-label': 'Training' },
            trainBtn,
            pauseBtn,
            resumeBtn,
            resetBtn,
            compareBtn,
          ),
          error,
          resumeInfo,
          progress.el,
          workerInfo,
          frames,
        ),
        h('div', { class: 'icl-main' }, live, resultsTitle, staleNote, resultsNote, resultExports, results),
      ),
      h('h2', {}, 'Your own data'),
      h(
        'p',
        {},
        'Paste or load a CSV of x₁,…,x_d,y rows (a header row is optional). Rows with an empty y are predicted; otherwise the last 20% of rows are held out. The least-squares and ridge solutions, one-step gradient descent, the kernel estimator of the model above and, when you trained one with the same d, the transformer itself predict y from the rest of the rows in context.',
      ),
      h('div', { class: 'field' }, h('label', { for: 'icl-csv' }, 'CSV'), csvIn),
      h(
        'div',
        { class: 'controls' },
        h('label', { for: 'icl-csv-file' }, 'or a file: '),
        csvFile,
        button(
          'Load example',
          () => {
            csvIn.value = EXAMPLE_CSV;
          },
          { id: 'icl-csv-example' },
        ),
        button('Evaluate', () => void evaluateCsv(), { id: 'icl-csv-run', class: 'primary' }),
      ),
      csvError,
      csvInfo,
      csvOut,
    );
    root.append(section);
    showResult(EXAMPLE, 'Precomputed example', exampleNote);
    setState('idle', 'Ready. The example below was computed ahead of time.');
    trainBtn.disabled = true;
    worker.ready.then(
      async (r) => {
        await parking?.done; // the run left while training parks first (its checkpoint comes back below)
        parking = undefined;
        workerInfo.textContent = `Training worker on ${r.backend}${r.report.adapter?.software ? ' (software adapter)' : ''}${r.forcedFailure ? ` (requested backend failed: ${r.forcedFailure})` : ''}.`;
        workerInfo.dataset.backend = r.backend;
        hook('icl', { backend: r.backend });
        setState('idle');
        const back = parked;
        parked = undefined;
        if (back) {
          // Left while training: the run waits, paused, with its checkpoint back in the new worker.
          worker.restore(back.checkpoint);
          runConfig = back.config;
          config = back.config;
          form.write(back.config);
          settingSelect.value = settingOf(back.config);
          saveParams(configToParams(schema, back.config, BASE));
          liveData = back.live;
          dirty.add('loss').add('dynamics').add('qk');
          throttle.flush();
          setState(
            'paused',
            back.evaluating
              ? 'Paused in the evaluation after training when you left this page. Resume finishes it; Train starts a new run.'
              : `Paused at step ${back.step} of ${back.config.steps} when you left this page. Resume continues the run; Train starts a new one.`,
          );
          resumeInfo.textContent = 'Training was paused when you left this page; nothing was lost.';
        }
        root.dataset.ready = 'true';
      },
      (e: Error) => {
        workerInfo.textContent = `The training worker could not start: ${e.message}`;
        setState('error');
      },
    );
    // A reload or a closed tab while training asks first (the browser's own "Leave site?").
    const beforeUnload = (e: BeforeUnloadEvent): void => {
      if (state === 'running' || state === 'pausing') e.preventDefault();
    };
    window.addEventListener('beforeunload', beforeUnload);
    return () => {
      meter.stop();
      window.removeEventListener('beforeunload', beforeUnload);
      if (state === 'running' || state === 'pausing') {
        // Left through the nav while training: pause it (the run checkpoints) and keep it for the return.
        leaving = true;
        startParking();
        worker.abort();
        const left = parking!;
        setTimeout(() => {
          worker.terminate(); // a worker that never answers is not left running
          left.settle();
        }, 60_000);
      } else {
        if (state === 'paused' && lastPause) parked = { config: runConfig, ...lastPause, live: liveData };
        worker.terminate();
      }
    };
  },
};

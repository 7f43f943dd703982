import {
  BROWSER_OPERATION_LIMIT,
  checkResources,
  DEFAULT_MEMORY_LIMIT,
  getExperiment,
  resolveConfig,
  type Experiment,
  type ExperimentEvent,
  type ExperimentResult,
} from '@attnlab/experiments';
import type { FigureSpec } from '@attnlab/plot';
import { button, download, fmtSig, frameThrottle, h } from '../dom.js';
import { figurePanel, type FigurePanel } from '../figure.js';
import type { Page, PageContext } from '../router.js';
import { frameMeter, hook, pageWorker, progressView } from '../runner.js';
import { configProblems, configToParams, paramsToOverrides, schemaForm } from '../schema-form.js';

/** A snapshot that is a flat record of numbers (e.g. a CV table) as `name: key` columns; else nothing. */
function flatNumbers(name: string, value: unknown): Record<string, number | null> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.length || !entries.every(([, v]) => v === null || typeof v === 'number')) return undefined;
  return Object.fromEntries(entries.map(([k, v]) => [`${name}: ${k}`, v as number | null]));
}

export interface ExperimentPageOptions {
  path: string;
  title: string;
  experimentId: string;
  lede: string;
  /** Config fields left out of the form (dotted prefixes). */
  exclude?: string[];
  labels?: Record<string, string>;
  /** Run as soon as the page opens (cheap experiments: a first result before anyone asks). */
  autoRun?: boolean;
  /** Result figures to leave out. */
  skipFigures?: string[];
  /** Extra panels drawn from the result's data (drawing only: the numbers are the experiment's). */
  extra?: (result: ExperimentResult) => { id: string; spec: FigureSpec; data: unknown }[];
  /** Text lines summarising the result (shown above the figures, read by screen readers). */
  summary?: (result: ExperimentResult) => string[];
  /** Shown when the experiment is not registered in this build. */
  unavailable?: string;
}

/**
 * A page that drives one registered experiment in a worker: a form generated from its config
 * schema (state in the URL), run / stop, live progress and a table of the metrics it reports as
 * it goes, then its figures with exports.
 */
export function experimentPage(o: ExperimentPageOptions): Page {
  return {
    path: o.path,
    title: o.title,
    render(root: HTMLElement, ctx: PageContext): (() => void) | void {
      const pid = o.path;
      root.append(h('h1', {}, o.title), h('p', { class: 'lede' }, o.lede));
      let exp: Experiment<unknown, unknown>;
      try {
        exp = getExperiment(o.experimentId);
      } catch (e) {
        root.append(
          h(
            'p',
            { class: 'notice', id: `${pid}-unavailable`, role: 'status' },
            o.unavailable ?? `The ${o.experimentId} experiment is not part of this build.`,
            ' ',
            h('small', {}, `(${(e as Error).message})`),
          ),
        );
        root.dataset.ready = 'true';
        return;
      }
      const schema = exp.configSchema;
      const error = h('p', { class: 'error', role: 'alert', id: `${pid}-error` });
      const base = exp.presets.quick;
      let config: unknown;
      const form = schemaForm(schema, base, {
        idPrefix: pid,
        ...(o.exclude ? { exclude: o.exclude } : {}),
        ...(o.labels ? { labels: o.labels } : {}),
      });
      try {
        config = resolveConfig(exp, { preset: 'quick', overrides: paramsToOverrides(schema, ctx.params) });
      } catch (e) {
        config = base;
        error.textContent = `The link's settings were not valid, so the quick preset is shown. ${configProblems(e, form).message}`;
      }
      form.write(config);
      const section = h('section', { id: pid, 'data-status': 'idle' });
      const progress = progressView(pid);
      const frames = h('p', { class: 'muted', id: `${pid}-frames` });
      const phases = h('ol', { class: 'phases', id: `${pid}-phases` });
      const liveTable = h('div', { id: `${pid}-live` });
      const summary = h('ul', { class: 'summary-list', id: `${pid}-findings` });
      const results = h('div', { class: 'figures', id: `${pid}-results` });
      const resultExports = h('div', { class: 'exports' });
      const stale = h(
        'p',
        { class: 'notice', id: `${pid}-stale`, hidden: true },
        'The results below are from earlier settings, not from the form above (it has a problem, marked in red).',
      );
      const worker = pageWorker();
      const meter = frameMeter();
      // One row per phase (e.g. one grid configuration), filled in as its metrics and flat numeric
      // snapshots (e.g. a table of CVs) arrive.
      const rows = new Map<string, { step: number; values: Record<string, number | null> }>();
      let livePanel: FigurePanel | undefined;

      const runBtn = button('Run', () => run(), { id: `${pid}-run`, class: 'primary' });
      const stopBtn = button('Stop', () => worker.abort(), { id: `${pid}-stop` });
      const resetBtn = button(
        'Preset values',
        () => {
          form.write(base);
        },
        { id: `${pid}-preset` },
      );
      const setStatus = (s: string): void => {
        section.dataset.status = s;
        runBtn.disabled = s === 'running' || s === 'starting';
        stopBtn.disabled = s !== 'running';
        progress.busy(s === 'running' || s === 'starting');
        hook(pid, { status: s });
      };

      const drawLive = (): void => {
        if (!rows.size) return;
        const list = [...rows.entries()];
        const keys = [...new Set(list.flatMap(([, r]) => Object.keys(r.values)))];
        const spec: FigureSpec = {
          kind: 'table',
          title: 'Reported while running (one row per configuration, latest values)',
          columns: ['configuration', 'step', ...keys],
          rows: list.map(([phase, r]) => [phase, r.step, ...keys.map((k) => r.values[k] ?? null)]),
        };
        const data = list.map(([phase, r]) => ({ phase, ...r }));
        if (livePanel) livePanel.update(spec, data);
        else {
          livePanel = figurePanel(`${pid}-live-table`, spec, { data });
          liveTable.append(livePanel.el);
        }
        liveTable.dataset.rows = String(rows.size);
      };
      const throttle = frameThrottle(drawLive);
      const onEvent = (e: ExperimentEvent): void => {
        if (e.type === 'phase') phases.append(h('li', { 'data-phase': e.phase }, e.message));
        else if (e.type === 'progress')
          progress.set(
            `${e.phase}: ${e.done} / ${e.total}${e.loss !== undefined ? `, loss ${fmtSig(e.loss)}` : ''}`,
            e.done,
            e.total,
          );
        else if (e.type === 'metrics' || e.type === 'snapshot') {
          const flat = e.type === 'metrics' ? e.values : flatNumbers(e.name, e.value);
          if (!flat) return;
          const row = rows.get(e.phase) ?? { step: e.step, values: {} };
          row.step = Math.max(row.step, e.step);
          Object.assign(row.values, flat);
          rows.set(e.phase, row);
          throttle.schedule();
        }
      };

      const show = (r: ExperimentResult): void => {
        summary.replaceChildren(...(o.summary?.(r) ?? []).map((t) => h('li', {}, t)));
        const figs = [
          ...r.figures
            .filter((f) => !o.skipFigures?.includes(f.id))
            .map((f) => ({
              id: f.id,
              spec: f.spec,
              data: { experiment: r.experiment, figure: f.id, config: r.config, data: r.data },
            })),
          ...(o.extra?.(r) ?? []),
        ];
        results.replaceChildren(
          ...figs.map(
            (f) => figurePanel(`${pid}-${f.id}`, f.spec, { file: `${o.experimentId}-${f.id}`, data: f.data }).el,
          ),
        );
        resultExports.replaceChildren(
          h('span', { class: 'muted' }, 'Download'),
          button(
            'Result (JSON)',
            () => download(`${o.experimentId}-result.json`, JSON.stringify(r, null, 1), 'application/json'),
            { 'data-export': 'result-json' },
          ),
        );
      };

      const run = (): void => {
        if (worker.busy) return;
        error.textContent = '';
        form.showProblems([]);
        let cfg: unknown;
        try {
          cfg = resolveConfig(exp, { preset: 'quick', overrides: form.read(config) });
          // Too big for this tab (the experiment's own estimate: the CLI's memory limit, and the tab's
          // limit on arithmetic where the estimate counts it): refused before it starts.
          checkResources(exp, cfg, DEFAULT_MEMORY_LIMIT, BROWSER_OPERATION_LIMIT);
        } catch (e) {
          // Next to the fields, in plain words; the results below are from other settings.
          const { problems, message } = configProblems(e, form);
          form.showProblems(problems);
          error.textContent = `Not started: ${message}`;
          results.dataset.stale = 'true';
          stale.hidden = results.childElementCount === 0;
          return;
        }
        delete results.dataset.stale;
        stale.hidden = true;
        config = cfg;
        ctx.setParams(configToParams(schema, cfg, base));
        rows.clear();
        livePanel = undefined;
        liveTable.replaceChildren();
        phases.replaceChildren();
        setStatus('running');
        progress.set('Starting…');
        meter.start();
        worker.run(o.experimentId, cfg, {
          onEvent,
          onDone: (r) => {
            const stats = meter.stop();
            throttle.flush();
            if (stats) {
              frames.textContent = `Main thread while running: ${stats.frames} frames, mean ${stats.meanMs} ms, 95th percentile ${stats.p95Ms} ms, worst ${stats.maxMs} ms.`;
              hook(pid, { frames: stats });
            }
            show(r);
            progress.set(
              `${r.meta.aborted ? 'Stopped' : 'Done'} in ${(r.meta.durationMs / 1000).toFixed(1)} s on ${r.meta.backend}.`,
              1,
              1,
            );
            setStatus(r.meta.aborted ? 'stopped' : 'done');
            root.dataset.ready = 'true';
          },
          onError: (m) => {
            meter.stop();
            if (m === 'aborted') {
              progress.set('Stopped.');
              setStatus('stopped');
              return;
            }
            error.textContent = m;
            progress.set('Stopped by an error.');
            setStatus('error');
          },
        });
      };

      section.append(
        h('form', { class: 'inputs', id: `${pid}-form` }, form.el),
        h('div', { class: 'controls' }, runBtn, stopBtn, resetBtn),
        error,
        progress.el,
        frames,
        phases,
        liveTable,
        stale,
        summary,
        resultExports,
        results,
      );
      root.append(section);
      setStatus('starting');
      worker.ready.then(
        () => {
          setStatus('idle');
          if (o.autoRun) run();
          else {
            progress.set('Ready: press Run.');
            root.dataset.ready = 'true';
          }
        },
        (e: Error) => {
          error.textContent = `The worker could not start: ${e.message}`;
          setStatus('error');
        },
      );
      return () => {
        meter.stop();
        worker.terminate();
      };
    },
  };
}

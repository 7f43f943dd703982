import type { BackendReport } from '@attnlab/backend';
import {
  backendLabel,
  cachedMeasurement,
  measureBackends,
  requestedBackend,
  startBackend,
  type BackendMeasurement,
} from './backend.js';
import { h } from './dom.js';
import { attentionPage } from './pages/attention.js';
import { cvSweepPage } from './pages/cv-sweep.js';
import { iclPage } from './pages/icl.js';
import { iclLengthPage } from './pages/icl-length.js';
import { iclMultitaskPage } from './pages/icl-multitask.js';
import { kvCachePage } from './pages/kv-cache.js';
import { storyPage } from './pages/story.js';
import { valueMatrixPage } from './pages/value-matrix.js';
import { walkthroughPage } from './pages/walkthrough.js';
import { startRouter } from './router.js';
import { sweepPage } from './pages/sweep.js';
import './style.css';

/** What the e2e tests (and curious users, in the console) can read. */
declare global {
  interface Window {
    __app?: {
      backend: string;
      report: BackendReport;
      forcedFailure?: string;
      warning?: string;
      measured?: BackendMeasurement;
    };
    /** Test hook: what the pages computed (e.g. the ICL trainer's losses and frame times). */
    __attnlab?: Record<string, unknown>;
  }
}

/** A select to switch backend from the page: a reload with ?backend= (the page's state is in the hash). */
function backendSelect(current: string, requested: string): HTMLSelectElement {
  const select = h('select', { id: 'backend-select', 'aria-label': 'Backend' });
  for (const [value, label] of [
    ['auto', 'Fastest here (measured)'],
    ['webgpu', 'WebGPU'],
    ['webgl', 'WebGL'],
    ['wasm', 'WASM'],
    ['cpu', 'CPU'],
  ] as const)
    select.append(h('option', { value, selected: value === (requested === 'auto' ? 'auto' : current) }, label));
  select.addEventListener('change', () => {
    const q = new URLSearchParams(location.search);
    if (select.value === 'auto') q.delete('backend');
    else q.set('backend', select.value);
    const search = q.toString();
    location.assign(`${location.pathname}${search ? `?${search}` : ''}${location.hash}`);
  });
  return select;
}

function showBadge(
  report: BackendReport,
  forcedFailure?: string,
  warning?: string,
  measured?: BackendMeasurement,
  measuring = false,
): void {
  const badge = document.getElementById('backend-badge')!;
  const detail = document.getElementById('backend-detail')!;
  badge.dataset.backend = report.chosen;
  const soft = report.adapter?.software ? ' (software)' : '';
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'badge-name',
      'aria-expanded': 'false',
      'aria-controls': 'backend-detail',
      title: 'Why this backend?',
    },
    `${backendLabel(report.chosen)}${soft}`,
  );
  toggle.addEventListener('click', () => {
    detail.hidden = !detail.hidden;
    toggle.setAttribute('aria-expanded', String(!detail.hidden));
  });
  if (measured) toggle.textContent = `${backendLabel(report.chosen)}${soft} · fastest here`;
  else if (measuring) toggle.textContent = `${backendLabel(report.chosen)} · measuring the others…`;
  badge.dataset.measuring = String(measuring);
  badge.replaceChildren(
    h('span', { class: 'badge-label' }, 'Backend '),
    toggle,
    backendSelect(report.chosen, measured || measuring ? 'auto' : report.preference),
  );
  const candidates = measured
    ? measured.timings.map((t) => ({
        name: t.name,
        status: t.ms !== undefined ? (t.name === report.chosen ? 'chosen' : 'available') : 'unavailable',
        reason: t.ms !== undefined ? `${t.ms} ms on the probe` : t.reason,
        hint: undefined as string | undefined,
      }))
    : report.candidates;
  const skipped = candidates.filter((c) => c.status === 'unavailable' || c.status === 'skipped');
  const items = candidates
    .filter((c) => c.status !== 'not-tried')
    .map((c) =>
      h(
        'li',
        { 'data-candidate': c.name, 'data-status': c.status },
        h('strong', {}, backendLabel(c.name)),
        ` ${c.status}`,
        c.reason ? `: ${c.reason}` : '',
        c.hint ? h('small', {}, ` (${c.hint})`) : null,
      ),
    );
  detail.replaceChildren(
    h(
      'p',
      {},
      `Running on ${backendLabel(report.chosen)} via ${report.via}${report.adapter ? ` (${[report.adapter.vendor, report.adapter.architecture, report.adapter.description].filter(Boolean).join(' / ')})` : ''}. `,
      measured
        ? `Chosen by measuring: each backend ran the same short attention workload (${measured.source === 'cache' ? 'measured on an earlier visit, kept in this browser' : 'measured just now'}); the fastest is used. `
        : measuring
          ? 'The page starts on the CPU backend while every backend is timed on a short attention workload in the background; the fastest is then used. '
          : `Requested: ${report.preference}. `,
      `tfjs-core ${report.versions.tfjsCore}. Switch with the menu, or ?backend=webgpu|webgl|wasm|cpu in the address.`,
    ),
    ...(forcedFailure
      ? [h('p', { class: 'error' }, `The requested backend failed, so auto was used: ${forcedFailure}`)]
      : []),
    ...(warning ? [h('p', { class: 'error' }, warning)] : []),
    h('ul', {}, ...items),
  );
  const why = skipped.map((c) => `${backendLabel(c.name)}: ${c.reason ?? c.status}`).join('; ');
  badge.title = why ? `Better backends skipped: ${why}` : `Running on ${backendLabel(report.chosen)}`;
  badge.dataset.why = why;
  if (forcedFailure || warning) detail.hidden = false;
}

async function boot(): Promise<void> {
  const { prefer, warning } = requestedBackend(location.search);
  const main = document.getElementById('main')!;
  // "Skip to content" moves focus to the page; following its #main would replace the route (and the
  // page's settings) in the URL.
  document.querySelector<HTMLAnchorElement>('a.skip')?.addEventListener('click', (e) => {
    e.preventDefault();
    main.focus();
  });
  // auto: the fastest backend here, by measuring (once per browser), not by a fixed order. On a first
  // visit the page does not wait for the measurement (seconds where WebGPU compiles its shaders on a
  // software adapter): it draws on the CPU backend while a worker measures, then switches.
  const cached = prefer === 'auto' ? cachedMeasurement() : undefined;
  const measuring = prefer === 'auto' && !cached;
  const use = (report: BackendReport, forcedFailure?: string, measured?: BackendMeasurement): void => {
    window.__app = {
      backend: report.chosen,
      report,
      ...(forcedFailure ? { forcedFailure } : {}),
      ...(warning ? { warning } : {}),
      ...(measured ? { measured } : {}),
    };
    showBadge(report, forcedFailure, warning, measured, measuring && !measured);
  };
  try {
    const { report, forcedFailure } = await startBackend(measuring ? 'cpu' : (cached?.fastest ?? prefer));
    use(report, forcedFailure, cached);
  } catch (err) {
    main.replaceChildren(
      h('p', { class: 'error', role: 'alert' }, `No TensorFlow.js backend could start: ${(err as Error).message}`),
    );
    return;
  }
  if (measuring)
    void measureBackends().then(
      async (measured) => {
        const { report } = await startBackend(measured.fastest);
        use(report, undefined, measured);
      },
      (e: Error) => {
        // The CPU backend stays; the badge says why.
        const report = window.__app!.report;
        window.__app = { ...window.__app!, warning: `Could not measure the backends: ${e.message}` };
        showBadge(report, undefined, window.__app.warning);
      },
    );
  startRouter(
    [
      storyPage,
      attentionPage,
      walkthroughPage,
      valueMatrixPage,
      kvCachePage,
      iclPage,
      iclLengthPage,
      iclMultitaskPage,
      cvSweepPage,
      sweepPage,
    ],
    main,
    document.getElementById('nav')!,
  );
  document.body.dataset.ready = 'true';
}

void boot();

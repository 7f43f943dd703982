import type { BackendReport } from '@attnlab/backend';
import { backendLabel, requestedBackend, startBackend } from './backend.js';
import { h } from './dom.js';
import { attentionPage } from './pages/attention.js';
import { cvSweepPage } from './pages/cv-sweep.js';
import { iclPage } from './pages/icl.js';
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
    __app?: { backend: string; report: BackendReport; forcedFailure?: string; warning?: string };
    /** Test hook: what the pages computed (e.g. the ICL trainer's losses and frame times). */
    __attnlab?: Record<string, unknown>;
  }
}

function showBadge(report: BackendReport, forcedFailure?: string, warning?: string): void {
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
  badge.replaceChildren(h('span', { class: 'badge-label' }, 'Backend '), toggle);
  const skipped = report.candidates.filter((c) => c.status === 'unavailable' || c.status === 'skipped');
  const items = report.candidates
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
      `Requested: ${report.preference}. tfjs-core ${report.versions.tfjsCore}. Override with ?backend=webgpu|webgl|wasm|cpu.`,
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
  try {
    const { report, forcedFailure } = await startBackend(prefer);
    window.__app = {
      backend: report.chosen,
      report,
      ...(forcedFailure ? { forcedFailure } : {}),
      ...(warning ? { warning } : {}),
    };
    showBadge(report, forcedFailure, warning);
  } catch (err) {
    main.replaceChildren(
      h('p', { class: 'error', role: 'alert' }, `No TensorFlow.js backend could start: ${(err as Error).message}`),
    );
    return;
  }
  startRouter(
    [storyPage, attentionPage, walkthroughPage, valueMatrixPage, kvCachePage, iclPage, cvSweepPage, sweepPage],
    main,
    document.getElementById('nav')!,
  );
  document.body.dataset.ready = 'true';
}

void boot();

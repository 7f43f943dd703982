import type { BackendPreference } from '@attnlab/backend';
import { h } from './dom.js';
import { ExperimentWorker } from './worker-client.js';

/** A worker on the backend the page itself runs on (so numbers match the badge). */
export function pageWorker(): ExperimentWorker {
  return new ExperimentWorker((window.__app?.backend ?? 'auto') as BackendPreference);
}

/** Progress bar with a text status, announced politely to screen readers. */
export function progressView(id: string): {
  el: HTMLElement;
  set(text: string, done?: number, total?: number): void;
  /** Whether work is under way: only then may the bar run without numbers (the animated, indeterminate bar). */
  busy(on: boolean): void;
} {
  const bar = h('progress', { id: `${id}-progress`, max: '1', value: '0', 'aria-label': 'progress' });
  const text = h('span', { id: `${id}-status-text`, 'aria-live': 'polite' }, '');
  let busy = false;
  let counted = false; // the bar shows numbers from a progress event
  const settle = (): void => {
    if (busy && !counted) bar.removeAttribute('value');
    else if (!bar.hasAttribute('value')) bar.value = 0; // stopped without numbers: a still bar
  };
  return {
    el: h('div', { class: 'progress' }, bar, text),
    set(t, done, total) {
      text.textContent = t;
      if (done !== undefined && total) {
        bar.max = total;
        bar.value = done;
        counted = true;
      } else if (done === undefined) counted = false;
      settle();
    },
    busy(on) {
      busy = on;
      if (!on) counted = bar.hasAttribute('value');
      settle();
    },
  };
}

/** Frame-time statistics (ms) of the main thread while something runs: smoothness, measured. */
export interface FrameStats {
  frames: number;
  meanMs: number;
  p95Ms: number;
  maxMs: number;
  over50Ms: number;
}

/** Records requestAnimationFrame intervals between start() and stop(). */
export function frameMeter(): { start(): void; stop(): FrameStats | undefined; last?: FrameStats } {
  let deltas: number[] = [];
  let prev = 0;
  let id = 0;
  const tick = (t: number): void => {
    if (prev) deltas.push(t - prev);
    prev = t;
    id = requestAnimationFrame(tick);
  };
  const meter = {
    last: undefined as FrameStats | undefined,
    start() {
      if (id) return;
      deltas = [];
      prev = 0;
      id = requestAnimationFrame(tick);
    },
    stop() {
      if (!id) return meter.last;
      cancelAnimationFrame(id);
      id = 0;
      if (deltas.length === 0) return meter.last;
      const sorted = [...deltas].sort((a, b) => a - b);
      const r = (x: number) => Math.round(x * 10) / 10;
      meter.last = {
        frames: deltas.length,
        meanMs: r(deltas.reduce((a, b) => a + b, 0) / deltas.length),
        p95Ms: r(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!),
        maxMs: r(sorted[sorted.length - 1]!),
        over50Ms: deltas.filter((d) => d > 50).length,
      };
      return meter.last;
    },
  };
  return meter;
}

/** Shared test hook (`window.__attnlab`): what the pages computed. */
export function hook(name: string, values: Record<string, unknown>): void {
  window.__attnlab = window.__attnlab ?? {};
  window.__attnlab[name] = { ...(window.__attnlab[name] as Record<string, unknown> | undefined), ...values };
}

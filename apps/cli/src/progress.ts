import { formatValue, type ExperimentEvent } from '@attnlab/experiments';
import { dim, type Io } from './term.js';

/** Seconds as `42s`, `3m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

interface ProgressState {
  phase: string;
  done: number;
  total: number;
  rate?: number;
  loss?: number;
}

/** The text of one progress line: `train H=2  450/1500  30%  120 steps/s  ETA 9s  loss 0.1234`. */
export function progressText(p: ProgressState, barWidth = 0): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const parts = [p.phase];
  if (barWidth > 0) {
    const full = Math.round(frac * barWidth);
    parts.push(`[${'#'.repeat(full)}${'-'.repeat(barWidth - full)}]`);
  }
  parts.push(`${p.done}/${p.total}`, `${Math.floor(frac * 100)}%`);
  if (p.rate !== undefined && Number.isFinite(p.rate) && p.rate > 0) {
    parts.push(`${formatValue(p.rate)} steps/s`);
    if (p.done < p.total) parts.push(`ETA ${formatDuration((p.total - p.done) / p.rate)}`);
  }
  if (p.loss !== undefined) parts.push(`loss ${formatValue(p.loss)}`);
  return parts.join('  ');
}

/**
 * Draws experiment events on stderr: on a terminal a single progress line redrawn in place (at
 * most 10 times a second); otherwise plain lines every 10% or every 5 s. `--quiet` draws nothing.
 */
export class Progress {
  private current: ProgressState | undefined;
  private lastDraw = 0;
  private lastLine = 0;
  private lastDecile = -1;
  private barShown = false;

  /**
   * @param header printed before the first event, so a run that fails before it starts (a bad
   *   config) prints only its error line
   */
  constructor(
    private readonly io: Io,
    private readonly quiet: boolean,
    private header?: string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  readonly onEvent = (e: ExperimentEvent): void => {
    if (this.quiet) return;
    if (this.header !== undefined) {
      const h = this.header;
      this.header = undefined;
      this.io.err(h);
    }
    if (e.type === 'phase') {
      this.current = undefined;
      this.line(`${e.message}`);
      this.lastDecile = -1;
      this.lastLine = this.now();
    } else if (e.type === 'progress') {
      const prev = this.current;
      const rate = e.rate ?? (prev && prev.phase === e.phase ? prev.rate : undefined);
      const loss = e.loss ?? (prev && prev.phase === e.phase ? prev.loss : undefined);
      if (!prev || prev.phase !== e.phase) this.lastDecile = -1;
      this.current = {
        phase: e.phase,
        done: e.done,
        total: e.total,
        ...(rate !== undefined ? { rate } : {}),
        ...(loss !== undefined ? { loss } : {}),
      };
      this.draw(e.done >= e.total);
    }
  };

  /** Prints a message line (the bar is cleared first and redrawn after). */
  line(text: string): void {
    if (this.quiet) return;
    this.clear();
    this.io.err(text);
    if (this.io.tty && this.current) this.draw(true);
  }

  /** Removes the bar (before the final output). */
  clear(): void {
    if (this.barShown && this.io.errRaw) {
      this.io.errRaw('\r\u001b[2K');
      this.barShown = false;
    }
  }

  private draw(force: boolean): void {
    const p = this.current;
    if (!p) return;
    const t = this.now();
    if (this.io.tty && this.io.errRaw) {
      if (!force && t - this.lastDraw < 100) return;
      this.lastDraw = t;
      const cols = this.io.columns?.() ?? 80;
      // A bar of 20 (or 10) cells when the line fits the terminal, else just the numbers.
      let text = [20, 10, 0].map((w) => progressText(p, w)).find((t) => t.length <= cols - 1) ?? progressText(p, 0);
      if (text.length > cols - 1) text = text.slice(0, Math.max(0, cols - 1));
      this.io.errRaw(`\r\u001b[2K${dim(this.io.color, text)}`);
      this.barShown = true;
      if (p.done >= p.total) {
        // A finished phase keeps its last line.
        this.io.errRaw('\n');
        this.barShown = false;
        this.current = undefined;
      }
      return;
    }
    const decile = p.total > 0 ? Math.floor((10 * p.done) / p.total) : 0;
    if (decile > this.lastDecile || t - this.lastLine >= 5000) {
      this.lastDecile = decile;
      this.lastLine = t;
      this.io.err(progressText(p));
    }
  }
}

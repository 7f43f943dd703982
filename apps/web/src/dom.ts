/** Creates an element with attributes and children (text children are set as text, never HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/**
 * The gap kept between two downloads. Chromium drops a link download started too soon after the
 * previous one (measured: 36 clicks about 30 ms apart gave 30 files; 40 ms apart or more, all 36),
 * so downloads wait their turn in one queue, at least this far apart.
 */
const DOWNLOAD_GAP_MS = 100;
let downloads: Promise<void> = Promise.resolve();

/** Saves a blob as a file through a temporary link; rapid calls are queued, so each gives its file. */
export function downloadBlob(name: string, blob: Blob): void {
  downloads = downloads.then(
    () =>
      new Promise<void>((resolve) => {
        const url = URL.createObjectURL(blob);
        const a = h('a', { href: url, download: name });
        document.body.append(a);
        a.click();
        a.remove();
        // The browser reads the blob some time after the click (later still on a busy machine):
        // revoking it after a fixed second lost downloads. Keep it a minute; unload frees the rest.
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        setTimeout(resolve, DOWNLOAD_GAP_MS);
      }),
  );
}

/** Saves text as a file through a temporary link. */
export function download(name: string, text: string, type: string): void {
  downloadBlob(name, new Blob([text], { type }));
}

/** Numbers for on-screen tables: 3 decimals, a real minus sign, ∞ for infinities. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (v === -Infinity) return '−∞';
  if (v === Infinity) return '∞';
  const s = (Math.round(v * 1000) / 1000).toFixed(3);
  return s.startsWith('-') ? `−${s.slice(1)}` : s;
}

/** Compact numbers (4 significant digits, exponent for tiny/huge values). */
export function fmtSig(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return fmt(v);
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e15) return v.toLocaleString('en').replace('-', '−');
  const s =
    a !== 0 && (a < 1e-3 || a >= 1e6) ? Number(v.toExponential(3)).toExponential() : String(Number(v.toPrecision(4)));
  return s.replace('-', '−');
}

/** A labelled form field (label above the control). */
export function field(label: string, control: HTMLElement, help?: string): HTMLElement {
  const id = control.id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, help ? h('small', {}, help) : null);
}

/** A button with a click handler. */
export function button(
  label: string,
  onClick: () => void,
  attrs: Record<string, string | boolean | undefined> = {},
): HTMLButtonElement {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', onClick);
  return b;
}

/** True when the user asked for less motion. */
export const reducedMotion = (): boolean =>
  typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;

/**
 * Calls `draw` at most once per animation frame, however often `schedule` is called; with
 * `prefers-reduced-motion: reduce`, at most once a second (live charts change less often).
 * `share` (0 < share ≤ 1) caps the main thread's time in `draw`: after a draw of t ms the next
 * waits at least t / share ms (a slow machine redraws less often rather than starving the rest).
 */
export function frameThrottle(
  draw: () => void,
  minIntervalMs = reducedMotion() ? 1000 : 0,
  share = 1,
): { schedule(): void; flush(): void } {
  let pending = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastDraw = 0;
  let lastMs = 0;
  const run = (): void => {
    pending = 0;
    lastDraw = performance.now();
    draw();
    lastMs = performance.now() - lastDraw;
  };
  return {
    schedule() {
      if (pending || timer) return;
      const wait = lastDraw + Math.max(minIntervalMs, lastMs / share) - performance.now();
      if (wait > 0) {
        timer = setTimeout(() => {
          timer = undefined;
          pending = requestAnimationFrame(run);
        }, wait);
        return;
      }
      pending = requestAnimationFrame(run);
    },
    flush() {
      if (pending) cancelAnimationFrame(pending);
      if (timer) clearTimeout(timer);
      timer = undefined;
      run();
    },
  };
}

// The web lab in real Chromium (Debian's, through playwright-core; never `playwright install`).
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { axeViolations, BASE_ARGS, CHROMIUM, dist, ensureBuilt, PAGES } from './harness.js';
import { serveStatic, type StaticServer } from './server.js';

// Enough for WebGPU on Dawn over SwiftShader in headless Debian chromium (measured: no adapter without it).
const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

let server: StaticServer;
const browsers: Browser[] = [];
async function launch(webgpu: boolean): Promise<Browser> {
  const b = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_ARGS, ...(webgpu ? WEBGPU_ARGS : [])] });
  browsers.push(b);
  return b;
}

interface Opened {
  page: Page;
  errors: string[];
  warnings: string[];
}
async function open(
  browser: Browser,
  path: string,
  ready = 'main[data-ready="true"]',
  viewport = { width: 1100, height: 1000 },
  origin = server.url,
): Promise<Opened> {
  const page = await browser.newPage({ viewport, acceptDownloads: true });
  const errors: string[] = [];
  const warnings: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(m.text());
    if (m.type() === 'warning') warnings.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${origin}${path}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  await page.waitForSelector(ready, { timeout: 60_000 });
  return { page, errors, warnings };
}

/** What a phone shows: page and header sizes, chart text smaller than 10 px, heatmap digits wider than their cell. */
const layout = (page: Page) =>
  page.evaluate(() => {
    const visible = (e: Element) => e.getBoundingClientRect().width > 0;
    const texts = [...document.querySelectorAll<SVGTextElement>('main svg text')].filter(
      (t) => visible(t) && !t.closest('.thumb'), // head thumbnails are pictures (aria-hidden), the panel beside them is read
    );
    const px = (t: SVGTextElement) => {
      const m = t.getScreenCTM();
      return parseFloat(getComputedStyle(t).fontSize) * (m ? Math.hypot(m.a, m.b) : 1);
    };
    return {
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth,
      header: document.querySelector('header')!.getBoundingClientRect().height,
      smallText: texts
        .filter((t) => !t.classList.contains('cell-value') && px(t) < 10)
        .map((t) => `${t.getAttribute('class') ?? 'text'} "${t.textContent}" ${px(t).toFixed(1)} px`),
      digits: texts.filter((t) => t.classList.contains('cell-value')).length,
      smallDigits: texts.filter((t) => t.classList.contains('cell-value') && px(t) < 9).length,
      // A digit wider than its cell collides with the next one.
      overflowing: texts
        .filter((t) => t.classList.contains('cell-value'))
        .filter((t) => {
          const cell = t.previousElementSibling as SVGRectElement | null;
          return cell !== null && t.getBBox().width > cell.width.baseVal.value;
        })
        .map((t) => t.textContent),
      // Legend entries that overlap each other or reach outside their figure (as Chromium lays them out).
      legends: [...document.querySelectorAll<SVGSVGElement>('main svg')]
        .filter((svg) => visible(svg) && !svg.closest('.thumb'))
        .flatMap((svg) => {
          const frame = svg.getBoundingClientRect();
          const boxes = [...svg.querySelectorAll('.legend-entry')].map((e) => ({
            name: e.textContent ?? '',
            r: e.getBoundingClientRect(),
          }));
          const out = boxes
            .filter(
              ({ r }) => r.left < frame.left - 0.5 || r.right > frame.right + 0.5 || r.bottom > frame.bottom + 0.5,
            )
            .map(({ name }) => `"${name}" outside its figure`);
          boxes.forEach((a, i) =>
            boxes.slice(i + 1).forEach((b) => {
              const apart =
                a.r.right <= b.r.left + 0.5 ||
                b.r.right <= a.r.left + 0.5 ||
                a.r.bottom <= b.r.top + 0.5 ||
                b.r.bottom <= a.r.top + 0.5;
              if (!apart) out.push(`"${a.name}" overlaps "${b.name}"`);
            }),
          );
          return out;
        }),
    };
  });

/**
 * The repository's own vocabulary where a reader sees it (issue #14): seed numbers, package names,
 * experiment ids and config paths. Names and tooltips (title attributes) may keep them.
 */
const REPO_WORDS =
  /\b[Ss]eed 00\d\b|@attnlab|\bconfig\.|\b(?:icl-regression|attention-walkthrough|icl-length|icl-multitask|cv-sweep|kv-cache|value-matrix)\b|\b(?:optimizer|evaluation|compression|multihead|retrieval|learning|compare)\.[a-z]|\b[a-z]+\.[a-z]+[A-Z][A-Za-z]*\b/;

/** Every line of text the page shows (HTML text as rendered, visible SVG text, the chosen options) that uses {@link REPO_WORDS}. */
const repoWords = (page: Page): Promise<string[]> =>
  page.evaluate((source) => {
    const re = new RegExp(source);
    const shown = (e: Element) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
    };
    const lines = [
      ...document.body.innerText.split('\n'),
      ...[...document.querySelectorAll('svg text')].filter(shown).map((t) => t.textContent ?? ''),
      ...[...document.querySelectorAll('select')].filter(shown).map((s) => s.selectedOptions[0]?.textContent ?? ''),
      ...[...document.querySelectorAll<HTMLInputElement>('input[placeholder], textarea[placeholder]')]
        .filter(shown)
        .map((i) => i.placeholder),
    ];
    return [...new Set(lines.filter((l) => re.test(l)).map((l) => l.trim().slice(0, 160)))];
  }, REPO_WORDS.source);

/** The numbers table of the current step, as numbers (full precision from data-value). */
const table = (page: Page): Promise<number[][]> =>
  page.$$eval('#wt-stage table.numbers tbody tr', (rows) =>
    rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => Number(td.getAttribute('data-value')))),
  );

function expectRows(actual: number[][], expected: number[][], tol = 1e-3): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - expected[i]![j]!)).toBeLessThan(tol)));
}

/** Clicks an export button and returns the downloaded file's name and bytes. */
async function exported(page: Page, selector: string): Promise<{ name: string; bytes: Buffer }> {
  // One click, one file (issue #14, bug 13: downloads are queued, so none is dropped).
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click(selector)]);
  return { name: download.suggestedFilename(), bytes: readFileSync((await download.path())!) };
}

/** Every export of one figure panel: PNG signature, SVG parses, CSV has rows, JSON parses. */
async function checkExports(page: Page, figure: string): Promise<void> {
  const at = (kind: string) => `[data-figure="${figure}"] button[data-export="${kind}"]`;
  const png = await exported(page, at('png'));
  expect(png.name).toMatch(/\.png$/);
  expect(png.bytes.length).toBeGreaterThan(1000);
  expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const svg = (await exported(page, at('svg'))).bytes.toString('utf8');
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return { root: doc.documentElement.nodeName, errors: doc.getElementsByTagName('parsererror').length };
  }, svg);
  expect(parsed).toEqual({ root: 'svg', errors: 0 });
  const csv = (await exported(page, at('csv'))).bytes.toString('utf8').trim().split(/\r?\n/);
  expect(csv.length).toBeGreaterThan(1);
  expect(csv.every((l) => l.split(',').length >= 2)).toBe(true);
  const json: unknown = JSON.parse((await exported(page, at('json'))).bytes.toString('utf8'));
  expect(typeof json).toBe('object');
}

// Seed 002, complete attention flow (Q, K, V with d_k = 4). Hand computation: QKᵀ = [[1,1,2],[1,1,1],[1,1,1]],
// ÷2 → softmax row 0 = (e^.5, e^.5, e^1)/Σ = 0.2741, 0.2741, 0.4519; rows 1–2 = 1/3 each;
// output row 0 = 0.2741·V0 + 0.2741·V1 + 0.4519·V2.
const SCORES = [
  [1, 1, 2],
  [1, 1, 1],
  [1, 1, 1],
];
const WEIGHTS = [
  [0.2741, 0.2741, 0.4519],
  [1 / 3, 1 / 3, 1 / 3],
  [1 / 3, 1 / 3, 1 / 3],
];
const OUTPUT = [
  [1.3148, 1.4111, 3.3148, 3.4111],
  [1.1667, 1.5, 3.1667, 3.5],
  [1.1667, 1.5, 3.1667, 3.5],
];
// Causal: row i sees j ≤ i.
const WEIGHTS_CAUSAL = [
  [1, 0, 0],
  [0.5, 0.5, 0],
  [1 / 3, 1 / 3, 1 / 3],
];
const OUTPUT_CAUSAL = [
  [1, 2, 3, 4],
  [0.75, 1.75, 2.75, 3.75],
  [1.1667, 1.5, 3.1667, 3.5],
];

// A tiny ICL training (5 steps, batch 16, no evaluation): the same on every backend up to float32.
const TINY_ICL =
  'steps=5&batch=16&log.loss=1&log.validation=5&log.dynamics=5&log.qk=5&finalValidationSamples=0&evaluation.samples=0';

beforeAll(async () => {
  ensureBuilt();
  server = await serveStatic(dist);
}, 240_000);
afterAll(async () => {
  await Promise.all(browsers.map((b) => b.close()));
  await server?.close();
});

describe('web lab in Chromium', () => {
  let gpu: Browser;
  let plain: Browser;
  beforeAll(async () => {
    [gpu, plain] = await Promise.all([launch(true), launch(false)]);
  });

  it('with --enable-unsafe-webgpu: runs on WebGPU, badge says so, walkthrough shows seed 002, no console errors', async () => {
    const { page, errors, warnings } = await open(gpu, '/?backend=webgpu#/walkthrough?step=1');
    expect(await page.evaluate(() => window.__app?.backend)).toBe('webgpu');
    expect(await page.getAttribute('#backend-badge', 'data-backend')).toBe('webgpu');
    expect(await page.textContent('#backend-badge')).toMatch(/WebGPU/);
    expectRows(await table(page), SCORES);
    await page.click('button.step[data-step="4"]');
    expectRows(await table(page), WEIGHTS);
    await page.click('button.step[data-step="5"]');
    expectRows(await table(page), OUTPUT);
    expect(page.url()).toMatch(/#\/walkthrough\?mode=qkv&step=5&causal=0$/);
    await page.click('button.step[data-step="4"]');
    await page.screenshot({ path: '/tmp/attnlab-web-webgpu.png', fullPage: true });
    expect(errors).toEqual([]);
    expect(warnings.filter((w) => /Initialization of backend .* failed/.test(w))).toEqual([]);
    await page.close();
  });

  it('WebGPU: a 5-step ICL training in the worker matches the cpu backend within 1e-3', async () => {
    const train = async (backend: string): Promise<{ losses: number[]; worker: string }> => {
      const { page, errors } = await open(gpu, `/?backend=${backend}#/icl?${TINY_ICL}`);
      expect(await page.inputValue('#icl-steps')).toBe('5');
      await page.click('#icl-train');
      await page.waitForSelector('#icl[data-status="done"]', { timeout: 90_000 });
      const hookData = await page.evaluate(
        () => window.__attnlab?.icl as { losses: number[]; backend: string; meta: { backend: string } },
      );
      expect(hookData.meta.backend).toBe(backend);
      expect(await page.getAttribute('#icl-worker', 'data-backend')).toBe(backend);
      const dom = JSON.parse((await page.getAttribute('#icl-results', 'data-losses'))!) as number[];
      expect(dom).toEqual(hookData.losses.slice(0, 20));
      expect(errors).toEqual([]);
      await page.close();
      return { losses: hookData.losses, worker: hookData.backend };
    };
    const webgpu = await train('webgpu');
    const cpu = await train('cpu');
    expect(webgpu.worker).toBe('webgpu');
    expect(cpu.worker).toBe('cpu');
    expect(webgpu.losses).toHaveLength(5);
    expect(cpu.losses).toHaveLength(5);
    webgpu.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i]!)).toBeLessThan(1e-3));
    // The losses are real training losses: positive and finite (β ~ N(0, I), d = 5 gives MSE of order d).
    cpu.losses.forEach((l) => expect(l).toBeGreaterThan(0.01));
  }, 120_000);

  it('ICL trainer: the SIMD engine can split each batch over 2 threads in a cross-origin-isolated page (and times 1 against 2), 1 thread without isolation; the same losses bit for bit', async () => {
    // Every batch is computed in the same two parts whichever thread computes them, so one thread
    // and two give the same numbers; the measured engine runs 128 steps on each way first, so a
    // 300-step run uses both.
    const ICL =
      '/?backend=cpu#/icl?steps=300&batch=64&L=20&log.loss=1&log.validation=300&log.dynamics=300&log.qk=300&finalValidationSamples=0&evaluation.samples=0&headCounts=';
    const unisolated = await serveStatic(dist, { isolated: false });
    const train = async (origin: string) => {
      const { page, errors } = await open(plain, ICL, undefined, undefined, origin);
      // every status line the page shows (the engine's reason is one of them, briefly)
      await page.evaluate(() => {
        const el = document.querySelector('#icl-status-text')!;
        const seen: string[] = [];
        (window as unknown as { statusLines: string[] }).statusLines = seen;
        new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, {
          childList: true,
          characterData: true,
          subtree: true,
        });
      });
      await page.click('#icl-train');
      await page.waitForSelector('#icl[data-status="done"]', { timeout: 120_000 });
      const r = await page.evaluate(() => ({
        isolated: crossOriginIsolated,
        cpus: navigator.hardwareConcurrency,
        lines: (window as unknown as { statusLines: string[] }).statusLines,
        icl: window.__attnlab?.icl as { losses: number[]; engine: { name: string; reason: string } },
      }));
      const note = (await page.textContent('#icl-results-note'))!;
      expect(errors).toEqual([]);
      await page.close();
      return { ...r, note };
    };
    try {
      const two = await train(server.url);
      const one = await train(unisolated.url);
      expect([two.isolated, one.isolated]).toEqual([true, false]);
      const [threads, detail] =
        two.cpus >= 2
          ? ['1–2 threads', '1 or 2 threads, whichever measures faster as it trains (the same numbers either way)']
          : ['1 thread', '1 thread'];
      expect(two.icl.engine).toEqual({
        name: `simd (${threads})`,
        reason: `simd: every field of the spec is supported; ${detail}`,
      });
      expect(two.lines.some((l) => l.startsWith(`Training on simd (${threads}): simd: every field`))).toBe(true);
      expect(two.note).toContain(`training engine simd (${threads}), `);
      expect(one.icl.engine.name).toBe('simd (1 thread)');
      expect(one.note).toContain('training engine simd (1 thread), ');
      expect(one.lines.some((l) => l.startsWith('Training on simd (1 thread)'))).toBe(true);
      expect(two.icl.losses).toHaveLength(300);
      expect(one.icl.losses).toHaveLength(300);
      expect(two.icl.losses).toEqual(one.icl.losses);
      one.icl.losses.forEach((l) => expect(l).toBeGreaterThan(0.01));
    } finally {
      await unisolated.close();
    }
  }, 300_000);

  it("ICL trainer: the SIMD engine's nested worker ends on Pause and on leaving the page while training (no leak)", async () => {
    const { page, errors } = await open(
      plain,
      '/?backend=cpu#/icl?steps=400000&log.validation=100000&finalValidationSamples=0&evaluation.samples=0&headCounts=',
    );
    /** The next nested (Blob URL) worker the page starts, and a promise of its end. */
    const nextThread = async () => {
      const w = await page.waitForEvent('worker', { predicate: (x) => x.url().startsWith('blob:'), timeout: 60_000 });
      return new Promise<void>((r) => w.on('close', () => r()));
    };
    const blobWorkers = () => page.workers().filter((w) => w.url().startsWith('blob:')).length;
    let ended = nextThread();
    await page.click('#icl-train');
    await page.waitForSelector('[data-figure="live-loss"]', { timeout: 60_000 });
    expect(blobWorkers()).toBe(1);
    await page.click('#icl-pause');
    await page.waitForSelector('#icl[data-status="paused"]', { timeout: 60_000 });
    await ended;
    expect(blobWorkers()).toBe(0);
    ended = nextThread();
    await page.click('#icl-resume');
    await page.waitForSelector('#icl[data-status="running"]', { timeout: 60_000 });
    await page.click('#nav a[data-page="kv-cache"]');
    await page.waitForSelector('#kv-headline');
    await ended;
    expect(blobWorkers()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('auto picks the fastest backend by measuring, says why WebGPU was skipped; the menu switches backend and keeps the page', async () => {
    const { page, errors } = await open(plain, '/#/kv-cache?preset=seed&compare.seqLen=4096');
    // A first visit: the page is drawn on the CPU backend while a worker times every backend, then
    // it switches to the fastest.
    await page.waitForFunction(() => window.__app?.measured !== undefined, undefined, { timeout: 60_000 });
    expect(await page.getAttribute('#backend-badge', 'data-measuring')).toBe('false');
    const app = await page.evaluate(() => ({
      backend: window.__app?.backend,
      active: window.__app?.report.chosen,
      measured: window.__app?.measured,
    }));
    // Every backend that starts was timed; the one in use (tfjs's own getBackend) is the fastest of them.
    const timed = app.measured!.timings.filter((t) => t.ms !== undefined);
    expect(timed.length).toBeGreaterThanOrEqual(2);
    const fastest = [...timed].sort((a, b) => a.ms! - b.ms!)[0]!.name;
    expect(app.backend).toBe(fastest);
    expect(app.active).toBe(fastest);
    expect(await page.textContent('#backend-badge')).toContain('fastest here');
    // Switching from the page: a clean reload on the backend chosen, the page and its settings kept.
    await Promise.all([page.waitForURL(/backend=cpu/), page.selectOption('#backend-select', 'cpu')]);
    await page.waitForSelector('main[data-ready="true"]');
    expect(await page.evaluate(() => window.__app?.backend)).toBe('cpu');
    expect(await page.inputValue('#kv-compare-seqLen')).toBe('4096');
    // Back to auto: the measurement kept in this browser is used, not taken again.
    await Promise.all([
      page.waitForURL((u) => !u.search.includes('backend=')),
      page.selectOption('#backend-select', 'auto'),
    ]);
    await page.waitForSelector('main[data-ready="true"]');
    expect(await page.evaluate(() => window.__app?.measured?.source)).toBe('cache');
    const why = await page.getAttribute('#backend-badge', 'data-why');
    expect(why).toMatch(/WebGPU: (no WebGPU adapter|navigator\.gpu is missing)/);
    await page.click('#backend-badge button');
    expect(await page.textContent('#backend-detail li[data-candidate="webgpu"]')).toMatch(
      /unavailable: no WebGPU adapter/,
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('?backend=wasm is honoured; the .wasm binary is served as application/wasm from the bundle', async () => {
    const { page, errors } = await open(plain, '/?backend=wasm#/walkthrough?step=4');
    expect(await page.evaluate(() => window.__app?.backend)).toBe('wasm');
    expect(await page.textContent('#backend-badge')).toMatch(/WASM/);
    expectRows(await table(page), WEIGHTS);
    const wasm = server.log.filter((l) => l.path.endsWith('.wasm'));
    expect(wasm.length).toBeGreaterThan(0);
    for (const w of wasm) expect(w).toMatchObject({ status: 200, type: 'application/wasm' });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('walkthrough: a shared URL restores causal + step; masked cells hatched; keyboard readout; every export is a valid file', async () => {
    const { page, errors } = await open(plain, '/?backend=cpu#/walkthrough?step=4&causal=1');
    expect(await page.isChecked('#wt-causal')).toBe(true);
    expect(await page.getAttribute('button.step[data-step="4"]', 'aria-pressed')).toBe('true');
    expectRows(await table(page), WEIGHTS_CAUSAL);
    const masked = await page.$$eval('#wt-heatmap rect.cell.masked', (els) =>
      els.map((e) => `${e.getAttribute('data-row')},${e.getAttribute('data-col')}`),
    );
    expect(masked).toEqual(['0,1', '0,2', '1,2']);
    await page.focus('#wt-heatmap rect.cell[data-row="0"][data-col="0"]');
    await page.keyboard.press('ArrowDown');
    expect(await page.textContent('#wt-heatmap-readout')).toBe('against attends to Me: 0.5');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await page.textContent('#wt-heatmap-readout')).toBe('against attends to the: masked');
    expect(await page.textContent('#wt-summary')).not.toBe('');
    await page.click('button.step[data-step="5"]');
    expectRows(await table(page), OUTPUT_CAUSAL);
    // The CSV download is the plot package's tidy CSV of this step.
    const csv = (await exported(page, '[data-figure="wt"] button[data-export="csv"]')).bytes.toString('utf8');
    expect(csv.split('\r\n')[0]).toBe('row,col,row_label,col_label,value,masked');
    expect(csv).toContain('1,0,against,v1,0.75,false');
    await checkExports(page, 'wt');
    await page.screenshot({ path: '/tmp/attnlab-web-causal.png', fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('walkthrough, embeddings mode (seed 001): a grid of heads, hover previews, click locks, concatenation and W_O; the URL restores it', async () => {
    const { page, errors } = await open(
      plain,
      '/?backend=cpu#/walkthrough?mode=embeddings&step=4&causal=1&heads=3&hd=2&seed=7',
    );
    expect(await page.isChecked('#wt-mode-emb')).toBe(true);
    expect(await page.$$eval('#wt-heads-grid .head-thumb', (els) => els.length)).toBe(3);
    expect(await page.getAttribute('#wt-stage', 'data-head')).toBe('1');
    // Causal softmax: row 0 attends only to itself.
    const w = await table(page);
    expect(w).toHaveLength(6);
    expect(w[0]![0]).toBeCloseTo(1, 5);
    w.forEach((row) => expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4));
    await page.hover('.head-thumb[data-head="3"]');
    expect(await page.getAttribute('#wt-stage', 'data-head')).toBe('3');
    expect(await page.textContent('#wt-stage h2 + p + section')).toContain('(preview)');
    await page.click('.head-thumb[data-head="2"]');
    await page.mouse.move(5, 5);
    expect(await page.getAttribute('#wt-stage', 'data-head')).toBe('2');
    expect(await page.getAttribute('.head-thumb[data-head="2"]', 'aria-pressed')).toBe('true');
    await page.click('button.step[data-step="6"]');
    expect((await table(page))[0]).toHaveLength(6); // 3 heads × 2
    await page.click('button.step[data-step="7"]');
    expect((await table(page))[0]).toHaveLength(3); // back to d_model = 3
    expect(await page.$('[data-figure="wt-wo"]')).not.toBeNull();
    const url = page.url();
    expect(url).toContain('head=2');
    const projected = await table(page);
    await page.screenshot({ path: '/tmp/attnlab-web-walkthrough-heads.png', fullPage: true });
    const again = await open(plain, url.replace(server.url, ''));
    expect(await again.page.getAttribute('button.step[data-step="7"]', 'aria-pressed')).toBe('true');
    expect(await again.page.$$eval('.head-thumb', (els) => els.length)).toBe(0); // step 7 mixes the heads: no grid
    expectRows(await table(again.page), projected, 1e-6);
    expect(errors).toEqual([]);
    expect(again.errors).toEqual([]);
    await Promise.all([page.close(), again.page.close()]);
  });

  it('bad input: an invalid ?backend= is reported and auto is used; a bad matrix shows an error, not a crash', async () => {
    const { page, errors } = await open(plain, '/?backend=tpu#/walkthrough');
    expect(await page.textContent('#backend-detail')).toContain(
      '?backend=tpu is not a backend; allowed: auto, webgpu, webgl, wasm, cpu',
    );
    await page.fill('#wt-q', '1 0 1 0\n0 1 zero 1\n1 1 0 0');
    await page.waitForSelector('#wt-error:not(:empty)');
    expect(await page.textContent('#wt-error')).toBe("Q, row 2: 'zero' is not a number");
    expect(errors).toEqual([]);
    await page.close();
  });

  it('walkthrough: an overflow (q = k = 1e30) is shown as not finite, never as 0 or as a masked −∞', async () => {
    const { page, errors } = await open(plain, '/?backend=cpu#/walkthrough?mode=qkv&step=4');
    const big = '1e30 1e30 1e30 1e30\n1e30 1e30 1e30 1e30\n1e30 1e30 1e30 1e30';
    await page.fill('#wt-q', big);
    await page.fill('#wt-k', big);
    // Softmax of ∞ − ∞: NaN in every cell of the table and of the heatmap.
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#wt-stage table.numbers td')].every(
        (td) => td.getAttribute('data-value') === 'NaN',
      ),
    );
    const cells = await page.$$eval('#wt-stage rect.cell', (rs) => rs.map((r) => r.getAttribute('data-value')));
    expect(cells.length).toBeGreaterThan(0);
    expect(new Set(cells)).toEqual(new Set(['NaN']));
    expect(await page.textContent('#wt-stage')).not.toContain('−∞');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the router: "Skip to content" keeps the page and its settings; a pasted link to the same page is followed', async () => {
    const { page, errors } = await open(plain, '/?backend=cpu#/kv-cache?preset=seed&compare.seqLen=4096');
    expect(await page.inputValue('#kv-compare-seqLen')).toBe('4096');
    // The first tab stop is the skip link; Enter on it moves focus to <main>, nothing else.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'main');
    expect(page.url()).toContain('#/kv-cache?');
    expect(page.url()).toContain('compare.seqLen=4096');
    expect(await page.inputValue('#kv-compare-seqLen')).toBe('4096');
    // A link to this page with other settings (pasted into the address bar) is drawn, and stays in the URL.
    await page.evaluate(() => {
      location.hash = '#/kv-cache?preset=seed&compare.seqLen=1024';
    });
    await page.waitForFunction(
      () => (document.getElementById('kv-compare-seqLen') as HTMLInputElement | null)?.value === '1024',
    );
    await page.waitForSelector('main[data-ready="true"]');
    expect(page.url()).toContain('compare.seqLen=1024');
    expect(page.url()).not.toContain('compare.seqLen=4096');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('walkthrough: keyboard focus stays on the step control used; an out-of-range step in a link is named and corrected', async () => {
    const { page, errors } = await open(plain, '/?backend=cpu#/walkthrough?mode=qkv&step=99');
    // qkv mode has 5 steps: step 99 shows step 5, the URL says so, and a note names the link's value.
    expect(await page.getAttribute('button.step[aria-pressed="true"]', 'data-step')).toBe('5');
    await page.waitForFunction(() => location.hash.includes('step=5'));
    expect(await page.textContent('#wt-link-note')).toContain('step=99');
    await page.focus('button.step[data-step="2"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('button.step[data-step="2"][aria-pressed="true"]');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.step)).toBe('2');
    await page.focus('button[aria-label="Next step"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('button.step[data-step="3"][aria-pressed="true"]');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Next step');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the busy bar runs only while work is under way (idle, done: a still bar)', async () => {
    const running = (page: Page, id: string) => page.$eval(`#${id}-progress`, (el) => el.matches(':indeterminate'));
    const icl = await open(
      plain,
      '/?backend=cpu#/icl?steps=40&batch=8&log.loss=5&log.validation=20&log.dynamics=20&log.qk=40&finalValidationSamples=20&evaluation.samples=0',
    );
    await icl.page.waitForSelector('#icl-train:not([disabled])', { timeout: 60_000 });
    expect(await running(icl.page, 'icl')).toBe(false);
    await icl.page.click('#icl-train');
    await icl.page.waitForSelector('#icl[data-status="done"]', { timeout: 60_000 });
    expect(await running(icl.page, 'icl')).toBe(false);
    await icl.page.close();
    const vm = await open(plain, '/?backend=cpu#/value-matrix');
    await vm.page.waitForSelector('[data-status="done"]', { timeout: 90_000 });
    expect(await vm.page.$$eval('progress', (els) => els.filter((e) => e.matches(':indeterminate')).length)).toBe(0);
    await vm.page.close();
    const cv = await open(plain, '/?backend=cpu#/cv-sweep');
    expect(await cv.page.$$eval('progress', (els) => els.filter((e) => e.matches(':indeterminate')).length)).toBe(0);
    expect([...icl.errors, ...vm.errors, ...cv.errors]).toEqual([]);
    await cv.page.close();
  }, 180_000);

  it('KV-cache calculator: the classic table’s numbers, instant updates, errors at their field, a shared URL restores the state', async () => {
    const { page, errors } = await open(plain, '/?backend=cpu#/kv-cache?preset=seed');
    // Seed 000 / closed form: LLaMA-7B (32 layers, 32 heads × 128) in fp16: 2·32·32·128·2 = 524,288 bytes per token;
    // 2048 tokens → 1024 MB; GQA with 4 KV heads is 8× smaller.
    const variants = await page.$$eval('[data-figure="kv-cache-variants"] tbody tr', (rows) =>
      rows.map((r) => Array.from(r.querySelectorAll('td')).map((c) => c.getAttribute('data-value'))),
    );
    expect(Number(variants[0]![0])).toBe(524288);
    expect(Number(variants[0]![2])).toBe(1024);
    expect(Number(variants[1]![2])).toBe(128);
    await page.fill('#kv-compare-seqLen', '4096');
    await page.waitForFunction(() => document.querySelector('#kv-headline')?.textContent?.includes('4,096'));
    expect(page.url()).toContain('compare.seqLen=4096');
    await page.check('#kv-custom-on');
    await page.fill('#kv-custom-label', 'tiny');
    await page.waitForFunction(() =>
      document.querySelector('[data-figure="kv-cache-table"]')?.textContent?.includes('tiny'),
    );
    const headline = await page.textContent('#kv-headline');
    await checkExports(page, 'kv-cache-curve');
    await page.screenshot({ path: '/tmp/attnlab-web-kv-cache.png', fullPage: true });
    const again = await open(plain, page.url().replace(server.url, ''));
    expect(await again.page.inputValue('#kv-compare-seqLen')).toBe('4096');
    expect(await again.page.isChecked('#kv-custom-on')).toBe(true);
    expect(await again.page.textContent('#kv-headline')).toBe(headline);
    expect(await again.page.textContent('[data-figure="kv-cache-table"]')).toContain('tiny');
    await again.page.fill('#kv-compare-gqaKvHeads', '5');
    await again.page.waitForSelector('#kv-error:not(:empty)');
    // Named by its label, next to the field, in the reader's words (not the config's path).
    const kvError = (await again.page.textContent('#kv-error'))!;
    expect(kvError).toContain('GQA: KV heads');
    expect(kvError).not.toMatch(/gqaKvHeads|config\./);
    expect(await again.page.getAttribute('#kv-compare-gqaKvHeads', 'aria-invalid')).toBe('true');
    expect(errors).toEqual([]);
    expect(again.errors).toEqual([]);
    await Promise.all([page.close(), again.page.close()]);
  });

  it('value-matrix lab: runs in a worker on open, shows spectrum, retrieval, learning; exports work', async () => {
    const { page, errors } = await open(
      plain,
      '/?backend=cpu#/value-matrix?learning.epochs=100',
      '#value-matrix[data-status="done"]',
    );
    for (const id of [
      'value-matrix-spectrum',
      'value-matrix-retrieval',
      'value-matrix-learning',
      'value-matrix-summary',
      'value-matrix-retrieval-patterns',
    ]) {
      expect(await page.$(`[data-figure="${id}"]`)).not.toBeNull();
    }
    // Seed 000: a random 512×64 W_V has full rank 64, and pinv reconstruction keeps 64/512 of the energy:
    // relative error ≈ 1 − 64/512 = 87.5%.
    const findings = (await page.textContent('#value-matrix-findings'))!;
    const rel = Number(/relative error ([\d.]+)%/.exec(findings)?.[1]);
    expect(rel).toBeGreaterThan(80);
    expect(rel).toBeLessThan(95);
    expect(findings).toContain('of 64 by energy');
    expect(await page.inputValue('#value-matrix-learning-epochs')).toBe('100');
    await checkExports(page, 'value-matrix-spectrum');
    await page.screenshot({ path: '/tmp/attnlab-web-value-matrix.png', fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('ICL trainer: precomputed example first; train with pause/resume in a worker; exports; your own CSV', async () => {
    const { page, errors } = await open(
      plain,
      // 6,000 steps: long enough that the pause below lands in training (not in the evaluation after
      // it) on a loaded machine too, where a click takes longer to arrive.
      '/?backend=cpu#/icl?steps=6000&batch=32&log.loss=5&log.validation=500&log.dynamics=250&log.qk=500&finalValidationSamples=200&evaluation.samples=20&evaluation.maxL=61',
    );
    expect(await page.textContent('#icl-results-title')).toBe('Precomputed example');
    expect(await page.$('[data-figure="icl-error-curves"]')).not.toBeNull();
    await page.screenshot({ path: '/tmp/attnlab-web-icl-example.png', fullPage: true });
    await page.click('#icl-train');
    await page.waitForSelector('[data-figure="live-loss"]', { timeout: 30_000 });
    await page.click('#icl-pause');
    await page.waitForSelector('#icl[data-status="paused"]', { timeout: 30_000 });
    const pausedAt = await page.evaluate(
      () => (window.__attnlab?.icl as { lossSteps: number[] }).lossSteps.slice(-1)[0],
    );
    expect(pausedAt).toBeLessThan(6000);
    await page.screenshot({ path: '/tmp/attnlab-web-icl-paused.png', fullPage: true });
    // An edit while paused: Resume continues the paused run as configured, puts its settings back
    // in the form and says so (it used to continue silently under the edited form).
    await page.fill('#icl-steps', '7000');
    await page.click('#icl-resume');
    await page.waitForSelector('#icl-resume-note:not(:empty)');
    expect(await page.textContent('#icl-resume-note')).toContain('put back');
    expect(await page.inputValue('#icl-steps')).toBe('6000');
    await page.waitForSelector('#icl[data-status="done"]', { timeout: 90_000 });
    const hookData = await page.evaluate(
      () =>
        window.__attnlab?.icl as {
          losses: number[];
          lossSteps: number[];
          meta: { resumedFrom?: number };
          frames: { frames: number; meanMs: number; p95Ms: number; maxMs: number };
        },
    );
    expect(hookData.lossSteps).toEqual(Array.from({ length: 1200 }, (_, i) => 5 * i)); // one loss record per 5 steps (from step 0), no gap at the pause
    expect(hookData.meta.resumedFrom).toBeGreaterThan(0);
    expect(hookData.frames.frames).toBeGreaterThan(0);
    console.log(`ICL trainer frame times while training (cpu worker): ${JSON.stringify(hookData.frames)}`);
    expect(await page.textContent('#icl-results-title')).toBe('Your run');
    await checkExports(page, 'icl-loss');
    await checkExports(page, 'icl-qk-circuits');
    const weights = JSON.parse((await exported(page, 'button[data-export="weights-json"]')).bytes.toString('utf8')) as {
      params: Record<string, { shape: number[]; values: number[] }>;
    };
    expect(weights.params.Wq!.shape).toEqual([2, 6, 6]);
    expect(weights.params.Wq!.values).toHaveLength(72);
    await page.screenshot({ path: '/tmp/attnlab-web-icl-trained.png', fullPage: true });
    // Your own data: y = 1.5·x₁ − 0.5·x₂ exactly, so least squares predicts the held-out rows
    // (0.8, 1) → 0.7, (−0.5, −0.2) → −0.65, (1.2, −0.8) → 2.2 (by hand).
    await page.click('#icl-csv-example');
    await page.click('#icl-csv-run');
    await page.waitForSelector('#icl-csv-results[data-rows]');
    const rows = JSON.parse((await page.getAttribute('#icl-csv-results', 'data-rows'))!) as {
      name: string;
      predictions: number[];
      mse: number;
    }[];
    const ls = rows.find((r) => r.name === 'least squares')!;
    expectRows([ls.predictions], [[0.7, -0.65, 2.2]], 1e-4);
    expect(ls.mse).toBeLessThan(1e-8);
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['one-step GD', 'ridge (Bayes λ)']));
    expect(rows.some((r) => r.name.startsWith('kernel estimator'))).toBe(true);
    await checkExports(page, 'icl-csv-table');
    await page.fill('#icl-csv', 'x1,y\n1,2\n2,oops\n');
    await page.click('#icl-csv-run');
    await page.waitForSelector('#icl-csv-error:not(:empty)');
    expect(await page.textContent('#icl-csv-error')).toBe(
      "Line 3, column 2 (y): 'oops' is not a number (leave it empty to ask for a prediction).",
    );
    // Reset while training: back to the example, and the stopped run's late messages change nothing.
    await page.fill('#icl-steps', '100000');
    await page.click('#icl-train');
    await page.waitForSelector('[data-figure="live-loss"]', { timeout: 30_000 });
    await page.click('#icl-reset');
    await page.waitForTimeout(1500);
    expect(await page.getAttribute('#icl', 'data-status')).toBe('idle');
    expect(await page.textContent('#icl-results-title')).toBe('Precomputed example');
    expect(errors).toEqual([]);
    await page.close();
  }, 150_000);

  it("ICL trainer: the paper's task setting is one choice away, trains, survives a reload and is compared with its theory", async () => {
    const { page, errors } = await open(
      plain,
      '/?backend=cpu#/icl?steps=200&log.loss=10&log.validation=100&log.dynamics=100&log.qk=100&finalValidationSamples=100&evaluation.samples=10&evaluation.maxL=41',
    );
    expect(await page.inputValue('#icl-setting')).toBe('seed');
    await page.selectOption('#icl-setting', 'paper');
    expect(await page.inputValue('#icl-batch')).toBe('256');
    await page.waitForSelector('#icl-train:not([disabled])', { timeout: 60_000 });
    await page.click('#icl-train');
    await page.waitForSelector('#icl[data-status="done"]', { timeout: 120_000 });
    const hash = new URLSearchParams(page.url().split('?').slice(-1)[0]);
    expect(hash.get('betaScale')).toBe('inverse-d');
    expect(hash.get('queryNoise')).toBe('true');
    expect(hash.get('noiseVariance')).toBe('0.1');
    expect(hash.get('batch')).toBe('256');
    // The theory table names H = 2's prediction and the noisy target the paper evaluates.
    const theory = await page.textContent('[data-figure="icl-theory"]');
    expect(theory).toContain('Σ w^h μ^h (the GD step)');
    expect(theory).toContain('risk (noisy target)');
    await page.reload();
    await page.waitForSelector('main[data-ready="true"]', { timeout: 60_000 });
    expect(await page.inputValue('#icl-setting')).toBe('paper');
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('ICL trainer: settings survive a reload and the nav; leaving while training pauses the run and offers it back (bug 6)', async () => {
    const { page, errors } = await open(
      plain,
      '/?backend=cpu#/icl?steps=6000&batch=32&log.loss=5&log.validation=500&log.dynamics=250&log.qk=500&finalValidationSamples=50&evaluation.samples=0',
    );
    await page.waitForSelector('#icl-train:not([disabled])', { timeout: 60_000 });
    // An edit is in the URL as soon as it is made: a reload keeps it.
    await page.fill('#icl-seed', '7');
    await page.waitForFunction(() => location.hash.includes('seed=7'));
    await page.reload();
    await page.waitForSelector('main[data-ready="true"]', { timeout: 60_000 });
    expect(await page.inputValue('#icl-seed')).toBe('7');
    expect(await page.inputValue('#icl-steps')).toBe('6000');
    // A reload while training asks first (the browser's "Leave site?"); staying keeps the run going.
    await page.click('#icl-train');
    await page.waitForSelector('[data-figure="live-loss"]', { timeout: 30_000 });
    const [dialog] = await Promise.all([
      page.waitForEvent('dialog'),
      page.evaluate(() => {
        setTimeout(() => location.reload(), 0);
      }),
    ]);
    expect(dialog.type()).toBe('beforeunload');
    await dialog.dismiss();
    expect(await page.getAttribute('#icl', 'data-status')).toBe('running');
    // Away through the nav and back (a link without settings): the run waits, paused, with its settings.
    await page.click('#nav a[data-page="kv-cache"]');
    await page.waitForSelector('#kv-headline');
    await page.click('#nav a[data-page="icl"]');
    await page.waitForSelector('#icl[data-status="paused"]', { timeout: 60_000 });
    expect(await page.textContent('#icl-status-text')).toContain('when you left this page');
    expect(await page.inputValue('#icl-seed')).toBe('7');
    expect(page.url()).toContain('seed=7');
    expect(await page.$('[data-figure="live-loss"]')).not.toBeNull();
    await page.click('#icl-resume');
    await page.waitForSelector('#icl[data-status="done"]', { timeout: 120_000 });
    const hookData = await page.evaluate(
      () => window.__attnlab?.icl as { lossSteps: number[]; meta: { resumedFrom?: number } },
    );
    expect(hookData.meta.resumedFrom).toBeGreaterThan(0);
    expect(hookData.lossSteps).toEqual(Array.from({ length: 1200 }, (_, i) => 5 * i)); // no gap where it was left
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('ICL trainer: a Pause in the evaluation after training is resumable and Resume finishes the evaluation (#13)', async () => {
    const { page, errors } = await open(
      plain,
      '/?backend=cpu#/icl?steps=20&batch=8&log.loss=5&log.validation=20&log.dynamics=20&log.qk=20&finalValidationSamples=20&evaluation.samples=3000&evaluation.maxL=121',
    );
    await page.waitForSelector('#icl-train:not([disabled])', { timeout: 60_000 });
    await page.click('#icl-train');
    await page.waitForFunction(
      () => document.getElementById('icl-status-text')?.textContent?.startsWith('evaluate'),
      null,
      {
        timeout: 60_000,
      },
    );
    await page.click('#icl-pause');
    await page.waitForSelector('#icl[data-status="paused"]', { timeout: 60_000 });
    expect(await page.textContent('#icl-status-text')).toContain('Resume finishes the evaluation');
    expect(await page.isEnabled('#icl-resume')).toBe(true);
    await page.click('#icl-resume');
    await page.waitForSelector('#icl[data-status="done"]', { timeout: 180_000 });
    const hookData = await page.evaluate(
      () => window.__attnlab?.icl as { lossSteps: number[]; meta: { resumedFrom?: number } },
    );
    expect(hookData.meta.resumedFrom).toBe(20); // from training's end: no step trained twice
    expect(hookData.lossSteps).toEqual([0, 5, 10, 15]);
    expect(await page.$('[data-figure="icl-error-curves"]')).not.toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);

  it('ICL trainer at 1440×900: after Train the live figures are above the fold; the error-vs-L chart shows few series, the rest a click away; plain words', async () => {
    const { page, errors } = await open(
      plain,
      '/?backend=cpu#/icl?steps=3000&batch=16&log.loss=5&log.validation=500&log.dynamics=100&log.qk=500&finalValidationSamples=20&evaluation.samples=0',
      undefined,
      { width: 1440, height: 900 },
    );
    // The precomputed example's error-vs-L chart: the trained head count and the classical estimators by default.
    const shown = () =>
      page.$$eval('[data-figure="icl-error-curves"] g.series', (gs) => gs.map((g) => g.getAttribute('data-name')));
    const first = await shown();
    expect(first.length).toBeLessThanOrEqual(6);
    expect(first).toContain('transformer (H=2)');
    expect(first).not.toContain('transformer (H=8)');
    const colours = await page.$$eval('[data-figure="icl-error-curves"] g.series path.line', (ps) =>
      ps.map((p) => `${p.getAttribute('stroke')} ${p.getAttribute('stroke-dasharray') ?? ''}`),
    );
    expect(new Set(colours).size).toBe(colours.length); // no two shown series alike
    await page.check('[data-series="transformer (H=8)"]');
    expect(await shown()).toContain('transformer (H=8)');
    // No repository words on screen.
    const text = (await page.textContent('#icl'))!;
    for (const word of ['Seed 004', '@attnlab', 'icl-regression', 'sup OV rest', 'dummy heads'])
      expect(text).not.toContain(word);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.click('#icl-train');
    await page.waitForSelector('[data-figure="live-loss"]', { timeout: 30_000 });
    // Where it is on the page (not on the screen, which may have scrolled): within the first 900 px.
    const top = await page.$eval('[data-figure="live-loss"]', (el) => el.getBoundingClientRect().top + window.scrollY);
    expect(top).toBeLessThan(900);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: '/tmp/attnlab-web-page-icl-training-1440.png' });
    await page.click('#icl-reset');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('bad settings: refused up front, named next to the field in plain words, old results marked stale (bugs 11, 12)', async () => {
    const { page, errors } = await open(plain, '/?backend=cpu#/icl');
    await page.waitForSelector('#icl-train:not([disabled])', { timeout: 60_000 });
    await page.fill('#icl-optimizer-lr', '');
    await page.click('#icl-train');
    await page.waitForSelector('#icl-error:not(:empty)');
    const message = (await page.textContent('#icl-error'))!;
    expect(message).toContain('Learning rate');
    expect(message).not.toContain('config.');
    expect(message).not.toContain('optimizer.lr');
    expect(await page.getAttribute('#icl-optimizer-lr', 'aria-invalid')).toBe('true');
    expect(await page.textContent('#icl-optimizer-lr-problem')).toContain('empty or not a number');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('icl-optimizer-lr');
    expect(await page.getAttribute('#icl-results', 'data-stale')).toBe('true');
    expect(await page.isVisible('#icl-stale')).toBe(true);
    expect(await page.getAttribute('#icl', 'data-status')).toBe('idle');
    // Oversized: refused before the worker starts, the fields it grows with marked.
    await page.fill('#icl-optimizer-lr', '0.01');
    await page.fill('#icl-L', '4096');
    await page.fill('#icl-batch', '65536');
    await page.click('#icl-train');
    await page.waitForFunction(() => document.getElementById('icl-error')?.textContent?.includes('Too big'));
    expect(await page.getAttribute('#icl-optimizer-lr', 'aria-invalid')).toBeNull();
    expect(await page.getAttribute('#icl-batch', 'aria-invalid')).toBe('true');
    expect(await page.textContent('#icl-error')).toMatch(/Make .*Batch/);
    expect(await page.getAttribute('#icl', 'data-status')).toBe('idle');
    expect(await axeViolations(page)).toEqual([]);
    // The same on an experiment page's form (value-matrix).
    const vm = await open(plain, '/?backend=cpu#/value-matrix', '#value-matrix[data-status="done"]');
    const lr = await vm.page.$('#value-matrix-learning-lr');
    if (lr) {
      await lr.fill('');
      await vm.page.click('#value-matrix-run');
      await vm.page.waitForSelector('#value-matrix-error:not(:empty)');
      expect(await vm.page.getAttribute('#value-matrix-learning-lr', 'aria-invalid')).toBe('true');
      expect(await vm.page.textContent('#value-matrix-error')).not.toContain('config.');
      expect(await vm.page.isVisible('#value-matrix-stale')).toBe(true);
    }
    expect([...errors, ...vm.errors]).toEqual([]);
    await Promise.all([page.close(), vm.page.close()]);
  }, 180_000);

  it('value-matrix: a run too big for the tab is refused at its fields before it starts, by memory and by work', async () => {
    const { page, errors } = await open(plain, '/?backend=cpu#/value-matrix', '#value-matrix[data-status="done"]');
    const before = await page.textContent('#value-matrix-results');
    // Memory: 65,536 samples of width 65,536 are 4.3·10⁹ numbers (17 GiB as float32) before any float64 copy.
    await page.fill('#value-matrix-learning-nSamples', '65536');
    await page.fill('#value-matrix-learning-dModel', '65536');
    await page.click('#value-matrix-run');
    await page.waitForFunction(() => document.getElementById('value-matrix-error')?.textContent?.includes('Too big'));
    expect(await page.textContent('#value-matrix-error')).toMatch(/GiB of memory.*Make .*smaller/);
    expect(await page.getAttribute('#value-matrix-learning-dModel', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#value-matrix-learning-nSamples', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#value-matrix-learning-epochs', 'aria-invalid')).toBeNull();
    expect(await page.getAttribute('#value-matrix', 'data-status')).toBe('done'); // the first run's, not running
    // Work: width 4,096 for a million steps fits in memory (A = XᵀX is 128 MiB) but is
    // 2·4096²·3 ≈ 10⁸ operations a step, 10¹⁴ in all.
    await page.fill('#value-matrix-learning-nSamples', '100');
    await page.fill('#value-matrix-learning-dModel', '4096');
    await page.fill('#value-matrix-learning-epochs', '1000000');
    await page.click('#value-matrix-run');
    await page.waitForFunction(() =>
      document.getElementById('value-matrix-error')?.textContent?.includes('operations'),
    );
    expect(await page.getAttribute('#value-matrix-learning-epochs', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#value-matrix-learning-dModel', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#value-matrix-learning-nSamples', 'aria-invalid')).toBeNull();
    expect(await page.getAttribute('#value-matrix', 'data-status')).toBe('done'); // the first run's, not running
    // Nothing ran: the earlier results are still there, marked as from other settings.
    expect(await page.textContent('#value-matrix-results')).toBe(before);
    expect(await page.isVisible('#value-matrix-stale')).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('sweep results: a results.jsonl from the file picker becomes the aggregate table and the error-vs-L bands; a bad file is named', async () => {
    const { page, errors } = await open(plain, '/?backend=cpu#/sweep');
    const row = (index: number, heads: number, seed: number, loss: number) => ({
      id: `p${index}`,
      index,
      label: `heads=${heads} seed=${seed}`,
      values: { heads, seed },
      experiment: 'icl-regression',
      metrics: { 'final training loss': loss },
      curves: { transformer: { x: [1, 11], y: [loss, loss / 2] } },
      engine: null,
      backend: 'cpu',
      durationMs: 1,
      resumedFrom: null,
    });
    const text = [row(0, 1, 0, 1), row(1, 1, 1, 3), row(2, 2, 0, 2), row(3, 2, 1, 6)]
      .map((r) => JSON.stringify(r))
      .join('\n');
    await page.setInputFiles('#sweep-file', {
      name: 'results.jsonl',
      mimeType: 'text/plain',
      buffer: Buffer.from(text),
    });
    await page.waitForSelector('#sweep-figures[data-loaded="4"]');
    // By hand: H = 1: losses 1, 3 → mean 2, s² = 2, s.e. = √(2/2) = 1; H = 2: 2, 6 → 4, s² = 8, s.e. = √(8/2) = 2.
    expect(await page.textContent('#sweep-status')).toContain(
      'final training loss: heads=1 2 ± 1 (n = 2); heads=2 4 ± 2 (n = 2)',
    );
    expect(await page.$('[data-figure="sweep-aggregate"] table')).not.toBeNull();
    expect(await page.$('[data-figure="sweep-error-vs-L"] svg')).not.toBeNull();
    await page.setInputFiles('#sweep-file', {
      name: 'bad.jsonl',
      mimeType: 'text/plain',
      buffer: Buffer.from('{oops'),
    });
    await page.waitForFunction(() => document.querySelector('#sweep-status')?.textContent?.includes('not JSON'));
    expect(await page.textContent('#sweep-status')).toContain('bad.jsonl: results.jsonl line 1: not JSON');
    expect(errors).toEqual([]);
    await page.close();
  });

  // Every page (issue #14, bugs 14 and 15): axe-core finds nothing at 1440×900 and 390×844; on a phone no page
  // is wider than the screen, the header is compact, chart text stays ≥ 10 px and heatmap digits fit their cells.
  it.each(PAGES)(
    '%s: axe-core clean at 1440×900 and 390×844, no repository vocabulary on screen, legends apart and inside their figures; at 390 px no wider than the screen, a compact header, readable chart text, digits that fit',
    async (name, hash, ready) => {
      for (const viewport of [
        { width: 1440, height: 900 },
        { width: 390, height: 844 },
      ]) {
        const { page, errors } = await open(plain, `/?backend=cpu${hash}`, ready, viewport);
        // Figures are drawn again for the width they get once on the page.
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        await page.screenshot({ path: `/tmp/attnlab-web-page-${name}-${viewport.width}.png`, fullPage: true });
        // The reader's words on screen, not the repository's (issue #14).
        expect(await repoWords(page)).toEqual([]);
        const l = await layout(page);
        expect(l.overflowing).toEqual([]);
        expect(l.legends).toEqual([]);
        expect(l.smallDigits).toBe(0);
        if (viewport.width === 390) {
          expect(l.scrollWidth).toBeLessThanOrEqual(l.innerWidth);
          expect(l.header).toBeLessThan(120);
          expect(l.smallText).toEqual([]);
        }
        expect(await axeViolations(page)).toEqual([]);
        expect(errors).toEqual([]);
        await page.close();
      }
    },
    180_000,
  );

  it('exports: 36 rapid clicks give 36 files (issue #14, bug 13)', async () => {
    const { page, errors } = await open(plain, '/?backend=cpu#/walkthrough?mode=qkv&step=4');
    const names: string[] = [];
    page.on('download', (d) => names.push(d.suggestedFilename()));
    const kinds = ['svg', 'csv', 'json', 'png'];
    for (let i = 0; i < 36; i++) await page.click(`[data-figure="wt"] button[data-export="${kinds[i % 4]}"]`);
    const deadline = Date.now() + 60_000;
    while (names.length < 36 && Date.now() < deadline) await page.waitForTimeout(200);
    expect(names).toHaveLength(36);
    expect(names.filter((n) => n.endsWith('.png'))).toHaveLength(9);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('longer prompts and several tasks: the two paper experiments run from their pages and draw their figures', async () => {
    const len = await open(
      plain,
      '/?backend=cpu#/icl-length?steps=300&attentions=softmax,linear-unnormalised&evaluation.samples=100&evaluation.maxL=81&finalValidationSamples=200',
    );
    await len.page.click('#icl-length-run');
    await len.page.waitForSelector('#icl-length[data-status="done"]', { timeout: 170_000 });
    const text = (await len.page.textContent('#icl-length'))!;
    expect(text).toMatch(/softmax attention: error \S+ at the training length \(\S+× the best possible\)/);
    expect(text).toMatch(/linear-unnormalised attention: error/);
    expect(text).not.toMatch(/\blinear attention: error/); // only the two asked for
    expect(await len.page.$('[data-figure="icl-length-length-generalisation"] svg')).not.toBeNull();
    await len.page.screenshot({ path: '/tmp/attnlab-web-page-icl-length-done-1440.png', fullPage: true });
    expect(len.errors).toEqual([]);
    await len.page.close();
    const multi = await open(plain, '/?backend=cpu#/icl-multitask?steps=200&finalValidationSamples=200');
    await multi.page.click('#icl-multitask-run');
    await multi.page.waitForSelector('#icl-multitask[data-status="done"]', { timeout: 170_000 });
    const mt = (await multi.page.textContent('#icl-multitask'))!;
    expect(mt).toMatch(/Task 1: error \S+ ± \S+ \(one task alone, in theory: \S+\)/);
    expect(mt).toMatch(/Task 2: error/);
    expect(await multi.page.$('[data-figure="icl-multitask-head-task-circuits"] svg')).not.toBeNull();
    await multi.page.screenshot({ path: '/tmp/attnlab-web-page-icl-multitask-done-1440.png', fullPage: true });
    expect(multi.errors).toEqual([]);
    await multi.page.close();
  }, 360_000);

  it('CV sweep: the page drives getExperiment("cv-sweep"), or says clearly that it is not registered', async () => {
    const { page, errors } = await open(plain, '/?backend=cpu#/cv-sweep');
    const missing = await page.$('#cv-sweep-unavailable');
    if (missing) expect(await missing.textContent()).toMatch(/not registered/);
    else expect(await page.$('#cv-sweep-run')).not.toBeNull();
    await page.screenshot({ path: '/tmp/attnlab-web-cv-sweep.png', fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});

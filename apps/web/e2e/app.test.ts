// The web lab in real Chromium (Debian's, through playwright-core; never `playwright install`).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { serveStatic, type StaticServer } from './server.js';

const appDir = join(__dirname, '..');
const dist = join(appDir, 'dist');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
const BASE_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
// Enough for WebGPU on Dawn over SwiftShader in headless Debian chromium (measured: no adapter without it).
const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).filter((f) => f !== 'node_modules' && f !== 'dist').map((f) => newestMtime(join(path, f))));
}

/** Builds with Vite unless dist is newer than every source it comes from. */
function ensureBuilt(): void {
  const sources = [join(appDir, 'src'), join(appDir, 'index.html'), join(appDir, 'vite.config.ts'), join(appDir, '../../packages/backend/src'), join(appDir, '../../packages/plot/src')];
  const built = existsSync(join(dist, 'index.html')) ? statSync(join(dist, 'index.html')).mtimeMs : 0;
  if (built > Math.max(...sources.map(newestMtime))) return;
  // vite's exports map hides bin/vite.js from require.resolve; the package folder is linked here.
  const vite = join(appDir, 'node_modules', 'vite', 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: appDir, stdio: 'pipe' });
}

let server: StaticServer;
const browsers: Browser[] = [];
async function launch(webgpu: boolean): Promise<Browser> {
  const b = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_ARGS, ...(webgpu ? WEBGPU_ARGS : [])] });
  browsers.push(b);
  return b;
}

interface Opened { page: Page; errors: string[]; warnings: string[] }
async function open(browser: Browser, path: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 }, acceptDownloads: true });
  const errors: string[] = [];
  const warnings: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(m.text());
    if (m.type() === 'warning') warnings.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}${path}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  await page.waitForSelector('main[data-ready="true"] #wt-heatmap', { timeout: 30_000 });
  return { page, errors, warnings };
}

/** The numbers table of the current step, as numbers (full precision from data-value). */
const table = (page: Page): Promise<number[][]> => page.$$eval('table.numbers tbody tr', (rows) =>
  rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => Number(td.getAttribute('data-value')))));

function expectRows(actual: number[][], expected: number[][], tol = 1e-3): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - expected[i]![j]!)).toBeLessThan(tol)));
}

// Seed 002, complete attention flow (Q, K, V with d_k = 4). Hand computation: QKᵀ = [[1,1,2],[1,1,1],[1,1,1]],
// ÷2 → softmax row 0 = (e^.5, e^.5, e^1)/Σ = 0.2741, 0.2741, 0.4519; rows 1–2 = 1/3 each;
// output row 0 = 0.2741·V0 + 0.2741·V1 + 0.4519·V2.
const SCORES = [[1, 1, 2], [1, 1, 1], [1, 1, 1]];
const WEIGHTS = [[0.2741, 0.2741, 0.4519], [1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]];
const OUTPUT = [[1.3148, 1.4111, 3.3148, 3.4111], [1.1667, 1.5, 3.1667, 3.5], [1.1667, 1.5, 3.1667, 3.5]];
// Causal: row i sees j ≤ i.
const WEIGHTS_CAUSAL = [[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]];
const OUTPUT_CAUSAL = [[1, 2, 3, 4], [0.75, 1.75, 2.75, 3.75], [1.1667, 1.5, 3.1667, 3.5]];

beforeAll(async () => {
  ensureBuilt();
  server = await serveStatic(dist);
}, 180_000);
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
    const { page, errors, warnings } = await open(gpu, '/#/walkthrough?step=1');
    expect(await page.evaluate(() => window.__app?.backend)).toBe('webgpu');
    expect(await page.getAttribute('#backend-badge', 'data-backend')).toBe('webgpu');
    expect(await page.textContent('#backend-badge')).toMatch(/WebGPU/);
    expectRows(await table(page), SCORES);
    await page.click('button.step[data-step="4"]');
    expectRows(await table(page), WEIGHTS);
    await page.click('button.step[data-step="5"]');
    expectRows(await table(page), OUTPUT);
    expect(page.url()).toMatch(/#\/walkthrough\?step=5&causal=0$/);
    await page.click('button.step[data-step="4"]');
    await page.screenshot({ path: '/tmp/attnlab-web-webgpu.png', fullPage: true });
    expect(errors).toEqual([]);
    expect(warnings.filter((w) => /Initialization of backend .* failed/.test(w))).toEqual([]);
    await page.close();
  });

  it('without the flag: falls back (WebGL or WASM) and says why WebGPU was skipped', async () => {
    const { page, errors } = await open(plain, '/');
    const backend = await page.evaluate(() => window.__app?.backend);
    expect(['webgl', 'wasm']).toContain(backend);
    const why = await page.getAttribute('#backend-badge', 'data-why');
    expect(why).toMatch(/WebGPU: (no WebGPU adapter|navigator\.gpu is missing)/);
    await page.click('#backend-badge button');
    expect(await page.textContent('#backend-detail li[data-candidate="webgpu"]')).toMatch(/unavailable: no WebGPU adapter/);
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

  it('a shared URL restores causal + step; masked cells are hatched; keys move through cells with a readout', async () => {
    const { page, errors } = await open(plain, '/?backend=cpu#/walkthrough?step=4&causal=1');
    expect(await page.isChecked('#wt-causal')).toBe(true);
    expect(await page.getAttribute('button.step[data-step="4"]', 'aria-pressed')).toBe('true');
    expectRows(await table(page), WEIGHTS_CAUSAL);
    const masked = await page.$$eval('#wt-heatmap rect.cell.masked', (els) => els.map((e) => `${e.getAttribute('data-row')},${e.getAttribute('data-col')}`));
    expect(masked).toEqual(['0,1', '0,2', '1,2']);
    await page.focus('#wt-heatmap rect.cell[data-row="0"][data-col="0"]');
    await page.keyboard.press('ArrowDown');
    expect(await page.textContent('#wt-heatmap-readout')).toBe('against attends to Me: 0.5');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await page.textContent('#wt-heatmap-readout')).toBe('against attends to the: masked');
    await page.click('button.step[data-step="5"]');
    expectRows(await table(page), OUTPUT_CAUSAL);
    // Export: the CSV download is the plot package's tidy CSV of this step.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-export="csv"]')]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('row,col,row_label,col_label,value,masked');
    expect(csv).toContain('1,0,against,v1,0.75,false');
    await page.screenshot({ path: '/tmp/attnlab-web-causal.png', fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('bad input: an invalid ?backend= is reported and auto is used; a bad matrix shows an error, not a crash', async () => {
    const { page, errors } = await open(plain, '/?backend=tpu');
    expect(await page.textContent('#backend-detail')).toContain('?backend=tpu is not a backend; allowed: auto, webgpu, webgl, wasm, cpu');
    await page.fill('#wt-q', '1 0 1 0\n0 1 zero 1\n1 1 0 0');
    await page.waitForSelector('#wt-error:not(:empty)');
    expect(await page.textContent('#wt-error')).toBe("Q, row 2: 'zero' is not a number");
    expect(errors).toEqual([]);
    await page.close();
  });
});

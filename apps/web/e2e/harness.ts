// What the browser tests share: the build, one static server, Debian's chromium through playwright-core,
// pages opened with their console collected, and axe-core injected into a page.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { serveStatic, type StaticServer } from './server.js';

const appDir = join(__dirname, '..');
export const dist = join(appDir, 'dist');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
export const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(
    st.mtimeMs,
    ...readdirSync(path)
      .filter((f) => f !== 'node_modules' && f !== 'dist')
      .map((f) => newestMtime(join(path, f))),
  );
}

/** Builds with Vite unless dist is newer than every source it comes from (the app and every package). */
export function ensureBuilt(): void {
  const packages = join(appDir, '../../packages');
  const sources = [
    join(appDir, 'src'),
    join(appDir, 'index.html'),
    join(appDir, 'vite.config.ts'),
    ...readdirSync(packages).map((p) => join(packages, p, 'src')),
  ];
  const built = existsSync(join(dist, 'index.html')) ? statSync(join(dist, 'index.html')).mtimeMs : 0;
  if (built > Math.max(...sources.map(newestMtime))) return;
  const vite = join(appDir, 'node_modules', 'vite', 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: appDir, stdio: 'pipe' });
}

const READY = 'main[data-ready="true"]';
/**
 * Every page of the lab as the tests and the screenshots open it: a name, its route (with the state
 * shown), and what to wait for before looking (the value-matrix lab's first run is done).
 */
export const PAGES: [name: string, hash: string, ready: string][] = [
  ['walkthrough', '#/walkthrough?mode=qkv&step=4', READY],
  ['walkthrough-heads', '#/walkthrough?mode=embeddings&step=1', READY],
  ['value-matrix', '#/value-matrix', '#value-matrix[data-status="done"]'],
  ['kv-cache', '#/kv-cache', READY],
  ['icl', '#/icl', READY],
  ['cv-sweep', '#/cv-sweep', READY],
  ['sweep', '#/sweep', READY],
  ['icl-length', '#/icl-length', READY],
  ['icl-multitask', '#/icl-multitask', READY],
  ['story', '#/', READY],
  ['attention', '#/attention', READY],
];

export interface Opened {
  page: Page;
  errors: string[];
}

/** The built app served on 127.0.0.1 and one headless chromium; `close` ends both. */
export async function startHarness(): Promise<{
  browser: Browser;
  url: string;
  open(path: string, viewport?: { width: number; height: number }): Promise<Opened>;
  close(): Promise<void>;
}> {
  ensureBuilt();
  const server: StaticServer = await serveStatic(dist);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: BASE_ARGS });
  return {
    browser,
    url: server.url,
    async open(path, viewport = { width: 1440, height: 900 }) {
      const page = await browser.newPage({ viewport });
      const errors: string[] = [];
      page.on('console', (m: ConsoleMessage) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${server.url}${path}`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
      await page.waitForSelector('main[data-ready="true"]', { timeout: 60_000 });
      return { page, errors };
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}
let axeSource: string | undefined;
/** axe-core's violations on the page as it is now (with the label/name rule on), one line each. */
export async function axeViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() =>
    (window as unknown as { axe: { run(ctx: Document, o: object): Promise<AxeResult> } }).axe.run(document, {
      rules: { 'label-content-name-mismatch': { enabled: true } },
    }),
  );
  return result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
}

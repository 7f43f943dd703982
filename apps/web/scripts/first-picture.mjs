/* global document */
// How long a first-time visitor waits for a live, changing picture: a fresh browser profile (no
// measured backend kept yet) opens the landing page of the built lab, clicks a word of the first
// figure as soon as it can, and the time until the figure shows that word's attention is taken.
// Built app, served as the e2e tests serve it, Debian's chromium with and without WebGPU. Build first:
//   pnpm --filter @attnlab/web build
//   node apps/web/scripts/first-picture.mjs [runs, default 5]
import { createRequire } from 'node:module';
import { loadHarness } from './harness.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const runs = Number(process.argv[2] ?? 5);
const { startHarness, BASE_ARGS, CHROMIUM } = await loadHarness();
const app = await startHarness();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  for (const [label, extra] of [
    ['chromium', []],
    ['chromium --enable-unsafe-webgpu', ['--enable-unsafe-webgpu']],
  ]) {
    const browser = extra.length
      ? await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_ARGS, ...extra] })
      : app.browser;
    const rows = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } }); // a first visit
      const page = await context.newPage();
      const t0 = Date.now();
      await page.goto(`${app.url}/#/`);
      const word = page.locator('#st-hero .st-tok[data-index="2"]');
      await word.waitFor({ state: 'visible', timeout: 60_000 });
      const t1 = Date.now();
      await word.click();
      await page.waitForSelector('#st-hero .st-bars[data-query="2"]');
      const t2 = Date.now();
      const backend = await page.evaluate(() => document.getElementById('backend-badge')?.dataset.backend);
      rows.push({ clickable: t1 - t0, changed: t2 - t1, total: t2 - t0, backend });
      await context.close();
    }
    console.log(
      `${label}: ${rows.map((r) => `${r.total} ms (${r.clickable} to the first word, ${r.changed} to the new picture, ${r.backend})`).join('; ')}`,
    );
    console.log(`${label}: median ${median(rows.map((r) => r.total))} ms from navigation to the changed picture`);
    if (browser !== app.browser) await browser.close();
  }
} finally {
  await app.close();
}

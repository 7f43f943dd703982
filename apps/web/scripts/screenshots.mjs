/* global document, innerWidth, requestAnimationFrame -- read inside the page (page.evaluate) */
// Screenshots of every page of the built lab (the e2e tests' list of pages) at 1440×900 and 390×844,
// served as the tests serve it (cross-origin isolated) to Debian's chromium. Build first:
//   pnpm --filter @attnlab/web build
//   node apps/web/scripts/screenshots.mjs [--out DIR] [--backend cpu|wasm|webgl|auto] [--tiles] [--only NAME,…]
// Writes DIR/<page>-<width>.png (default apps/web/screenshots/, git-ignored) and prints, per shot,
// the page's height and whether it is wider than the window. --tiles also writes the page cut into
// window-high pieces, <page>-<width>-<k>.png (a long page is easier to look at that way).
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadHarness } from './harness.mjs';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: fileURLToPath(new URL('../screenshots', import.meta.url)) },
    backend: { type: 'string', default: 'cpu' },
    tiles: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const search = values.backend === 'auto' ? '' : `?backend=${values.backend}`;
const VIEWPORTS = [
  { width: 1440, height: 900 },
  { width: 390, height: 844 },
];

const { startHarness, PAGES } = await loadHarness();
const app = await startHarness();
try {
  const only = values.only?.split(',');
  for (const [name, hash, ready] of PAGES.filter(([n]) => !only || only.includes(n))) {
    for (const viewport of VIEWPORTS) {
      const { page, errors } = await app.open(`/${search}${hash}`, viewport);
      await page.waitForSelector(ready, { timeout: 120_000 });
      // Figures are drawn again for the width they get once on the page.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const file = `${out}/${name}-${viewport.width}.png`;
      await page.screenshot({ path: file, fullPage: true });
      const size = await page.evaluate(() => ({
        width: document.documentElement.scrollWidth,
        height: document.documentElement.scrollHeight,
        window: innerWidth,
      }));
      if (values.tiles)
        for (let k = 0, y = 0; y < size.height; k++, y += viewport.height)
          await page.screenshot({
            path: `${out}/${name}-${viewport.width}-${k}.png`,
            fullPage: true,
            clip: { x: 0, y, width: size.width, height: Math.min(viewport.height, size.height - y) },
          });
      console.log(
        `${file}: ${size.width}×${size.height}${size.width > size.window ? ` WIDER than the window (${size.window})` : ''}${errors.length ? `; console errors: ${errors.join(' | ')}` : ''}`,
      );
      await page.close();
    }
  }
} finally {
  await app.close();
}

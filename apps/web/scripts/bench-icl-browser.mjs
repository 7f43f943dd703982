/* global window, crossOriginIsolated -- read inside the page (page.evaluate) */
// ICL training speed in the browser lab, per backend: builds nothing, serves apps/web/dist (run
// `pnpm --filter @attnlab/web build` first) cross-origin isolated, trains the quick preset's model in
// headless Chromium and prints the training steps per second the run reports, and its engine.
//   node apps/web/scripts/bench-icl-browser.mjs [steps] [backends, e.g. wasm,webgl,cpu]
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const dist = fileURLToPath(new URL('../dist', import.meta.url));
const steps = Number(process.argv[2] ?? 3000);
const backends = (process.argv[3] ?? 'wasm,webgl,cpu').split(',');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const file = join(dist, path.endsWith('/') ? `${path}index.html` : path);
  try {
    statSync(file);
  } catch {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
  });
  createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium',
  args: ['--no-sandbox'],
});
for (const backend of backends) {
  const page = await browser.newPage();
  await page.goto(
    `${url}/?backend=${backend}#/icl?steps=${steps}&log.validation=${steps}&evaluation.samples=0&headCounts=`,
  );
  await page.waitForSelector('#icl-train:not([disabled])', { timeout: 120_000 });
  await page.click('#icl-train');
  await page.waitForSelector('#icl[data-status="done"]', { timeout: 600_000 });
  const r = await page.evaluate(() => ({
    isolated: crossOriginIsolated,
    ...(window.__attnlab?.icl ?? {}),
  }));
  console.log(
    `${backend}: ${Math.round(r.stepsPerSecond)} steps/s (${r.engine?.name}), frames mean ${r.frames?.meanMs} ms, cross-origin isolated: ${r.isolated}`,
  );
  await page.close();
}
await browser.close();
server.close();

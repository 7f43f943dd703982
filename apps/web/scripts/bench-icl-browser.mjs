/* global window, crossOriginIsolated -- read inside the page (page.evaluate) */
// ICL training speed in the browser lab, per backend: builds nothing, serves apps/web/dist (run
// `pnpm --filter @attnlab/web build` first), trains the quick preset's model in headless Chromium
// and prints the training steps per second the run reports, and its engine.
//   node apps/web/scripts/bench-icl-browser.mjs [steps] [backends, e.g. wasm,webgl,cpu]
//   node apps/web/scripts/bench-icl-browser.mjs [steps] [backends] --threads [rounds]
// --threads: the SIMD engine on 2 threads (the page cross-origin isolated, as vite serves it) against
// 1 thread (the same build served without COOP/COEP: no SharedArrayBuffer), interleaved A B A B for
// `rounds` rounds (default 3) in one browser, with the load average before and after.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const dist = fileURLToPath(new URL('../dist', import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--threads');
const threads = at >= 0;
const rounds = threads && /^\d+$/.test(args[at + 1] ?? '') ? Number(args[at + 1]) : 3;
const positional = (threads ? args.slice(0, at) : args).filter((a) => !a.startsWith('--'));
const steps = Number(positional[0] ?? 3000);
const backends = (positional[1] ?? (threads ? 'wasm' : 'wasm,webgl,cpu')).split(',');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

function serve(isolated) {
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
      ...(isolated
        ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
        : {}),
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}
const servers = [await serve(true), ...(threads ? [await serve(false)] : [])];
const urlOf = (s) => `http://127.0.0.1:${s.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium',
  args: ['--no-sandbox'],
});

async function run(url, backend) {
  const page = await browser.newPage();
  await page.goto(
    `${url}/?backend=${backend}#/icl?steps=${steps}&log.validation=${steps}&evaluation.samples=0&headCounts=`,
  );
  await page.waitForSelector('#icl-train:not([disabled])', { timeout: 120_000 });
  await page.click('#icl-train');
  await page.waitForSelector('#icl[data-status="done"]', { timeout: 600_000 });
  const r = await page.evaluate(() => ({
    isolated: crossOriginIsolated,
    cpus: navigator.hardwareConcurrency,
    ...(window.__attnlab?.icl ?? {}),
  }));
  await page.close();
  return r;
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
if (!threads) {
  for (const backend of backends) {
    const r = await run(urlOf(servers[0]), backend);
    console.log(
      `${backend}: ${Math.round(r.stepsPerSecond)} steps/s (${r.engine?.name}), frames mean ${r.frames?.meanMs} ms, cross-origin isolated: ${r.isolated}`,
    );
  }
} else {
  console.log(`load average before: ${load()}; ${steps} steps per run, ${rounds} rounds`);
  const rates = new Map();
  for (let i = 0; i < rounds; i++) {
    for (const backend of backends) {
      for (const server of servers) {
        const r = await run(urlOf(server), backend);
        const key = `${backend}, ${r.engine?.name}`;
        rates.set(key, [...(rates.get(key) ?? []), r.stepsPerSecond]);
        console.log(
          `round ${i + 1} ${key}: ${Math.round(r.stepsPerSecond)} steps/s (cross-origin isolated ${r.isolated}, ${r.cpus} logical CPUs, frames mean ${r.frames?.meanMs} ms, ${r.redraws?.count} live redraws of ${r.redraws?.meanMs} ms)`,
        );
      }
    }
  }
  console.log(`load average after: ${load()}`);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [key, xs] of rates)
    console.log(`${key}: median ${Math.round(median(xs))} steps/s of ${xs.map((x) => Math.round(x)).join(', ')}`);
}
await browser.close();
for (const s of servers) s.close();

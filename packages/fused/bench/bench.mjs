#!/usr/bin/env node
// Runs @attnlab/fused's benchmark from source: bundles src/bench/index.ts with esbuild (workspace
// packages through their "@attnlab/source" condition) and prints a table plus JSON.
//
//   node packages/fused/bench/bench.mjs [--heads 1,2,4,8] [--backends cpu,wasm,webgpu]
//        [--seconds 2] [--models 1,128] [--no-reference] [--dawn-null] [--json out.json]
//
// --dawn-null creates WebGPU on Dawn's null backend (no GPU work): the WGSL rows then measure
// the host cost per step only.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const list = (s, f = Number) => (s ? s.split(',').map((x) => f(x.trim())) : undefined);

const outDir = join(pkg, 'node_modules', '.cache', 'attnlab-fused-bench');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, 'bench.mjs');
await build({
  entryPoints: [join(pkg, 'src', 'bench', 'index.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile,
  logLevel: 'warning',
  conditions: ['@attnlab/source'],
  external: ['@tensorflow/*', 'webgpu'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
// The bundle lives under node_modules/.cache; let @attnlab/backend's on-demand require('webgpu')
// resolve from the backend package's own dependencies.
const { createRequire, Module } = await import('node:module');
const backendDir = dirname(createRequire(join(pkg, 'package.json')).resolve('@attnlab/backend/package.json'));
process.env.NODE_PATH = [join(backendDir, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(':');
Module._initPaths();
const { runBenchmark } = await import(pathToFileURL(outfile).href);
const dawnNull = args.includes('--dawn-null');
const result = await runBenchmark({
  heads: list(opt('--heads')),
  backends: list(opt('--backends'), String),
  seconds: opt('--seconds') ? Number(opt('--seconds')) : undefined,
  models: list(opt('--models')),
  reference: !args.includes('--no-reference'),
  ...(dawnNull ? { dawnOptions: ['backend=null'], backends: ['webgpu'], reference: false } : {}),
  log: (l) => console.error(l),
});
const json = JSON.stringify(result, null, 2);
if (opt('--json')) writeFileSync(opt('--json'), json);
console.table(
  result.rows.map((r) => ({
    path: r.path,
    backend: r.backend,
    H: r.heads,
    M: r.models,
    'steps/s': +r.stepsPerSecond.toFixed(1),
    'model-steps/s': Math.round(r.modelStepsPerSecond),
  })),
);
console.log(json);
// Dawn keeps node alive otherwise.
process.exit(0);

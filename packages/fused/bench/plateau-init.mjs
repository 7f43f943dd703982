#!/usr/bin/env node
// The H = 2 plateau rate of seed 004's setting on attnlab's SIMD engine, from attnlab's own initial
// weights or from PyTorch's (issue #16: does the rate follow the initial weights or the training?).
// Bundles its entry with esbuild from source (workspace packages through "@attnlab/source").
//
//   nice /usr/bin/python3 packages/fused/bench/plateau_torch.py --seeds 0-29 --dump-init torch-init.json
//   node packages/fused/bench/plateau-init.mjs --seeds 0-29 --init torch=torch-init.json > attnlab-torch-init.jsonl
//   node packages/fused/bench/plateau-init.mjs --seeds 0-29 > attnlab-own-init.jsonl
//   node packages/fused/bench/plateau-init.mjs --seeds 0-29 --data-seed-offset 1000 > attnlab-other-data.jsonl
//   node packages/fused/bench/plateau-init.mjs --seeds 0-29 --init math-random > attnlab-math-random-init.jsonl
//   node packages/fused/bench/plateau-rate.mjs - attnlab-torch-init.jsonl
//   node packages/fused/bench/plateau-init.mjs --seeds 0-29 --dump-init attnlab-init.json   (for plateau_torch.py --init)
//
// Each line: { seed, w0, w, mu, loss (mean of the last 1,000 training losses), plateau } as plateau_torch.py
// prints (plateau: the two heads' w^h have the same sign after --steps steps, default 20,000).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const seeds = opt('--seeds', '0-19')
  .split(',')
  .flatMap((p) => {
    const [a, b] = p.split('-').map(Number);
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
const steps = Number(opt('--steps', '20000'));
const init = opt('--init', 'attnlab');
if (init !== 'attnlab' && init !== 'math-random' && !init.startsWith('torch=')) {
  console.error(`--init must be attnlab, math-random or torch=FILE; got ${init}`);
  process.exit(2);
}
const dump = opt('--dump-init');
// The training data's seed is the init's seed plus this (default 0: one seed fixes both, as icl-regression does).
const dataOffset = Number(opt('--data-seed-offset', '0'));

const entry = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { iclInitialParams } from '@attnlab/attention';
import { createIclEngine } from '@attnlab/fused';
export { tf, iclInitialParams, createIclEngine };
`;
const outDir = join(pkg, 'node_modules', '.cache', 'attnlab-plateau');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, 'plateau.mjs');
await build({
  stdin: { contents: entry, resolveDir: pkg, loader: 'ts' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile,
  logLevel: 'warning',
  conditions: ['@attnlab/source'],
  external: ['@tensorflow/*', 'webgpu'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
const { tf, iclInitialParams, createIclEngine } = await import(pathToFileURL(outfile).href);
await tf.setBackend('cpu');

const d = 5,
  H = 2,
  D = d + 1;
const model = (seed) => ({ d, numHeads: H, layers: 1, nOut: 1, seed });
const spec = (seed) => ({
  model: model(seed),
  task: { L: 40, dx: d, noiseStd: 0.01, betaScale: 'unit', queryNoise: false },
  batch: 128,
  dataSeed: seed + dataOffset,
  optimizer: { method: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
});

/** attnlab's x·W per-head params ↔ torch's nn.Linear weights ([out, in]): Wq^h[r][c] = q_proj[h·D + c][r]. */
function toTorch(p) {
  const proj = (W) =>
    Array.from({ length: H * D }, (_, row) =>
      Array.from({ length: D }, (_, col) => W[Math.floor(row / D) * D * D + col * D + (row % D)]),
    );
  return {
    q_proj: proj(p.Wq.values),
    k_proj: proj(p.Wk.values),
    v_proj: proj(p.Wv.values),
    o_proj: [Array.from({ length: H * D }, (_, j) => p.Wo.values[j])],
  };
}
function fromTorch(t) {
  const proj = (W) => {
    const out = new Float32Array(H * D * D);
    for (let h = 0; h < H; h++)
      for (let r = 0; r < D; r++) for (let c = 0; c < D; c++) out[h * D * D + r * D + c] = W[h * D + c][r];
    return { shape: [H, D, D], dtype: 'float32', values: out };
  };
  return {
    Wq: proj(t.q_proj),
    Wk: proj(t.k_proj),
    Wv: proj(t.v_proj),
    Wo: { shape: [H, D, 1], dtype: 'float32', values: Float32Array.from(t.o_proj[0]) },
  };
}
const heads = (p) =>
  Array.from({ length: H }, (_, h) => {
    let diag = 0;
    for (let i = 0; i < d; i++)
      for (let j = 0; j < D; j++) diag += p.Wq.values[h * D * D + i * D + j] * p.Wk.values[h * D * D + i * D + j];
    let mu = 0;
    for (let j = 0; j < D; j++) mu += p.Wv.values[h * D * D + (D - 1) * D + j] * p.Wo.values[h * D + j];
    return { w: diag / d / Math.sqrt(D), mu };
  });

if (dump) {
  writeFileSync(dump, JSON.stringify(Object.fromEntries(seeds.map((s) => [s, toTorch(iclInitialParams(model(s)))]))));
  console.error(`wrote attnlab's initial weights for ${seeds.length} seeds to ${dump} (torch layout)`);
  process.exit(0);
}
/** A third generator's draws (V8's Math.random, unseeded) with nn.Linear's bounds: U(±1/√D) for Q, K, V, U(±1/√(H·D)) for O. */
function mathRandomInit() {
  const u = (n, b) => Float32Array.from({ length: n }, () => b * (2 * Math.random() - 1));
  const b = 1 / Math.sqrt(D);
  return {
    Wq: { shape: [H, D, D], dtype: 'float32', values: u(H * D * D, b) },
    Wk: { shape: [H, D, D], dtype: 'float32', values: u(H * D * D, b) },
    Wv: { shape: [H, D, D], dtype: 'float32', values: u(H * D * D, b) },
    Wo: { shape: [H, D, 1], dtype: 'float32', values: u(H * D, 1 / Math.sqrt(H * D)) },
  };
}
const torchInit = init.startsWith('torch=') ? JSON.parse(readFileSync(init.slice('torch='.length), 'utf8')) : null;
let plateaus = 0;
for (const seed of seeds) {
  const engine = await createIclEngine(spec(seed));
  if (init !== 'attnlab') {
    const s0 = await engine.state();
    await engine.restore({ ...s0, params: torchInit ? fromTorch(torchInit[String(seed)]) : mathRandomInit() });
  }
  const host = async () => {
    const s = await engine.state();
    return Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, { values: v.values }]));
  };
  const h0 = heads(await host());
  const losses = [];
  for (let done = 0; done < steps; done += 1000) {
    const l = await engine.run(Math.min(1000, steps - done));
    if (done + 1000 >= steps) losses.push(...l);
  }
  const h = heads(await host());
  engine.dispose();
  const w = h.map((x) => x.w);
  const plateau = w.every((x) => x > 0) || w.every((x) => x < 0);
  plateaus += plateau;
  const loss = losses.reduce((a, b) => a + b, 0) / losses.length;
  console.log(
    JSON.stringify({
      seed,
      init,
      dataSeed: seed + dataOffset,
      w0: h0.map((x) => x.w),
      w,
      mu: h.map((x) => x.mu),
      loss,
      plateau,
    }),
  );
}
console.log(JSON.stringify({ summary: true, engine: 'simd', steps, init, runs: seeds.length, plateau: plateaus }));

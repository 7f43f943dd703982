// Generates src/fixtures/icl-example.json: the ICL trainer's precomputed example, shown before any
// compute. It is iclRegression.run itself (quick preset, the head-count comparison), on the CPU.
//   node scripts/make-icl-example.mjs   (see README: bundled with esbuild, then run with Node)
import { writeFileSync } from 'node:fs';
import { initBackend } from '@attnlab/backend';
import { iclRegression, resolveConfig } from '@attnlab/experiments';

const out = process.argv[2] ?? 'src/fixtures/icl-example.json';
const steps = Number(process.env.STEPS ?? 1500);
await initBackend({ prefer: 'cpu' });
const config = resolveConfig(iclRegression, { preset: 'quick', overrides: { steps, headCounts: [1, 2, 4, 8] } });
const t0 = Date.now();
const result = await iclRegression.run(config, {
  onEvent: (e) => {
    if (e.type === 'phase') console.log(e.message, `${((Date.now() - t0) / 1000).toFixed(1)} s`);
  },
});
// Six significant digits keep the file small; every number is still the experiment's own.
const round = (_k: string, v: unknown) =>
  typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v;
writeFileSync(out, `${JSON.stringify(result, round)}\n`);
console.log(`wrote ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

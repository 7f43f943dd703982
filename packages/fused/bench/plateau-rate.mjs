#!/usr/bin/env node
// The H = 2 plateau rate of seed 004's setting, attnlab against PyTorch (issue #16): a run ends on the
// single-head-like plateau when its two heads' w^h (mean QK diagonal) have the same sign.
//
//   node apps/cli/dist/attnlab.js sweep examples/sweeps/plateau-seed.json --out sweeps/plateau-seed
//   nice /usr/bin/python3 packages/fused/bench/plateau_torch.py --seeds 0-29 > plateau-torch.jsonl
//   node packages/fused/bench/plateau-rate.mjs sweeps/plateau-seed plateau-torch.jsonl
//
// The second argument may also be plateau-init.mjs's output (attnlab from PyTorch's initial weights;
// its "validation" is the mean of the last 1,000 training losses).
// Prints one line per side (runs, plateau runs, their validation MSE) and Fisher's exact two-sided p
// for "the two rates are equal". Either argument may be left out ('-').
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [sweepDir, torchFile] = process.argv.slice(2);
if (!sweepDir && !torchFile) {
  console.error('usage: node packages/fused/bench/plateau-rate.mjs <sweep folder | -> [<plateau_torch.py output> | -]');
  process.exit(2);
}

const sameSign = (ws) => ws.every((w) => w > 0) || ws.every((w) => w < 0);

/** attnlab: every finished point of the sweep (its results.json). */
function attnlabRuns(dir) {
  const points = join(dir, 'points');
  if (!existsSync(points)) throw new Error(`${dir}: no points/ folder (not a sweep folder)`);
  const out = [];
  for (const id of readdirSync(points)) {
    const file = join(points, id, 'results.json');
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8'));
    if (r.meta?.aborted) continue;
    const run = r.data.runs[0];
    const w = run.statistics.filter((x) => x.layer === 0).map((x) => x.w);
    out.push({ seed: r.config.seed, w, validation: run.finalValidation?.mse ?? NaN, plateau: sameSign(w) });
  }
  return out.sort((a, b) => a.seed - b.seed);
}

/** PyTorch: plateau_torch.py's JSON lines (the summary line is skipped). */
function torchRuns(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))
    .filter((r) => 'seed' in r)
    .map((r) => ({ seed: r.seed, w: r.w, validation: r.validation ?? r.loss, plateau: sameSign(r.w) }));
}

const lnFact = (() => {
  const t = [0];
  return (n) => {
    for (let i = t.length; i <= n; i++) t[i] = t[i - 1] + Math.log(i);
    return t[n];
  };
})();

/** Fisher's exact test, two-sided: the probability of tables at most as likely as [[a, b], [c, d]]. */
export function fisherExact(a, b, c, d) {
  const r1 = a + b,
    r2 = c + d,
    c1 = a + c,
    n = r1 + r2;
  const p = (x) =>
    Math.exp(
      lnFact(r1) +
        lnFact(r2) +
        lnFact(c1) +
        lnFact(n - c1) -
        lnFact(n) -
        lnFact(x) -
        lnFact(r1 - x) -
        lnFact(c1 - x) -
        lnFact(r2 - c1 + x),
    );
  const p0 = p(a);
  let sum = 0;
  for (let x = Math.max(0, c1 - r2); x <= Math.min(r1, c1); x++) {
    const px = p(x);
    if (px <= p0 * (1 + 1e-7)) sum += px;
  }
  return Math.min(1, sum);
}

const mean = (xs) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
function line(name, runs) {
  const k = runs.filter((r) => r.plateau);
  const rest = runs.filter((r) => !r.plateau);
  console.log(
    `${name}: ${k.length} of ${runs.length} on the plateau (${((100 * k.length) / Math.max(1, runs.length)).toFixed(0)}%); ` +
      `validation MSE ${mean(k.map((r) => r.validation)).toFixed(3)} on the plateau, ${mean(rest.map((r) => r.validation)).toFixed(3)} paired; ` +
      `plateau seeds ${k.map((r) => r.seed).join(', ') || 'none'}`,
  );
  return [k.length, runs.length - k.length];
}

const sides = [];
if (sweepDir && sweepDir !== '-') sides.push(line('attnlab', attnlabRuns(sweepDir)));
if (torchFile && torchFile !== '-') {
  // plateau-init.mjs's lines carry "init" (attnlab's SIMD engine); plateau_torch.py's do not.
  const first = readFileSync(torchFile, 'utf8')
    .split('\n')
    .find((l) => l.includes('"seed"'));
  const r = first ? JSON.parse(first) : {};
  const name =
    r.init === undefined
      ? 'pytorch'
      : `attnlab (init ${r.init.replace(/=.*/, '')}${r.dataSeed !== undefined && r.dataSeed !== r.seed ? `, data seed + ${r.dataSeed - r.seed}` : ''})`;
  sides.push(line(name, torchRuns(torchFile)));
}
if (sides.length === 2) {
  const [[a, b], [c, d]] = sides;
  console.log(`Fisher's exact test (two-sided), equal rates: p = ${fisherExact(a, b, c, d).toPrecision(3)}`);
}

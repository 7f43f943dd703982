/* global process, console */
// Points per minute of the 24-point sweep (H ∈ {1, 2, 4} × 8 seeds, the CLI test's spec) on the
// local pool with 1 thread, with one thread per core, and on Redis with 3 `attnlab worker`
// processes (one thread each), side by side in one run. Needs the built CLI (pnpm --filter
// @attnlab/cli... build) and Debian's redis-server. Usage:
//   node apps/cli/scripts/sweep-bench.mjs [--steps 1500] [--repeats 1]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'attnlab.js');
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const steps = arg('steps', 1500);
const repeats = arg('repeats', 1);
const spec = {
  experiment: 'icl-regression',
  backend: 'cpu',
  base: {
    steps,
    batch: 16,
    L: 10,
    log: { loss: 50, validation: 500, dynamics: 500, qk: steps },
    checkpointEvery: 100,
    finalValidationSamples: 100,
    evaluation: { maxL: 21, stepL: 10, samples: 20 },
  },
  axes: { heads: [1, 2, 4], seed: { from: 0, to: 7, step: 1 } },
};
const tmp = mkdtempSync(join(tmpdir(), 'attnlab-sweep-bench-'));
const specPath = join(tmp, 'sweep24.json');
writeFileSync(specPath, JSON.stringify(spec));
const env = { ...process.env, NO_COLOR: '1' };

function timed(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`attnlab ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

const port = await new Promise((res) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => res(p));
  });
});
const redis = spawn('redis-server', [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
]);
await new Promise((res) => {
  let out = '';
  redis.stdout.on('data', (d) => {
    out += d;
    if (/Ready to accept connections/.test(out)) res();
  });
});
const url = `redis://127.0.0.1:${port}`;

const cores = availableParallelism();
const rows = { '1 thread': [], [`${cores} threads (one per core)`]: [], '3 Redis workers': [] };
try {
  for (let k = 0; k < repeats; k++) {
    rows['1 thread'].push(timed(['sweep', specPath, '--workers', '1', '--out', `one-${k}`, '--quiet']));
    rows[`${cores} threads (one per core)`].push(timed(['sweep', specPath, '--out', `all-${k}`, '--quiet']));
    const workers = [0, 1, 2].map(() =>
      spawn(process.execPath, [bin, 'worker', '--queue', url, '--concurrency', '1'], { cwd: tmp, env }),
    );
    await Promise.all(
      workers.map(
        (w) =>
          new Promise((res) => {
            let out = '';
            w.stdout.on('data', (d) => {
              out += d;
              if (/ready on/.test(out)) res();
            });
            w.stderr.resume();
          }),
      ),
    );
    rows['3 Redis workers'].push(timed(['sweep', specPath, '--queue', url, '--out', `redis-${k}`, '--quiet']));
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((res) => w.on('close', res))));
  }
} finally {
  redis.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
const base = Math.min(...rows['1 thread']);
console.log(
  `24-point sweep, ${steps} steps per point, cpu backend, ${cores} cores (best of ${repeats}, process start to exit):`,
);
for (const [name, ts] of Object.entries(rows)) {
  const t = Math.min(...ts);
  console.log(
    `  ${name.padEnd(28)} ${t.toFixed(1).padStart(6)} s  ${((24 / t) * 60).toFixed(0).padStart(5)} points/min  ×${(base / t).toFixed(2)}`,
  );
}

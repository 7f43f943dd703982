// Bundles compare.ts with esbuild and runs it: `node bench/run.mjs` from packages/linalg.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const compare = join(dirname(fileURLToPath(import.meta.url)), 'compare.ts');
const out = join(mkdtempSync(join(tmpdir(), 'linalg-bench-')), 'compare.mjs');
execFileSync('npx', ['esbuild', compare, '--bundle', '--platform=node', '--format=esm', `--outfile=${out}`], {
  stdio: 'inherit',
});
execFileSync('node', [out], { stdio: 'inherit' });

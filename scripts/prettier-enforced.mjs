#!/usr/bin/env node
// `pnpm format:check` (and `pnpm format:enforced`): prettier --check (or --write) over the paths
// listed in .prettier-enforced, so CI holds those to prettier while the rest of the tree is not
// reformatted yet. `pnpm format` formats the whole tree.
//
//   node scripts/prettier-enforced.mjs [--write]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = process.cwd();
const require = createRequire(path.join(root, 'package.json'));
const bin = path.join(path.dirname(require.resolve('prettier/package.json')), 'bin', 'prettier.cjs');
const paths = readFileSync(path.join(root, '.prettier-enforced'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
if (paths.length === 0) {
  console.error('.prettier-enforced lists no paths');
  process.exit(1);
}
const mode = process.argv.includes('--write') ? '--write' : '--check';
const r = spawnSync(process.execPath, [bin, mode, '--ignore-unknown', '--log-level=warn', ...paths], {
  stdio: 'inherit',
});
if (r.status === 0) console.log(`prettier ${mode}: ${paths.length} paths in .prettier-enforced are formatted`);
else if (mode === '--check')
  console.error('prettier: run `pnpm format:enforced` (or `pnpm exec prettier --write <file>`) and commit the result');
process.exit(r.status ?? 1);

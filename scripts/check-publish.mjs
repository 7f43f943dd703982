// Publishing checks run by `pnpm test`: every library package is publint-clean when packed, and
// the workspace holds exactly one @tensorflow/tfjs-core (one engine, one kernel registry).
// Prints a jest-like "Tests:" line so .ci/run counts these checks too.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

let passed = 0;
let failed = 0;
const fail = (what, why) => {
  failed++;
  console.error(`✕ ${what}\n  ${why.split('\n').join('\n  ')}`);
};
const pass = (what) => {
  passed++;
  console.log(`✓ ${what}`);
};

for (const dir of readdirSync('packages').sort()) {
  const pkgDir = path.join('packages', dir);
  if (!existsSync(path.join(pkgDir, 'package.json'))) continue;
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  const { messages } = await publint({ pkgDir, level: 'warning', strict: true, pack: 'pnpm' });
  const problems = [];
  for (const m of messages) problems.push(`${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
  if (!existsSync(path.join(pkgDir, 'README.md'))) problems.push('error: README.md is missing');
  if (pkg.name !== '@attnlab/plot' && pkg.peerDependencies?.['@tensorflow/tfjs-core'] == null)
    problems.push('error: @tensorflow/tfjs-core must be a peer dependency');
  if (pkg.dependencies?.['@tensorflow/tfjs-core'])
    problems.push('error: @tensorflow/tfjs-core must not be a regular dependency');
  if (!pkg.exports?.['.']?.types) problems.push('error: exports["."] has no types condition');
  if (typeof pkg.sideEffects === 'undefined') problems.push('error: sideEffects is not declared');
  if (problems.length) fail(`publint ${pkg.name}`, problems.join('\n'));
  else pass(`publint ${pkg.name}`);
}

const why = execFileSync('pnpm', ['why', '-r', '@tensorflow/tfjs-core', '--json'], { encoding: 'utf8' });
const entries = JSON.parse(why).filter((e) => e.name === '@tensorflow/tfjs-core');
const versions = new Set(entries.map((e) => e.version));
const copies = new Set(entries.map((e) => e.path));
if (copies.size > 1) versions.add(`(${copies.size} copies on disk)`);
if (versions.size === 1) pass(`one @tensorflow/tfjs-core in the workspace (${[...versions][0]})`);
else fail('one @tensorflow/tfjs-core in the workspace', `found versions: ${[...versions].join(', ') || 'none'}`);

console.log(`Tests: ${failed ? `${failed} failed, ` : ''}${passed} passed, ${passed + failed} total`);
process.exit(failed ? 1 : 0);

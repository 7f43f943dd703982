// Publishing checks run by `pnpm test`: every published package (packages/* and apps/cli) is
// clean under `publint --strict` and `attw` (are the types wrong; ESM-only profile, on the tarball
// pnpm packs, as npm would publish it), and the workspace holds exactly one @tensorflow/tfjs-core
// (one engine, one kernel registry). Needs built packages (`pnpm build`).
// Prints a jest-like "Tests:" line so .ci/run counts these checks too.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

const packDir = mkdtempSync(path.join(tmpdir(), 'attnlab-attw-'));
const dirs = [
  ...readdirSync('packages')
    .sort()
    .map((d) => path.join('packages', d)),
  'apps/cli',
];
for (const pkgDir of dirs) {
  if (!existsSync(path.join(pkgDir, 'package.json'))) continue;
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  const isApp = pkgDir.startsWith('apps/');
  const { messages } = await publint({ pkgDir, level: 'warning', strict: true, pack: 'pnpm' });
  const problems = [];
  for (const m of messages) problems.push(`${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
  if (!existsSync(path.join(pkgDir, 'README.md'))) problems.push('error: README.md is missing');
  if (!existsSync(path.join(pkgDir, 'LICENSE'))) problems.push('error: LICENSE is missing');
  if (isApp) {
    if (problems.length) fail(`publint ${pkg.name}`, problems.join('\n'));
    else pass(`publint ${pkg.name}`);
    continue;
  }
  if (pkg.name !== '@attnlab/plot' && pkg.peerDependencies?.['@tensorflow/tfjs-core'] == null)
    problems.push('error: @tensorflow/tfjs-core must be a peer dependency');
  if (pkg.dependencies?.['@tensorflow/tfjs-core'])
    problems.push('error: @tensorflow/tfjs-core must not be a regular dependency');
  if (!pkg.exports?.['.']?.types) problems.push('error: exports["."] has no types condition');
  if (typeof pkg.sideEffects === 'undefined') problems.push('error: sideEffects is not declared');
  if (problems.length) fail(`publint ${pkg.name}`, problems.join('\n'));
  else pass(`publint ${pkg.name}`);

  try {
    const out = execFileSync('pnpm', ['pack', '--pack-destination', packDir], { cwd: pkgDir, encoding: 'utf8' });
    const tgz = path.join(packDir, path.basename(out.trim().split('\n').pop().trim()));
    execFileSync(path.resolve('node_modules/.bin/attw'), [tgz, '--profile', 'esm-only', '--format', 'ascii'], {
      encoding: 'utf8',
    });
    pass(`attw ${pkg.name}`);
  } catch (err) {
    const e = /** @type {{ stdout?: string, stderr?: string, message: string }} */ (err);
    fail(`attw ${pkg.name}`, `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message);
  }
}
rmSync(packDir, { recursive: true, force: true });

const why = execFileSync('pnpm', ['why', '-r', '@tensorflow/tfjs-core', '--json'], { encoding: 'utf8' });
const entries = JSON.parse(why).filter((e) => e.name === '@tensorflow/tfjs-core');
const versions = new Set(entries.map((e) => e.version));
const copies = new Set(entries.map((e) => e.path));
if (copies.size > 1) versions.add(`(${copies.size} copies on disk)`);
if (versions.size === 1) pass(`one @tensorflow/tfjs-core in the workspace (${[...versions][0]})`);
else fail('one @tensorflow/tfjs-core in the workspace', `found versions: ${[...versions].join(', ') || 'none'}`);

console.log(`Tests: ${failed ? `${failed} failed, ` : ''}${passed} passed, ${passed + failed} total`);
process.exit(failed ? 1 : 0);

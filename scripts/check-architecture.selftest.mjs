#!/usr/bin/env node
// Proves that `pnpm deps` (scripts/check-architecture.mjs) catches wrong edges. It copies the
// working tree to a temporary folder (node_modules recreated as links, so workspace packages
// resolve inside the copy), adds wrong imports there, runs the check in the copy, and asserts that
// each one is reported. The real tree is never touched. Prints a jest-like "Tests:" line.
//
//   node scripts/check-architecture.selftest.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = process.cwd();
let passed = 0;
let failed = 0;
const check = (what, ok, detail = '') => {
  if (ok) {
    passed++;
    console.log(`✓ ${what}`);
  } else {
    failed++;
    console.error(`✕ ${what}${detail ? `\n  ${detail.split('\n').join('\n  ')}` : ''}`);
  }
};

/** A copy of the working tree (tracked and untracked, not ignored) whose node_modules link back. */
function copyTree() {
  const dir = mkdtempSync(path.join(tmpdir(), 'attnlab-deps-selftest-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && existsSync(path.join(root, f)));
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    cpSync(path.join(root, f), path.join(dir, f));
  }
  // The root node_modules is shared; each package's node_modules is rebuilt from the same link
  // targets (relative, so `@attnlab/x -> ../../../x` points into the copy).
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  for (const ws of ['packages', 'apps', 'tooling']) {
    if (!existsSync(path.join(root, ws))) continue;
    for (const pkg of readdirSync(path.join(root, ws))) {
      const nm = path.join(root, ws, pkg, 'node_modules');
      if (!existsSync(nm)) continue;
      const copyLinks = (from, to) => {
        mkdirSync(to, { recursive: true });
        for (const e of readdirSync(from)) {
          const src = path.join(from, e);
          const st = lstatSync(src);
          if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), path.join(to, e));
          else if (e.startsWith('@') && st.isDirectory()) copyLinks(src, path.join(to, e));
        }
      };
      copyLinks(nm, path.join(dir, ws, pkg, 'node_modules'));
    }
  }
  return dir;
}

function runCheck(dir) {
  const r = spawnSync(process.execPath, [path.join(dir, 'scripts', 'check-architecture.mjs'), '--json'], {
    cwd: dir,
    encoding: 'utf8',
  });
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    out = { ok: false, fatal: `no JSON from the check: ${r.stdout}${r.stderr}`, errors: [], warnings: [], stale: [] };
  }
  return { status: r.status, ...out };
}

const has = (list, rule, from, toDir) =>
  list.some((v) => v.rule.startsWith(rule) && v.from === from && (!toDir || v.to.startsWith(`${toDir}/`)));
const show = (r) =>
  JSON.stringify(
    { fatal: r.fatal, errors: r.errors?.map((e) => `${e.rule}: ${e.from} → ${e.to}`), stale: r.stale },
    null,
    1,
  );

const arch = JSON.parse(
  /```json\n([\s\S]*?)\n```/.exec(
    readFileSync(path.join(root, 'ARCHITECTURE.md'), 'utf8').split('<!-- dependency-rules')[1],
  )[1],
);
const tmp = copyTree();
try {
  // 0. The tree as it is passes, and reports its known violations as warnings.
  const clean = runCheck(tmp);
  check('the unmodified tree passes', clean.status === 0 && clean.ok, show(clean));
  check(
    'every known violation is reported as a warning',
    arch.knownViolations.every((k) => has(clean.warnings, 'known-violation', k.from, arch.packages[k.to].dir)),
    JSON.stringify(clean.warnings?.map((w) => `${w.from} → ${w.to}`)),
  );

  // 1. Wrong edges, all added to the copy at once.
  const add = (file, line) => appendFileSync(path.join(tmp, file), `\n${line}\n`);
  add('packages/data/src/rng.ts', "import '@attnlab/backend';"); // lowest layer reaching for backend (a devDependency)
  add('packages/train/src/loop.ts', "import { initBackend } from '@attnlab/backend';\nvoid initBackend;");
  // Known violations of the copy's own (the real list should be empty): dom.ts → train is known,
  // and a stale entry whose import does not exist.
  const archFile = path.join(tmp, 'ARCHITECTURE.md');
  writeFileSync(
    archFile,
    readFileSync(archFile, 'utf8').replace(
      /"knownViolations": \[[^\]]*\]/,
      '"knownViolations": [' +
        '{ "from": "apps/web/src/dom.ts", "to": "@attnlab/train", "why": "selftest" }, ' +
        '{ "from": "apps/web/src/dom.ts", "to": "@attnlab/estimators", "why": "selftest: stale" }]',
    ),
  );
  // The web app declares (and links) train and data in the copy, so the edges resolve and only the layer rule is broken.
  const webPkg = path.join(tmp, 'apps/web/package.json');
  const web = JSON.parse(readFileSync(webPkg, 'utf8'));
  for (const dep of ['train', 'data']) {
    web.dependencies[`@attnlab/${dep}`] = 'workspace:^';
    mkdirSync(path.join(tmp, 'apps/web/node_modules/@attnlab'), { recursive: true });
    if (!existsSync(path.join(tmp, `apps/web/node_modules/@attnlab/${dep}`))) {
      symlinkSync(`../../../../packages/${dep}`, path.join(tmp, `apps/web/node_modules/@attnlab/${dep}`));
    }
  }
  writeFileSync(webPkg, JSON.stringify(web, null, 2));
  add('apps/web/src/dom.ts', "import type { TrainOptions as _T } from '@attnlab/train';"); // the known edge
  add('apps/web/src/router.ts', "import type { TrainOptions } from '@attnlab/train';\nexport type T = TrainOptions;"); // new file, known target
  add('apps/web/src/dom.ts', "import { Rng as _Rng } from '@attnlab/data';"); // known file, new target
  add('packages/metrics/src/index.ts', "export * as linalgDeep from '../../linalg/src/index.js';");
  add('packages/plot/src/index.ts', "import './test-utils/xml.js';");
  writeFileSync(
    path.join(tmp, 'packages/plot/src/cycle-a.ts'),
    "import { b } from './cycle-b.js';\nexport const a = (): number => b() + 1;\n",
  );
  writeFileSync(
    path.join(tmp, 'packages/plot/src/cycle-b.ts'),
    "import { a } from './cycle-a.js';\nexport const b = (): number => a() - 1;\n",
  );
  add('packages/plot/src/index.ts', "export { a } from './cycle-a.js';");

  const bad = runCheck(tmp);
  if (process.env.SELFTEST_DEBUG) console.log(show(bad));
  check('the check fails on wrong edges', bad.status !== 0 && !bad.ok, show(bad));
  check(
    'data → backend is a layer error',
    has(bad.errors, 'layer: @attnlab/data -> @attnlab/backend', 'packages/data/src/rng.ts'),
    show(bad),
  );
  check(
    'data → backend (a devDependency only) is undeclared',
    has(bad.errors, 'undeclared: @attnlab/data -> @attnlab/backend', 'packages/data/src/rng.ts'),
    show(bad),
  );
  check(
    'train → backend is a layer error',
    has(bad.errors, 'layer: @attnlab/train -> @attnlab/backend', 'packages/train/src/loop.ts'),
    show(bad),
  );
  check(
    'another app file importing train is an error (type-only imports count)',
    has(bad.errors, 'layer: @attnlab/web -> @attnlab/train', 'apps/web/src/router.ts'),
    show(bad),
  );
  check(
    'a known-violation file importing a new package is an error',
    has(bad.errors, 'layer: @attnlab/web -> @attnlab/data', 'apps/web/src/dom.ts'),
    show(bad),
  );
  check(
    'the known violations of that file stay warnings',
    has(bad.warnings, 'known-violation: @attnlab/web -> @attnlab/train', 'apps/web/src/dom.ts'),
    show(bad),
  );
  check(
    'a relative import across packages is an error',
    has(bad.errors, 'no-relative-across-packages', 'packages/metrics/src/index.ts', 'packages/linalg'),
    show(bad),
  );
  check(
    'src importing test-utils is an error',
    has(bad.errors, 'not-to-test', 'packages/plot/src/index.ts'),
    show(bad),
  );
  check(
    'a cycle is an error',
    has(bad.errors, 'no-circular', 'packages/plot/src/cycle-a.ts') ||
      has(bad.errors, 'no-circular', 'packages/plot/src/cycle-b.ts'),
    show(bad),
  );
  check(
    'a known violation that no longer occurs is an error',
    bad.stale?.some((s) => s.from === 'apps/web/src/dom.ts' && s.to === '@attnlab/estimators'),
    show(bad),
  );

  // 2. A workspace package with no row in ARCHITECTURE.md's rules block is an error.
  rmSync(tmp, { recursive: true, force: true });
  const tmp2 = copyTree();
  try {
    mkdirSync(path.join(tmp2, 'packages/newpkg/src'), { recursive: true });
    writeFileSync(
      path.join(tmp2, 'packages/newpkg/package.json'),
      JSON.stringify({ name: '@attnlab/newpkg', version: '0.0.0' }),
    );
    writeFileSync(path.join(tmp2, 'packages/newpkg/src/index.ts'), 'export const x = 1;\n');
    const r = runCheck(tmp2);
    check(
      'a package missing from the rules block is an error',
      r.status !== 0 && /@attnlab\/newpkg .*has no row/.test(r.fatal ?? ''),
      show(r),
    );
  } finally {
    rmSync(tmp2, { recursive: true, force: true });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

console.log(`Tests: ${failed ? `${failed} failed, ` : ''}${passed} passed, ${passed + failed} total`);
process.exit(failed ? 1 : 0);

// dependency-cruiser configuration: the dependency direction of ARCHITECTURE.md, enforced.
//
// The layer rules are NOT written here. They are read at run time from the JSON block after the
// `<!-- dependency-rules` marker in ARCHITECTURE.md (the page a newcomer reads), and from each
// workspace package's package.json (what it declares). This file only turns them into
// dependency-cruiser rules. Run it with `pnpm deps` (scripts/check-architecture.mjs), which also
// fails on known violations that no longer occur. `scripts/check-architecture.selftest.mjs`
// proves that the check catches wrong edges.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = __dirname;
const MARKER = '<!-- dependency-rules';

/** The JSON block of ARCHITECTURE.md, validated against the workspace. */
function readArchitecture(root = ROOT) {
  const file = path.join(root, 'ARCHITECTURE.md');
  const md = fs.readFileSync(file, 'utf8');
  const at = md.indexOf(MARKER);
  if (at < 0) throw new Error(`${file}: no "${MARKER}" marker before the rules block`);
  const fence = /```json\n([\s\S]*?)\n```/.exec(md.slice(at));
  if (!fence) throw new Error(`${file}: no \`\`\`json block after the "${MARKER}" marker`);
  let rules;
  try {
    rules = JSON.parse(fence[1]);
  } catch (e) {
    throw new Error(`${file}: the dependency-rules block is not valid JSON: ${e.message}`);
  }
  const { packages, tests, knownViolations = [] } = rules;
  if (!packages || typeof packages !== 'object') throw new Error(`${file}: rules block needs "packages"`);
  if (!tests || !Array.isArray(tests.files)) throw new Error(`${file}: rules block needs "tests.files"`);
  const workspace = readWorkspace(root);
  for (const [name, info] of Object.entries(workspace)) {
    const row = packages[name];
    if (!row) throw new Error(`${file}: workspace package ${name} (${info.dir}) has no row in the rules block`);
    if (row.dir !== info.dir)
      throw new Error(`${file}: ${name} has dir ${row.dir} in the rules block but lives in ${info.dir}`);
  }
  for (const [name, row] of Object.entries(packages)) {
    if (!workspace[name]) throw new Error(`${file}: rules block lists ${name}, which is not a workspace package`);
    for (const to of row.mayImport ?? []) {
      if (!workspace[to]) throw new Error(`${file}: ${name} may import ${to}, which is not a workspace package`);
    }
  }
  for (const v of knownViolations) {
    if (!v.from || !v.to) throw new Error(`${file}: a known violation needs "from" (a file) and "to" (a package)`);
    if (!workspace[v.to]) throw new Error(`${file}: known violation ${v.from} → ${v.to}: not a workspace package`);
    if (!fs.existsSync(path.join(root, v.from)))
      throw new Error(`${file}: known violation ${v.from} → ${v.to}: no such file (delete the entry)`);
  }
  return { packages, tests, knownViolations, workspace };
}

/** Every workspace package (pnpm-workspace.yaml's `dir/*` globs): name → { dir, manifest }. */
function readWorkspace(root = ROOT) {
  const yaml = fs.readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8');
  const globs = [...yaml.matchAll(/^\s*-\s*['"]?([^'"\s]+)\/\*['"]?\s*$/gm)].map((m) => m[1]);
  const out = {};
  for (const g of globs) {
    for (const d of fs.readdirSync(path.join(root, g)).sort()) {
      const manifest = path.join(root, g, d, 'package.json');
      if (!fs.existsSync(manifest)) continue;
      const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
      out[pkg.name] = { dir: `${g}/${d}`, manifest: pkg };
    }
  }
  return out;
}

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const anyOf = (res) => `(?:${res.join('|')})`;

function buildRules(arch) {
  const { packages, tests, knownViolations, workspace } = arch;
  const isTest = anyOf(tests.files);
  const testing = (tests.mayAlsoImport ?? []).map((spec) => subpathFile(workspace, spec));
  const forbidden = [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'ARCHITECTURE.md: no cycles, between packages or between modules of one package.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-relative-across-packages',
      severity: 'error',
      comment: 'A relative import must stay inside its package: import other packages by name.',
      from: { path: '^(packages|apps|tooling)/([^/]+)/' },
      to: { dependencyTypes: ['local'], path: '^(packages|apps|tooling)/', pathNot: '^$1/$2/' },
    },
    {
      name: 'no-relative-into-packages',
      severity: 'error',
      comment: 'Root files import workspace packages by name, not by relative path.',
      from: { pathNot: '^(packages|apps|tooling)/' },
      to: { dependencyTypes: ['local'], path: '^(packages|apps|tooling)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import must resolve (with pnpm, an undeclared npm package does not).',
      // assembly/icl.ts imports a module that scripts/build-wasm.mjs generates in memory;
      // scripts/gen-gradients.mjs requires tfjs-core through createRequire from packages/backend.
      from: { pathNot: '^(packages/fused/assembly/|scripts/gen-gradients\\.mjs$)' },
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment: 'npm packages must be declared in the package.json of the importing package (or the root).',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment: 'Non-test src must not import devDependencies: they are not installed for consumers.',
      from: { path: '^(packages|apps)/[^/]+/src/', pathNot: isTest },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-test',
      severity: 'error',
      comment: 'Non-test src must not import tests or test-utils (they are not published).',
      from: { path: '^(packages|apps)/[^/]+/src/', pathNot: isTest },
      to: { path: isTest },
    },
  ];

  for (const [name, row] of Object.entries(packages)) {
    const dir = esc(row.dir);
    const manifest = workspace[name].manifest;
    // A package that bundles the workspace packages it imports (the CLI) lists them as devDependencies.
    const bundledWorkspace = row.bundlesWorkspace
      ? Object.keys(manifest.devDependencies ?? {}).filter((d) => workspace[d])
      : [];
    const declared = new Set([
      ...bundledWorkspace,
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    ]);
    const declaredDev = new Set([...declared, ...Object.keys(manifest.devDependencies ?? {})]);
    const allowed = new Set(row.mayImport ?? []);
    const allowedInTests = new Set([...allowed, ...[...declaredDev].filter((d) => workspace[d])]);
    // Non-test files under src/ (runtime code), and everything else in the package (tests,
    // test-utils, bench/, scripts/, e2e/, config files at the package root).
    const runtime = { path: `^${dir}/src/`, pathNot: isTest };
    const tooling = { path: `^${dir}/`, pathNot: `^(?!.*${isTest})${dir}/src/` };

    for (const [target, info] of Object.entries(workspace)) {
      if (target === name) continue;
      const to = `^${esc(info.dir)}/`;
      if (!allowed.has(target)) {
        const known = knownViolations.filter((v) => v.from.startsWith(`${row.dir}/`) && v.to === target);
        const knownFiles = known.map((v) => `^${esc(v.from)}$`);
        forbidden.push({
          name: `layer: ${name} -> ${target}`,
          severity: 'error',
          comment: `ARCHITECTURE.md: ${name} may import ${[...allowed].join(', ') || 'no @attnlab package'}.`,
          from: knownFiles.length ? { path: runtime.path, pathNot: anyOf([isTest, ...knownFiles]) } : runtime,
          to: { path: to },
        });
        if (knownFiles.length) {
          forbidden.push({
            name: `known-violation: ${name} -> ${target}`,
            severity: 'warn',
            comment: `ARCHITECTURE.md knownViolations: ${known.map((v) => v.why).join('; ')}`,
            from: { path: anyOf(knownFiles) },
            to: { path: to },
          });
        }
      }
      if (!allowedInTests.has(target)) {
        const testingFiles = testing.filter((t) => t.startsWith(`${info.dir}/`)).map((t) => `^${esc(t)}$`);
        forbidden.push({
          name: `layer (tests, tooling): ${name} -> ${target}`,
          severity: 'error',
          comment: `ARCHITECTURE.md: tests of ${name} may import what it may, ${(tests.mayAlsoImport ?? []).join(', ')}, and its devDependencies.`,
          from: tooling,
          to: testingFiles.length ? { path: to, pathNot: anyOf(testingFiles) } : { path: to },
        });
      }
      if (!declared.has(target)) {
        forbidden.push({
          name: `undeclared: ${name} -> ${target}`,
          severity: 'error',
          comment: `${row.dir}/package.json must list ${target} in dependencies (or peer/optional) to import it from src.`,
          from: runtime,
          to: { path: to },
        });
      }
      if (!declaredDev.has(target)) {
        forbidden.push({
          name: `undeclared (tests, tooling): ${name} -> ${target}`,
          severity: 'error',
          comment: `${row.dir}/package.json must list ${target} (devDependencies is enough) to import it from tests or tooling.`,
          from: tooling,
          to: { path: to },
        });
      }
    }
  }
  return forbidden;
}

/** `@attnlab/backend/testing` → the file its `@attnlab/source` export condition points at. */
function subpathFile(workspace, spec) {
  const m = /^(@[^/]+\/[^/]+)(\/.*)?$/.exec(spec);
  const info = m && workspace[m[1]];
  if (!info) throw new Error(`ARCHITECTURE.md: tests.mayAlsoImport ${spec} is not a workspace package or subpath`);
  const entry = info.manifest.exports?.[`.${m[2] ?? ''}`];
  const file = typeof entry === 'string' ? entry : entry?.['@attnlab/source'];
  if (!file) throw new Error(`ARCHITECTURE.md: ${spec} has no "@attnlab/source" export in ${info.dir}/package.json`);
  return path.posix.join(info.dir, file);
}

const architecture = readArchitecture();

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: buildRules(architecture),
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|coverage|\\.turbo)/' },
    // Type-only imports count: a type in a published .d.ts needs its package installed too.
    tsPreCompilationDeps: true,
    // Each file's dependency types come from its own package.json plus the root one.
    combinedDependencies: true,
    moduleSystems: ['es6', 'cjs'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      // Workspace packages resolve to their src, as in tests and typecheck.
      conditionNames: ['@attnlab/source', 'import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
// For scripts/check-architecture.mjs (not enumerable: dependency-cruiser validates the config's keys).
Object.defineProperty(module.exports, 'architecture', { value: architecture, enumerable: false });

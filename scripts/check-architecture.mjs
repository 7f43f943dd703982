#!/usr/bin/env node
// `pnpm deps`: the dependency-boundary check. Runs dependency-cruiser with .dependency-cruiser.cjs
// (which reads its layer rules from ARCHITECTURE.md), prints every violation, and fails when
// there is an error or when a known violation listed in ARCHITECTURE.md no longer occurs (so the
// list can only shrink). Known violations are printed as warnings.
//
//   node scripts/check-architecture.mjs [--json]    (--json: one JSON object on stdout, for the self-test)
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';

const root = process.cwd();
const json = process.argv.includes('--json');
const require = createRequire(path.join(root, 'package.json'));

let config;
try {
  config = require(path.join(root, '.dependency-cruiser.cjs'));
} catch (e) {
  report({ ok: false, fatal: e.message, errors: [], warnings: [], stale: [] });
}
const { knownViolations, workspace } = config.architecture;

const targets = ['packages', 'apps', 'tooling', 'scripts'].filter((d) => existsSync(path.join(root, d)));
let summary;
try {
  const options = await extractDepcruiseOptions(path.join(root, '.dependency-cruiser.cjs'));
  const result = await cruise(targets, { ...options, outputType: 'json' });
  summary = JSON.parse(result.output).summary;
} catch (e) {
  report({ ok: false, fatal: `dependency-cruiser failed: ${e.message}`, errors: [], warnings: [], stale: [] });
}
const shape = (v) => ({
  rule: v.rule.name,
  severity: v.rule.severity,
  from: v.from,
  to: v.to,
  comment: ruleComment(v.rule.name),
});
const errors = summary.violations.filter((v) => v.rule.severity === 'error').map(shape);
const warnings = summary.violations.filter((v) => v.rule.severity === 'warn').map(shape);

// A known violation is stale when no warning comes from its file into its package any more.
const stale = knownViolations.filter((k) => {
  const dir = `${workspace[k.to].dir}/`;
  return !warnings.some((w) => w.from === k.from && w.to.startsWith(dir));
});

report({
  ok: errors.length === 0 && stale.length === 0,
  errors,
  warnings,
  stale,
  modules: summary.totalCruised,
  dependencies: summary.totalDependenciesCruised,
});

function ruleComment(name) {
  return config.forbidden.find((r) => r.name === name)?.comment ?? '';
}

function report(r) {
  if (json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(r.ok ? 0 : 1);
  }
  if (r.fatal) {
    console.error(`deps: ${r.fatal}`);
    process.exit(1);
  }
  for (const w of r.warnings) console.log(`warn  ${w.rule}: ${w.from} → ${w.to}`);
  for (const e of r.errors) console.error(`error ${e.rule}: ${e.from} → ${e.to}\n      ${e.comment}`);
  for (const s of r.stale) {
    console.error(
      `error stale known violation: ${s.from} → ${s.to} no longer occurs; delete it from ARCHITECTURE.md's knownViolations`,
    );
  }
  const bad = r.errors.length + r.stale.length;
  console.log(
    `deps: ${r.modules} modules, ${r.dependencies} dependencies; ${bad} error(s), ${r.warnings.length} known violation(s) (warnings; listed in ARCHITECTURE.md)`,
  );
  process.exit(r.ok ? 0 : 1);
}

// Shared flat config: each package's eslint.config.js spreads it, and so does the root one.
//
// TypeScript is linted with type information (typescript-eslint's recommendedTypeChecked,
// through the project service: each file is checked with the tsconfig.json nearest to it).
// JavaScript (scripts, bench runners, config files) is linted without types; AssemblyScript
// (fused's assembly/) is not linted. Rules that a package's code does not pass yet are set to 'warn' for
// that package only, in ./known-warnings.js.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { knownWarnings } from './known-warnings.js';

/** The package eslint runs in: turbo and pnpm run each package's `lint` from its folder. */
function packageAt(dir) {
  for (let d = dir; ; d = path.dirname(d)) {
    const manifest = path.join(d, 'package.json');
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')).name;
    if (path.dirname(d) === d) return undefined;
  }
}

/** The rules of `knownWarnings[name]` at 'warn', for the files of `files` (default: all). */
export function knownWarningsFor(name, files) {
  const rules = knownWarnings[name];
  if (!rules) return [];
  return [
    {
      name: `attnlab/known-warnings/${name}`,
      ...(files ? { files } : {}),
      rules: Object.fromEntries(Object.keys(rules).map((rule) => [rule, 'warn'])),
    },
  ];
}

// typescript-eslint's no-unnecessary-type-assertion, without its "type arguments may be inferred
// from the assertion" report: for tfjs ops such as `squeeze<T extends Tensor>(…): T`, writing
// `tf.squeeze(y, [2]) as tf.Tensor2D` and `tf.squeeze<tf.Tensor2D>(y, [2])` are equally unchecked,
// and the first is the house idiom. Truly unnecessary assertions are still errors.
const upstream = tseslint.plugin.rules['no-unnecessary-type-assertion'];
const noUnnecessaryTypeAssertion = {
  ...upstream,
  create(context) {
    const report = (d) => d.messageId === 'contextuallyInferredTypeArguments' || context.report(d);
    return upstream.create(Object.create(context, { report: { value: report } }));
  },
};
const attnlab = {
  meta: { name: '@attnlab/eslint-config' },
  rules: { 'no-unnecessary-type-assertion': noUnnecessaryTypeAssertion },
};

const cwd = process.cwd();

const typed = tseslint.config(
  // assembly/: AssemblyScript, not TypeScript. Its decorators on functions (`@inline`, `@external`)
  // do not parse as TypeScript; asc checks it (scripts/build-wasm.mjs --check, run by fused's tests).
  { ignores: ['dist/**', 'coverage/**', '**/*.d.ts', '**/node_modules/**', '**/assembly/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: cwd },
    },
    plugins: { attnlab },
    rules: {
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      'attnlab/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'No default exports.' }],
      // Numbers and booleans in template literals are what error messages are made of.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // Off: an `async` function without `await` is how a Promise-returning API (Estimator.predict,
      // experiment runs) turns its argument checks into rejections instead of synchronous throws.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests assert on values they just built.
    files: ['**/*.test.ts', '**/test-utils/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);

// Last, so that a package's known warnings never switch a type-aware rule back on for files
// linted without types.
const untyped = tseslint.config(
  {
    // Scripts, bench runners and config files: plain JavaScript run by Node, no type information.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
    rules: { 'no-restricted-syntax': 'off', 'attnlab/no-unnecessary-type-assertion': 'off' },
  },
  {
    // CommonJS: .cjs files, and the jest preset (a "type": "commonjs" package).
    files: ['**/*.cjs', '**/jest-preset/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // eslint.config.js files must default-export their config.
    files: ['**/eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);

/** The shared config, with `extra` blocks (such as known warnings) before the untyped overrides. */
export function config(...extra) {
  return [...typed, ...extra.flat(Infinity), ...untyped];
}

export default config(knownWarningsFor(packageAt(cwd)));

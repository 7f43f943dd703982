// Root lint (`pnpm lint:root`): what the packages' own `lint` scripts (their src) do not cover:
// root scripts and config files, tooling/, and each package's scripts/, bench/, assembly/ and
// config files. Same shared config; a package's known warnings apply to its files here too.
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { config, knownWarningsFor } from '@attnlab/eslint-config';

const packageDirs = ['packages', 'apps', 'tooling'].flatMap((group) =>
  readdirSync(group)
    .filter((d) => existsSync(`${group}/${d}/package.json`))
    .map((d) => ({ dir: `${group}/${d}`, name: JSON.parse(readFileSync(`${group}/${d}/package.json`, 'utf8')).name })),
);

export default [
  { ignores: ['**/dist/**', '**/coverage/**', '**/node_modules/**', '**/.turbo/**', '**/src/generated/**'] },
  ...config(packageDirs.map(({ dir, name }) => knownWarningsFor(name, [`${dir}/**`]))),
];

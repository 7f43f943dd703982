// Scaffolds packages/<name> with the house layout. Usage: node scripts/new-package.mjs name "description" dep1,dep2
import { copyFileSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
const [name, description, deps = ''] = process.argv.slice(2);
const dir = `packages/${name}`;
if (existsSync(`${dir}/package.json`)) {
  console.log(`${dir} exists`);
  process.exit(0);
}
mkdirSync(`${dir}/src`, { recursive: true });
// Dependency keys in order, as sherif (`pnpm manifests`) wants them.
const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
const workspaceDeps = Object.fromEntries(
  deps
    .split(',')
    .filter(Boolean)
    .map((d) => [`@attnlab/${d}`, 'workspace:^']),
);
const pkg = {
  name: `@attnlab/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  exports: {
    '.': { '@attnlab/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
    './package.json': './package.json',
  },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  files: ['dist', 'LICENSE', 'src', '!src/**/*.test.ts'],
  engines: { node: '>=20' },
  scripts: {
    build: 'tsc -p tsconfig.build.json',
    test: 'jest',
    lint: 'eslint src',
    typecheck: 'tsc --noEmit',
    prepack: 'node ../../scripts/prepack.mjs',
  },
  ...(Object.keys(workspaceDeps).length ? { dependencies: sorted(workspaceDeps) } : {}),
  peerDependencies: { '@tensorflow/tfjs-core': '^4.22.0' },
  devDependencies: sorted({
    '@attnlab/eslint-config': 'workspace:*',
    '@attnlab/jest-preset': 'workspace:*',
    '@attnlab/tsconfig': 'workspace:*',
    '@tensorflow/tfjs-core': '4.22.0',
    '@types/jest': '^29.5.14',
    '@types/node': '^20.19.0',
    eslint: '^9.30.0',
    jest: '^29.7.0',
    typescript: '~5.9.3',
    ...(workspaceDeps['@attnlab/backend'] ? {} : { '@attnlab/backend': 'workspace:^' }),
  }),
  repository: { type: 'git', url: 'git+https://github.com/attnlab/attnlab.git', directory: dir },
  publishConfig: { access: 'public' },
};
copyFileSync('LICENSE', `${dir}/LICENSE`);
writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(
  `${dir}/tsconfig.json`,
  JSON.stringify(
    { extends: '@attnlab/tsconfig/base.json', compilerOptions: { noEmit: true }, include: ['src'] },
    null,
    2,
  ) + '\n',
);
writeFileSync(
  `${dir}/tsconfig.build.json`,
  JSON.stringify({ extends: '@attnlab/tsconfig/library.json', compilerOptions: { types: ['node'] } }, null, 2) + '\n',
);
writeFileSync(`${dir}/jest.config.cjs`, "module.exports = { preset: '@attnlab/jest-preset' };\n");
writeFileSync(`${dir}/eslint.config.js`, "import base from '@attnlab/eslint-config';\nexport default [...base];\n");
console.log(`created ${dir}. Next: add its row to the rules block of ARCHITECTURE.md (pnpm deps fails until then) and a
paragraph describing it, then run pnpm install.`);

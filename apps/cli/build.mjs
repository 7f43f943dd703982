/* global process, console */
// Bundles src/main.ts into dist/attnlab.js (ESM, Node 20). Workspace packages come from source
// (the "@attnlab/source" condition); code split so `--help` never loads TensorFlow.js.
//
// Externals: packages the CLI itself depends on stay in node_modules (one tfjs-core instance per
// process, shared with tfjs-node or Dawn loaded at run time); any other @tensorflow/* package
// (reached through @attnlab/backend) is bundled, and the tfjs WASM binaries are copied next to
// the bundle, where the wasm backend looks for them (`__dirname`).
import * as esbuild from 'esbuild';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, 'dist');
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const cliRequire = createRequire(join(here, 'package.json'));

/** Whether Node will find package `id` from dist/ at run time (node_modules walk; NODE_PATH is ignored, as ESM does). */
const resolvable = (id) => {
  const name = id.startsWith('@') ? id.split('/').slice(0, 2).join('/') : id.split('/')[0];
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return true;
    if (dirname(dir) === dir) return false;
  }
};
// Only ever imported in browsers (the backend's WebGL path is never taken in Node).
const BROWSER_ONLY = new Set(['@tensorflow/tfjs-backend-webgl']);
const bundled = new Set();
/** @type {esbuild.Plugin} */
const externals = {
  name: 'attnlab-externals',
  setup(build) {
    build.onResolve({ filter: /^(@tensorflow\/[^/]+|webgpu)(\/.*)?$/ }, async (args) => {
      if (args.pluginData === 'attnlab-inner') return undefined;
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      if (BROWSER_ONLY.has(name) || resolvable(args.path)) return { path: args.path, external: true };
      bundled.add(name);
      // tfjs backends register themselves on import, but their Node entry files are missing from
      // their package.json "sideEffects" lists, so esbuild would drop `import '…backend-cpu'`.
      const r = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'attnlab-inner',
      });
      if (r.errors.length) return { errors: r.errors };
      return { path: r.path, sideEffects: true };
    });
  },
};

const banner = [
  '#!/usr/bin/env node',
  "import { createRequire as __attnlabCreateRequire } from 'node:module';",
  "import { fileURLToPath as __attnlabFileURLToPath } from 'node:url';",
  "import { dirname as __attnlabDirname } from 'node:path';",
  'const require = __attnlabCreateRequire(import.meta.url);',
  'const __filename = __attnlabFileURLToPath(import.meta.url);',
  'const __dirname = __attnlabDirname(__filename);',
].join('\n');

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await esbuild.build({
  entryPoints: { attnlab: join(here, 'src/main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  conditions: ['@attnlab/source'],
  mainFields: ['main', 'module'],
  plugins: [externals],
  // BullMQ (with ioredis) and yaml stay in node_modules: loaded only by --queue, `attnlab worker` and .yaml specs.
  external: ['bullmq', 'ioredis', 'yaml'],
  banner: { js: banner },
  define: { __ATTNLAB_VERSION__: JSON.stringify(pkg.version) },
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});

if (bundled.has('@tensorflow/tfjs-backend-wasm')) {
  // The wasm backend reads its binaries from the directory of the script that contains it.
  const wasmDir = dirname(
    createRequire(cliRequire.resolve('@attnlab/backend')).resolve('@tensorflow/tfjs-backend-wasm'),
  );
  const dirs = new Set(
    Object.entries(result.metafile.outputs)
      .filter(([, o]) => Object.keys(o.inputs).some((i) => i.includes('tfjs-backend-wasm')))
      .map(([f]) => dirname(join(process.cwd(), f))),
  );
  for (const dir of dirs) {
    for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
      const src = join(wasmDir, f);
      if (!existsSync(src)) throw new Error(`build.mjs: ${src} not found`);
      copyFileSync(src, join(dir, f));
    }
  }
}
// `attnlab bench --torch` runs PyTorch's side of the comparison with this script.
copyFileSync(join(here, '..', '..', 'packages', 'fused', 'bench', 'torch_bench.py'), join(outdir, 'torch_bench.py'));
// `attnlab bench --seeds … --torch`: seeds 003 and 000 in PyTorch with the seeds' own code.
copyFileSync(
  join(here, '..', '..', 'packages', 'experiments', 'bench', 'seeds_torch.py'),
  join(outdir, 'seeds_torch.py'),
);
chmodSync(join(outdir, 'attnlab.js'), 0o755);

const size = Object.entries(result.metafile.outputs)
  .filter(([f]) => f.endsWith('.js'))
  .map(([f, o]) => `${f.replace(`${here}/`, '')} ${(o.bytes / 1024).toFixed(0)} KiB`);
if (process.env.ATTNLAB_BUILD_VERBOSE) console.log(size.join('\n'));
console.log(`built dist/attnlab.js (bundled: ${[...bundled].sort().join(', ') || 'none'})`);

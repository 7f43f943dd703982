// The e2e harness (e2e/harness.ts: the build check, the static server with the tests' COOP/COEP
// headers, Debian's chromium, the list of pages) for the scripts: bundled with esbuild, as
// make-icl-example.sh does, into node_modules/.cache and imported from there.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const app = fileURLToPath(new URL('..', import.meta.url));

/** Imports e2e/harness.ts (bundled on each call: it is small). */
export async function loadHarness() {
  const esbuild = process.env.ESBUILD ?? `${app}../../node_modules/.bin/esbuild`;
  const out = `${app}node_modules/.cache/e2e-harness.mjs`;
  execFileSync(
    esbuild,
    [
      'e2e/harness.ts',
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--target=node20',
      '--packages=external',
      // The harness is CommonJS-minded (it runs under jest): its __dirname and require, in ESM.
      `--define:__dirname=${JSON.stringify(`${app}e2e`)}`,
      "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      '--log-level=error',
      `--outfile=${out}`,
    ],
    { cwd: app, stdio: 'inherit' },
  );
  return import(out);
}

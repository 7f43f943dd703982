// `prepack` of every published package (run by `pnpm pack` and `pnpm publish` in the package's
// folder): refuses to pack when a file the manifest points at (exports, main, types, bin) is not
// built, when the LICENSE the tarball must carry is missing, or when the packing tool is not pnpm.
// Build first: `pnpm build`.
import { existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
// npm leaves `workspace:^` ranges in the tarball (only pnpm rewrites them to real versions).
const agent = process.env.npm_config_user_agent ?? '';
if (!agent.startsWith('pnpm/')) {
  console.error(
    `prepack ${pkg.name}: pack and publish with pnpm (\`pnpm pack\`, \`pnpm release\`), not ${agent.split(' ')[0] || 'this tool'}: only pnpm rewrites workspace: ranges`,
  );
  process.exit(1);
}
/** Every path string under an exports/imports/bin value, skipping the in-repo source condition. */
const targets = (v) =>
  typeof v === 'string'
    ? [v]
    : Object.entries(v ?? {}).flatMap(([k, x]) => (k === '@attnlab/source' ? [] : targets(x)));
const wanted = new Set([
  ...targets(pkg.exports),
  ...targets(pkg.imports),
  ...targets(typeof pkg.bin === 'string' ? { attnlab: pkg.bin } : pkg.bin),
  ...[pkg.main, pkg.types].filter(Boolean),
  './LICENSE',
]);
const missing = [...wanted].filter((p) => !p.includes('*') && !existsSync(p));
if (missing.length) {
  console.error(`prepack ${pkg.name}: refusing to pack, missing ${missing.join(', ')} (run \`pnpm build\` first)`);
  process.exit(1);
}

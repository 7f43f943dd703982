// Node's entry for `#node-require` (package.json "imports"); browsers get node-require.browser.ts,
// so no `node:` module is reachable from a browser bundle of @attnlab/backend.
type NodeRequire = (id: string) => unknown;
let nodeRequireCache: NodeRequire | undefined;

/**
 * Node's own `require`, resolved from this package. It loads optional native packages
 * (tfjs-node, Dawn's `webgpu`) outside any bundler or test runner module system, and it
 * loads ES modules too (Node ≥ 20.19).
 */
export async function nodeRequire(): Promise<NodeRequire> {
  if (!nodeRequireCache) {
    // process.getBuiltinModule (Node ≥ 20.16) returns Node's real `module`, even inside test
    // runners that replace `require`; the import is the fallback for older Node.
    const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const mod = (getBuiltin?.('node:module') ??
      (await import(/* @vite-ignore */ 'node:module'))) as typeof import('node:module');
    nodeRequireCache = mod.createRequire(import.meta.url) as NodeRequire;
  }
  return nodeRequireCache;
}

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string' && typeof window === 'undefined';
}

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

/** True when `err` says that `pkg` itself (not one of its dependencies) is not installed. */
export function isNotInstalled(err: unknown, pkg: string): boolean {
  const e = err as { code?: string; message?: string };
  return (
    (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(`'${pkg}'`)
  );
}

export function errorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 300);
}

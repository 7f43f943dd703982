// Browser entry for `#node-require` (package.json "imports"): the Node-only loader of optional
// native packages. initBackend calls it only when isNode() is true, so this never runs in a page.
type NodeRequire = (id: string) => unknown;

export function nodeRequire(): Promise<NodeRequire> {
  return Promise.reject(new Error('@attnlab/backend: nodeRequire is only available in Node'));
}

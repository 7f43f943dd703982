import { defaultClientConditions, defineConfig } from 'vite';

// Workspace packages are read from source (the "@attnlab/source" export condition), so the app
// never runs a stale dist. Everything is bundled: no CDN, works offline.

// @attnlab/backend imports node:module (and train node:fs) only on their Node paths (never taken in a browser).
const external = ['node:module', 'node:fs/promises', 'node:path'];

const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  base: './',
  resolve: { conditions: ['@attnlab/source', ...defaultClientConditions] },
  worker: { format: 'es', rollupOptions: { external } },
  build: {
    target: 'es2022',
    outDir: 'dist',
    sourcemap: true,
    // The tfjs WASM binaries stay separate files (served as application/wasm), never inlined.
    assetsInlineLimit: (file) => (file.endsWith('.wasm') ? false : undefined),
    chunkSizeWarningLimit: 2500,
    rollupOptions: { external },
  },
  // Cross-origin isolation (everything is same-origin): SharedArrayBuffer, so the training worker's
  // SIMD engine can split its work over two threads where the browser allows it.
  server: { host: '127.0.0.1', headers: ISOLATION },
  preview: { host: '127.0.0.1', headers: ISOLATION },
});

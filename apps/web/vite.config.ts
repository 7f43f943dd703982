import { defaultClientConditions, defineConfig } from 'vite';

// Workspace packages are read from source (the "@attnlab/source" export condition), so the app
// never runs a stale dist. Everything is bundled: no CDN, works offline.
export default defineConfig({
  base: './',
  resolve: { conditions: ['@attnlab/source', ...defaultClientConditions] },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: 'dist',
    sourcemap: true,
    // The tfjs WASM binaries stay separate files (served as application/wasm), never inlined.
    assetsInlineLimit: (file) => (file.endsWith('.wasm') ? false : undefined),
    chunkSizeWarningLimit: 2500,
    rollupOptions: {
      // @attnlab/backend imports node:module only on its Node path (never taken in a browser).
      external: ['node:module'],
    },
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});

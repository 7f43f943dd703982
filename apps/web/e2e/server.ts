// A tiny static server for the built app (tests only): correct MIME types, incl. application/wasm.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  url: string;
  server: Server;
  /** Paths requested, with status and content type (to assert, e.g., that .wasm is application/wasm). */
  log: { path: string; status: number; type: string }[];
  close(): Promise<void>;
}

/**
 * Serves `root` on 127.0.0.1 at a free port, cross-origin isolated (COOP/COEP, as vite dev/preview
 * serve it) unless `isolated: false` (then no SharedArrayBuffer: the training worker runs one thread).
 */
export function serveStatic(root: string, { isolated = true }: { isolated?: boolean } = {}): Promise<StaticServer> {
  const log: StaticServer['log'] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    const send = (status: number, type: string): void => {
      log.push({ path, status, type });
      // Cross-origin isolated: the worker may use SharedArrayBuffer (threads).
      res.writeHead(status, {
        'Content-Type': type,
        'Cache-Control': 'no-store',
        ...(isolated
          ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
          : {}),
      });
    };
    if (!file.startsWith(normalize(root) + sep) && file !== normalize(root)) {
      send(403, 'text/plain');
      res.end('forbidden');
      return;
    }
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
    } catch {
      send(404, 'text/plain');
      res.end('not found');
      return;
    }
    send(200, TYPES[extname(file)] ?? 'application/octet-stream');
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        server,
        log,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

// The `attnlab` executable (bundled to dist/attnlab.js by build.mjs).
import { isMainThread, workerData } from 'node:worker_threads';
import { clip } from './errors.js';
import { run } from './run.js';
import { processIo } from './term.js';

/** Set in workerData by the sweep pool (sweep/pool.ts): this file then runs a sweep thread. */
const SWEEP_THREAD = 'attnlab-sweep-thread';

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
}

async function main(): Promise<void> {
  const io = processIo();
  let code: number;
  try {
    code = await run(process.argv.slice(2), io);
  } catch (err) {
    const e = err as Error;
    io.err(`attnlab: internal error: ${clip(e?.message ?? String(err))}`);
    if (process.env.ATTNLAB_DEBUG) io.err(String(e?.stack ?? ''));
    else io.err('(set ATTNLAB_DEBUG=1 for the stack trace, and please report it)');
    code = 1;
  }
  // Dawn (WebGPU in Node) keeps the event loop alive: release it, then exit explicitly.
  if (globalThis.navigator && 'gpu' in globalThis.navigator) {
    try {
      await (await import('./backend.js')).releaseBackend();
    } catch {
      // exiting anyway
    }
  }
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[SWEEP_THREAD] === true)
  void import('./sweep/thread.js').then((m) => m.threadMain());
else void main();

/**
 * Checkpoint files (Node only). `node:fs` is imported lazily inside the functions, so the
 * package still bundles for the browser; there, use serializeCheckpoint/deserializeCheckpoint.
 *
 * A save never leaves a half-written file at `path`: the bytes go to a temporary file in the
 * same directory, which is flushed to disk (fsync) and then renamed over `path` (an atomic
 * replace on POSIX file systems); the directory is then fsynced so the rename itself is durable.
 * A crash at any moment leaves either the previous checkpoint or the new one, plus at worst a
 * stray `.<name>.<pid>.<n>.tmp` file.
 */
import { deserializeCheckpoint, serializeCheckpoint, type Checkpoint, type CheckpointInput } from './checkpoint.js';
import { show } from './validate.js';

let tmpCounter = 0;

/**
 * Imports a Node built-in through a non-literal specifier, so browser bundlers (vite, esbuild)
 * neither try to resolve nor polyfill it; this file is inert until a function here is called.
 */
async function nodeBuiltin<T>(id: string): Promise<T> {
  return (await import(/* @vite-ignore */ id)) as T;
}

/**
 * Writes a checkpoint file atomically (temp file in the same folder, fsync, rename, fsync folder). Node only.
 * @example
 * await saveCheckpoint('run/ckpt.bin', { params, optimizerState: await opt.getState(), step, history, rngState });
 */
export async function saveCheckpoint(path: string, input: CheckpointInput): Promise<{ path: string; bytes: number }> {
  if (typeof path !== 'string' || path.length === 0)
    throw new TypeError(`saveCheckpoint: path must be a non-empty string; got ${show(path)}`);
  const fs = await nodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises');
  const nodePath = await nodeBuiltin<typeof import('node:path')>('node:path');
  const bytes = await serializeCheckpoint(input);
  const dir = nodePath.dirname(path);
  const pid = (globalThis as { process?: { pid?: number } }).process?.pid ?? 0;
  const tmp = nodePath.join(dir, `.${nodePath.basename(path)}.${pid}.${tmpCounter++}.tmp`);
  let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
  try {
    handle = await fs.open(tmp, 'w');
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  try {
    const d = await fs.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic.
  }
  return { path, bytes: bytes.byteLength };
}

/**
 * Reads a checkpoint file written by saveCheckpoint. Node only.
 * @example
 * const ckpt = await loadCheckpoint('run/ckpt.bin');
 */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  if (typeof path !== 'string' || path.length === 0)
    throw new TypeError(`loadCheckpoint: path must be a non-empty string; got ${show(path)}`);
  const fs = await nodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises');
  const buf = await fs.readFile(path);
  try {
    return deserializeCheckpoint(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  } catch (e) {
    throw new RangeError(`loadCheckpoint: ${path}: ${(e as Error).message}`);
  }
}

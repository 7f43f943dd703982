/**
 * Several checkpoints in one store. An experiment composed of sub-runs (icl-length: one
 * icl-regression run per attention) gives each sub-run its own namespace in the one store the CLI
 * (a file) or the web lab (memory) hands it, and keeps each finished sub-run's result beside them, so
 * a stopped run resumes inside the sub-run it was in and never trains a finished one again.
 *
 * Format, version 1 (integers little-endian uint32):
 *   magic "ATTNSCOP", version, experiment id length and UTF-8 bytes, entry count, then per entry
 *   its name's length and UTF-8 bytes and its data's length and bytes; the last 4 bytes are the
 *   CRC-32 of every byte before them.
 */
import { crc32 } from '@attnlab/train';
import type { CheckpointStore } from './experiment.js';
import { ConfigError } from './schema.js';

const MAGIC = 'ATTNSCOP';
const VERSION = 1;

/** Named checkpoints and results in one store; see {@link checkpointScopes}. */
export interface CheckpointScopes {
  /** The store of namespace `name`: its saves rewrite the whole container through the parent store. */
  scope(name: string): CheckpointStore;
  get(name: string): Uint8Array | undefined;
  set(name: string, data: Uint8Array): Promise<void>;
  /** Whether the store held anything when it was opened (the run is a resume). */
  readonly resumed: boolean;
}

function encode(experiment: string, entries: Map<string, Uint8Array>): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [enc.encode(MAGIC)];
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    parts.push(b);
  };
  const bytes = (b: Uint8Array) => {
    u32(b.length);
    parts.push(b);
  };
  u32(VERSION);
  bytes(enc.encode(experiment));
  u32(entries.size);
  for (const [name, data] of entries) {
    bytes(enc.encode(name));
    bytes(data);
  }
  const size = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(size + 4);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  new DataView(out.buffer).setUint32(size, crc32(out.subarray(0, size)), true);
  return out;
}

function decode(experiment: string, b: Uint8Array): Map<string, Uint8Array> {
  const dec = new TextDecoder();
  const notOurs = () =>
    new ConfigError(
      'checkpoint',
      `a checkpoint written by ${experiment}`,
      'other bytes',
      `is not an ${experiment} checkpoint`,
    );
  if (b.length < MAGIC.length + 16 || dec.decode(b.subarray(0, MAGIC.length)) !== MAGIC) throw notOurs();
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const size = b.length - 4;
  if (view.getUint32(size, true) !== crc32(b.subarray(0, size)))
    throw new ConfigError('checkpoint', 'an intact checkpoint', 'unreadable bytes', 'cannot be read (CRC-32 mismatch)');
  let o = MAGIC.length;
  const u32 = () => {
    if (o + 4 > size) throw new ConfigError('checkpoint', 'an intact checkpoint', 'unreadable bytes', 'is truncated');
    const v = view.getUint32(o, true);
    o += 4;
    return v;
  };
  const bytes = () => {
    const n = u32();
    if (o + n > size) throw new ConfigError('checkpoint', 'an intact checkpoint', 'unreadable bytes', 'is truncated');
    const v = b.slice(o, o + n);
    o += n;
    return v;
  };
  const version = u32();
  if (version !== VERSION)
    throw new ConfigError('checkpoint', `format version ${VERSION}`, version, 'has a format this version cannot read');
  if (dec.decode(bytes()) !== experiment) throw notOurs();
  const entries = new Map<string, Uint8Array>();
  for (let i = 0, n = u32(); i < n; i++) {
    const name = dec.decode(bytes());
    entries.set(name, bytes());
  }
  return entries;
}

/**
 * Opens `store` as named checkpoints of `experiment`: an empty store starts empty; a store another
 * experiment (or a damaged file) wrote is a ConfigError on `checkpoint`.
 * @example
 * const scopes = await checkpointScopes(ctx.checkpoints, 'icl-length');
 * await iclRegression.run(sub, { checkpoints: scopes.scope('softmax/train') });
 */
export async function checkpointScopes(store: CheckpointStore, experiment: string): Promise<CheckpointScopes> {
  const loaded = await store.load();
  const entries = loaded ? decode(experiment, loaded) : new Map<string, Uint8Array>();
  const set = async (name: string, data: Uint8Array) => {
    entries.set(name, data);
    await store.save(encode(experiment, entries));
  };
  return {
    resumed: entries.size > 0,
    get: (name) => entries.get(name),
    set,
    scope: (name) => ({ load: async () => entries.get(name), save: (data) => set(name, data) }),
  };
}

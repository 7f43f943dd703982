/**
 * Seed 003's attention over many short sequences in WebAssembly SIMD (`assembly/cv.ts`, embedded in
 * `generated/cv-wasm.ts`): the forward and backward kernels of the cv-sweep classifier's fused step
 * (@attnlab/experiments' cv-engine.ts), which lays out the buffers they read in this module's memory.
 */
import { CV_WASM_BASE64 } from '../generated/cv-wasm.js';

/** The kernels (pointers are byte offsets into `memory`; see assembly/cv.ts for the layouts). */
export interface CvAttentionExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  attentionForward(
    pw: number,
    U: number,
    ids: number,
    n: number,
    S: number,
    V: number,
    D: number,
    H: number,
    att: number,
    y: number,
    blk: number,
    ug: number,
    row: number,
    sv: number,
  ): void;
  attentionBackward(
    pw: number,
    U: number,
    ids: number,
    n: number,
    S: number,
    V: number,
    D: number,
    H: number,
    att: number,
    du: number,
    g: number,
    GE: number,
    blk: number,
    dblk: number,
    ug: number,
    e: number,
    ds: number,
    sv: number,
  ): void;
}

/** One instance: its kernels and the pointers of the blocks asked for, in memory grown once. */
export interface CvAttentionWasm {
  readonly exports: CvAttentionExports;
  /** Byte offset of each block (16-byte aligned, zeroed), in the order asked. */
  readonly pointers: number[];
}

let compiled: WebAssembly.Module | null | undefined;

/** The module, compiled synchronously once per process; null where WebAssembly SIMD is missing or compiling fails. */
function cvModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const bin = atob(CV_WASM_BASE64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null; // e.g. a browser's main thread, which refuses to compile large modules synchronously
    }
  }
  return compiled;
}

/**
 * An instance of the attention kernels with blocks of the given byte sizes; null when this
 * JavaScript engine cannot run it (no WebAssembly SIMD), so that the caller takes its TypeScript loops.
 * @example
 * const w = createCvAttentionWasm([pwBytes, idsBytes]); // w.pointers: [pw, ids]
 */
export function createCvAttentionWasm(blockBytes: readonly number[]): CvAttentionWasm | null {
  for (const [i, b] of blockBytes.entries())
    if (!Number.isInteger(b) || b < 0)
      throw new RangeError(`createCvAttentionWasm: blockBytes[${i}] must be an integer ≥ 0; got ${String(b)}`);
  const mod = cvModule();
  if (!mod) return null;
  const instance = new WebAssembly.Instance(mod, {
    env: {
      abort: () => {
        throw new Error('@attnlab/fused: the cv attention module aborted');
      },
    },
  });
  const ex = instance.exports as unknown as CvAttentionExports;
  let top = ex.heapBase();
  const pointers = blockBytes.map((b) => {
    const p = top;
    top += Math.ceil(b / 16) * 16;
    return p;
  });
  const have = ex.memory.buffer.byteLength;
  if (top > 2 ** 31)
    throw new RangeError(`createCvAttentionWasm: the blocks need ${top} bytes; the module allows < 2^31`);
  if (top > have) ex.memory.grow(Math.ceil((top - have) / 65536));
  return { exports: ex, pointers };
}

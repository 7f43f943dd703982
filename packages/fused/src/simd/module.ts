/**
 * The SIMD engine's WebAssembly module: compiled from `assembly/icl.ts` (AssemblyScript, 128-bit
 * SIMD) and embedded in `generated/icl-wasm.ts`. This file loads it, lays out its memory (a bump
 * allocator) and writes the data and optimizer blocks its functions read.
 */
import { ICL_WASM_BASE64 } from '../generated/icl-wasm.js';
import type { IclDataParams } from '../data.js';
import { normalsPerExample } from '../data.js';
import { METHOD_CODES, type FlatOptimizer, type Segment } from '../optimizer.js';

/** The module's exports (pointers are byte offsets into `memory`). */
export interface IclWasmExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  philoxWords(out: number, c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): void;
  logInto(out: number, p: number, n: number): void;
  cosSinInto(outC: number, outS: number, p: number, n: number): void;
  expInto(out: number, p: number, n: number): void;
  exampleNormals(
    nb: number,
    nBlocks: number,
    k0: number,
    k1: number,
    stream: number,
    c1: number,
    c2: number,
    tmp: number,
  ): void;
  normalsPerExample(db: number): number;
  iclBatch(
    db: number,
    zi: number,
    zqi: number,
    yq: number,
    step: number,
    B: number,
    first: number,
    nb: number,
    tmp: number,
  ): void;
  scratchBytes(H: number, d: number, L: number): number;
  lossGrad(
    p: number,
    H: number,
    d: number,
    nOut: number,
    L: number,
    B: number,
    zi: number,
    zqi: number,
    yq: number,
    sc: number,
    grad: number,
    Bnorm: number,
    generic: number,
  ): number;
  optimize(ob: number, state: number, P: number, grad: number): void;
  train(
    db: number,
    ob: number,
    state: number,
    H: number,
    nOut: number,
    B: number,
    t0: number,
    n: number,
    losses: number,
    zi: number,
    zqi: number,
    yq: number,
    nb: number,
    tmp: number,
    sc: number,
    grad: number,
  ): void;
  stackScratchBytes(H: number, d: number, layers: number, stored: number, L: number, nOut: number): number;
  stackLossGrad4(
    p: number,
    H: number,
    d: number,
    layers: number,
    tied: number,
    residual: number,
    nOut: number,
    L: number,
    B: number,
    zi: number,
    zqi: number,
    yq: number,
    sc: number,
    grad: number,
    Bnorm: number,
  ): number;
  trainStack(
    db: number,
    ob: number,
    state: number,
    H: number,
    layers: number,
    tied: number,
    residual: number,
    nOut: number,
    B: number,
    t0: number,
    n: number,
    losses: number,
    zi: number,
    zqi: number,
    yq: number,
    nb: number,
    tmp: number,
    sc: number,
    grad: number,
  ): void;
}

let bytesCache: Uint8Array<ArrayBuffer> | undefined;
let moduleCache: Promise<WebAssembly.Module> | undefined;
let validCache: boolean | undefined;

/** The module's bytes (decoded once). */
export function wasmBytes(): Uint8Array<ArrayBuffer> {
  if (!bytesCache) {
    const bin = atob(ICL_WASM_BASE64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    bytesCache = out;
  }
  return bytesCache;
}

/** Whether this JavaScript engine runs WebAssembly with SIMD (Node ≥ 16, current browsers). */
export function simdAvailable(): boolean {
  if (validCache === undefined) {
    try {
      validCache = typeof WebAssembly === 'object' && WebAssembly.validate(wasmBytes());
    } catch {
      validCache = false;
    }
  }
  return validCache;
}

/** Pointers of one batch in the module's memory (iclBatch's arguments); nbBytes is the normal buffer's size. */
export interface BatchBuffers {
  zi: number;
  zqi: number;
  yq: number;
  nb: number;
  tmp: number;
  nbBytes: number;
}

/** Bytes of one batch's buffers (z, zq, yq in whole quads, the normals, Philox scratch) for B examples of width d + 1. */
export function batchBytes(
  B: number,
  L: number,
  d: number,
  queryNoise: boolean,
): { z: number; zq: number; yq: number; nb: number } {
  const quads = Math.ceil(B / 4);
  const n = d + (L + 1) * d + L + (queryNoise ? 1 : 0);
  return { z: quads * L * (d + 1) * 16, zq: quads * (d + 1) * 16, yq: quads * 16, nb: Math.ceil(n / 16) * 16 * 8 };
}

/** One instance of the module with a bump allocator over its memory. */
export interface IclWasm {
  readonly exports: IclWasmExports;
  /** Reserves `bytes` (16-byte aligned, zeroed) and returns the pointer; grows memory when needed. */
  alloc(bytes: number): number;
  /** Reserves one batch in iclBatch's layout for `data` (B examples) plus its normal and Philox scratch. */
  allocBatch(B: number, data: IclDataParams): BatchBuffers;
  /** A Float64Array view (valid until the next alloc). */
  f64(ptr: number, n: number): Float64Array;
  /** A Float32Array view (valid until the next alloc). */
  f32(ptr: number, n: number): Float32Array;
  /** A Uint32Array view (valid until the next alloc). */
  u32(ptr: number, n: number): Uint32Array;
  /** An Int32Array view (valid until the next alloc). */
  i32(ptr: number, n: number): Int32Array;
}

/** Compiles the module (once per process). */
export function compiledModule(): Promise<WebAssembly.Module> {
  moduleCache ??= WebAssembly.compile(wasmBytes());
  return moduleCache;
}

/** Compiles (once per process) and instantiates the module. */
export async function createIclWasm(): Promise<IclWasm> {
  if (!simdAvailable())
    throw new Error('@attnlab/fused: the SIMD engine needs WebAssembly SIMD, which this JavaScript engine lacks');
  const instance = await WebAssembly.instantiate(await compiledModule(), { env: { pow: Math.pow, abort: wasmAbort } });
  const ex = instance.exports as unknown as IclWasmExports;
  let top = ex.heapBase();
  const alloc = (bytes: number) => {
    const ptr = top;
    top = ptr + Math.ceil(bytes / 16) * 16;
    const have = ex.memory.buffer.byteLength;
    if (top > have) ex.memory.grow(Math.ceil((top - have) / 65536));
    new Uint8Array(ex.memory.buffer, ptr, top - ptr).fill(0);
    return ptr;
  };
  return {
    exports: ex,
    alloc,
    allocBatch(B: number, data: IclDataParams) {
      const s = batchBytes(B, data.L, data.d, data.queryNoise);
      return { zi: alloc(s.z), zqi: alloc(s.zq), yq: alloc(s.yq), nb: alloc(s.nb), tmp: alloc(64), nbBytes: s.nb };
    },
    f64: (ptr, n) => new Float64Array(ex.memory.buffer, ptr, n),
    f32: (ptr, n) => new Float32Array(ex.memory.buffer, ptr, n),
    u32: (ptr, n) => new Uint32Array(ex.memory.buffer, ptr, n),
    i32: (ptr, n) => new Int32Array(ex.memory.buffer, ptr, n),
  };
}

function wasmAbort(): never {
  throw new Error('@attnlab/fused: the SIMD module aborted');
}

/** The data block's slots (assembly/icl.ts's DB_*) except the Cholesky pointer, for `data`. */
export function dataBlockValues(data: IclDataParams): number[] {
  return [data.k0, data.k1, data.stream, data.L, data.d, data.noise, data.betaMul, data.queryNoise ? 1 : 0];
}

/**
 * Writes a data block (and its Cholesky factor) into the module's memory; returns its pointer.
 * `values` and `chol` as from {@link dataBlockValues} and `data.chol` (the worker thread passes them).
 */
export function writeDataBlock(
  w: Pick<IclWasm, 'alloc' | 'f64'>,
  values: ArrayLike<number>,
  chol: Float64Array | null,
): number {
  const db = w.alloc(9 * 8);
  const view = w.f64(db, 9);
  view.set(values);
  view[8] = 0;
  if (chol) {
    const cp = w.alloc(chol.length * 8);
    w.f64(cp, chol.length).set(chol);
    w.f64(db, 9)[8] = cp;
  }
  return db;
}

/** Normals per example as the module counts them for a data block (a consistency check). */
export function moduleNormals(w: IclWasm, db: number, data: IclDataParams): number {
  const n = w.exports.normalsPerExample(db);
  if (n !== normalsPerExample(data))
    throw new Error(
      `@attnlab/fused: the SIMD module counts ${n} normals per example; expected ${normalsPerExample(data)}`,
    );
  return n;
}

/** Pointers of an optimizer block and its segment table ([offset, length, step] i32 triples). */
export interface OptimizerBlock {
  ob: number;
  segs: number;
  nseg: number;
}

/** Writes an optimizer block and its segment table (steps as given); returns their pointers. */
export function writeOptimizerBlock(
  w: IclWasm,
  o: FlatOptimizer,
  segments: readonly Segment[],
  steps: ArrayLike<number>,
): OptimizerBlock {
  const ob = w.alloc(8 * 8);
  const segs = w.alloc(segments.length * 12);
  const table = w.i32(segs, 3 * segments.length);
  segments.forEach((s, i) => table.set([s.offset, s.length, steps[i]!], 3 * i));
  w.f64(ob, 8).set([METHOD_CODES[o.method], o.lr, o.betas[0], o.betas[1], o.eps, o.weightDecay, segments.length, segs]);
  return { ob, segs, nseg: segments.length };
}

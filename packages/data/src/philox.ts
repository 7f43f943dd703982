/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11; Random123),
 * written so that a WGSL port can match it bit for bit: only u32 adds, xors, shifts and a
 * 32×32→64-bit multiply built from 16-bit halves (WGSL has no mulhi).
 *
 * Everything here is a pure function of (seed, counter): no state, no global generator.
 */
import { checkSeed, checkU32, checkInt } from './validate.js';

/** Philox4x32 round multipliers (Random123 PHILOX_M4x32_0/1). */
export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
/** Philox4x32 Weyl key increments (Random123 PHILOX_W32_0/1: golden ratio, √3 − 1). */
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;
/** 2^-32: u32 → (0, 1) uniform scale. */
const TWO_POW_M32 = 2.3283064365386963e-10;
const TWO_PI = 2 * Math.PI;

/**
 * High 32 bits of the 64-bit product of two u32, exact, from 16-bit halves: with a = aH·2^16 + aL,
 * b = bH·2^16 + bL and mid = (aL·bL >> 16) + (aL·bH & 0xffff) + (aH·bL & 0xffff),
 * hi = aH·bH + (aL·bH >> 16) + (aH·bL >> 16) + (mid >> 16). Every partial product is of two 16-bit
 * numbers and every partial sum stays below 2^32, so the same lines are exact in WGSL u32
 * arithmetic (Math.imul here is WGSL's wrapping u32 `*`; it keeps V8 in integer registers).
 */
function mulhi32(a: number, b: number): number {
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const ll = Math.imul(aL, bL) >>> 0;
  const lh = Math.imul(aL, bH) >>> 0;
  const hl = Math.imul(aH, bL) >>> 0;
  const hh = Math.imul(aH, bH) >>> 0;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}

/**
 * Philox4x32-10 into `out` (4 words). Internal fast path: arguments are trusted u32 values.
 * One round: (hi0, lo0) = M0·x0, (hi1, lo1) = M1·x2 (lo = the wrapping 32-bit product, i.e.
 * Math.imul / WGSL u32 `*`; hi = `mulhi32`); x ← [hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0];
 * the key is bumped by (W0, W1) before every round but the first. Words are carried as int32
 * bit patterns inside the loop (the same bits as u32) and written out as u32.
 */
export function philox4x32Into(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  let x0 = c0 | 0;
  let x1 = c1 | 0;
  let x2 = c2 | 0;
  let x3 = c3 | 0;
  let key0 = k0 | 0;
  let key1 = k1 | 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      // literals (PHILOX_W0/W1, PHILOX_M0/M1) keep V8 from reloading module variables
      key0 = (key0 + 0x9e3779b9) | 0;
      key1 = (key1 + 0xbb67ae85) | 0;
    }
    const hi0 = mulhi32(0xd2511f53, x0);
    const lo0 = Math.imul(0xd2511f53, x0);
    const hi1 = mulhi32(0xcd9e8d57, x2);
    const lo1 = Math.imul(0xcd9e8d57, x2);
    x0 = hi1 ^ x1 ^ key0;
    x1 = lo1;
    x2 = hi0 ^ x3 ^ key1;
    x3 = lo0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

/**
 * Philox4x32-10 block function: four u32 outputs from a four-word counter and a two-word key.
 * @example
 * philox4x32([0, 0, 0, 0], [0, 0]); // [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 */
export function philox4x32(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): [number, number, number, number] {
  if (!Array.isArray(counter) || counter.length !== 4) {
    throw new RangeError(`philox4x32: counter must be 4 u32 words; got ${JSON.stringify(counter)}`);
  }
  if (!Array.isArray(key) || key.length !== 2) {
    throw new RangeError(`philox4x32: key must be 2 u32 words; got ${JSON.stringify(key)}`);
  }
  counter.forEach((c, i) => checkU32('philox4x32', `counter[${i}]`, c));
  key.forEach((k, i) => checkU32('philox4x32', `key[${i}]`, k));
  const out = new Uint32Array(4);
  philox4x32Into(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out);
  return [out[0]!, out[1]!, out[2]!, out[3]!];
}

/**
 * The Philox key for an integer seed in [0, 2^53): [low 32 bits, high 32 bits].
 * @example
 * philoxKey(2 ** 32 + 5); // [5, 1]
 */
export function philoxKey(seed: number): [number, number] {
  checkSeed('philoxKey', seed);
  return [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
}

/**
 * Maps a u32 to a uniform in the open interval (0, 1): (x + 0.5)·2^-32 (never 0 or 1).
 * @example
 * uint32ToUniform(0); // 1.1641532182693481e-10
 */
export function uint32ToUniform(x: number): number {
  return ((x >>> 0) + 0.5) * TWO_POW_M32;
}

const BLOCK = new Uint32Array(4);

/**
 * Writes `count` standard normals of the sequence addressed by (seed, stream, c1, c2) into `out`
 * starting at `outOffset`; element j of the written run is normal number `start + j` of the
 * sequence. Normal i comes from Philox block floor(i/4) (counter [floor(i/4), c1, c2, stream]),
 * Box–Muller on words (0,1) → normals 0,1 and words (2,3) → normals 2,3 of that block.
 * Internal fast path: arguments are trusted (validated by the public callers).
 */
export function fillNormalsUnchecked(
  k0: number,
  k1: number,
  stream: number,
  c1: number,
  c2: number,
  start: number,
  count: number,
  out: Float32Array | Float64Array,
  outOffset: number,
): void {
  let i = start;
  const end = start + count;
  let o = outOffset;
  while (i < end) {
    const block = Math.floor(i / 4);
    philox4x32Into(block, c1, c2, stream, k0, k1, BLOCK);
    const r1 = Math.sqrt(-2 * Math.log(uint32ToUniform(BLOCK[0]!)));
    const t1 = TWO_PI * uint32ToUniform(BLOCK[1]!);
    const r2 = Math.sqrt(-2 * Math.log(uint32ToUniform(BLOCK[2]!)));
    const t2 = TWO_PI * uint32ToUniform(BLOCK[3]!);
    for (let j = i % 4; j < 4 && i < end; j++, i++, o++) {
      out[o] =
        j === 0 ? r1 * Math.cos(t1) : j === 1 ? r1 * Math.sin(t1) : j === 2 ? r2 * Math.cos(t2) : r2 * Math.sin(t2);
    }
  }
}

/**
 * Normal number `index` of the sequence addressed by (stream, c1, c2) under `seed`
 * (counter [floor(index/4), c1, c2, stream], key from the seed, output index % 4, Box–Muller).
 * @example
 * const z = normalAt(1024, 0, 0, 0, 0); // first normal of step 0, example 0 of the training stream
 */
export function normalAt(seed: number, stream: number, c1: number, c2: number, index: number): number {
  const fn = 'normalAt';
  checkSeed(fn, seed);
  checkU32(fn, 'stream', stream);
  checkU32(fn, 'c1', c1);
  checkU32(fn, 'c2', c2);
  checkInt(fn, 'index', index, 0, 4 * 0xffffffff + 3);
  const out = new Float64Array(1);
  fillNormalsUnchecked(seed >>> 0, Math.floor(seed / 4294967296) >>> 0, stream, c1, c2, index, 1, out, 0);
  return out[0]!;
}

/**
 * `count` consecutive normals (from `start`) of the sequence addressed by (stream, c1, c2): the
 * same numbers as `normalAt(seed, stream, c1, c2, start + j)`, computed four per Philox call.
 * @example
 * normals(7, 0, 3, 1, 8); // Float64Array(8): normals 0..7 of (stream 0, c1 3, c2 1)
 */
export function normals(seed: number, stream: number, c1: number, c2: number, count: number, start = 0): Float64Array {
  const fn = 'normals';
  checkSeed(fn, seed);
  checkU32(fn, 'stream', stream);
  checkU32(fn, 'c1', c1);
  checkU32(fn, 'c2', c2);
  checkInt(fn, 'count', count, 0);
  checkInt(fn, 'start', start, 0);
  if (start + count > 4 * 4294967296) {
    throw new RangeError(
      `normals: start + count must be ≤ 2^34 (the counter's first word is 32 bits); got ${start + count}`,
    );
  }
  const out = new Float64Array(count);
  fillNormalsUnchecked(seed >>> 0, Math.floor(seed / 4294967296) >>> 0, stream, c1, c2, start, count, out, 0);
  return out;
}

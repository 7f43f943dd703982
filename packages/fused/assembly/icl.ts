// AssemblyScript source of @attnlab/fused's SIMD engine (WebAssembly SIMD, float64).
//
// Compiled by `node scripts/build-wasm.mjs` into src/generated/icl-wasm.ts (committed; a test
// checks it is up to date). Every function works on raw pointers into the module's memory,
// which the JS side lays out (src/simd/module.ts); nothing here allocates, so two instances may
// share one memory.
//
// What it computes is defined by the TypeScript code it mirrors:
// - philox4 / exampleNormals / iclBatch: src/data.ts (`fillNormals`, `fillIclBatch`), i.e.
//   @attnlab/data's Philox4x32-10 stream, Box–Muller and `iclBatchArrays` (β scale, covariance,
//   query noise). The Philox words are identical; log is fdlibm's algorithm (the one V8's
//   Math.log implements); cos/sin come from a correctly rounded table plus short polynomials, so
//   a normal may differ from Math.cos/Math.sin's in the last bit.
// - lossGrad: src/single/float64.ts (`lossGrad`, `paramGrad`), four examples per f32x4;
//   stackLossGrad4: src/stack/float64.ts (`stackLossGrad`), four examples per f32x4;
//   optimize: src/optimizer.ts (`optimizeFlat`): SGD, Adam, AdamW as @attnlab/train's.

import { TRIG_TABLE, PIO32_1, PIO32_1T } from "./trig-table";

@external("env", "pow")
declare function jspow(x: f64, y: f64): f64;

/** First 16-byte-aligned address free for the JS side. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

// ---------------------------------------------------------------- Philox4x32-10, 4 blocks

/** Philox4x32-10 of 4 blocks (lane l: counter [c0[l], c1, c2, c3]); words 0..3 stored at out, out+16, out+32, out+48. */
// @ts-ignore: decorator
@inline
function philox4(out: usize, c0: v128, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  let x0 = c0;
  let x1 = i32x4.splat(c1);
  let x2 = i32x4.splat(c2);
  let x3 = i32x4.splat(c3);
  let key0 = k0;
  let key1 = k1;
  const m0 = CI(0 /* 0xd2511f53d2511f53 */);
  const m1 = CI(1 /* 0xcd9e8d57cd9e8d57 */);
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      key0 += 0x9e3779b9;
      key1 += 0xbb67ae85;
    }
    const p0l = i64x2.extmul_low_i32x4_u(x0, m0);
    const p0h = i64x2.extmul_high_i32x4_u(x0, m0);
    const p1l = i64x2.extmul_low_i32x4_u(x2, m1);
    const p1h = i64x2.extmul_high_i32x4_u(x2, m1);
    const lo0 = i32x4.shuffle(p0l, p0h, 0, 2, 4, 6);
    const hi0 = i32x4.shuffle(p0l, p0h, 1, 3, 5, 7);
    const lo1 = i32x4.shuffle(p1l, p1h, 0, 2, 4, 6);
    const hi1 = i32x4.shuffle(p1l, p1h, 1, 3, 5, 7);
    x0 = v128.xor(v128.xor(hi1, x1), i32x4.splat(key0));
    x1 = lo1;
    x2 = v128.xor(v128.xor(hi0, x3), i32x4.splat(key1));
    x3 = lo0;
  }
  v128.store(out, x0);
  v128.store(out, x1, 16);
  v128.store(out, x2, 32);
  v128.store(out, x3, 48);
}

/** Philox words of blocks c0 .. c0+3 (counter [c0+l, c1, c2, c3]) into out (16 u32, word-major). Test hook. */
export function philoxWords(out: usize, c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  philox4(out, i32x4(c0, c0 + 1, c0 + 2, c0 + 3), c1, c2, c3, k0, k1);
}

// ---------------------------------------------------------------- f64x2 log (fdlibm e_log.c)

const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const LG1: f64 = 6.666666666666735130e-01;
const LG2: f64 = 3.999999999940941908e-01;
const LG3: f64 = 2.857142874366239149e-01;
const LG4: f64 = 2.222219843214978396e-01;
const LG5: f64 = 1.818357216161805012e-01;
const LG6: f64 = 1.531383769920937332e-01;
const LG7: f64 = 1.479819860511658591e-01;
// 2^52 + 2^51: adding it to a small integer's bits and subtracting as a double converts i64 → f64.
const MAGIC: f64 = 6755399441055744.0;

/** log of positive normal doubles, lane-wise, with fdlibm's operations (both of its branches, selected). */
// @ts-ignore: decorator
@inline
function vlog(x: v128): v128 {
  const hx0 = i64x2.shr_u(x, 32); // high words
  const k0 = i64x2.sub(i64x2.shr_u(hx0, 20), CI(2 /* 1023 */));
  const hx = v128.and(hx0, CI(3 /* 0x000fffff */));
  const i = v128.and(i64x2.add(hx, CI(4 /* 0x95f64 */)), CI(5 /* 0x100000 */));
  const high = v128.or(hx, v128.xor(i, CI(6 /* 0x3ff00000 */)));
  const xn = v128.or(i64x2.shl(high, 32), v128.and(x, CI(7 /* 0xffffffff */)));
  const k = i64x2.add(k0, i64x2.shr_u(i, 20));
  const dk = f64x2.sub(i64x2.add(k, CI(8 /* 0x4338000000000000 */)), CF(0 /* MAGIC */));
  const f = f64x2.sub(xn, CF(1 /* 1.0 */));
  const s = f64x2.div(f, f64x2.add(CF(2 /* 2.0 */), f));
  const z = f64x2.mul(s, s);
  const w = f64x2.mul(z, z);
  const t1 = f64x2.mul(w, f64x2.add(CF(3 /* LG2 */), f64x2.mul(w, f64x2.add(CF(4 /* LG4 */), f64x2.mul(w, CF(5 /* LG6 */))))));
  const t2 = f64x2.mul(z, f64x2.add(CF(6 /* LG1 */), f64x2.mul(w, f64x2.add(CF(7 /* LG3 */), f64x2.mul(w, f64x2.add(CF(8 /* LG5 */), f64x2.mul(w, CF(9 /* LG7 */))))))));
  const R = f64x2.add(t2, t1);
  const dkHi = f64x2.mul(dk, CF(10 /* LN2_HI */));
  const dkLo = f64x2.mul(dk, CF(11 /* LN2_LO */));
  const hfsq = f64x2.mul(f64x2.mul(CF(12 /* 0.5 */), f), f);
  // i > 0 branch: dk·ln2_hi − ((hfsq − (s·(hfsq+R) + dk·ln2_lo)) − f)
  const ra = f64x2.sub(dkHi, f64x2.sub(f64x2.sub(hfsq, f64x2.add(f64x2.mul(s, f64x2.add(hfsq, R)), dkLo)), f));
  // else: dk·ln2_hi − ((s·(f−R) − dk·ln2_lo) − f)
  const rb = f64x2.sub(dkHi, f64x2.sub(f64x2.sub(f64x2.mul(s, f64x2.sub(f, R)), dkLo), f));
  const iSel = v128.or(i64x2.sub(hx, CI(9 /* 0x6147a */)), i64x2.sub(CI(10 /* 0x6b851 */), hx));
  const main = v128.bitselect(ra, rb, i64x2.gt_s(iSel, CI(11 /* 0 */)));
  // |f| < 2^-20: R = f²(0.5 − f/3); dk·ln2_hi − ((R − dk·ln2_lo) − f)
  const rs0 = f64x2.mul(f64x2.mul(f, f), f64x2.sub(CF(12 /* 0.5 */), f64x2.mul(CF(13 /* 0.33333333333333333 */), f)));
  const rs = f64x2.sub(dkHi, f64x2.sub(f64x2.sub(rs0, dkLo), f));
  const small = i64x2.lt_s(v128.and(i64x2.add(hx, CI(12 /* 2 */)), CI(3 /* 0x000fffff */)), CI(13 /* 3 */));
  return v128.bitselect(rs, main, small);
}

/** log of `n` doubles at p into out (lane-wise vlog). Test hook. */
export function logInto(out: usize, p: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) v128.store(out + (<usize>i << 3), vlog(v128.load(p + (<usize>i << 3))));
}

// ---------------------------------------------------------------- f64x2 sin/cos (table + short polynomials)

// Taylor coefficients for |y| ≤ π/64: sin y = y + y·z·(T1 + z(T2 + z(T3 + z·T4))), cos y − 1 = z(U1 + z(U2 + z(U3 + z·U4))), z = y².
const T1: f64 = -1.0 / 6.0;
const T2: f64 = 1.0 / 120.0;
const T3: f64 = -1.0 / 5040.0;
const T4: f64 = 1.0 / 362880.0;
const U1: f64 = -0.5;
const U2: f64 = 1.0 / 24.0;
const U3: f64 = -1.0 / 720.0;
const U4: f64 = 1.0 / 40320.0;
const THIRTYTWO_OVER_PI: f64 = 10.185916357881302;

// sincos results (AssemblyScript has no multiple returns).
let sinOut: v128 = f64x2.splat(0);

/**
 * cos of x ∈ [0, 2π] lane-wise (sin left in `sinOut`): x = jπ/32 + y with j = round(32x/π) and
 * y from a two-part π/32 (exact to ~1e-22), then cos x = C_j + (C_j(cos y − 1) − S_j sin y) and
 * sin x = S_j + (S_j(cos y − 1) + C_j sin y) with the correctly rounded table of build-wasm.mjs.
 */
// @ts-ignore: decorator
@inline
function vcossin(x: v128): v128 {
  const j = f64x2.nearest(f64x2.mul(x, CF(14 /* THIRTYTWO_OVER_PI */)));
  const y = f64x2.sub(f64x2.sub(x, f64x2.mul(j, CF(15 /* PIO32_1 */))), f64x2.mul(j, CF(16 /* PIO32_1T */)));
  const ji = i32x4.trunc_sat_f64x2_s_zero(j);
  const e0 = v128.load(TRIG_TABLE + (<usize>i32x4.extract_lane(ji, 0) << 4));
  const e1 = v128.load(TRIG_TABLE + (<usize>i32x4.extract_lane(ji, 1) << 4));
  const cj = f64x2.shuffle(e0, e1, 0, 2);
  const sj = f64x2.shuffle(e0, e1, 1, 3);
  const z = f64x2.mul(y, y);
  let ps = f64x2.add(CF(17 /* T3 */), f64x2.mul(z, CF(18 /* T4 */)));
  let pc = f64x2.add(CF(19 /* U3 */), f64x2.mul(z, CF(20 /* U4 */)));
  ps = f64x2.add(CF(21 /* T2 */), f64x2.mul(z, ps));
  pc = f64x2.add(CF(22 /* U2 */), f64x2.mul(z, pc));
  ps = f64x2.add(CF(23 /* T1 */), f64x2.mul(z, ps));
  pc = f64x2.add(CF(24 /* U1 */), f64x2.mul(z, pc));
  const sn = f64x2.add(y, f64x2.mul(f64x2.mul(y, z), ps));
  const cm1 = f64x2.mul(z, pc);
  sinOut = f64x2.add(sj, f64x2.add(f64x2.mul(sj, cm1), f64x2.mul(cj, sn)));
  return f64x2.add(cj, f64x2.sub(f64x2.mul(cj, cm1), f64x2.mul(sj, sn)));
}

/** cos and sin of `n` doubles at p (each in [0, 2π]) into outC and outS. Test hook. */
export function cosSinInto(outC: usize, outS: usize, p: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) {
    const o = <usize>i << 3;
    v128.store(outC + o, vcossin(v128.load(p + o)));
    v128.store(outS + o, sinOut);
  }
}

// ---------------------------------------------------------------- normals and ICL batches

const TWO_NEG_32: f64 = 2.3283064365386963e-10;
const TWO_PI: f64 = 6.283185307179586;

/**
 * Normals 0 .. 4·nBlocks−1 (rounded up to 16) of the sequence (stream, c1, c2) into nb (f64):
 * normal i is output i%4 of Philox at counter [i/4, c1, c2, stream], Box–Muller on word pairs.
 * tmp: 64 scratch bytes.
 */
export function exampleNormals(nb: usize, nBlocks: i32, k0: u32, k1: u32, stream: u32, c1: u32, c2: u32, tmp: usize): void {
  const half = CF(12 /* 0.5 */);
  const scale = CF(25 /* TWO_NEG_32 */);
  for (let g = 0; g < nBlocks; g += 4) {
    philox4(tmp, i32x4(g, g + 1, g + 2, g + 3), c1, c2, stream, k0, k1);
    const w0 = v128.load(tmp);
    const w1 = v128.load(tmp, 16);
    const w2 = v128.load(tmp, 32);
    const w3 = v128.load(tmp, 48);
    for (let part = 0; part < 2; part++) {
      const a0 = part == 0 ? w0 : i32x4.shuffle(w0, w0, 2, 3, 2, 3);
      const a1 = part == 0 ? w1 : i32x4.shuffle(w1, w1, 2, 3, 2, 3);
      const a2 = part == 0 ? w2 : i32x4.shuffle(w2, w2, 2, 3, 2, 3);
      const a3 = part == 0 ? w3 : i32x4.shuffle(w3, w3, 2, 3, 2, 3);
      const u0 = f64x2.mul(f64x2.add(f64x2.convert_low_i32x4_u(a0), half), scale);
      const u1 = f64x2.mul(f64x2.add(f64x2.convert_low_i32x4_u(a1), half), scale);
      const u2 = f64x2.mul(f64x2.add(f64x2.convert_low_i32x4_u(a2), half), scale);
      const u3 = f64x2.mul(f64x2.add(f64x2.convert_low_i32x4_u(a3), half), scale);
      const ra = f64x2.sqrt(f64x2.mul(CF(26 /* -2.0 */), vlog(u0)));
      const rb = f64x2.sqrt(f64x2.mul(CF(26 /* -2.0 */), vlog(u2)));
      const ca = vcossin(f64x2.mul(CF(27 /* TWO_PI */), u1));
      const sa = sinOut;
      const cb = vcossin(f64x2.mul(CF(27 /* TWO_PI */), u3));
      const sb = sinOut;
      const n0 = f64x2.mul(ra, ca);
      const n1 = f64x2.mul(ra, sa);
      const n2 = f64x2.mul(rb, cb);
      const n3 = f64x2.mul(rb, sb);
      // block g + 2·part + l holds normals [n0, n1, n2, n3] of lane l
      const o = nb + ((<usize>(g + 2 * part)) << 5);
      v128.store(o, f64x2.shuffle(n0, n1, 0, 2));
      v128.store(o, f64x2.shuffle(n2, n3, 0, 2), 16);
      v128.store(o, f64x2.shuffle(n0, n1, 1, 3), 32);
      v128.store(o, f64x2.shuffle(n2, n3, 1, 3), 48);
    }
  }
}

// The data block: what iclBatch needs besides the step and the examples, as f64 slots written by
// the JS side (src/simd/module.ts, `writeDataBlock`).
const DB_K0 = 0; // key word 0 (seed low 32 bits)
const DB_K1 = 8; // key word 1
const DB_STREAM = 16; // counter word 3
const DB_L = 24; // context length
const DB_D = 32; // input dimension d (tokens have width d + 1)
const DB_NOISE = 40; // √d·δ
const DB_BETA = 48; // β multiplier: 1 ('unit') or 1/√d ('inverse-d')
const DB_QNOISE = 56; // 1: y_q gets √d·δ·ε_q (ε_q drawn after every other normal); 0: y_q = x_q β
const DB_CHOL = 64; // pointer to the lower Cholesky factor of Σ (d×d f64, row-major), or 0 for x = g

/** Normals one example draws for the data block db: d (β) + (L+1)·d (x) + L (ε) + 1 (ε_q, with query noise). */
export function normalsPerExample(db: usize): i32 {
  const L = <i32>load<f64>(db, DB_L);
  const d = <i32>load<f64>(db, DB_D);
  return d + (L + 1) * d + L + (load<f64>(db, DB_QNOISE) != 0 ? 1 : 0);
}

/**
 * ICL examples first .. first+B−1 of step `step` under the data block db, with @attnlab/data's
 * `iclBatchArrays` numbers (src/data.ts's `fillIclBatch`; all of them float32 values), as float32
 * in the 4-example-interleaved layout of the loss kernels: z at zi[((b>>2)·L + i)·D + k][b&3], zq at
 * zqi[(b>>2)·D + k][b&3] (f32x4 slots), y_q at yq[b]. The lanes after the last example of the last
 * quad are zeros (z, zq and y_q), which the loss kernels' arithmetic turns into zero loss and
 * gradient: any B. nb: a buffer of 16·⌈n/16⌉ doubles (n = normalsPerExample); tmp: 64 bytes.
 */
export function iclBatch(db: usize, zi: usize, zqi: usize, yq: usize, step: u32, B: i32, first: u32, nb: usize, tmp: usize): void {
  const k0 = <u32>load<f64>(db, DB_K0);
  const k1 = <u32>load<f64>(db, DB_K1);
  const stream = <u32>load<f64>(db, DB_STREAM);
  const L = <i32>load<f64>(db, DB_L);
  const d = <i32>load<f64>(db, DB_D);
  const noise = load<f64>(db, DB_NOISE);
  const betaMul = load<f64>(db, DB_BETA);
  const qnoise = load<f64>(db, DB_QNOISE) != 0;
  const chol = <usize>load<f64>(db, DB_CHOL);
  const D = d + 1;
  const nBlocks = (normalsPerExample(db) + 3) >> 2;
  const xo = <usize>d << 3;
  const eo = (<usize>(d + (L + 1) * d)) << 3;
  const qe = eo + (<usize>L << 3);
  for (let b = 0; b < B; b++) {
    exampleNormals(nb, nBlocks, k0, k1, stream, step, first + <u32>b, tmp);
    for (let j = 0; j < d; j++) store<f64>(nb + (<usize>j << 3), <f64><f32>(load<f64>(nb + (<usize>j << 3)) * betaMul));
    if (chol != 0) {
      // x = chol·g per token, in place (row a needs g_0..g_a, so rows go from the last one down),
      // each row summed k = 0..a from 0 in float64 as @attnlab/data does
      for (let t = 0; t <= L; t++) {
        const g = nb + xo + (<usize>(t * d) << 3);
        for (let a = d - 1; a >= 0; a--) {
          let s: f64 = 0;
          for (let k = 0; k <= a; k++) s += load<f64>(chol + (<usize>(a * d + k) << 3)) * load<f64>(g + (<usize>k << 3));
          store<f64>(g + (<usize>a << 3), s);
        }
      }
    }
    const lane = (<usize>(b & 3)) << 2;
    const zb = zi + (<usize>(b >> 2) * <usize>L * <usize>D << 4) + lane;
    for (let i = 0; i < L; i++) {
      let y: f64 = 0;
      const xi = nb + xo + (<usize>(i * d) << 3);
      const zo = zb + (<usize>(i * D) << 4);
      for (let j = 0; j < d; j++) {
        const x = <f32>load<f64>(xi + (<usize>j << 3));
        store<f32>(zo + (<usize>j << 4), x);
        y += <f64>x * load<f64>(nb + (<usize>j << 3));
      }
      store<f32>(zo + (<usize>d << 4), <f32>(y + noise * load<f64>(nb + eo + (<usize>i << 3))));
    }
    let y: f64 = 0;
    const xq = nb + xo + (<usize>(L * d) << 3);
    const qo = zqi + (<usize>(b >> 2) * <usize>D << 4) + lane;
    for (let j = 0; j < d; j++) {
      const x = <f32>load<f64>(xq + (<usize>j << 3));
      store<f32>(qo + (<usize>j << 4), x);
      y += <f64>x * load<f64>(nb + (<usize>j << 3));
    }
    store<f32>(qo + (<usize>d << 4), 0);
    store<f32>(yq + (<usize>b << 2), qnoise ? <f32>(y + noise * load<f64>(nb + qe)) : <f32>y);
  }
  // zero lanes after the last example
  for (let b = B; b < ((B + 3) & ~3); b++) {
    const lane = (<usize>(b & 3)) << 2;
    const zb = zi + (<usize>(b >> 2) * <usize>L * <usize>D << 4) + lane;
    for (let i = 0; i < L * D; i++) store<f32>(zb + (<usize>i << 4), 0);
    const qo = zqi + (<usize>(b >> 2) * <usize>D << 4) + lane;
    for (let j = 0; j < D; j++) store<f32>(qo + (<usize>j << 4), 0);
    store<f32>(yq + (<usize>b << 2), 0);
  }
}

// ---------------------------------------------------------------- constants, f32x4 exp (x ≤ 0)


// Constant vectors live in memory: V8 materialises every v128.const with several instructions,
// a load is one. CF(i) / CI(i) are the i-th float64 / integer pair below.
const F64_CONSTS = memory.data<f64>([MAGIC, MAGIC, 1.0, 1.0, 2.0, 2.0, LG2, LG2, LG4, LG4, LG6, LG6, LG1, LG1, LG3, LG3, LG5, LG5, LG7, LG7, LN2_HI, LN2_HI, LN2_LO, LN2_LO, 0.5, 0.5, 0.33333333333333333, 0.33333333333333333, THIRTYTWO_OVER_PI, THIRTYTWO_OVER_PI, PIO32_1, PIO32_1, PIO32_1T, PIO32_1T, T3, T3, T4, T4, U3, U3, U4, U4, T2, T2, U2, U2, T1, T1, U1, U1, TWO_NEG_32, TWO_NEG_32, -2.0, -2.0, TWO_PI, TWO_PI], 16);
const I64_CONSTS = memory.data<u64>([0xd2511f53d2511f53, 0xd2511f53d2511f53, 0xcd9e8d57cd9e8d57, 0xcd9e8d57cd9e8d57, 1023, 1023, 0x000fffff, 0x000fffff, 0x95f64, 0x95f64, 0x100000, 0x100000, 0x3ff00000, 0x3ff00000, 0xffffffff, 0xffffffff, 0x4338000000000000, 0x4338000000000000, 0x6147a, 0x6147a, 0x6b851, 0x6b851, 0, 0, 2, 2, 3, 3], 16);
// @ts-ignore: decorator
@inline function CF(i: i32): v128 { return v128.load(F64_CONSTS + (<usize>i << 4)); }
// @ts-ignore: decorator
@inline function CI(i: i32): v128 { return v128.load(I64_CONSTS + (<usize>i << 4)); }

// f32x4 constants (each repeated in 4 lanes), loaded like CF / CI.
const F32_CONSTS = memory.data<f32>([
  -87.0, -87.0, -87.0, -87.0, // 0
  1.4426950408889634, 1.4426950408889634, 1.4426950408889634, 1.4426950408889634, // 1: 1/ln 2
  0.693145751953125, 0.693145751953125, 0.693145751953125, 0.693145751953125, // 2: ln 2 (high bits)
  1.428606765330187e-6, 1.428606765330187e-6, 1.428606765330187e-6, 1.428606765330187e-6, // 3: ln 2 − [2]
  1.984126984126984e-4, 1.984126984126984e-4, 1.984126984126984e-4, 1.984126984126984e-4, // 4: 1/7!
  1.388888888888889e-3, 1.388888888888889e-3, 1.388888888888889e-3, 1.388888888888889e-3, // 5: 1/6!
  8.333333333333333e-3, 8.333333333333333e-3, 8.333333333333333e-3, 8.333333333333333e-3, // 6: 1/5!
  4.1666666666666664e-2, 4.1666666666666664e-2, 4.1666666666666664e-2, 4.1666666666666664e-2, // 7: 1/4!
  0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666, // 8: 1/3!
  0.5, 0.5, 0.5, 0.5, // 9
  1.0, 1.0, 1.0, 1.0, // 10
], 16);
const I32_127 = memory.data<i32>([127, 127, 127, 127], 16);
// @ts-ignore: decorator
@inline function CS(i: i32): v128 { return v128.load(F32_CONSTS + (<usize>i << 4)); }

/** The four float32 lanes of v summed in float64, pairwise. */
// @ts-ignore: decorator
@inline function sumLanes(v: v128): f64 {
  return (<f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1)) + (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
}

/** exp of non-positive floats lane-wise (clamped at −87): 2^k · Taylor(r), |r| ≤ ln2/2, degree 7 (≈ 1 ulp). */
// @ts-ignore: decorator
@inline
function vexpNeg(x0: v128): v128 {
  const x = f32x4.max(x0, CS(0));
  const kf = f32x4.nearest(f32x4.mul(x, CS(1)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(kf, CS(2))), f32x4.mul(kf, CS(3)));
  let p = f32x4.add(f32x4.mul(CS(4), r), CS(5));
  p = f32x4.add(f32x4.mul(p, r), CS(6));
  p = f32x4.add(f32x4.mul(p, r), CS(7));
  p = f32x4.add(f32x4.mul(p, r), CS(8));
  p = f32x4.add(f32x4.mul(p, r), CS(9));
  p = f32x4.add(f32x4.mul(p, r), CS(10));
  p = f32x4.add(f32x4.mul(p, r), CS(10));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(kf), v128.load(I32_127)), 23);
  return f32x4.mul(p, scale);
}

/** exp of `n` (a multiple of 4) non-positive floats at p into out. Test hook. */
export function expInto(out: usize, p: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(out + (<usize>i << 2), vexpNeg(v128.load(p + (<usize>i << 2))));
}

// ---------------------------------------------------------------- fused loss + gradient, single layer

// @ts-ignore: decorator
@inline function ld(base: usize, i: i32): v128 { return v128.load(base + (<usize>i << 4)); }
// @ts-ignore: decorator
@inline function st(base: usize, i: i32, v: v128): void { v128.store(base + (<usize>i << 4), v); }
// @ts-ignore: decorator
@inline function fma4(acc: v128, a: v128, b: v128): v128 { return f32x4.add(acc, f32x4.mul(a, b)); }

// Scratch of the single layer's loss (v128 slots): A4 [H·D·D] | c4 [H·D] | G4 [H·D·D] | u4 [H·D] |
// av [H·L] | tv [H·L] | yh [H] | sums [H] | W [D] | S [D] | R [D], then float64 G [H·D·D] | u [H·D].

/** Bytes of the single layer's loss scratch for H heads, input dimension d and context L. */
export function scratchBytes(H: i32, d: i32, L: i32): usize {
  const D = d + 1;
  return <usize>((H * (2 * D * D + 2 * D + 2 * L + 2) + 3 * D) * 16 + H * (D * D + D) * 8);
}

/** Parameters of the single layer: Wq, Wk, Wv [H, D, D] and Wo [H, D, nOut]. */
// @ts-ignore: decorator
@inline function singleParams(H: i32, D: i32, nOut: i32): i32 { return H * D * (3 * D + nOut); }

/** The four examples of quad pb, D = 6, unrolled (w, c and the token in locals); adds to G4, u4; returns the quad's squared errors. */
// @ts-ignore: decorator
@inline
function quads6(
  H: i32, L: i32, B: i32, zi: usize, zqi: usize, yq: usize, A4: usize, c4: usize, G4: usize, u4: usize,
  av: usize, tv: usize, yh: usize, sums: usize, twoOverB: v128,
): v128 {
  let loss4 = f32x4.splat(0);
  const quads = (B + 3) >> 2;
  for (let pb = 0; pb < quads; pb++) {
    const zb = zi + (<usize>pb * <usize>L * 6 << 4);
    const qb = zqi + (<usize>pb * 6 << 4);
    const q0 = v128.load(qb), q1 = v128.load(qb, 16), q2 = v128.load(qb, 32);
    const q3 = v128.load(qb, 48), q4 = v128.load(qb, 64), q5 = v128.load(qb, 80);
    let pred = f32x4.splat(0);
    for (let h = 0; h < H; h++) {
      const ah = A4 + (<usize>(h * 36) << 4);
      let w0 = f32x4.mul(q0, v128.load(ah, 0));
      let w1 = f32x4.mul(q0, v128.load(ah, 16));
      let w2 = f32x4.mul(q0, v128.load(ah, 32));
      let w3 = f32x4.mul(q0, v128.load(ah, 48));
      let w4 = f32x4.mul(q0, v128.load(ah, 64));
      let w5 = f32x4.mul(q0, v128.load(ah, 80));
      w0 = f32x4.add(w0, f32x4.mul(q1, v128.load(ah, 96))); w1 = f32x4.add(w1, f32x4.mul(q1, v128.load(ah, 112)));
      w2 = f32x4.add(w2, f32x4.mul(q1, v128.load(ah, 128))); w3 = f32x4.add(w3, f32x4.mul(q1, v128.load(ah, 144)));
      w4 = f32x4.add(w4, f32x4.mul(q1, v128.load(ah, 160))); w5 = f32x4.add(w5, f32x4.mul(q1, v128.load(ah, 176)));
      w0 = f32x4.add(w0, f32x4.mul(q2, v128.load(ah, 192))); w1 = f32x4.add(w1, f32x4.mul(q2, v128.load(ah, 208)));
      w2 = f32x4.add(w2, f32x4.mul(q2, v128.load(ah, 224))); w3 = f32x4.add(w3, f32x4.mul(q2, v128.load(ah, 240)));
      w4 = f32x4.add(w4, f32x4.mul(q2, v128.load(ah, 256))); w5 = f32x4.add(w5, f32x4.mul(q2, v128.load(ah, 272)));
      w0 = f32x4.add(w0, f32x4.mul(q3, v128.load(ah, 288))); w1 = f32x4.add(w1, f32x4.mul(q3, v128.load(ah, 304)));
      w2 = f32x4.add(w2, f32x4.mul(q3, v128.load(ah, 320))); w3 = f32x4.add(w3, f32x4.mul(q3, v128.load(ah, 336)));
      w4 = f32x4.add(w4, f32x4.mul(q3, v128.load(ah, 352))); w5 = f32x4.add(w5, f32x4.mul(q3, v128.load(ah, 368)));
      w0 = f32x4.add(w0, f32x4.mul(q4, v128.load(ah, 384))); w1 = f32x4.add(w1, f32x4.mul(q4, v128.load(ah, 400)));
      w2 = f32x4.add(w2, f32x4.mul(q4, v128.load(ah, 416))); w3 = f32x4.add(w3, f32x4.mul(q4, v128.load(ah, 432)));
      w4 = f32x4.add(w4, f32x4.mul(q4, v128.load(ah, 448))); w5 = f32x4.add(w5, f32x4.mul(q4, v128.load(ah, 464)));
      w0 = f32x4.add(w0, f32x4.mul(q5, v128.load(ah, 480))); w1 = f32x4.add(w1, f32x4.mul(q5, v128.load(ah, 496)));
      w2 = f32x4.add(w2, f32x4.mul(q5, v128.load(ah, 512))); w3 = f32x4.add(w3, f32x4.mul(q5, v128.load(ah, 528)));
      w4 = f32x4.add(w4, f32x4.mul(q5, v128.load(ah, 544))); w5 = f32x4.add(w5, f32x4.mul(q5, v128.load(ah, 560)));
      const ch = c4 + (<usize>(h * 6) << 4);
      const c0 = v128.load(ch), c1 = v128.load(ch, 16), cc2 = v128.load(ch, 32);
      const c3 = v128.load(ch, 48), cc4 = v128.load(ch, 64), c5 = v128.load(ch, 80);
      const ah2 = av + (<usize>(h * L) << 4);
      const th2 = tv + (<usize>(h * L) << 4);
      let mx = f32x4.splat(-Infinity);
      for (let i = 0; i < L; i++) {
        const zo = zb + (<usize>(i * 6) << 4);
        const z0 = v128.load(zo), z1 = v128.load(zo, 16), z2 = v128.load(zo, 32);
        const z3 = v128.load(zo, 48), z4 = v128.load(zo, 64), z5 = v128.load(zo, 80);
        const s = f32x4.add(f32x4.add(f32x4.add(f32x4.add(f32x4.add(f32x4.mul(z0, w0), f32x4.mul(z1, w1)), f32x4.mul(z2, w2)), f32x4.mul(z3, w3)), f32x4.mul(z4, w4)), f32x4.mul(z5, w5));
        const t = f32x4.add(f32x4.add(f32x4.add(f32x4.add(f32x4.add(f32x4.mul(z0, c0), f32x4.mul(z1, c1)), f32x4.mul(z2, cc2)), f32x4.mul(z3, c3)), f32x4.mul(z4, cc4)), f32x4.mul(z5, c5));
        v128.store(ah2 + (<usize>i << 4), s);
        v128.store(th2 + (<usize>i << 4), t);
        mx = f32x4.pmax(mx, s);
      }
      let sum = f32x4.splat(0);
      let num = f32x4.splat(0);
      for (let i = 0; i < L; i++) {
        const o = <usize>i << 4;
        const e = vexpNeg(f32x4.sub(v128.load(ah2 + o), mx));
        v128.store(ah2 + o, e);
        sum = f32x4.add(sum, e);
        num = f32x4.add(num, f32x4.mul(e, v128.load(th2 + o)));
      }
      const y = f32x4.div(num, sum);
      v128.store(yh + (<usize>h << 4), y);
      v128.store(sums + (<usize>h << 4), sum);
      pred = f32x4.add(pred, y);
    }
    const diff = f32x4.sub(pred, v128.load(yq + (<usize>pb << 4)));
    loss4 = f32x4.add(loss4, f32x4.mul(diff, diff));
    const g = f32x4.mul(twoOverB, diff);
    for (let h = 0; h < H; h++) {
      const ah2 = av + (<usize>(h * L) << 4);
      const th2 = tv + (<usize>(h * L) << 4);
      let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0;
      let r0 = s0, r1 = s0, r2 = s0, r3 = s0, r4 = s0, r5 = s0;
      for (let i = 0; i < L; i++) {
        const o = <usize>i << 4;
        const ai = v128.load(ah2 + o);
        const at = f32x4.mul(ai, v128.load(th2 + o));
        const zo = zb + (<usize>(i * 6) << 4);
        const z0 = v128.load(zo), z1 = v128.load(zo, 16), z2 = v128.load(zo, 32);
        const z3 = v128.load(zo, 48), z4 = v128.load(zo, 64), z5 = v128.load(zo, 80);
        s0 = f32x4.add(s0, f32x4.mul(ai, z0)); s1 = f32x4.add(s1, f32x4.mul(ai, z1)); s2 = f32x4.add(s2, f32x4.mul(ai, z2));
        s3 = f32x4.add(s3, f32x4.mul(ai, z3)); s4 = f32x4.add(s4, f32x4.mul(ai, z4)); s5 = f32x4.add(s5, f32x4.mul(ai, z5));
        r0 = f32x4.add(r0, f32x4.mul(at, z0)); r1 = f32x4.add(r1, f32x4.mul(at, z1)); r2 = f32x4.add(r2, f32x4.mul(at, z2));
        r3 = f32x4.add(r3, f32x4.mul(at, z3)); r4 = f32x4.add(r4, f32x4.mul(at, z4)); r5 = f32x4.add(r5, f32x4.mul(at, z5));
      }
      const gs = f32x4.div(g, v128.load(sums + (<usize>h << 4)));
      const y = v128.load(yh + (<usize>h << 4));
      const uh = u4 + (<usize>(h * 6) << 4);
      v128.store(uh, f32x4.add(v128.load(uh), f32x4.mul(gs, s0)));
      v128.store(uh, f32x4.add(v128.load(uh, 16), f32x4.mul(gs, s1)), 16);
      v128.store(uh, f32x4.add(v128.load(uh, 32), f32x4.mul(gs, s2)), 32);
      v128.store(uh, f32x4.add(v128.load(uh, 48), f32x4.mul(gs, s3)), 48);
      v128.store(uh, f32x4.add(v128.load(uh, 64), f32x4.mul(gs, s4)), 64);
      v128.store(uh, f32x4.add(v128.load(uh, 80), f32x4.mul(gs, s5)), 80);
      const d0 = f32x4.mul(gs, f32x4.sub(r0, f32x4.mul(y, s0)));
      const d1 = f32x4.mul(gs, f32x4.sub(r1, f32x4.mul(y, s1)));
      const d2 = f32x4.mul(gs, f32x4.sub(r2, f32x4.mul(y, s2)));
      const d3 = f32x4.mul(gs, f32x4.sub(r3, f32x4.mul(y, s3)));
      const d4 = f32x4.mul(gs, f32x4.sub(r4, f32x4.mul(y, s4)));
      const d5 = f32x4.mul(gs, f32x4.sub(r5, f32x4.mul(y, s5)));
      for (let r = 0; r < 6; r++) {
        const zr = v128.load(qb + (<usize>r << 4));
        const o = G4 + (<usize>(h * 36 + r * 6) << 4);
        v128.store(o, f32x4.add(v128.load(o), f32x4.mul(zr, d0)));
        v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(zr, d1)), 16);
        v128.store(o, f32x4.add(v128.load(o, 32), f32x4.mul(zr, d2)), 32);
        v128.store(o, f32x4.add(v128.load(o, 48), f32x4.mul(zr, d3)), 48);
        v128.store(o, f32x4.add(v128.load(o, 64), f32x4.mul(zr, d4)), 64);
        v128.store(o, f32x4.add(v128.load(o, 80), f32x4.mul(zr, d5)), 80);
      }
    }
  }
  return loss4;
}

/** quads6 for any width D: w, c and the reductions in memory (W, S, R), the same operations in the same order. */
function quadsN(
  H: i32, D: i32, L: i32, B: i32, zi: usize, zqi: usize, yq: usize, A4: usize, c4: usize, G4: usize, u4: usize,
  av: usize, tv: usize, yh: usize, sums: usize, W: usize, S: usize, R: usize, twoOverB: v128,
): v128 {
  let loss4 = f32x4.splat(0);
  const quads = (B + 3) >> 2;
  const DD = D * D;
  const zero = f32x4.splat(0);
  for (let pb = 0; pb < quads; pb++) {
    const zb = zi + (<usize>pb * <usize>L * <usize>D << 4);
    const qb = zqi + (<usize>pb * <usize>D << 4);
    let pred = zero;
    for (let h = 0; h < H; h++) {
      const ah = A4 + (<usize>(h * DD) << 4);
      // w_s = Σ_r q_r A_rs
      for (let c = 0; c < D; c++) {
        let acc = f32x4.mul(ld(qb, 0), ld(ah, c));
        for (let r = 1; r < D; r++) acc = f32x4.add(acc, f32x4.mul(ld(qb, r), ld(ah, r * D + c)));
        st(W, c, acc);
      }
      const ch = c4 + (<usize>(h * D) << 4);
      const ah2 = av + (<usize>(h * L) << 4);
      const th2 = tv + (<usize>(h * L) << 4);
      let mx = f32x4.splat(-Infinity);
      for (let i = 0; i < L; i++) {
        const zo = zb + (<usize>(i * D) << 4);
        let s = f32x4.mul(ld(zo, 0), ld(W, 0));
        let t = f32x4.mul(ld(zo, 0), ld(ch, 0));
        for (let k = 1; k < D; k++) {
          const zk = ld(zo, k);
          s = f32x4.add(s, f32x4.mul(zk, ld(W, k)));
          t = f32x4.add(t, f32x4.mul(zk, ld(ch, k)));
        }
        v128.store(ah2 + (<usize>i << 4), s);
        v128.store(th2 + (<usize>i << 4), t);
        mx = f32x4.pmax(mx, s);
      }
      let sum = zero;
      let num = zero;
      for (let i = 0; i < L; i++) {
        const o = <usize>i << 4;
        const e = vexpNeg(f32x4.sub(v128.load(ah2 + o), mx));
        v128.store(ah2 + o, e);
        sum = f32x4.add(sum, e);
        num = f32x4.add(num, f32x4.mul(e, v128.load(th2 + o)));
      }
      const y = f32x4.div(num, sum);
      v128.store(yh + (<usize>h << 4), y);
      v128.store(sums + (<usize>h << 4), sum);
      pred = f32x4.add(pred, y);
    }
    const diff = f32x4.sub(pred, v128.load(yq + (<usize>pb << 4)));
    loss4 = f32x4.add(loss4, f32x4.mul(diff, diff));
    const g = f32x4.mul(twoOverB, diff);
    for (let h = 0; h < H; h++) {
      const ah2 = av + (<usize>(h * L) << 4);
      const th2 = tv + (<usize>(h * L) << 4);
      for (let k = 0; k < D; k++) { st(S, k, zero); st(R, k, zero); }
      for (let i = 0; i < L; i++) {
        const o = <usize>i << 4;
        const ai = v128.load(ah2 + o);
        const at = f32x4.mul(ai, v128.load(th2 + o));
        const zo = zb + (<usize>(i * D) << 4);
        for (let k = 0; k < D; k++) {
          const zk = ld(zo, k);
          st(S, k, f32x4.add(ld(S, k), f32x4.mul(ai, zk)));
          st(R, k, f32x4.add(ld(R, k), f32x4.mul(at, zk)));
        }
      }
      const gs = f32x4.div(g, v128.load(sums + (<usize>h << 4)));
      const y = v128.load(yh + (<usize>h << 4));
      const uh = u4 + (<usize>(h * D) << 4);
      for (let k = 0; k < D; k++) {
        st(uh, k, f32x4.add(ld(uh, k), f32x4.mul(gs, ld(S, k))));
        // R_k now holds ∂L/∂w_k
        st(R, k, f32x4.mul(gs, f32x4.sub(ld(R, k), f32x4.mul(y, ld(S, k)))));
      }
      for (let r = 0; r < D; r++) {
        const zr = ld(qb, r);
        const o = G4 + (<usize>(h * DD + r * D) << 4);
        for (let c = 0; c < D; c++) st(o, c, f32x4.add(ld(o, c), f32x4.mul(zr, ld(R, c))));
      }
    }
  }
  return loss4;
}

/**
 * Mean squared error of the batch (on the last of nOut outputs) and its gradient (into grad, all
 * H·D·(3D + nOut) doubles; the other output columns of Wo get 0) for the float64 params p
 * (Wq | Wk | Wv [H, D, D] | Wo [H, D, nOut], src/single/float64.ts's layout), normalised by Bnorm
 * examples (B for a whole batch; the full batch size when this is one part of it), on B examples
 * in iclBatch's layout (any B: the zero lanes after the last one add nothing). A = Wq Wkᵀ/√D,
 * c = Wv Wo[:, last] and the parameter gradient are float64; the per-example work (scores,
 * softmax, the reductions G and u) runs in float32, four examples per f32x4, and the lane sums
 * are folded in float64. D = 6 takes the unrolled loop unless `generic` (a test hook: both give
 * the same numbers).
 */
export function lossGrad(
  p: usize, H: i32, d: i32, nOut: i32, L: i32, B: i32, zi: usize, zqi: usize, yq: usize, sc: usize, grad: usize, Bnorm: i32, generic: i32,
): f64 {
  const D = d + 1;
  const DD = D * D;
  const HDD = <usize>(H * DD);
  const oWk = HDD << 3;
  const oWv = oWk << 1;
  const oWo = oWk * 3;
  const last = nOut - 1;
  const A4 = sc;
  const c4 = A4 + (HDD << 4);
  const G4 = c4 + (<usize>(H * D) << 4);
  const u4 = G4 + (HDD << 4);
  const av = u4 + (<usize>(H * D) << 4);
  const tv = av + (<usize>(H * L) << 4);
  const yh = tv + (<usize>(H * L) << 4);
  const sums = yh + (<usize>H << 4);
  const W = sums + (<usize>H << 4);
  const S = W + (<usize>D << 4);
  const R = S + (<usize>D << 4);
  const Gs = R + (<usize>D << 4); // float64 G [H·D·D] then u [H·D]
  const us = Gs + (HDD << 3);
  const inv = 1.0 / Math.sqrt(<f64>D);
  for (let h = 0; h < H; h++) {
    const hq = p + (<usize>(h * DD) << 3);
    const hk = hq + oWk;
    const hv = hq + oWv;
    const ho = p + oWo + (<usize>(h * D * nOut) << 3);
    for (let r = 0; r < D; r++) {
      for (let s = 0; s < D; s++) {
        let acc: f64 = 0;
        for (let k = 0; k < D; k++) acc += load<f64>(hq + (<usize>(r * D + k) << 3)) * load<f64>(hk + (<usize>(s * D + k) << 3));
        v128.store(A4 + (<usize>(h * DD + r * D + s) << 4), f32x4.splat(<f32>(acc * inv)));
      }
      let acc: f64 = 0;
      for (let k = 0; k < D; k++) acc += load<f64>(hv + (<usize>(r * D + k) << 3)) * load<f64>(ho + (<usize>(k * nOut + last) << 3));
      v128.store(c4 + (<usize>(h * D + r) << 4), f32x4.splat(<f32>acc));
    }
  }
  const nG = <i32>HDD + H * D;
  for (let j = 0; j < nG; j++) v128.store(G4 + (<usize>j << 4), f32x4.splat(0));
  const twoOverB = f32x4.splat(<f32>(2.0 / <f64>Bnorm));
  const loss4 = D == 6 && generic == 0
    ? quads6(H, L, B, zi, zqi, yq, A4, c4, G4, u4, av, tv, yh, sums, twoOverB)
    : quadsN(H, D, L, B, zi, zqi, yq, A4, c4, G4, u4, av, tv, yh, sums, W, S, R, twoOverB);
  // fold the four lanes of G and u in float64
  for (let j = 0; j < nG; j++) store<f64>(Gs + (<usize>j << 3), sumLanes(v128.load(G4 + (<usize>j << 4))));
  // parameter gradient (src/single/float64.ts's paramGrad)
  for (let h = 0; h < H; h++) {
    const hq = <usize>(h * DD) << 3;
    const hk = hq + oWk;
    const hv = hq + oWv;
    const ho = oWo + (<usize>(h * D * nOut) << 3);
    const gh = Gs + hq;
    const uh = us + (<usize>(h * D) << 3);
    for (let r = 0; r < D; r++) {
      for (let c = 0; c < D; c++) {
        let aq: f64 = 0;
        let ak: f64 = 0;
        for (let s = 0; s < D; s++) {
          aq += load<f64>(gh + (<usize>(r * D + s) << 3)) * load<f64>(p + hk + (<usize>(s * D + c) << 3));
          ak += load<f64>(gh + (<usize>(s * D + r) << 3)) * load<f64>(p + hq + (<usize>(s * D + c) << 3));
        }
        store<f64>(grad + hq + (<usize>(r * D + c) << 3), aq * inv);
        store<f64>(grad + hk + (<usize>(r * D + c) << 3), ak * inv);
        store<f64>(grad + hv + (<usize>(r * D + c) << 3), load<f64>(uh + (<usize>r << 3)) * load<f64>(p + ho + (<usize>(c * nOut + last) << 3)));
      }
    }
    for (let c = 0; c < D; c++) {
      let acc: f64 = 0;
      for (let r = 0; r < D; r++) acc += load<f64>(uh + (<usize>r << 3)) * load<f64>(p + hv + (<usize>(r * D + c) << 3));
      for (let j = 0; j < last; j++) store<f64>(grad + ho + (<usize>(c * nOut + j) << 3), 0);
      store<f64>(grad + ho + (<usize>(c * nOut + last) << 3), acc);
    }
  }
  return sumLanes(loss4) / <f64>Bnorm;
}

// ---------------------------------------------------------------- optimizers

// The optimizer block (f64 slots written by src/simd/module.ts's `writeOptimizerBlock`).
const OB_METHOD = 0; // 0 SGD, 1 Adam, 2 AdamW
const OB_LR = 8;
const OB_BETA1 = 16;
const OB_BETA2 = 24;
const OB_EPS = 32;
const OB_WD = 40;
const OB_NSEG = 48; // number of parameter segments (named parameters)
const OB_SEGS = 56; // pointer to i32 triples [offset, length, step] per segment; step is that parameter's completed updates

/**
 * One optimizer update of the P float64 parameters in state [p | m | v] (m, v unused by SGD) with
 * gradient grad, each named parameter (segment) at its own step, which this advances. PyTorch's
 * rules as @attnlab/train's optimizers (scalars in float64 as PyTorch's Python floats):
 *   SGD:   g ← g + p·wd (wd ≠ 0);  p ← p − g·lr
 *   Adam:  g ← g + p·wd (wd ≠ 0);  AdamW: p ← p·(1 − lr·wd) (wd ≠ 0)
 *          m ← m·β1 + g·(1−β1);  v ← v·β2 + (g·(1−β2))·g;  p ← p + (m / (√v / √(1−β2ᵗ) + eps))·(−lr/(1−β1ᵗ))
 */
export function optimize(ob: usize, state: usize, P: i32, grad: usize): void {
  const method = <i32>load<f64>(ob, OB_METHOD);
  const lr = load<f64>(ob, OB_LR);
  const b1 = load<f64>(ob, OB_BETA1);
  const b2 = load<f64>(ob, OB_BETA2);
  const eps = load<f64>(ob, OB_EPS);
  const wd = load<f64>(ob, OB_WD);
  const nseg = <i32>load<f64>(ob, OB_NSEG);
  const segs = <usize>load<f64>(ob, OB_SEGS);
  const mo = state + (<usize>P << 3);
  const vo = mo + (<usize>P << 3);
  const decay = 1.0 - lr * wd;
  for (let sg = 0; sg < nseg; sg++) {
    const so = segs + (<usize>(sg * 12));
    const off = load<i32>(so);
    const len = load<i32>(so, 4);
    const t = load<i32>(so, 8) + 1;
    store<i32>(so, t, 8);
    if (method == 0) {
      for (let i = off; i < off + len; i++) {
        const o = <usize>i << 3;
        let g = load<f64>(grad + o);
        const p = load<f64>(state + o);
        if (wd != 0) g = g + p * wd;
        store<f64>(state + o, p - g * lr);
      }
      continue;
    }
    const stepSize = lr / (1.0 - jspow(b1, <f64>t));
    const bc2Sqrt = Math.sqrt(1.0 - jspow(b2, <f64>t));
    for (let i = off; i < off + len; i++) {
      const o = <usize>i << 3;
      let g = load<f64>(grad + o);
      let p = load<f64>(state + o);
      if (wd != 0) {
        if (method == 2) p = p * decay;
        else g = g + p * wd;
      }
      const m = load<f64>(mo + o) * b1 + g * (1.0 - b1);
      const v = load<f64>(vo + o) * b2 + (g * (1.0 - b2)) * g;
      store<f64>(mo + o, m);
      store<f64>(vo + o, v);
      store<f64>(state + o, p + (m / (Math.sqrt(v) / bc2Sqrt + eps)) * -stepSize);
    }
  }
}

// ---------------------------------------------------------------- training loop

/**
 * n training steps of a single-layer model on its own data (data block db): step s trains on the
 * batch of step t0 + s, then the optimizer (block ob) updates state [p | m | v]. Losses (before
 * each update) into losses[0..n) as f64. Buffers as in iclBatch and lossGrad.
 */
export function train(
  db: usize, ob: usize, state: usize, H: i32, nOut: i32, B: i32, t0: u32, n: i32, losses: usize,
  zi: usize, zqi: usize, yq: usize, nb: usize, tmp: usize, sc: usize, grad: usize,
): void {
  const d = <i32>load<f64>(db, DB_D);
  const L = <i32>load<f64>(db, DB_L);
  const P = singleParams(H, d + 1, nOut);
  for (let s = 0; s < n; s++) {
    iclBatch(db, zi, zqi, yq, t0 + <u32>s, B, 0, nb, tmp);
    const loss = lossGrad(state, H, d, nOut, L, B, zi, zqi, yq, sc, grad, B, 0);
    optimize(ob, state, P, grad);
    store<f64>(losses + (<usize>s << 3), loss);
  }
}

// ---------------------------------------------------------------- causal stack, four examples per f32x4


/** Bytes of stackLossGrad4's scratch (H heads, input dimension d, `layers` layers of which `stored` have own weights, context L, nOut outputs). */
export function stackScratchBytes(H: i32, d: i32, layers: i32, stored: i32, L: i32, nOut: i32): usize {
  const T = L + 1;
  const D = d + 1;
  const slots = (layers + 1) * T * D // x
    + 4 * layers * H * T * D // q, kT, vT, c
    + layers * H * T * T // a
    + 4 * T * D + 2 * D * T + T // dx, dxPrev, dc, dq, dk, dv, da
    + 2 * (stored * 4 * H * D * D + D * nOut); // weights and their gradient as splats
  return <usize>slots << 4;
}

/**
 * src/stack/float64.ts's `stackLossGrad` (same algorithm and parameter layout, any d, the loss on
 * the last of nOut outputs) with four examples per f32x4: batches in iclBatch's layout (any B: the
 * zero lanes after the last example add nothing), parameters and the returned gradient in float64
 * (grad: P doubles; the other output columns of `final` get 0), everything per example in float32.
 * Returns the squared error summed over the B examples and divided by Bnorm (the gradient
 * likewise), so parts of a batch add up.
 */
export function stackLossGrad4(
  p: usize, H: i32, d: i32, layers: i32, tied: i32, residual: i32, nOut: i32, L: i32, B: i32,
  zi: usize, zqi: usize, yq: usize, sc: usize, grad: usize, Bnorm: i32,
): f64 {
  const D = d + 1;
  const DD = D * D;
  const T = L + 1;
  const stored = tied ? 1 : layers;
  const m = H * DD;
  const P = stored * 4 * m + D * nOut;
  const last = nOut - 1;
  const inv = f32x4.splat(<f32>(1.0 / Math.sqrt(<f64>D)));
  // scratch
  const X = sc;
  const Q = X + (<usize>((layers + 1) * T * D) << 4);
  const KT = Q + (<usize>(layers * H * T * D) << 4);
  const VT = KT + (<usize>(layers * H * T * D) << 4);
  const C = VT + (<usize>(layers * H * T * D) << 4);
  const A = C + (<usize>(layers * H * T * D) << 4);
  const DX0 = A + (<usize>(layers * H * T * T) << 4);
  const DX1 = DX0 + (<usize>(T * D) << 4);
  const DC = DX1 + (<usize>(T * D) << 4);
  const DQ = DC + (<usize>(T * D) << 4);
  const DK = DQ + (<usize>(T * D) << 4);
  const DV = DK + (<usize>(D * T) << 4);
  const DA = DV + (<usize>(D * T) << 4);
  const W4 = DA + (<usize>T << 4);
  const G4 = W4 + (<usize>P << 4);
  for (let i = 0; i < P; i++) {
    st(W4, i, f32x4.splat(<f32>load<f64>(p + (<usize>i << 3))));
    st(G4, i, f32x4.splat(0));
  }
  const fin = stored * 4 * m;
  let loss4 = f32x4.splat(0);
  const twoOverB = f32x4.splat(<f32>(2.0 / <f64>Bnorm));
  const zero = f32x4.splat(0);
  const quads = (B + 3) >> 2;
  for (let qd = 0; qd < quads; qd++) {
    // x0 = [z_1 … z_L; z_q]
    const zb = zi + (<usize>(qd * L * D) << 4);
    for (let i = 0; i < L * D; i++) st(X, i, ld(zb, i));
    const qb = zqi + (<usize>(qd * D) << 4);
    for (let j = 0; j < D; j++) st(X, L * D + j, ld(qb, j));
    // ---- forward
    for (let l = 0; l < layers; l++) {
      const lw = (tied ? 0 : l) * 4 * m;
      const xo = l * T * D;
      const xn = (l + 1) * T * D;
      const i0 = l == layers - 1 ? T - 1 : 0;
      for (let i = i0 * D; i < T * D; i++) st(X, xn + i, residual ? ld(X, xo + i) : zero);
      for (let h = 0; h < H; h++) {
        const ho = (l * H + h) * T * D;
        const ao = (l * H + h) * T * T;
        const wq = lw + h * DD, wk = lw + m + h * DD, wv = lw + 2 * m + h * DD, wo = lw + 3 * m + h * DD;
        for (let i = i0; i < T; i++) {
          for (let cc = 0; cc < D; cc++) {
            let acc = zero;
            for (let kk = 0; kk < D; kk++) acc = fma4(acc, ld(X, xo + i * D + kk), ld(W4, wq + kk * D + cc));
            st(Q, ho + i * D + cc, acc);
          }
        }
        for (let j = 0; j < T; j++) {
          for (let cc = 0; cc < D; cc++) {
            let sk = zero;
            let sv = zero;
            for (let kk = 0; kk < D; kk++) {
              const xv = ld(X, xo + j * D + kk);
              sk = fma4(sk, xv, ld(W4, wk + kk * D + cc));
              sv = fma4(sv, xv, ld(W4, wv + kk * D + cc));
            }
            st(KT, ho + cc * T + j, sk);
            st(VT, ho + cc * T + j, sv);
          }
        }
        if (i0 == 0) {
          for (let j = 0; j < T; j++) st(A, ao + j, zero);
          for (let cc = 0; cc < D; cc++) st(C, ho + cc, zero);
        }
        for (let i = i0 == 0 ? 1 : i0; i < T; i++) {
          const ar = ao + i * T;
          for (let j = 0; j < i; j++) st(A, ar + j, zero);
          for (let cc = 0; cc < D; cc++) {
            const qc = f32x4.mul(ld(Q, ho + i * D + cc), inv);
            const kr = ho + cc * T;
            for (let j = 0; j < i; j++) st(A, ar + j, fma4(ld(A, ar + j), qc, ld(KT, kr + j)));
          }
          let mx = f32x4.splat(-Infinity);
          for (let j = 0; j < i; j++) mx = f32x4.pmax(mx, ld(A, ar + j));
          let sum = zero;
          for (let j = 0; j < i; j++) {
            const e = vexpNeg(f32x4.sub(ld(A, ar + j), mx));
            st(A, ar + j, e);
            sum = f32x4.add(sum, e);
          }
          const r = f32x4.div(f32x4.splat(1.0), sum);
          for (let j = 0; j < i; j++) st(A, ar + j, f32x4.mul(ld(A, ar + j), r));
          for (let cc = 0; cc < D; cc++) {
            const vr = ho + cc * T;
            let acc = zero;
            for (let j = 0; j < i; j++) acc = fma4(acc, ld(A, ar + j), ld(VT, vr + j));
            st(C, ho + i * D + cc, acc);
          }
        }
        for (let i = i0; i < T; i++) {
          for (let cc = 0; cc < D; cc++) {
            let acc = ld(X, xn + i * D + cc);
            for (let kk = 0; kk < D; kk++) acc = fma4(acc, ld(C, ho + i * D + kk), ld(W4, wo + kk * D + cc));
            st(X, xn + i * D + cc, acc);
          }
        }
      }
    }
    const lastRow = layers * T * D + L * D;
    let y = zero;
    for (let j = 0; j < D; j++) y = fma4(y, ld(X, lastRow + j), ld(W4, fin + j * nOut + last));
    const diff = f32x4.sub(y, v128.load(yq + (<usize>qd << 4)));
    loss4 = fma4(loss4, diff, diff);
    const g = f32x4.mul(twoOverB, diff);
    // ---- backward
    let dx = DX0;
    let dxPrev = DX1;
    for (let i = 0; i < T * D; i++) st(dx, i, zero);
    for (let j = 0; j < D; j++) {
      const f = fin + j * nOut + last;
      st(G4, f, fma4(ld(G4, f), g, ld(X, lastRow + j)));
      st(dx, L * D + j, f32x4.mul(g, ld(W4, f)));
    }
    for (let l = layers - 1; l >= 0; l--) {
      const lw = (tied ? 0 : l) * 4 * m;
      const xo = l * T * D;
      const i0 = l == layers - 1 ? T - 1 : 0;
      for (let i = 0; i < T * D; i++) st(dxPrev, i, residual ? ld(dx, i) : zero);
      for (let h = 0; h < H; h++) {
        const ho = (l * H + h) * T * D;
        const ao = (l * H + h) * T * T;
        const wq = lw + h * DD, wk = lw + m + h * DD, wv = lw + 2 * m + h * DD, wo = lw + 3 * m + h * DD;
        for (let i = i0; i < T; i++) {
          for (let kk = 0; kk < D; kk++) {
            let acc = zero;
            for (let cc = 0; cc < D; cc++) acc = fma4(acc, ld(dx, i * D + cc), ld(W4, wo + kk * D + cc));
            st(DC, i * D + kk, acc);
          }
        }
        for (let kk = 0; kk < D; kk++) {
          for (let cc = 0; cc < D; cc++) {
            let acc = ld(G4, wo + kk * D + cc);
            for (let i = i0; i < T; i++) acc = fma4(acc, ld(C, ho + i * D + kk), ld(dx, i * D + cc));
            st(G4, wo + kk * D + cc, acc);
          }
        }
        for (let i = 0; i < T * D; i++) { st(DQ, i, zero); st(DK, i, zero); st(DV, i, zero); }
        for (let i = i0 > 1 ? i0 : 1; i < T; i++) {
          const ar = ao + i * T;
          for (let j = 0; j < i; j++) st(DA, j, zero);
          for (let cc = 0; cc < D; cc++) {
            const dci = ld(DC, i * D + cc);
            const vr = cc * T;
            for (let j = 0; j < i; j++) {
              st(DA, j, fma4(ld(DA, j), dci, ld(VT, ho + vr + j)));
              st(DV, vr + j, fma4(ld(DV, vr + j), ld(A, ar + j), dci));
            }
          }
          let dot = zero;
          for (let j = 0; j < i; j++) dot = fma4(dot, ld(A, ar + j), ld(DA, j));
          for (let j = 0; j < i; j++) st(DA, j, f32x4.mul(f32x4.mul(ld(A, ar + j), f32x4.sub(ld(DA, j), dot)), inv));
          for (let cc = 0; cc < D; cc++) {
            const kr = cc * T;
            const qic = ld(Q, ho + i * D + cc);
            let acc = zero;
            for (let j = 0; j < i; j++) {
              const ds = ld(DA, j);
              acc = fma4(acc, ds, ld(KT, ho + kr + j));
              st(DK, kr + j, fma4(ld(DK, kr + j), ds, qic));
            }
            st(DQ, i * D + cc, acc);
          }
        }
        for (let r = 0; r < D; r++) {
          for (let cc = 0; cc < D; cc++) {
            let aq = ld(G4, wq + r * D + cc), ak = ld(G4, wk + r * D + cc), av = ld(G4, wv + r * D + cc);
            for (let i = 0; i < T; i++) {
              const xi = ld(X, xo + i * D + r);
              aq = fma4(aq, xi, ld(DQ, i * D + cc));
              ak = fma4(ak, xi, ld(DK, cc * T + i));
              av = fma4(av, xi, ld(DV, cc * T + i));
            }
            st(G4, wq + r * D + cc, aq);
            st(G4, wk + r * D + cc, ak);
            st(G4, wv + r * D + cc, av);
          }
        }
        for (let i = 0; i < T; i++) {
          for (let r = 0; r < D; r++) {
            let acc = ld(dxPrev, i * D + r);
            for (let cc = 0; cc < D; cc++) {
              acc = fma4(acc, ld(DQ, i * D + cc), ld(W4, wq + r * D + cc));
              acc = fma4(acc, ld(DK, cc * T + i), ld(W4, wk + r * D + cc));
              acc = fma4(acc, ld(DV, cc * T + i), ld(W4, wv + r * D + cc));
            }
            st(dxPrev, i * D + r, acc);
          }
        }
      }
      const t = dx;
      dx = dxPrev;
      dxPrev = t;
    }
  }
  for (let i = 0; i < P; i++) {
    const v = ld(G4, i);
    store<f64>(grad + (<usize>i << 3), sumLanes(v));
  }
  return sumLanes(loss4) / <f64>Bnorm;
}

/** n training steps of a causal stack on its own data, like `train` (stack params, iclBatch layout). */
export function trainStack(
  db: usize, ob: usize, state: usize, H: i32, layers: i32, tied: i32, residual: i32, nOut: i32, B: i32, t0: u32, n: i32, losses: usize,
  zi: usize, zqi: usize, yq: usize, nb: usize, tmp: usize, sc: usize, grad: usize,
): void {
  const d = <i32>load<f64>(db, DB_D);
  const L = <i32>load<f64>(db, DB_L);
  const D = d + 1;
  const P = (tied ? 1 : layers) * 4 * H * D * D + D * nOut;
  for (let s = 0; s < n; s++) {
    iclBatch(db, zi, zqi, yq, t0 + <u32>s, B, 0, nb, tmp);
    const loss = stackLossGrad4(state, H, d, layers, tied, residual, nOut, L, B, zi, zqi, yq, sc, grad, B);
    optimize(ob, state, P, grad);
    store<f64>(losses + (<usize>s << 3), loss);
  }
}

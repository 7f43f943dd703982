// Seed 003's attention over many short sequences (cv-sweep's classifier: @attnlab/experiments'
// cv-engine.ts), forward and backward, in 128-bit SIMD: four lanes of the head dimension per f32x4
// (head_dim a multiple of 4). Compiled by `node scripts/build-wasm.mjs` into src/generated/cv-wasm.ts
// (committed; a test recompiles it and fails when it is stale).
//
// Each sample's q | k | v rows are sums of two rows of PW = [E; P]·[W_Q | W_K | W_V] (+ biases on
// the token rows): row ids[t] and row V + s. They are gathered into a block of seqLen × 3·width
// floats, in cache, per sample; the backward pass gathers them again and adds the block's gradient
// to G's row ids[t] and row V + s (G: the per-token gradients summed by token id and by position).
// All buffers are float32, row-major; pointers are byte offsets.

/** The first free byte (16-byte aligned). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** blk[s] = pw[ids[t0 + s]] + pw[V + s] for s < S (rows of rowB bytes). */
function gather(pw: usize, ids: usize, t0: i32, S: i32, V: i32, rowB: usize, blk: usize): void {
  for (let s = 0; s < S; s++) {
    const x = <usize>load<i32>(ids + (<usize>(t0 + s) << 2));
    const a = pw + x * rowB;
    const b = pw + <usize>(V + s) * rowB;
    const d = blk + <usize>s * rowB;
    for (let c: usize = 0; c < rowB; c += 16) v128.store(d + c, f32x4.add(v128.load(a + c), v128.load(b + c)));
  }
}

/** Σ a[c]·b[c] over `bytes` (a multiple of 16). */
@inline
function dot(a: usize, b: usize, bytes: usize): f32 {
  let acc = f32x4.splat(0);
  for (let c: usize = 0; c < bytes; c += 16) acc = f32x4.add(acc, f32x4.mul(v128.load(a + c), v128.load(b + c)));
  return hsum(acc);
}

/** dst[c] = f · Σ_{j<S} coef[j·cs]·src[j·ss + c] over `bytes` (coefficients f32, strides in bytes). */
function mix(coef: usize, cs: usize, S: i32, src: usize, ss: usize, dst: usize, bytes: usize, f: f32): void {
  const fv = f32x4.splat(f);
  for (let c: usize = 0; c < bytes; c += 16) {
    let acc = f32x4.splat(0);
    for (let j = 0; j < S; j++)
      acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(coef + <usize>j * cs)), v128.load(src + <usize>j * ss + c)));
    v128.store(dst + c, f32x4.mul(acc, fv));
  }
}

/**
 * Forward of n samples: per sample and head, a = softmax(q·kᵀ/√hd) (max, exp and sum in float64) into
 * att ([n, H, S, S]) and o = a·v into o's rows ([n·S, D]). blk: S·3D floats; row: S float64.
 */
export function attentionForward(
  pw: usize,
  ids: usize,
  n: i32,
  S: i32,
  V: i32,
  D: i32,
  H: i32,
  att: usize,
  o: usize,
  blk: usize,
  row: usize,
): void {
  const hd = D / H;
  const hdB = <usize>hd << 2;
  const DB = <usize>D << 2;
  const rowB: usize = DB * 3;
  const scale = <f32>(1.0 / Math.sqrt(<f64>hd));
  for (let b = 0; b < n; b++) {
    gather(pw, ids, b * S, S, V, rowB, blk);
    for (let h = 0; h < H; h++) {
      const hoB = <usize>h * hdB;
      const ao = att + (<usize>((b * H + h) * S * S) << 2);
      for (let i = 0; i < S; i++) {
        const q = blk + <usize>i * rowB + hoB;
        let max: f64 = -Infinity;
        for (let j = 0; j < S; j++) {
          const sc = <f64>(dot(q, blk + <usize>j * rowB + DB + hoB, hdB) * scale);
          store<f64>(row + (<usize>j << 3), sc);
          if (sc > max) max = sc;
        }
        let z: f64 = 0;
        for (let j = 0; j < S; j++) {
          const e = Math.exp(load<f64>(row + (<usize>j << 3)) - max);
          store<f64>(row + (<usize>j << 3), e);
          z += e;
        }
        const iz = 1.0 / z;
        const ar = ao + (<usize>(i * S) << 2);
        for (let j = 0; j < S; j++) store<f32>(ar + (<usize>j << 2), <f32>(load<f64>(row + (<usize>j << 3)) * iz));
        mix(ar, 4, S, blk + 2 * DB + hoB, rowB, o + <usize>(b * S + i) * DB + hoB, hdB, 1);
      }
    }
  }
}

/**
 * Backward of n samples from dO ([n·S, D]) and att: da_ij = do_i·v_j, ds = a ⊙ (da − Σ_j a da) (rows),
 * dv = aᵀ·do, dq = ds·k/√hd, dk = dsᵀ·q/√hd, each sample's dq | dk | dv added to g's rows ids[t] and
 * V + s; g ([V + S, 3D]) is zeroed first. blk, dblk: S·3D floats; ds: S·S floats.
 */
export function attentionBackward(
  pw: usize,
  ids: usize,
  n: i32,
  S: i32,
  V: i32,
  D: i32,
  H: i32,
  att: usize,
  dO: usize,
  g: usize,
  blk: usize,
  dblk: usize,
  ds: usize,
): void {
  const hd = D / H;
  const hdB = <usize>hd << 2;
  const DB = <usize>D << 2;
  const rowB: usize = DB * 3;
  const scale = <f32>(1.0 / Math.sqrt(<f64>hd));
  const gEnd = g + <usize>(V + S) * rowB;
  const zero = f32x4.splat(0);
  for (let p = g; p < gEnd; p += 16) v128.store(p, zero);
  const SB = <usize>S << 2;
  for (let b = 0; b < n; b++) {
    gather(pw, ids, b * S, S, V, rowB, blk);
    const dOb = dO + <usize>(b * S) * DB;
    for (let h = 0; h < H; h++) {
      const hoB = <usize>h * hdB;
      const ao = att + (<usize>((b * H + h) * S * S) << 2);
      for (let i = 0; i < S; i++) {
        const doi = dOb + <usize>i * DB + hoB;
        const ar = ao + <usize>i * SB;
        const dr = ds + <usize>i * SB;
        let sum: f32 = 0;
        for (let j = 0; j < S; j++) {
          const da = dot(doi, blk + <usize>j * rowB + 2 * DB + hoB, hdB);
          store<f32>(dr + (<usize>j << 2), da);
          sum += load<f32>(ar + (<usize>j << 2)) * da;
        }
        for (let j = 0; j < S; j++) {
          const jo = <usize>j << 2;
          store<f32>(dr + jo, load<f32>(ar + jo) * (load<f32>(dr + jo) - sum));
        }
      }
      for (let i = 0; i < S; i++) {
        const io = <usize>i << 2;
        const d = dblk + <usize>i * rowB + hoB;
        mix(ao + io, SB, S, dOb + hoB, DB, d + 2 * DB, hdB, 1); // dv_i = Σ_j a_ji do_j
        mix(ds + <usize>i * SB, 4, S, blk + DB + hoB, rowB, d, hdB, scale); // dq_i = Σ_j ds_ij k_j
        mix(ds + io, SB, S, blk + hoB, rowB, d + DB, hdB, scale); // dk_i = Σ_j ds_ji q_j
      }
    }
    for (let s = 0; s < S; s++) {
      const x = <usize>load<i32>(ids + (<usize>(b * S + s) << 2));
      const src = dblk + <usize>s * rowB;
      const gx = g + x * rowB;
      const gp = g + <usize>(V + s) * rowB;
      for (let c: usize = 0; c < rowB; c += 16) {
        const v = v128.load(src + c);
        v128.store(gx + c, f32x4.add(v128.load(gx + c), v));
        v128.store(gp + c, f32x4.add(v128.load(gp + c), v));
      }
    }
  }
}

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

/** dst[k] = splat(f · src[k]) for k < n: coefficients as f32x4 (16 bytes each), splatted once. */
function splats(src: usize, n: i32, f: f32, dst: usize): void {
  for (let k = 0; k < n; k++) v128.store(dst + (<usize>k << 4), f32x4.splat(load<f32>(src + (<usize>k << 2)) * f));
}

/** dst[c] = Σ_{j<S} coef[j·cs]·src[j·ss + c] over `bytes` (coefficients splatted f32x4, strides in bytes). */
function mix(coef: usize, cs: usize, S: i32, src: usize, ss: usize, dst: usize, bytes: usize): void {
  for (let c: usize = 0; c < bytes; c += 16) {
    let acc = f32x4.splat(0);
    for (let j = 0; j < S; j++)
      acc = f32x4.add(acc, f32x4.mul(v128.load(coef + <usize>j * cs), v128.load(src + <usize>j * ss + c)));
    v128.store(dst + c, acc);
  }
}

/** dst[c] += Σ_{j<S} coef[j·cs]·src[j·ss + c] over `bytes` (coefficients splatted f32x4). */
function mixAdd(coef: usize, cs: usize, S: i32, src: usize, ss: usize, dst: usize, bytes: usize): void {
  for (let c: usize = 0; c < bytes; c += 16) {
    let acc = v128.load(dst + c);
    for (let j = 0; j < S; j++)
      acc = f32x4.add(acc, f32x4.mul(v128.load(coef + <usize>j * cs), v128.load(src + <usize>j * ss + c)));
    v128.store(dst + c, acc);
  }
}

/** ug[j] = U_h[ids[t0 + j]] + U_h[V + j] for j < S (rows of DB bytes; U_h at uh). */
function gatherU(uh: usize, ids: usize, t0: i32, S: i32, V: i32, DB: usize, ug: usize): void {
  for (let j = 0; j < S; j++) {
    const x = <usize>load<i32>(ids + (<usize>(t0 + j) << 2));
    const a = uh + x * DB;
    const b = uh + <usize>(V + j) * DB;
    const d = ug + <usize>j * DB;
    for (let c: usize = 0; c < DB; c += 16) v128.store(d + c, f32x4.add(v128.load(a + c), v128.load(b + c)));
  }
}

/** dst[c] += src[c] over `bytes`. */
@inline
function addInto(dst: usize, src: usize, bytes: usize): void {
  for (let c: usize = 0; c < bytes; c += 16) v128.store(dst + c, f32x4.add(v128.load(dst + c), v128.load(src + c)));
}

/**
 * Forward of n samples. Per sample and head h: a = softmax(q·kᵀ/√hd) (max, exp and sum in float64)
 * into att ([n, H, S, S]), and the out-projection pushed through the gather: y_i = Σ_h Σ_j a_ij U_h,j
 * with U_h = PW_V,h·W_O,h ([H, V + S, D], given) and U_h,j = U_h[ids[j]] + U_h[V + j] (= v_j·W_O,h), so
 * y = o·W_O ([n·S, D]) without o. blk: S·3D floats; ug: S·D floats; row: S float64; sv: S·S·16 bytes.
 */
export function attentionForward(
  pw: usize,
  U: usize,
  ids: usize,
  n: i32,
  S: i32,
  V: i32,
  D: i32,
  H: i32,
  att: usize,
  y: usize,
  blk: usize,
  ug: usize,
  row: usize,
  sv: usize,
): void {
  const hd = D / H;
  const hdB = <usize>hd << 2;
  const DB = <usize>D << 2;
  const rowB: usize = DB * 3;
  const uhB = <usize>(V + S) * DB;
  const scale = <f32>(1.0 / Math.sqrt(<f64>hd));
  const zero = f32x4.splat(0);
  for (let b = 0; b < n; b++) {
    gather(pw, ids, b * S, S, V, rowB, blk);
    const yb = y + <usize>(b * S) * DB;
    const yEnd = yb + <usize>S * DB;
    for (let p = yb; p < yEnd; p += 16) v128.store(p, zero);
    for (let h = 0; h < H; h++) {
      const hoB = <usize>h * hdB;
      const ao = att + (<usize>((b * H + h) * S * S) << 2);
      gatherU(U + <usize>h * uhB, ids, b * S, S, V, DB, ug);
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
        splats(ar, S, 1, sv);
        mixAdd(sv, 16, S, ug, DB, yb + <usize>i * DB, DB);
      }
    }
  }
}

/**
 * Backward of n samples from du = ∂loss/∂y ([n·S, D]) and att, with U as in the forward pass:
 * da_ij = du_i·U_h,j (= do_i·v_j), ds = a ⊙ (da − Σ_j a da) (rows), dq = ds·k/√hd, dk = dsᵀ·q/√hd added
 * to g's q and k columns at rows ids[t] and V + s (g: [V + S, 3D], zeroed first; its v columns are
 * left 0); and e_j = Σ_i a_ij du_i added to GE_h's rows ids[j] and V + j (GE: [H, V + S, D], zeroed
 * first), from which the caller gets G_V,h = GE_h·W_O,hᵀ and dW_O,h = PW_V,hᵀ·GE_h.
 * blk, dblk: S·3D floats; ug, e: S·D floats; ds: S·S floats; sv: 2·S·S·16 bytes.
 */
export function attentionBackward(
  pw: usize,
  U: usize,
  ids: usize,
  n: i32,
  S: i32,
  V: i32,
  D: i32,
  H: i32,
  att: usize,
  du: usize,
  g: usize,
  GE: usize,
  blk: usize,
  dblk: usize,
  ug: usize,
  e: usize,
  ds: usize,
  sv: usize,
): void {
  const hd = D / H;
  const hdB = <usize>hd << 2;
  const DB = <usize>D << 2;
  const rowB: usize = DB * 3;
  const uhB = <usize>(V + S) * DB;
  const scale = <f32>(1.0 / Math.sqrt(<f64>hd));
  const zero = f32x4.splat(0);
  const gEnd = g + <usize>(V + S) * rowB;
  for (let p = g; p < gEnd; p += 16) v128.store(p, zero);
  const geEnd = GE + <usize>H * uhB;
  for (let p = GE; p < geEnd; p += 16) v128.store(p, zero);
  const SB = <usize>S << 2;
  for (let b = 0; b < n; b++) {
    gather(pw, ids, b * S, S, V, rowB, blk);
    const dub = du + <usize>(b * S) * DB;
    for (let h = 0; h < H; h++) {
      const hoB = <usize>h * hdB;
      const ao = att + (<usize>((b * H + h) * S * S) << 2);
      const uh = U + <usize>h * uhB;
      gatherU(uh, ids, b * S, S, V, DB, ug);
      for (let i = 0; i < S; i++) {
        const dui = dub + <usize>i * DB;
        const ar = ao + <usize>i * SB;
        const dr = ds + <usize>i * SB;
        let sum: f32 = 0;
        for (let j = 0; j < S; j++) {
          const da = dot(dui, ug + <usize>j * DB, DB);
          store<f32>(dr + (<usize>j << 2), da);
          sum += load<f32>(ar + (<usize>j << 2)) * da;
        }
        for (let j = 0; j < S; j++) {
          const jo = <usize>j << 2;
          store<f32>(dr + jo, load<f32>(ar + jo) * (load<f32>(dr + jo) - sum));
        }
      }
      const geh = GE + <usize>h * uhB;
      const av = sv;
      const dsv = sv + (<usize>(S * S) << 4);
      splats(ao, S * S, 1, av);
      splats(ds, S * S, scale, dsv);
      const SV = <usize>S << 4;
      for (let j = 0; j < S; j++) {
        const jv = <usize>j << 4;
        const ej = e + <usize>j * DB;
        mix(av + jv, SV, S, dub, DB, ej, DB); // e_j = Σ_i a_ij du_i
        const x = <usize>load<i32>(ids + (<usize>(b * S + j) << 2));
        addInto(geh + x * DB, ej, DB);
        addInto(geh + <usize>(V + j) * DB, ej, DB);
        const d = dblk + <usize>j * rowB + hoB;
        mix(dsv + <usize>j * SV, 16, S, blk + DB + hoB, rowB, d, hdB); // dq_j = Σ_i ds_ji k_i /√hd
        mix(dsv + jv, SV, S, blk + hoB, rowB, d + DB, hdB); // dk_j = Σ_i ds_ij q_i /√hd
      }
    }
    for (let s = 0; s < S; s++) {
      const x = <usize>load<i32>(ids + (<usize>(b * S + s) << 2));
      const src = dblk + <usize>s * rowB;
      addInto(g + x * rowB, src, DB * 2);
      addInto(g + <usize>(V + s) * rowB, src, DB * 2);
    }
  }
}

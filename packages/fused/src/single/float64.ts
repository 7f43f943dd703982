/**
 * The fused loss and gradient of seed 004's single-layer query-only attention in plain
 * TypeScript over flat Float64Array buffers: forward (query row only), MSE loss on the last output
 * and the analytic backward in one call, with no allocation per step.
 *
 * Parameter layout (`iclParamLayout` of @attnlab/attention flattened, D = d + 1), "x·W" orientation:
 *   Wq [H, D, D] | Wk [H, D, D] | Wv [H, D, D] | Wo [H, D, nOut]     (P = H·D·(3D + nOut) floats)
 * The prediction is the last output column; the other columns of Wo get zero gradient.
 *
 * The algebra that makes it cheap: with A = Wq Wkᵀ/√D and c = Wv Wo[:, last] (per head), the score
 * of token i is s_i = z_qᵀ A z_i and the head's output is ŷ^h = Σ_i a_i (z_i·c). The batch gradient
 * then needs only two reductions per head, G = Σ_b z_q ⊗ ∂L/∂w (w = Aᵀ z_q) and u = Σ_b g z̄:
 *   dWq = G Wk/√D,  dWk = Gᵀ Wq/√D,  dWv = u ⊗ Wo[:, last],  dWo[:, last] = Wvᵀ u.
 */

// Module-level aliases: global lookups are slow inside sandboxed contexts (jest's vm).
const { sqrt: M_sqrt, exp: M_exp } = Math;
const NEG_INF = -Infinity;

/** Shape of one model. */
export interface IclShape {
  heads: number;
  /** Input dimension; tokens have width d + 1. */
  d: number;
  /** Output width (default 1); the prediction is the last output. */
  nOut?: number;
}

/** Number of parameter floats of one model: H·(d+1)·(3(d+1) + nOut). */
export function paramCount(shape: IclShape): number {
  const D = shape.d + 1;
  return shape.heads * D * (3 * D + (shape.nOut ?? 1));
}

/** Offsets of Wq, Wk, Wv, Wo in the flat parameter vector. */
export function paramOffsets(shape: IclShape): { wq: number; wk: number; wv: number; wo: number; size: number } {
  const D = shape.d + 1;
  const m = shape.heads * D * D;
  return { wq: 0, wk: m, wv: 2 * m, wo: 3 * m, size: 3 * m + shape.heads * D * (shape.nOut ?? 1) };
}

/** Scratch buffers of one fused step. */
export interface StepWork {
  A: Float64Array;
  c: Float64Array;
  G: Float64Array;
  u: Float64Array;
  w: Float64Array;
  a: Float64Array;
  t: Float64Array;
  yh: Float64Array;
  zbar: Float64Array;
  qv: Float64Array;
  grad: Float64Array;
}

/** Allocates scratch for `fusedLossGrad` / `fusedStep`. */
export function allocWork(shape: IclShape, L: number): StepWork {
  const { heads: H } = shape;
  const D = shape.d + 1;
  return {
    A: new Float64Array(H * D * D),
    c: new Float64Array(H * D),
    G: new Float64Array(H * D * D),
    u: new Float64Array(H * D),
    w: new Float64Array(H * D),
    a: new Float64Array(H * L),
    t: new Float64Array(H * L),
    yh: new Float64Array(2 * H),
    zbar: new Float64Array(D),
    qv: new Float64Array(D),
    grad: new Float64Array(paramCount(shape)),
  };
}

/**
 * Forward pass only: predictions ŷ [B] for params `p` (offset `po`), tokens z [B, L, D], queries zq [B, D].
 */
export function fusedForward(
  p: ArrayLike<number>,
  po: number,
  shape: IclShape,
  L: number,
  B: number,
  z: ArrayLike<number>,
  zq: ArrayLike<number>,
  out: Float64Array | Float32Array,
  work: StepWork,
): void {
  prepare(p, po, shape, work);
  const H = shape.heads;
  for (let b = 0; b < B; b++) out[b] = exampleForward(shape, L, b, z, zq, work, H);
}

/** A = Wq Wkᵀ/√D and c = Wv Wo[:, last] per head, into work. */
function prepare(p: ArrayLike<number>, po: number, shape: IclShape, work: StepWork): void {
  const H = shape.heads;
  const nOut = shape.nOut ?? 1;
  const D = shape.d + 1;
  const off = paramOffsets(shape);
  const inv = 1 / M_sqrt(D);
  const { A, c } = work;
  for (let h = 0; h < H; h++) {
    const hq = po + off.wq + h * D * D;
    const hk = po + off.wk + h * D * D;
    const hv = po + off.wv + h * D * D;
    const ho = po + off.wo + h * D * nOut + nOut - 1;
    for (let r = 0; r < D; r++) {
      for (let s = 0; s < D; s++) {
        let acc = 0;
        for (let k = 0; k < D; k++) acc += p[hq + r * D + k]! * p[hk + s * D + k]!;
        A[h * D * D + r * D + s] = acc * inv;
      }
      let acc = 0;
      for (let k = 0; k < D; k++) acc += p[hv + r * D + k]! * p[ho + k * nOut]!;
      c[h * D + r] = acc;
    }
  }
}

/** Forward of example b; leaves per-head w, a (softmax weights), t (z_i·c), ŷ^h in work. */
function exampleForward(
  shape: IclShape,
  L: number,
  b: number,
  z: ArrayLike<number>,
  zq: ArrayLike<number>,
  work: StepWork,
  H: number,
): number {
  const D = shape.d + 1;
  const { A, c, w, a, t, yh } = work;
  const zb = b * L * D;
  const qb = b * D;
  let pred = 0;
  for (let h = 0; h < H; h++) {
    const ah = h * D * D;
    const wh = h * D;
    for (let s = 0; s < D; s++) {
      let acc = 0;
      for (let r = 0; r < D; r++) acc += zq[qb + r]! * A[ah + r * D + s]!;
      w[wh + s] = acc;
    }
    const ch = h * D;
    const lh = h * L;
    let mx = NEG_INF;
    for (let i = 0; i < L; i++) {
      const zi = zb + i * D;
      let s = 0;
      let tt = 0;
      for (let k = 0; k < D; k++) {
        const zv = z[zi + k]!;
        s += zv * w[wh + k]!;
        tt += zv * c[ch + k]!;
      }
      a[lh + i] = s;
      t[lh + i] = tt;
      if (s > mx) mx = s;
    }
    let sum = 0;
    let num = 0;
    for (let i = 0; i < L; i++) {
      const e = M_exp(a[lh + i]! - mx);
      a[lh + i] = e;
      sum += e;
      num += e * t[lh + i]!;
    }
    const inv = 1 / sum;
    for (let i = 0; i < L; i++) a[lh + i] = a[lh + i]! * inv;
    const y = num * inv;
    yh[h] = y;
    pred += y;
  }
  return pred;
}

/**
 * Loss (mean squared error over the batch) and its gradient with respect to the parameters,
 * into `work.grad`. Optional `dPred`: use these ∂L/∂ŷ_b instead of the MSE's (the loss returned
 * is then 0); this is the backward of `fusedForward` for the tfjs gradient kernel.
 */
export function fusedLossGrad(
  p: ArrayLike<number>,
  po: number,
  shape: IclShape,
  L: number,
  B: number,
  z: ArrayLike<number>,
  zq: ArrayLike<number>,
  yq: ArrayLike<number> | null,
  work: StepWork,
  dPred?: ArrayLike<number>,
): number {
  prepare(p, po, shape, work);
  const H = shape.heads;
  const D = shape.d + 1;
  const { G, u, a, t, yh, zbar, qv, grad } = work;
  G.fill(0);
  u.fill(0);
  let loss = 0;
  if (D === 6 && !dPred && z instanceof Float64Array && zq instanceof Float64Array) {
    loss = lossGrad6(H, L, B, z, zq, yq!, work);
    paramGrad(p, po, shape, work, grad);
    return loss / B;
  }
  for (let b = 0; b < B; b++) {
    const pred = exampleForward(shape, L, b, z, zq, work, H);
    let g: number;
    if (dPred) {
      g = dPred[b]!;
    } else {
      const diff = pred - yq![b]!;
      loss += diff * diff;
      g = (2 * diff) / B;
    }
    const zb = b * L * D;
    const qb = b * D;
    for (let h = 0; h < H; h++) {
      zbar.fill(0);
      qv.fill(0);
      const lh = h * L;
      for (let i = 0; i < L; i++) {
        const ai = a[lh + i]!;
        const at = ai * t[lh + i]!;
        const zi = zb + i * D;
        for (let k = 0; k < D; k++) {
          const zv = z[zi + k]!;
          zbar[k] = zbar[k]! + ai * zv;
          qv[k] = qv[k]! + at * zv;
        }
      }
      const y = yh[h]!;
      const uh = h * D;
      const gh = h * D * D;
      for (let k = 0; k < D; k++) {
        u[uh + k] = u[uh + k]! + g * zbar[k]!;
        // ∂L/∂w_k = g Σ_i a_i (t_i − ŷ^h) z_ik
        qv[k] = g * (qv[k]! - y * zbar[k]!);
      }
      for (let r = 0; r < D; r++) {
        const zr = zq[qb + r]!;
        if (zr === 0) continue;
        for (let s = 0; s < D; s++) G[gh + r * D + s] = G[gh + r * D + s]! + zr * qv[s]!;
      }
    }
  }
  paramGrad(p, po, shape, work, grad);
  return loss / B;
}

/** Parameter gradient from the reductions G and u (zero for the columns of Wo before the last). */
function paramGrad(p: ArrayLike<number>, po: number, shape: IclShape, work: StepWork, grad: Float64Array): void {
  const H = shape.heads;
  const nOut = shape.nOut ?? 1;
  const last = nOut - 1;
  const D = shape.d + 1;
  const off = paramOffsets(shape);
  const inv = 1 / M_sqrt(D);
  const { G, u } = work;
  for (let h = 0; h < H; h++) {
    const hq = off.wq + h * D * D;
    const hk = off.wk + h * D * D;
    const hv = off.wv + h * D * D;
    const ho = off.wo + h * D * nOut;
    const gh = h * D * D;
    for (let r = 0; r < D; r++) {
      for (let c = 0; c < D; c++) {
        let aq = 0;
        let ak = 0;
        for (let s = 0; s < D; s++) {
          aq += G[gh + r * D + s]! * p[po + hk + s * D + c]!;
          ak += G[gh + s * D + r]! * p[po + hq + s * D + c]!;
        }
        grad[hq + r * D + c] = aq * inv;
        grad[hk + r * D + c] = ak * inv;
        grad[hv + r * D + c] = u[h * D + r]! * p[po + ho + c * nOut + last]!;
      }
    }
    for (let c = 0; c < D; c++) {
      let acc = 0;
      for (let r = 0; r < D; r++) acc += u[h * D + r]! * p[po + hv + r * D + c]!;
      for (let j = 0; j < last; j++) grad[ho + c * nOut + j] = 0;
      grad[ho + c * nOut + last] = acc;
    }
  }
}

/**
 * The batch loop of `fusedLossGrad` unrolled for D = 6 (d = 5, the seed's configuration): the
 * token row, w and c live in locals. Same arithmetic as the generic loop; returns Σ_b (ŷ−y)².
 */
function lossGrad6(
  H: number,
  L: number,
  B: number,
  z: Float64Array,
  zq: Float64Array,
  yq: ArrayLike<number>,
  work: StepWork,
): number {
  const { A, c, G, u, a, t, yh } = work;
  let loss = 0;
  for (let b = 0; b < B; b++) {
    const zb = b * L * 6;
    const qb = b * 6;
    const q0 = zq[qb]!,
      q1 = zq[qb + 1]!,
      q2 = zq[qb + 2]!,
      q3 = zq[qb + 3]!,
      q4 = zq[qb + 4]!,
      q5 = zq[qb + 5]!;
    let pred = 0;
    for (let h = 0; h < H; h++) {
      const ah = h * 36;
      const w0 =
        q0 * A[ah]! + q1 * A[ah + 6]! + q2 * A[ah + 12]! + q3 * A[ah + 18]! + q4 * A[ah + 24]! + q5 * A[ah + 30]!;
      const w1 =
        q0 * A[ah + 1]! + q1 * A[ah + 7]! + q2 * A[ah + 13]! + q3 * A[ah + 19]! + q4 * A[ah + 25]! + q5 * A[ah + 31]!;
      const w2 =
        q0 * A[ah + 2]! + q1 * A[ah + 8]! + q2 * A[ah + 14]! + q3 * A[ah + 20]! + q4 * A[ah + 26]! + q5 * A[ah + 32]!;
      const w3 =
        q0 * A[ah + 3]! + q1 * A[ah + 9]! + q2 * A[ah + 15]! + q3 * A[ah + 21]! + q4 * A[ah + 27]! + q5 * A[ah + 33]!;
      const w4 =
        q0 * A[ah + 4]! + q1 * A[ah + 10]! + q2 * A[ah + 16]! + q3 * A[ah + 22]! + q4 * A[ah + 28]! + q5 * A[ah + 34]!;
      const w5 =
        q0 * A[ah + 5]! + q1 * A[ah + 11]! + q2 * A[ah + 17]! + q3 * A[ah + 23]! + q4 * A[ah + 29]! + q5 * A[ah + 35]!;
      const ch = h * 6;
      const c0 = c[ch]!,
        c1 = c[ch + 1]!,
        c2 = c[ch + 2]!,
        c3 = c[ch + 3]!,
        c4 = c[ch + 4]!,
        c5 = c[ch + 5]!;
      const lh = h * L;
      let mx = NEG_INF;
      for (let i = 0, zi = zb; i < L; i++, zi += 6) {
        const z0 = z[zi]!,
          z1 = z[zi + 1]!,
          z2 = z[zi + 2]!,
          z3 = z[zi + 3]!,
          z4 = z[zi + 4]!,
          z5 = z[zi + 5]!;
        const s = z0 * w0 + z1 * w1 + z2 * w2 + z3 * w3 + z4 * w4 + z5 * w5;
        a[lh + i] = s;
        t[lh + i] = z0 * c0 + z1 * c1 + z2 * c2 + z3 * c3 + z4 * c4 + z5 * c5;
        if (s > mx) mx = s;
      }
      let sum = 0;
      let num = 0;
      for (let i = 0; i < L; i++) {
        const e = M_exp(a[lh + i]! - mx);
        a[lh + i] = e;
        sum += e;
        num += e * t[lh + i]!;
      }
      const y = num / sum;
      yh[h] = y;
      // a holds unnormalised weights; the backward divides by sum once per head.
      pred += y;
      yh[H + h] = sum;
    }
    const diff = pred - yq[b]!;
    loss += diff * diff;
    const g = (2 * diff) / B;
    for (let h = 0; h < H; h++) {
      const lh = h * L;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        s4 = 0,
        s5 = 0;
      let r0 = 0,
        r1 = 0,
        r2 = 0,
        r3 = 0,
        r4 = 0,
        r5 = 0;
      for (let i = 0, zi = zb; i < L; i++, zi += 6) {
        const ai = a[lh + i]!;
        const at = ai * t[lh + i]!;
        const z0 = z[zi]!,
          z1 = z[zi + 1]!,
          z2 = z[zi + 2]!,
          z3 = z[zi + 3]!,
          z4 = z[zi + 4]!,
          z5 = z[zi + 5]!;
        s0 += ai * z0;
        s1 += ai * z1;
        s2 += ai * z2;
        s3 += ai * z3;
        s4 += ai * z4;
        s5 += ai * z5;
        r0 += at * z0;
        r1 += at * z1;
        r2 += at * z2;
        r3 += at * z3;
        r4 += at * z4;
        r5 += at * z5;
      }
      const gs = g / yh[H + h]!;
      const y = yh[h]!;
      const uh = h * 6;
      u[uh] = u[uh]! + gs * s0;
      u[uh + 1] = u[uh + 1]! + gs * s1;
      u[uh + 2] = u[uh + 2]! + gs * s2;
      u[uh + 3] = u[uh + 3]! + gs * s3;
      u[uh + 4] = u[uh + 4]! + gs * s4;
      u[uh + 5] = u[uh + 5]! + gs * s5;
      const d0 = gs * (r0 - y * s0),
        d1 = gs * (r1 - y * s1),
        d2 = gs * (r2 - y * s2);
      const d3 = gs * (r3 - y * s3),
        d4 = gs * (r4 - y * s4),
        d5 = gs * (r5 - y * s5);
      const gh = h * 36;
      for (let r = 0; r < 6; r++) {
        const zr = zq[qb + r]!;
        if (zr === 0) continue;
        const o = gh + r * 6;
        G[o] = G[o]! + zr * d0;
        G[o + 1] = G[o + 1]! + zr * d1;
        G[o + 2] = G[o + 2]! + zr * d2;
        G[o + 3] = G[o + 3]! + zr * d3;
        G[o + 4] = G[o + 4]! + zr * d4;
        G[o + 5] = G[o + 5]! + zr * d5;
      }
    }
  }
  return loss;
}

/**
 * The fused loss and gradient of seed 004's causal stack (attention's `iclStack`) in plain float64
 * TypeScript: forward, MSE loss on the last output and the analytic backward in one call, one
 * example at a time with no allocation per step.
 *
 * Model (per example): x₀ = [z_1 … z_L; z_q] (T = L + 1 tokens of width D = d + 1). Each layer
 * lets token i attend to tokens j < i with one softmax over q_i·k_j/√D (token 0 attends to nothing
 * and outputs 0), out = Σ_h (A^h V^h) Wo^h, and x ← out (or x + out with `residual`). The
 * prediction is x_n[T−1]·final[:, last].
 *
 * Parameter layout (`iclParamLayout` of @attnlab/attention flattened; "x·W" orientation,
 * row-major), per stored layer (one when `tied`):
 *   Wq [H, D, D] | Wk [H, D, D] | Wv [H, D, D] | Wo [H, D, D], then final [D, nOut].
 */

const { sqrt: M_sqrt, exp: M_exp } = Math;

/** Shape of a causal stack. */
export interface StackShape {
  heads: number;
  /** Input dimension; tokens have width d + 1. */
  d: number;
  /** Number of causal layers (≥ 1). */
  layers: number;
  /** One set of layer weights applied `layers` times. */
  tied: boolean;
  /** x ← x + layer(x) instead of x ← layer(x). */
  residual: boolean;
  /** Width of the final linear (default 1); the prediction is its last output. */
  nOut?: number;
}

/** Offsets of one stored layer's matrices and of the final linear in the flat parameter vector. */
export interface StackOffsets {
  layers: Array<{ wq: number; wk: number; wv: number; wo: number }>;
  final: number;
  size: number;
}

/** Parameter offsets of a stack (`layers` has one entry per stored layer). */
export function stackOffsets(s: StackShape): StackOffsets {
  const D = s.d + 1;
  const m = s.heads * D * D;
  const stored = s.tied ? 1 : s.layers;
  const layers = Array.from({ length: stored }, (_, l) => ({
    wq: 4 * m * l,
    wk: 4 * m * l + m,
    wv: 4 * m * l + 2 * m,
    wo: 4 * m * l + 3 * m,
  }));
  return { layers, final: 4 * m * stored, size: 4 * m * stored + D * (s.nOut ?? 1) };
}

/** Number of parameters of a stack. */
export function stackParamCount(s: StackShape): number {
  return stackOffsets(s).size;
}

/** Per-example activations and gradients of a stack step. */
export interface StackWork {
  /** x_l for l = 0..layers: [(layers+1)·T·D] */
  x: Float64Array;
  /** per layer and head: Q [T][D], Kᵀ [D][T], Vᵀ [D][T], C [T][D] ([layers·H·T·D] each) */
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  c: Float64Array;
  /** per layer and head: softmax weights [layers·H·T·T] */
  a: Float64Array;
  /** gradient scratch: dX (T·D) ×2, dC, dQ, dK, dV (T·D), dA row (T) */
  dx: Float64Array;
  dxPrev: Float64Array;
  dc: Float64Array;
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
  da: Float64Array;
  grad: Float64Array;
}

/** Allocates the scratch of `stackLossGrad` for context length L. */
export function allocStackWork(s: StackShape, L: number): StackWork {
  const D = s.d + 1;
  const T = L + 1;
  const H = s.heads;
  const n = s.layers;
  return {
    x: new Float64Array((n + 1) * T * D),
    q: new Float64Array(n * H * T * D),
    k: new Float64Array(n * H * T * D),
    v: new Float64Array(n * H * T * D),
    c: new Float64Array(n * H * T * D),
    a: new Float64Array(n * H * T * T),
    dx: new Float64Array(T * D),
    dxPrev: new Float64Array(T * D),
    dc: new Float64Array(T * D),
    dq: new Float64Array(T * D),
    dk: new Float64Array(T * D),
    dv: new Float64Array(T * D),
    da: new Float64Array(T),
    grad: new Float64Array(stackParamCount(s)),
  };
}

/** Rows i0 .. T−1 of out[T×D] = X[T×D] · W[D×D] (W at offset wo of p). */
function matMulTD(
  X: Float64Array,
  xo: number,
  p: ArrayLike<number>,
  wo: number,
  out: Float64Array,
  oo: number,
  T: number,
  D: number,
  i0 = 0,
): void {
  for (let i = i0; i < T; i++) {
    for (let c = 0; c < D; c++) {
      let acc = 0;
      for (let k = 0; k < D; k++) acc += X[xo + i * D + k]! * p[wo + k * D + c]!;
      out[oo + i * D + c] = acc;
    }
  }
}

/** Forward of one example (tokens at z[zo..], query at zq[qo..]) into work; returns ŷ. K and V are kept transposed ([D][T]) so the inner loops run over tokens. */
function exampleForward(
  p: ArrayLike<number>,
  po: number,
  s: StackShape,
  off: StackOffsets,
  L: number,
  z: ArrayLike<number>,
  zo: number,
  zq: ArrayLike<number>,
  qo: number,
  w: StackWork,
): number {
  const D = s.d + 1;
  const T = L + 1;
  const H = s.heads;
  const inv = 1 / M_sqrt(D);
  const { x, q, k: kT, v: vT, c, a } = w;
  for (let i = 0; i < L * D; i++) x[i] = z[zo + i]!;
  for (let j = 0; j < D; j++) x[L * D + j] = zq[qo + j]!;
  for (let l = 0; l < s.layers; l++) {
    const lw = off.layers[s.tied ? 0 : l]!;
    const xo = l * T * D;
    const xn = (l + 1) * T * D;
    // The last layer only needs the query token's row (the prediction reads nothing else).
    const i0 = l === s.layers - 1 ? T - 1 : 0;
    for (let i = i0 * D; i < T * D; i++) x[xn + i] = s.residual ? x[xo + i]! : 0;
    for (let h = 0; h < H; h++) {
      const ho = (l * H + h) * T * D;
      const ao = (l * H + h) * T * T;
      const wq = po + lw.wq + h * D * D,
        wk = po + lw.wk + h * D * D,
        wv = po + lw.wv + h * D * D;
      matMulTD(x, xo, p, wq, q, ho, T, D, i0);
      for (let j = 0; j < T; j++) {
        for (let cc = 0; cc < D; cc++) {
          let sk = 0;
          let sv = 0;
          for (let kk = 0; kk < D; kk++) {
            const xv = x[xo + j * D + kk]!;
            sk += xv * p[wk + kk * D + cc]!;
            sv += xv * p[wv + kk * D + cc]!;
          }
          kT[ho + cc * T + j] = sk;
          vT[ho + cc * T + j] = sv;
        }
      }
      if (i0 === 0) {
        for (let j = 0; j < T; j++) a[ao + j] = 0;
        for (let cc = 0; cc < D; cc++) c[ho + cc] = 0;
      }
      for (let i = i0 === 0 ? 1 : i0; i < T; i++) {
        const ar = ao + i * T;
        for (let j = 0; j < i; j++) a[ar + j] = 0;
        for (let cc = 0; cc < D; cc++) {
          const qc = q[ho + i * D + cc]! * inv;
          const kr = ho + cc * T;
          for (let j = 0; j < i; j++) a[ar + j] = a[ar + j]! + qc * kT[kr + j]!;
        }
        let mx = -Infinity;
        for (let j = 0; j < i; j++) if (a[ar + j]! > mx) mx = a[ar + j]!;
        let sum = 0;
        for (let j = 0; j < i; j++) {
          const e = M_exp(a[ar + j]! - mx);
          a[ar + j] = e;
          sum += e;
        }
        const r = 1 / sum;
        for (let j = 0; j < i; j++) a[ar + j] = a[ar + j]! * r;
        for (let cc = 0; cc < D; cc++) {
          const vr = ho + cc * T;
          let acc = 0;
          for (let j = 0; j < i; j++) acc += a[ar + j]! * vT[vr + j]!;
          c[ho + i * D + cc] = acc;
        }
      }
      // x_{l+1} += C^h Wo^h
      const wo = po + lw.wo + h * D * D;
      for (let i = i0; i < T; i++) {
        for (let cc = 0; cc < D; cc++) {
          let acc = 0;
          for (let kk = 0; kk < D; kk++) acc += c[ho + i * D + kk]! * p[wo + kk * D + cc]!;
          x[xn + i * D + cc] = x[xn + i * D + cc]! + acc;
        }
      }
    }
  }
  const last = s.layers * T * D + L * D;
  let y = 0;
  const nOut = s.nOut ?? 1;
  for (let j = 0; j < D; j++) y += x[last + j]! * p[po + off.final + j * nOut + nOut - 1]!;
  return y;
}

/** Predictions ŷ [B] of a stack for tokens z [B, L, D] and queries zq [B, D]. */
export function stackForward(
  p: ArrayLike<number>,
  po: number,
  s: StackShape,
  L: number,
  B: number,
  z: ArrayLike<number>,
  zq: ArrayLike<number>,
  out: Float64Array | Float32Array,
  work: StackWork,
): void {
  const off = stackOffsets(s);
  const D = s.d + 1;
  for (let b = 0; b < B; b++) out[b] = exampleForward(p, po, s, off, L, z, b * L * D, zq, b * D, work);
}

/**
 * Mean squared error over the batch and its gradient with respect to every parameter (into
 * work.grad), by forward then analytic backward per example. With `dPred`, the gradient is
 * Σ_b dPred[b]·∂ŷ_b/∂params instead (the backward of `stackForward`; yq is ignored, returns 0).
 */
export function stackLossGrad(
  p: ArrayLike<number>,
  po: number,
  s: StackShape,
  L: number,
  B: number,
  z: ArrayLike<number>,
  zq: ArrayLike<number>,
  yq: ArrayLike<number> | null,
  work: StackWork,
  dPred?: ArrayLike<number>,
): number {
  const off = stackOffsets(s);
  const D = s.d + 1;
  const T = L + 1;
  const H = s.heads;
  const nOut = s.nOut ?? 1;
  const inv = 1 / M_sqrt(D);
  const { x, q, k: kT, v: vT, c, a, dc, dq, dk, dv, da, grad } = work;
  let dx = work.dx;
  let dxPrev = work.dxPrev;
  grad.fill(0);
  let loss = 0;
  for (let b = 0; b < B; b++) {
    const pred = exampleForward(p, po, s, off, L, z, b * L * D, zq, b * D, work);
    let g: number;
    if (dPred) {
      g = dPred[b]!;
    } else {
      const diff = pred - yq![b]!;
      loss += diff * diff;
      g = (2 * diff) / B;
    }
    // final linear
    const last = s.layers * T * D + L * D;
    dx.fill(0);
    for (let j = 0; j < D; j++) {
      const f = off.final + j * nOut + nOut - 1;
      grad[f] = grad[f]! + g * x[last + j]!;
      dx[L * D + j] = g * p[po + f]!;
    }
    for (let l = s.layers - 1; l >= 0; l--) {
      const lw = off.layers[s.tied ? 0 : l]!;
      const xo = l * T * D;
      // rows of ∂L/∂x_{l+1} that can be nonzero: only the query's in the last layer
      const i0 = l === s.layers - 1 ? T - 1 : 0;
      // dxPrev collects ∂L/∂x_l
      if (s.residual) dxPrev.set(dx);
      else dxPrev.fill(0);
      for (let h = 0; h < H; h++) {
        const ho = (l * H + h) * T * D;
        const ao = (l * H + h) * T * T;
        const wq = lw.wq + h * D * D,
          wk = lw.wk + h * D * D,
          wv = lw.wv + h * D * D,
          wo = lw.wo + h * D * D;
        // dC = dX Woᵀ, dWo += Cᵀ dX
        for (let i = i0; i < T; i++) {
          for (let kk = 0; kk < D; kk++) {
            let acc = 0;
            for (let cc = 0; cc < D; cc++) acc += dx[i * D + cc]! * p[po + wo + kk * D + cc]!;
            dc[i * D + kk] = acc;
          }
        }
        for (let kk = 0; kk < D; kk++) {
          for (let cc = 0; cc < D; cc++) {
            let acc = 0;
            for (let i = i0; i < T; i++) acc += c[ho + i * D + kk]! * dx[i * D + cc]!;
            grad[wo + kk * D + cc] = grad[wo + kk * D + cc]! + acc;
          }
        }
        // dk, dv hold ∂L/∂Kᵀ, ∂L/∂Vᵀ ([D][T]); dq holds ∂L/∂Q ([T][D])
        dq.fill(0);
        dk.fill(0);
        dv.fill(0);
        for (let i = Math.max(1, i0); i < T; i++) {
          const ar = ao + i * T;
          // dA_ij = dC_i·V_j and dV_j += A_ij dC_i
          for (let j = 0; j < i; j++) da[j] = 0;
          for (let cc = 0; cc < D; cc++) {
            const dci = dc[i * D + cc]!;
            const vr = cc * T;
            for (let j = 0; j < i; j++) {
              da[j] = da[j]! + dci * vT[ho + vr + j]!;
              dv[vr + j] = dv[vr + j]! + a[ar + j]! * dci;
            }
          }
          // softmax backward, then the scores' 1/√D
          let dot = 0;
          for (let j = 0; j < i; j++) dot += a[ar + j]! * da[j]!;
          for (let j = 0; j < i; j++) da[j] = a[ar + j]! * (da[j]! - dot) * inv;
          for (let cc = 0; cc < D; cc++) {
            const kr = cc * T;
            const qic = q[ho + i * D + cc]!;
            let acc = 0;
            for (let j = 0; j < i; j++) {
              const ds = da[j]!;
              acc += ds * kT[ho + kr + j]!;
              dk[kr + j] = dk[kr + j]! + ds * qic;
            }
            dq[i * D + cc] = acc;
          }
        }
        // dW = Xᵀ dY and dX += dY Wᵀ for the three projections
        for (let r = 0; r < D; r++) {
          for (let cc = 0; cc < D; cc++) {
            let aq = 0,
              ak = 0,
              av = 0;
            for (let i = 0; i < T; i++) {
              const xi = x[xo + i * D + r]!;
              aq += xi * dq[i * D + cc]!;
              ak += xi * dk[cc * T + i]!;
              av += xi * dv[cc * T + i]!;
            }
            grad[wq + r * D + cc] = grad[wq + r * D + cc]! + aq;
            grad[wk + r * D + cc] = grad[wk + r * D + cc]! + ak;
            grad[wv + r * D + cc] = grad[wv + r * D + cc]! + av;
          }
        }
        for (let i = 0; i < T; i++) {
          for (let r = 0; r < D; r++) {
            let acc = 0;
            for (let cc = 0; cc < D; cc++) {
              acc +=
                dq[i * D + cc]! * p[po + wq + r * D + cc]! +
                dk[cc * T + i]! * p[po + wk + r * D + cc]! +
                dv[cc * T + i]! * p[po + wv + r * D + cc]!;
            }
            dxPrev[i * D + r] = dxPrev[i * D + r]! + acc;
          }
        }
      }
      const t = dx;
      dx = dxPrev;
      dxPrev = t;
    }
  }
  return loss / B;
}

/**
 * QK and OV circuits of seed 004's attention, and the statistics of its `calculate_statistics`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { attentionDims, stackDims, type IclAttentionParams, type IclStackParams } from './params.js';

/** One head's matrices and circuits (tensors; dispose with {@link disposeIclCircuits}). */
export interface IclHeadCircuit {
  layer: number;
  head: number;
  /** [D, D] (x·W orientation) */
  WQ: tf.Tensor2D;
  WK: tf.Tensor2D;
  WV: tf.Tensor2D;
  /** [D, nOut] (single layer) or [D, D] (stack layer) */
  WO: tf.Tensor2D;
  /** W_Q W_Kᵀ / √D, [D, D]: score_i = z_q·QK·z_iᵀ. */
  QK: tf.Tensor2D;
  /** W_V W_O, times the final linear for the last layer of a stack: [D, nOut] or [D, D]. */
  OV: tf.Tensor2D;
}

/** The seed's per-head statistics, as plain numbers. */
export interface IclCircuitStatistics {
  layer: number;
  head: number;
  /** w^h: mean of the first d diagonal entries of QK. */
  w: number;
  /** Population variance of the first d diagonal entries of QK. */
  diagVariance: number;
  /** Largest |entry| of QK's d×d block off its diagonal (0 when d = 1: there are none). */
  offDiagSupNorm: number;
  /** μ^h = OV[last, last]. */
  mu: number;
  /** Largest |OV[i, last]| over the first d rows. */
  ovRestSupNorm: number;
  /** The QK circuit, row-major. */
  qk: number[][];
  /** The OV circuit, row-major. */
  ov: number[][];
}

function isStack(p: IclAttentionParams | IclStackParams): p is IclStackParams {
  return typeof p === 'object' && p !== null && 'layers' in p;
}

/**
 * Every head's W_Q, W_K, W_V, W_O and circuits QK^h = W_Q^h W_K^hᵀ/√(d+1), OV^h = W_V^h W_O^h
 * (times the final linear on the last layer of a stack with more than one layer, as the seed's
 * `calculate_statistics`), layer by layer (a tied stack lists its shared layer numLayers times).
 * @example
 * const circuits = iclCircuits(initIclAttention({ d: 5, numHeads: 2 }));
 * circuits[1].QK.shape; // [6, 6]
 */
export function iclCircuits(params: IclAttentionParams | IclStackParams): IclHeadCircuit[] {
  const fn = 'iclCircuits';
  const stack = isStack(params);
  const { H, D } = stack ? stackDims(fn, params) : attentionDims(fn, params);
  const layers = stack
    ? Array.from({ length: params.numLayers }, (_, l) => (params.tied ? params.layers[0]! : params.layers[l]!))
    : [params];
  const out: IclHeadCircuit[] = [];
  tf.tidy(() => {
    layers.forEach((p, l) => {
      const withFinal = stack && params.numLayers > 1 && l === params.numLayers - 1;
      for (let h = 0; h < H; h++) {
        const pick = (W: tf.Tensor3D) =>
          tf.reshape(tf.slice(W, [h, 0, 0], [1, D, W.shape[2]]), [D, W.shape[2]]) as tf.Tensor2D;
        const WQ = pick(p.Wq);
        const WK = pick(p.Wk);
        const WV = pick(p.Wv);
        const WO = pick(p.Wo);
        const QK = tf.mul(tf.matMul(WQ, WK, false, true), 1 / Math.sqrt(D)) as tf.Tensor2D;
        let OV = tf.matMul(WV, WO) as tf.Tensor2D;
        if (withFinal) OV = tf.matMul(OV, params.final) as tf.Tensor2D;
        const c: IclHeadCircuit = { layer: l, head: h, WQ, WK, WV, WO, QK, OV };
        for (const t of [WQ, WK, WV, WO, QK, OV]) tf.keep(t);
        out.push(c);
      }
    });
  });
  return out;
}

/**
 * Disposes the tensors of {@link iclCircuits}' result.
 * @example
 * disposeIclCircuits(iclCircuits(params));
 */
export function disposeIclCircuits(circuits: IclHeadCircuit[]): void {
  for (const c of circuits) tf.dispose([c.WQ, c.WK, c.WV, c.WO, c.QK, c.OV]);
}

function rows(values: Float32Array | Int32Array | Uint8Array, r: number, c: number): number[][] {
  return Array.from({ length: r }, (_, i) => Array.from(values.subarray(i * c, (i + 1) * c)));
}

/**
 * The statistics seed 004's `calculate_statistics` prints, per layer and head: w^h (mean of the
 * first d diagonal entries of QK), their variance, the sup-norm of the off-diagonal d×d block of
 * QK, μ^h = OV[last, last] and the sup-norm of OV[:d, last]; with the circuits as plain arrays.
 * @example
 * const stats = await iclCircuitStatistics(params);
 * stats.map((s) => [s.w, s.mu]); // [[w^1, μ^1], [w^2, μ^2], …]
 */
export async function iclCircuitStatistics(
  params: IclAttentionParams | IclStackParams,
): Promise<IclCircuitStatistics[]> {
  const circuits = iclCircuits(params);
  try {
    const out: IclCircuitStatistics[] = [];
    for (const c of circuits) {
      const [D, C] = c.OV.shape;
      const d = D - 1;
      const qk = rows(await c.QK.data(), D, D);
      const ov = rows(await c.OV.data(), D, C);
      const diag = Array.from({ length: d }, (_, i) => qk[i]![i]!);
      const w = diag.reduce((s, x) => s + x, 0) / d;
      const diagVariance = diag.reduce((s, x) => s + (x - w) ** 2, 0) / d;
      let offDiagSupNorm = 0;
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++) if (i !== j) offDiagSupNorm = Math.max(offDiagSupNorm, Math.abs(qk[i]![j]!));
      const mu = ov[D - 1]![C - 1]!;
      let ovRestSupNorm = 0;
      for (let i = 0; i < d; i++) ovRestSupNorm = Math.max(ovRestSupNorm, Math.abs(ov[i]![C - 1]!));
      out.push({ layer: c.layer, head: c.head, w, diagVariance, offDiagSupNorm, mu, ovRestSupNorm, qk, ov });
    }
    return out;
  } finally {
    disposeIclCircuits(circuits);
  }
}

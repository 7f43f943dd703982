/**
 * The single-layer model on the SIMD engine: assembly/icl.ts's `lossGrad` (any d; d = 5 takes
 * the unrolled loop) and `train`, in src/single/float64.ts's parameter layout.
 */
import type { SimdKernel } from '../simd/model.js';
import { paramCount, type IclShape } from './float64.js';

/** The SIMD kernel of a single-layer model with context length L. */
export function singleSimdKernel(shape: IclShape, L: number): SimdKernel {
  const H = shape.heads;
  const d = shape.d;
  const nOut = shape.nOut ?? 1;
  return {
    P: paramCount(shape),
    scratchBytes: (ex) => ex.scratchBytes(H, d, L),
    lossGrad: (ex, state, zi, zqi, yq, sc, grad, part, Bnorm) =>
      ex.lossGrad(state, H, d, nOut, L, part, zi, zqi, yq, sc, grad, Bnorm, 0),
    worker: { kind: 'single', H, d, nOut, layers: 1, tied: 0, residual: 0 },
    train: (ex, a) =>
      ex.train(a.db, a.ob, a.state, H, nOut, a.B, a.t0, a.n, a.losses, a.zi, a.zqi, a.yq, a.nb, a.tmp, a.sc, a.grad),
  };
}

/** Bytes of the single layer's loss scratch (assembly/icl.ts's scratchBytes). */
export function singleScratchBytes(shape: IclShape, L: number): number {
  const D = shape.d + 1;
  const H = shape.heads;
  return (H * (2 * D * D + 2 * D + 2 * L + 2) + 3 * D) * 16 + H * (D * D + D) * 8;
}

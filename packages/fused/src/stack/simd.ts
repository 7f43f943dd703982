/**
 * The causal stack on the SIMD engine: assembly/icl.ts's `stackLossGrad4` (src/stack/float64.ts's
 * algorithm and parameter layout, four examples per f32x4) and `trainStack`.
 */
import type { SimdKernel } from '../simd/model.js';
import { stackParamCount, type StackShape } from './float64.js';

/** The SIMD kernel of a causal stack with context length L. */
export function stackSimdKernel(shape: StackShape, L: number): SimdKernel {
  const { heads: H, d, layers } = shape;
  const nOut = shape.nOut ?? 1;
  const tied = shape.tied ? 1 : 0;
  const residual = shape.residual ? 1 : 0;
  return {
    P: stackParamCount(shape),
    scratchBytes: (ex) => ex.stackScratchBytes(H, d, layers, tied ? 1 : layers, L, nOut),
    lossGrad: (ex, state, zi, zqi, yq, sc, grad, part, Bnorm) =>
      ex.stackLossGrad4(state, H, d, layers, tied, residual, nOut, L, part, zi, zqi, yq, sc, grad, Bnorm),
    worker: { kind: 'stack', H, d, nOut, layers, tied, residual },
    train: (ex, a) =>
      ex.trainStack(
        a.db,
        a.ob,
        a.state,
        H,
        layers,
        tied,
        residual,
        nOut,
        a.B,
        a.t0,
        a.n,
        a.losses,
        a.zi,
        a.zqi,
        a.yq,
        a.nb,
        a.tmp,
        a.sc,
        a.grad,
      ),
  };
}

/** Bytes of the stack's loss scratch (assembly/icl.ts's stackScratchBytes). */
export function stackScratchBytes(shape: StackShape, L: number): number {
  const D = shape.d + 1;
  const T = L + 1;
  const { heads: H, layers } = shape;
  const stored = shape.tied ? 1 : layers;
  const slots =
    (layers + 1) * T * D +
    4 * layers * H * T * D +
    layers * H * T * T +
    4 * T * D +
    2 * D * T +
    T +
    2 * (stored * 4 * H * D * D + D * (shape.nOut ?? 1));
  return slots * 16;
}

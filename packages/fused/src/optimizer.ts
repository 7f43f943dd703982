/**
 * SGD, Adam and AdamW over flat float64 buffers, with PyTorch's rules exactly as
 * `@attnlab/train`'s optimizers (packages/train/src/optimizers.ts), each named parameter (a
 * segment of the flat vector) at its own step. The SIMD module's `optimize` (assembly/icl.ts) is
 * the same arithmetic in the same order.
 *
 * Per parameter p with gradient g, at that parameter's step t (1-based):
 *   SGD:   g ← g + p·wd (wd ≠ 0);  p ← p − g·lr
 *   Adam:  g ← g + p·wd (wd ≠ 0)                       AdamW: p ← p·(1 − lr·wd) (wd ≠ 0)
 *          m ← m·β1 + g·(1−β1);  v ← v·β2 + (g·(1−β2))·g
 *          p ← p + (m / (√v / √(1−β2ᵗ) + eps))·(−lr/(1−β1ᵗ))
 */
import type { OptimizerType } from '@attnlab/train';

const { sqrt: M_sqrt, pow: M_pow } = Math;

/** The optimizer of a spec, every field present. */
export interface FlatOptimizer {
  method: OptimizerType;
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

/** A named parameter's place in the flat vector. */
export interface Segment {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** The optimizer methods, with their codes in the SIMD module's optimizer block. */
export const METHOD_CODES: Record<OptimizerType, number> = { sgd: 0, adam: 1, adamw: 2 };

/**
 * One update of params (with slots m, v; unused by SGD) from grad, segment s at step
 * steps[s] + 1 (which this stores).
 */
export function optimizeFlat(
  o: FlatOptimizer,
  params: Float64Array | Float32Array,
  m: Float64Array | Float32Array,
  v: Float64Array | Float32Array,
  grad: ArrayLike<number>,
  segments: readonly Pick<Segment, 'offset' | 'length'>[],
  steps: Int32Array | number[],
): void {
  const { lr, weightDecay: wd, eps } = o;
  const [b1, b2] = o.betas;
  const code = METHOD_CODES[o.method];
  const decay = 1 - lr * wd;
  for (let sg = 0; sg < segments.length; sg++) {
    const { offset, length } = segments[sg]!;
    const t = steps[sg]! + 1;
    steps[sg] = t;
    const end = offset + length;
    if (code === 0) {
      for (let i = offset; i < end; i++) {
        let g = grad[i]!;
        const p = params[i]!;
        if (wd !== 0) g = g + p * wd;
        params[i] = p - g * lr;
      }
      continue;
    }
    const stepSize = lr / (1 - M_pow(b1, t));
    const bc2Sqrt = M_sqrt(1 - M_pow(b2, t));
    for (let i = offset; i < end; i++) {
      let g = grad[i]!;
      let p = params[i]!;
      if (wd !== 0) {
        if (code === 2) p = p * decay;
        else g = g + p * wd;
      }
      const mi = m[i]! * b1 + g * (1 - b1);
      const vi = v[i]! * b2 + g * (1 - b2) * g;
      m[i] = mi;
      v[i] = vi;
      params[i] = p + (mi / (M_sqrt(vi) / bc2Sqrt + eps)) * -stepSize;
    }
  }
}

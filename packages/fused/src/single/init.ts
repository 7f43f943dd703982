/** The single layer's initial weights as one flat vector (for the multi-model and WebGPU trainers). */
import { iclInitialParams } from '@attnlab/attention';
import { paramOffsets, type IclShape } from './float64.js';

/**
 * `iclInitialParams({ d, numHeads: heads, layers: 1, nOut, seed })` (init 'random') flattened in
 * the order Wq | Wk | Wv | Wo: the weights every engine starts from for this seed.
 * @example
 * initialSingleParams({ heads: 2, d: 5 }, 1024); // Float64Array(228)
 */
export function initialSingleParams(shape: IclShape, seed: number): Float64Array {
  const p = iclInitialParams({ d: shape.d, numHeads: shape.heads, layers: 1, nOut: shape.nOut ?? 1, seed });
  const off = paramOffsets(shape);
  const out = new Float64Array(off.size);
  out.set(p.Wq!.values, off.wq);
  out.set(p.Wk!.values, off.wk);
  out.set(p.Wv!.values, off.wv);
  out.set(p.Wo!.values, off.wo);
  return out;
}

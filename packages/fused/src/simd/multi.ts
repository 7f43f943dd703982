/**
 * Many independent single-layer models on the SIMD engine, stepped together on one thread: each
 * step makes one batch per distinct data seed and runs every model's fused step (loss, gradient,
 * Adam) on it. What the multi-model trainer and the benchmark's many-models rows use.
 */
import type { IclDataParams } from '../data.js';
import type { FlatOptimizer } from '../optimizer.js';
import { paramCount, type IclShape } from '../single/float64.js';
import { splitExamples } from './threads.js';
import { createIclWasm, dataBlockValues, writeDataBlock, writeOptimizerBlock } from './module.js';

/** One model of `createSimdMultiModel`. */
export interface SimdMultiSpec {
  shape: IclShape;
  /** Seed of the training data; models with the same data seed share each generated batch. */
  dataSeed: number;
  optimizer: FlatOptimizer;
  /** Initial parameters (P numbers). */
  init: ArrayLike<number>;
}

/** Many independent models on the SIMD engine, stepped together (one thread). */
export interface SimdMultiModel {
  readonly models: number;
  /** Completed steps (the same for every model). */
  t: number;
  /** n steps of every model; losses[i] holds model i's n losses. */
  train(n: number): Float64Array[];
  /** A copy of model i's parameters. */
  params(i: number): Float64Array;
}

/**
 * M independent models (own heads, data seeds, optimizers, parameters and moments) trained
 * together on the SIMD engine. `data` gives the task (its key is replaced by each model's data seed).
 */
export async function createSimdMultiModel(
  specs: SimdMultiSpec[],
  data: IclDataParams,
  B: number,
): Promise<SimdMultiModel> {
  const w = await createIclWasm();
  const ex = w.exports;
  const { L, d } = data;
  const { zi, zqi, yq, nb, tmp } = w.allocBatch(B, data);
  // every batch in the same two parts as one model's engine (splitExamples), so its numbers match
  const split = splitExamples(B);
  const first = split > 0 ? w.allocBatch(split, data) : undefined;
  const hmax = Math.max(...specs.map((s) => s.shape.heads));
  const sc = w.alloc(ex.scratchBytes(hmax, d, L));
  const grad = w.alloc(paramCount({ heads: hmax, d }) * 8);
  const grad1 = w.alloc(paramCount({ heads: hmax, d }) * 8);
  const models = specs.map((sp, i) => {
    const P = paramCount(sp.shape);
    if (sp.init.length !== P)
      throw new RangeError(
        `createSimdMultiModel: models[${i}].init must hold ${P} numbers for heads ${sp.shape.heads}; got ${sp.init.length}`,
      );
    const state = w.alloc(3 * P * 8);
    w.f64(state, P).set(sp.init);
    const { ob } = writeOptimizerBlock(w, sp.optimizer, [{ name: 'all', shape: [P], offset: 0, length: P }], [0]);
    return { sp, P, state, ob, i };
  });
  // models grouped by data seed, in order of first appearance, each group with its data block
  const groups = new Map<number, { db: number; members: typeof models }>();
  for (const m of models) {
    let g = groups.get(m.sp.dataSeed);
    if (!g) {
      const seed = m.sp.dataSeed;
      const values = dataBlockValues({ ...data, k0: seed >>> 0, k1: Math.floor(seed / 4294967296) >>> 0 });
      g = { db: writeDataBlock(w, values, data.chol), members: [] };
      groups.set(seed, g);
    }
    g.members.push(m);
  }
  const multi: SimdMultiModel = {
    models: models.length,
    t: 0,
    train(count: number) {
      const out = models.map(() => new Float64Array(count));
      for (let k = 0; k < count; k++) {
        const step = multi.t;
        for (const { db, members } of groups.values()) {
          if (first) ex.iclBatch(db, first.zi, first.zqi, first.yq, step, split, 0, first.nb, first.tmp);
          ex.iclBatch(db, zi, zqi, yq, step, B - split, split, nb, tmp);
          for (const m of members) {
            const s = m.sp.shape;
            const nOut = s.nOut ?? 1;
            let loss = ex.lossGrad(m.state, s.heads, d, nOut, L, B - split, zi, zqi, yq, sc, grad, B, 0);
            if (first) {
              const l1 = ex.lossGrad(
                m.state,
                s.heads,
                d,
                nOut,
                L,
                split,
                first.zi,
                first.zqi,
                first.yq,
                sc,
                grad1,
                B,
                0,
              );
              const g = w.f64(grad, m.P);
              const g1 = w.f64(grad1, m.P);
              for (let j = 0; j < m.P; j++) g[j] = g[j]! + g1[j]!;
              loss += l1;
            }
            out[m.i]![k] = loss;
            ex.optimize(m.ob, m.state, m.P, grad);
          }
        }
        multi.t += 1;
      }
      return out;
    },
    params(i: number) {
      const m = models[i];
      if (!m)
        throw new RangeError(`SimdMultiModel.params: i must be an integer in [0, ${models.length - 1}]; got ${i}`);
      return Float64Array.from(w.f64(m.state, m.P));
    },
  };
  return multi;
}

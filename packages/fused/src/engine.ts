/**
 * One interface over the CPU engines, so that callers (the high-level trainer, the icl-regression
 * experiment) pick the fastest one that supports their configuration: the SIMD engine (WebAssembly
 * SIMD, optional worker thread; d = 5, batch a multiple of 4) or the plain-TypeScript float64 engine
 * (any shape), for the single-layer model and for the causal stack.
 */
import { createCpuModel, cpuModelStep, paramCount, type AdamConfig, type IclShape } from './single/float64.js';
import { createSimdIclModel, createSimdStackModel, simdStackUnsupported, simdUnsupported, type SimdIclModel, type SimdStackModel } from './simd/module.js';
import { createStackModel, type StackShape } from './stack/float64.js';

/** Which CPU engine: 'auto' takes 'simd' when it supports the configuration, else 'js'. */
export type IclEngineKind = 'auto' | 'simd' | 'js';
export const ICL_ENGINES: readonly IclEngineKind[] = ['auto', 'simd', 'js'];

/** Options of `createIclEngine`. */
export interface IclEngineOptions {
  engine?: IclEngineKind;
  /** SIMD engine: split each batch (data and gradient) with a worker thread (Node; default: when ≥ 2 CPUs). */
  workerThread?: boolean;
}

/**
 * A single model on a CPU engine: the SIMD model's interface (t is settable to resume; the next
 * step trains on the batch of step index t, stream 0, with Adam step t+1) plus which engine it is.
 */
export interface IclEngine extends Pick<SimdIclModel, 'shape' | 'workerExamples' | 't' | 'train' | 'getState' | 'setState' | 'dispose'> {
  readonly kind: 'simd' | 'js';
}

/**
 * Creates a model with `initParams(shape, seed)`, zero Adam moments and t = 0 on the requested
 * engine. Throws a RangeError naming the reason when 'simd' is forced on a configuration it
 * does not support.
 */
export async function createIclEngine(
  shape: IclShape, L: number, B: number, seed: number, adam: AdamConfig, noiseStd = 0.01, options: IclEngineOptions = {},
): Promise<IclEngine> {
  const kind = options.engine ?? 'auto';
  if (!ICL_ENGINES.includes(kind)) throw new RangeError(`createIclEngine: engine must be one of ${ICL_ENGINES.join(', ')}; got ${JSON.stringify(kind)}`);
  const why = simdUnsupported(shape, L, B);
  if (kind === 'simd' && why) throw new RangeError(`createIclEngine: engine 'simd' ${why}`);
  if (kind !== 'js' && !why) {
    const m = await createSimdIclModel(shape, L, B, seed, adam, noiseStd, { workerThread: options.workerThread });
    return Object.assign(m, { kind: 'simd' as const });
  }
  const m = createCpuModel(shape, L, B, seed, adam, noiseStd);
  const P = paramCount(shape);
  return {
    kind: 'js', shape, workerExamples: 0,
    get t() { return m.t; },
    set t(v: number) { m.t = v; },
    train(n: number) {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = cpuModelStep(m);
      return out;
    },
    getState: () => Float64Array.from(m.state),
    setState(s: ArrayLike<number>) {
      if (s.length !== 3 * P) throw new RangeError(`IclEngine.setState: state must hold ${3 * P} numbers ([params | m | v] of ${P}); got ${s.length}`);
      m.state.set(s);
    },
    dispose() { /* nothing to free */ },
  };
}

/** A causal stack on a CPU engine (the SIMD stack model's interface plus which engine it is). */
export interface StackEngine extends Pick<SimdStackModel, 'shape' | 'workerExamples' | 't' | 'train' | 'getState' | 'setState' | 'dispose'> {
  readonly kind: 'simd' | 'js';
}

/**
 * Creates a causal stack from the [params | m | v] state `init` on the requested engine ('auto':
 * the SIMD engine when it supports the configuration, else the float64 TypeScript stack engine).
 */
export async function createStackEngine(
  shape: StackShape, L: number, B: number, seed: number, adam: AdamConfig, noiseStd: number, init: ArrayLike<number>,
  options: IclEngineOptions = {},
): Promise<StackEngine> {
  const kind = options.engine ?? 'auto';
  if (!ICL_ENGINES.includes(kind)) throw new RangeError(`createStackEngine: engine must be one of ${ICL_ENGINES.join(', ')}; got ${JSON.stringify(kind)}`);
  const why = simdStackUnsupported(shape, L, B);
  if (kind === 'simd' && why) throw new RangeError(`createStackEngine: engine 'simd' ${why}`);
  if (kind !== 'js' && !why) {
    const m = await createSimdStackModel(shape, L, B, seed, adam, noiseStd, init, { workerThread: options.workerThread });
    return Object.assign(m, { kind: 'simd' as const });
  }
  return createStackModel(shape, L, B, seed, adam, noiseStd, init);
}

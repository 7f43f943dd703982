/**
 * Many independent single-layer models of seed 004 trained together (`createMultiIclTrainer`):
 * own heads, seeds, Adam settings, parameters and moments; models with the same data seed share
 * each generated batch. On the SIMD engine (one thread), the float64 engine, or the WGSL trainer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { IclHostParam } from '@attnlab/attention';
import { allocBatch, fillIclBatch, iclDataParams, normalsPerExample } from './data.js';
import { optimizeFlat, type FlatOptimizer } from './optimizer.js';
import { allocWork, fusedLossGrad, paramOffsets, type IclShape } from './single/float64.js';
import { initialSingleParams } from './single/init.js';
import { simdAvailable } from './simd/module.js';
import { createSimdMultiModel } from './simd/multi.js';
import { checkInt, checkNumber, checkOneOf, show } from './validate.js';
import { createWebGPUIclTrainer, type ModelSpec } from './wgsl/trainer.js';

/** Where a multi-model trainer runs. */
export const MULTI_BACKENDS = ['auto', 'simd', 'float64', 'webgpu'] as const;

/** Options of `createMultiIclTrainer`. */
export interface MultiTrainerOptions {
  /** The models: heads, seed (initial weights `iclInitialParams` and data), optional dataSeed, lr, beta1, beta2, eps, init. */
  models: ModelSpec[];
  /** Input dimension (default 5). */
  d?: number;
  /** Context length (default 40). */
  L?: number;
  /** Batch size (default 128). */
  batch?: number;
  /** δ of the task (y noise √d·δ; default 0.01); β ~ N(0, I), y_q noiseless (seed 004's task). */
  noiseStd?: number;
  /** 'auto' (default): 'simd' where WebAssembly SIMD runs, else 'float64'; 'webgpu': one dispatch trains every model. */
  backend?: (typeof MULTI_BACKENDS)[number];
  /** webgpu only: steps per dispatch and dispatches per submission. */
  stepsPerDispatch?: number;
  dispatchesPerSubmit?: number;
}

/** Many independent models trained together. */
export interface MultiIclTrainer {
  readonly backend: 'simd' | 'float64' | 'webgpu';
  readonly models: number;
  readonly completedSteps: number;
  /** Runs n steps of every model; resolves to losses[model][step]. */
  step(n?: number): Promise<Float32Array[]>;
  /** Model i's parameters in `iclParamLayout`'s names (Wq, Wk, Wv [H, D, D], Wo [H, D, 1]). */
  params(i: number): Promise<Record<string, IclHostParam>>;
  dispose(): void;
}

function named(shape: IclShape, flat: ArrayLike<number>): Record<string, IclHostParam> {
  const o = paramOffsets(shape);
  const H = shape.heads,
    D = shape.d + 1;
  const f = Float32Array.from(flat);
  return {
    Wq: { shape: [H, D, D], values: f.slice(o.wq, o.wk) },
    Wk: { shape: [H, D, D], values: f.slice(o.wk, o.wv) },
    Wv: { shape: [H, D, D], values: f.slice(o.wv, o.wo) },
    Wo: { shape: [H, D, 1], values: f.slice(o.wo, o.size) },
  };
}

function webgpuDevice(fn: string): GPUDevice {
  if (tf.getBackend() !== 'webgpu') {
    throw new Error(
      `${fn}: backend 'webgpu' needs the active tfjs backend to be webgpu (call initBackend({ prefer: 'webgpu' }) first); active: ${tf.getBackend()}`,
    );
  }
  return (tf.backend() as unknown as { device: GPUDevice }).device;
}

/**
 * Trains M independent models in one pass per step.
 *
 * @example
 * const multi = await createMultiIclTrainer({ models: [1, 2, 3, 4].map((seed) => ({ heads: 2, seed })) });
 * const losses = await multi.step(100); // losses[i]: Float32Array(100)
 */
export async function createMultiIclTrainer(options: MultiTrainerOptions): Promise<MultiIclTrainer> {
  const fn = 'createMultiIclTrainer';
  if (
    typeof options !== 'object' ||
    options === null ||
    !Array.isArray(options.models) ||
    options.models.length === 0
  ) {
    throw new RangeError(
      `${fn}: options.models must be a non-empty array of { heads, seed, lr?, ... }; got ${show(options?.models)}`,
    );
  }
  const d = checkInt(fn, 'options.d', options.d ?? 5, 1);
  const L = checkInt(fn, 'options.L', options.L ?? 40, 1);
  const B = checkInt(fn, 'options.batch', options.batch ?? 128, 1);
  const noiseStd = checkNumber(fn, 'options.noiseStd', options.noiseStd ?? 0.01, 0);
  const asked = checkOneOf(fn, 'options.backend', options.backend ?? 'auto', MULTI_BACKENDS);
  const specs = options.models.map((m, i) => {
    const at = `options.models[${i}]`;
    const heads = checkInt(fn, `${at}.heads`, m.heads, 1);
    if (!(Number.isSafeInteger(m.seed) && m.seed >= 0))
      throw new RangeError(`${fn}: ${at}.seed must be an integer in [0, 2^53 − 1]; got ${show(m.seed)}`);
    const optimizer: FlatOptimizer = {
      method: 'adam',
      weightDecay: 0,
      lr: checkNumber(fn, `${at}.lr`, m.lr ?? 1e-3, 0),
      betas: [
        checkNumber(fn, `${at}.beta1`, m.beta1 ?? 0.9, 0, 1, true),
        checkNumber(fn, `${at}.beta2`, m.beta2 ?? 0.999, 0, 1, true),
      ],
      eps: checkNumber(fn, `${at}.eps`, m.eps ?? 1e-8, 0),
    };
    const shape: IclShape = { heads, d };
    const init = m.init ?? initialSingleParams(shape, m.seed);
    const P = paramOffsets(shape).size;
    if (init.length !== P)
      throw new RangeError(`${fn}: ${at}.init must hold ${P} numbers for heads ${heads}, d ${d}; got ${init.length}`);
    return { shape, optimizer, init, dataSeed: m.dataSeed ?? m.seed, P };
  });
  if (asked === 'simd' && !simdAvailable())
    throw new RangeError(
      `${fn}: options.backend 'simd' needs WebAssembly SIMD, which this JavaScript engine lacks; use 'auto' or 'float64'`,
    );
  const backend = asked === 'auto' ? (simdAvailable() ? 'simd' : 'float64') : asked;
  const checkIndex = (i: number) => {
    if (!(Number.isInteger(i) && i >= 0 && i < specs.length))
      throw new RangeError(`${fn}: params(i): i must be an integer in [0, ${specs.length - 1}]; got ${show(i)}`);
  };
  const data = iclDataParams({ L, dx: d, noiseStd }, 0, 0);
  if (backend === 'webgpu') {
    const gpu = await createWebGPUIclTrainer({
      device: webgpuDevice(fn),
      models: options.models.map((m, i) => ({ ...m, init: specs[i]!.init })),
      d,
      L,
      batch: B,
      noiseStd,
      stepsPerDispatch: options.stepsPerDispatch,
      dispatchesPerSubmit: options.dispatchesPerSubmit,
    });
    return {
      backend,
      models: gpu.models,
      get completedSteps() {
        return gpu.step;
      },
      async step(n = 1) {
        return gpu.run(checkInt(`${fn}: step`, 'n', n, 0));
      },
      async params(i: number) {
        checkIndex(i);
        return named(specs[i]!.shape, await gpu.params(i));
      },
      dispose() {
        gpu.dispose();
      },
    };
  }
  if (backend === 'simd') {
    const sm = await createSimdMultiModel(specs, data, B);
    return {
      backend,
      models: sm.models,
      get completedSteps() {
        return sm.t;
      },
      async step(n = 1) {
        return sm.train(checkInt(`${fn}: step`, 'n', n, 0)).map((x) => Float32Array.from(x));
      },
      async params(i: number) {
        checkIndex(i);
        return named(specs[i]!.shape, sm.params(i));
      },
      dispose() {
        /* nothing to free */
      },
    };
  }
  const models = specs.map((s) => ({
    ...s,
    params: Float64Array.from(s.init),
    m: new Float64Array(s.P),
    v: new Float64Array(s.P),
    steps: [0],
    work: allocWork(s.shape, L),
    segments: [{ offset: 0, length: s.P }],
  }));
  const host = allocBatch(B, L, d);
  const normals = new Float64Array(normalsPerExample(data));
  const scratch = new Uint32Array(4);
  let t = 0;
  return {
    backend,
    models: models.length,
    get completedSteps() {
      return t;
    },
    async step(n = 1) {
      checkInt(`${fn}: step`, 'n', n, 0);
      const out = models.map(() => new Float32Array(n));
      for (let k = 0; k < n; k++) {
        let filledFor = -1;
        models.forEach((m, i) => {
          if (m.dataSeed !== filledFor) {
            fillIclBatch(
              host,
              { ...data, k0: m.dataSeed >>> 0, k1: Math.floor(m.dataSeed / 4294967296) >>> 0 },
              t,
              B,
              0,
              normals,
              scratch,
            );
            filledFor = m.dataSeed;
          }
          out[i]![k] = fusedLossGrad(m.params, 0, m.shape, L, B, host.z, host.zq, host.yq, m.work);
          optimizeFlat(m.optimizer, m.params, m.m, m.v, m.work.grad, m.segments, m.steps);
        });
        t += 1;
      }
      return out;
    },
    async params(i: number) {
      checkIndex(i);
      return named(specs[i]!.shape, models[i]!.params);
    },
    dispose() {
      /* nothing to free */
    },
  };
}

/**
 * High-level fused trainers: one model (`createFusedIclTrainer`) or many independent models
 * (`createMultiIclTrainer`), on the plain-TS core ('js'), through the custom tfjs kernels
 * ('cpu', 'wasm'), or on the WGSL trainer ('webgpu').
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  createCpuModel, cpuModelStep, initParams, paramCount, paramOffsets, type AdamConfig, type CpuModel, type IclShape,
} from './single/float64.js';
import { createWebGPUIclTrainer, type ModelSpec, type WebGPUIclTrainer } from './wgsl/trainer.js';
import { createIclEngine } from './engine.js';
import { createSimdMultiModel, simdUnsupported } from './simd/module.js';
import { adamFlatUpdate, iclLossGrad } from './kernels/register.js';
import { allocBatch, fillIclBatch } from './data.js';

/** Where a fused trainer runs ('auto': 'simd' when it supports the configuration, else 'js'). */
export type FusedBackend = 'auto' | 'simd' | 'js' | 'cpu' | 'wasm' | 'webgpu';
export const FUSED_BACKENDS: readonly FusedBackend[] = ['auto', 'simd', 'js', 'cpu', 'wasm', 'webgpu'];

/** Options of `createFusedIclTrainer`. */
export interface FusedTrainerOptions {
  heads: number;
  /** Input dimension (tokens have width d + 1); default 5. */
  d?: number;
  /** Context length; default 40. */
  L?: number;
  /** Batch size; default 128. */
  batch?: number;
  /** Adam learning rate; default 1e-3. */
  lr?: number;
  /** Adam betas; default [0.9, 0.999]. */
  betas?: [number, number];
  /** Adam epsilon; default 1e-8. */
  eps?: number;
  /** Seed of the initial weights and of the training data (Philox, stream 0). */
  seed: number;
  /** Noise level δ of the data (noise std √d·δ); default 0.01. */
  noiseStd?: number;
  /**
   * 'auto' (default): 'simd' when it supports the configuration (d = 5, batch a multiple of 4),
   * else 'js'. 'simd': the WebAssembly SIMD engine (no tfjs), on two threads in Node.
   * 'js': plain float64 TypeScript, no tfjs. 'cpu' | 'wasm': the fused tfjs kernels on that
   * (active) tfjs backend. 'webgpu': the WGSL trainer on the active webgpu backend's device.
   */
  backend?: FusedBackend;
  /** 'simd' / 'auto': split each batch (data and gradient) with a worker thread (Node; default when ≥ 2 CPUs). */
  workerThread?: boolean;
  /** webgpu only: steps per dispatch and dispatches per submission (losses read once per submission). */
  stepsPerDispatch?: number;
  dispatchesPerSubmit?: number;
}

/** Parameters in the reference model's layout (x·W orientation, row-major). */
export interface IclParams {
  heads: number;
  d: number;
  /** [H, d+1, d+1] */
  wq: Float32Array;
  /** [H, d+1, d+1] */
  wk: Float32Array;
  /** [H, d+1, d+1] */
  wv: Float32Array;
  /** [H, d+1, 1] */
  wo: Float32Array;
  /** All of them, in the order wq, wk, wv, wo. */
  flat: Float32Array;
}

/** A fused single-model trainer. */
export interface FusedIclTrainer {
  readonly backend: FusedBackend;
  /** Completed training steps. */
  readonly completedSteps: number;
  /** Runs n steps; resolves to the n training losses (before each update). */
  step(n?: number): Promise<Float32Array>;
  /** Current parameters. */
  params(): Promise<IclParams>;
  dispose(): void;
}

/** Splits a flat parameter vector into the reference layout. */
export function splitParams(shape: IclShape, flat: ArrayLike<number>): IclParams {
  const off = paramOffsets(shape);
  const f = Float32Array.from(flat as ArrayLike<number>);
  if (f.length !== off.size) throw new RangeError(`splitParams: flat must have ${off.size} floats for heads ${shape.heads}, d ${shape.d}; got ${f.length}`);
  return {
    heads: shape.heads, d: shape.d,
    wq: f.slice(off.wq, off.wk), wk: f.slice(off.wk, off.wv), wv: f.slice(off.wv, off.wo), wo: f.slice(off.wo), flat: f,
  };
}

function checkInt(fn: string, name: string, v: unknown, min: number): number {
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= min)) throw new RangeError(`${fn}: ${name} must be an integer ≥ ${min}; got ${JSON.stringify(v)}`);
  return v;
}

function resolve(fn: string, o: FusedTrainerOptions) {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${fn}: options must be an object { heads, seed, ... }; got ${JSON.stringify(o)}`);
  const heads = checkInt(fn, 'heads', o.heads, 1);
  const d = checkInt(fn, 'd', o.d ?? 5, 1);
  const L = checkInt(fn, 'L', o.L ?? 40, 1);
  const batch = checkInt(fn, 'batch', o.batch ?? 128, 1);
  if (!(Number.isSafeInteger(o.seed) && o.seed >= 0)) throw new RangeError(`${fn}: seed must be a non-negative safe integer; got ${JSON.stringify(o.seed)}`);
  const backend = o.backend ?? 'auto';
  if (!FUSED_BACKENDS.includes(backend)) throw new RangeError(`${fn}: backend must be one of ${FUSED_BACKENDS.join(', ')}; got ${JSON.stringify(backend)}`);
  const [beta1, beta2] = o.betas ?? [0.9, 0.999];
  const adam: AdamConfig = { lr: o.lr ?? 1e-3, beta1, beta2, eps: o.eps ?? 1e-8 };
  for (const [k, v, lo, hi] of [['lr', adam.lr, 0, Infinity], ['betas[0]', beta1, 0, 1], ['betas[1]', beta2, 0, 1], ['eps', adam.eps, 0, Infinity]] as const) {
    if (!(typeof v === 'number' && v >= lo && v < hi)) throw new RangeError(`${fn}: ${k} must be a number in [${lo}, ${hi}); got ${JSON.stringify(v)}`);
  }
  const noiseStd = o.noiseStd ?? 0.01;
  if (!(typeof noiseStd === 'number' && noiseStd >= 0)) throw new RangeError(`${fn}: noiseStd must be a number ≥ 0; got ${JSON.stringify(noiseStd)}`);
  return { heads, d, L, batch, seed: o.seed, backend, adam, noiseStd };
}

function webgpuDevice(fn: string): GPUDevice {
  if (tf.getBackend() !== 'webgpu') {
    throw new Error(`${fn}: backend 'webgpu' needs the active tfjs backend to be webgpu (call initBackend({ prefer: 'webgpu' }) first); active: ${tf.getBackend()}`);
  }
  return (tf.backend() as unknown as { device: GPUDevice }).device;
}

/**
 * Creates a fused trainer for seed 004's single-layer model (PyTorch-style init from `seed`,
 * Philox training data from `seed`, Adam with PyTorch semantics).
 *
 * @example
 * const trainer = await createFusedIclTrainer({ heads: 2, seed: 1024 });
 * const losses = await trainer.step(1000);
 * const { wq, wk, wv, wo } = await trainer.params();
 */
export async function createFusedIclTrainer(options: FusedTrainerOptions): Promise<FusedIclTrainer> {
  const fn = 'createFusedIclTrainer';
  const r = resolve(fn, options);
  const shape: IclShape = { heads: r.heads, d: r.d };
  if (r.backend === 'webgpu') {
    const gpu = await createWebGPUIclTrainer({
      device: webgpuDevice(fn), d: r.d, L: r.L, batch: r.batch, noiseStd: r.noiseStd,
      models: [{ heads: r.heads, seed: r.seed, lr: r.adam.lr, beta1: r.adam.beta1, beta2: r.adam.beta2, eps: r.adam.eps }],
      stepsPerDispatch: options.stepsPerDispatch, dispatchesPerSubmit: options.dispatchesPerSubmit,
    });
    return {
      backend: 'webgpu',
      get completedSteps() { return gpu.step; },
      async step(n = 1) { return (await gpu.run(checkInt(`${fn}: step`, 'n', n, 0)))[0]!; },
      async params() { return splitParams(shape, await gpu.params(0)); },
      dispose() { gpu.dispose(); },
    };
  }
  if (r.backend === 'js' || r.backend === 'simd' || r.backend === 'auto') {
    const e = await createIclEngine(shape, r.L, r.batch, r.seed, r.adam, r.noiseStd, {
      engine: r.backend === 'auto' ? 'auto' : r.backend, workerThread: options.workerThread,
    }).catch((err: unknown) => { throw err instanceof RangeError ? new RangeError(`${fn}: ${err.message.replace(/^createIclEngine: /, '')}`) : err; });
    let disposed = false;
    return {
      backend: e.kind,
      get completedSteps() { return e.t; },
      async step(n = 1) {
        checkInt(`${fn}: step`, 'n', n, 0);
        if (disposed) throw new Error(`${fn}: step after dispose`);
        return Float32Array.from(e.train(n));
      },
      async params() { return splitParams(shape, e.getState().subarray(0, paramCount(shape))); },
      dispose() { disposed = true; e.dispose(); },
    };
  }
  // tfjs kernel path on the active cpu or wasm backend.
  if (tf.getBackend() !== r.backend) {
    throw new Error(`${fn}: backend '${r.backend}' needs it to be the active tfjs backend (initBackend({ prefer: '${r.backend}' })); active: ${tf.getBackend()}`);
  }
  const P = paramCount(shape);
  let p = tf.tensor1d(Float32Array.from(initParams(shape, r.seed)));
  let m = tf.zeros([P]) as tf.Tensor1D;
  let v = tf.zeros([P]) as tf.Tensor1D;
  const host = allocBatch(r.batch, r.L, r.d);
  const D = r.d + 1;
  let t = 0;
  let disposed = false;
  return {
    backend: r.backend,
    get completedSteps() { return t; },
    async step(n = 1) {
      checkInt(`${fn}: step`, 'n', n, 0);
      if (disposed) throw new Error(`${fn}: step after dispose`);
      const losses: tf.Scalar[] = [];
      for (let i = 0; i < n; i++) {
        fillIclBatch(host, r.seed, t, r.batch, r.L, r.d, r.noiseStd, 0);
        const z = tf.tensor3d(Float32Array.from(host.z), [r.batch, r.L, D]);
        const zq = tf.tensor2d(Float32Array.from(host.zq), [r.batch, D]);
        const yq = tf.tensor1d(Float32Array.from(host.yq));
        const [loss, g] = iclLossGrad(p, z, zq, yq, shape);
        t += 1;
        const [p1, m1, v1] = adamFlatUpdate(p, m, v, g, r.adam, t);
        tf.dispose([p, m, v, g, z, zq, yq]);
        p = p1; m = m1; v = v1;
        losses.push(loss);
      }
      if (!losses.length) return new Float32Array(0);
      const all = tf.stack(losses);
      const out = (await all.data()) as Float32Array;
      tf.dispose([all, ...losses]);
      return Float32Array.from(out);
    },
    async params() { return splitParams(shape, (await p.data()) as Float32Array); },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([p, m, v]);
    },
  };
}

/** Options of `createMultiIclTrainer`. */
export interface MultiTrainerOptions {
  models: ModelSpec[];
  d?: number;
  L?: number;
  batch?: number;
  noiseStd?: number;
  /**
   * 'auto' (default): 'simd' when every model fits it (d = 5, batch a multiple of 4), else 'js'.
   * 'simd': the WebAssembly SIMD engine; 'js': plain float64 TypeScript; 'webgpu': one dispatch
   * trains every model.
   */
  backend?: 'auto' | 'simd' | 'js' | 'webgpu';
  stepsPerDispatch?: number;
  dispatchesPerSubmit?: number;
}

/** Many independent models trained together. */
export interface MultiIclTrainer {
  readonly backend: 'simd' | 'js' | 'webgpu';
  readonly models: number;
  readonly completedSteps: number;
  /** Runs n steps of every model; resolves to losses[model][step]. */
  step(n?: number): Promise<Float32Array[]>;
  params(i: number): Promise<IclParams>;
  dispose(): void;
}

/**
 * Trains M independent models (own seeds, head counts, learning rates, parameters and Adam
 * state) in one pass per step; models with the same data seed share each generated batch.
 *
 * @example
 * const multi = await createMultiIclTrainer({ models: [1, 2, 3, 4].map((seed) => ({ heads: 2, seed })) });
 * const losses = await multi.step(100); // losses[i]: Float32Array(100)
 */
export async function createMultiIclTrainer(options: MultiTrainerOptions): Promise<MultiIclTrainer> {
  const fn = 'createMultiIclTrainer';
  if (typeof options !== 'object' || options === null || !Array.isArray(options.models) || options.models.length === 0) {
    throw new RangeError(`${fn}: options.models must be a non-empty array of { heads, seed, lr?, ... }; got ${JSON.stringify(options?.models)}`);
  }
  const d = options.d ?? 5;
  const asked = options.backend ?? 'auto';
  if (!['auto', 'simd', 'js', 'webgpu'].includes(asked)) throw new RangeError(`${fn}: backend must be one of auto, simd, js, webgpu; got ${JSON.stringify(asked)}`);
  const specs = options.models.map((m, i) => {
    const r = resolve(`${fn}: models[${i}]`, { ...m, d, L: options.L, batch: options.batch, noiseStd: options.noiseStd, betas: [m.beta1 ?? 0.9, m.beta2 ?? 0.999] });
    return { spec: m, r };
  });
  const simdWhy = specs.map(({ r }) => simdUnsupported({ heads: r.heads, d }, r.L, r.batch)).find((x) => x !== undefined);
  if (asked === 'simd' && simdWhy) throw new RangeError(`${fn}: backend 'simd' ${simdWhy}`);
  const backend: 'simd' | 'js' | 'webgpu' = asked === 'auto' ? (simdWhy ? 'js' : 'simd') : asked;
  if (backend === 'simd') {
    const first = specs[0]!.r;
    const sm = await createSimdMultiModel(specs.map(({ spec, r }) => ({
      shape: { heads: r.heads, d }, seed: spec.seed, dataSeed: spec.dataSeed ?? spec.seed, adam: r.adam, ...(spec.init ? { init: spec.init } : {}),
    })), first.L, first.batch, first.noiseStd);
    return {
      backend, models: sm.models,
      get completedSteps() { return sm.t; },
      async step(n = 1) { return sm.train(checkInt(`${fn}: step`, 'n', n, 0)).map((x) => Float32Array.from(x)); },
      async params(i: number) {
        if (!(Number.isInteger(i) && i >= 0 && i < sm.models)) throw new RangeError(`${fn}: params(i): i must be an integer in [0, ${sm.models - 1}]; got ${i}`);
        return splitParams({ heads: specs[i]!.r.heads, d }, sm.getState(i).subarray(0, paramCount({ heads: specs[i]!.r.heads, d })));
      },
      dispose() { /* nothing to free */ },
    };
  }
  if (backend === 'webgpu') {
    const gpu: WebGPUIclTrainer = await createWebGPUIclTrainer({
      device: webgpuDevice(fn), models: options.models, d, L: options.L, batch: options.batch, noiseStd: options.noiseStd,
      stepsPerDispatch: options.stepsPerDispatch, dispatchesPerSubmit: options.dispatchesPerSubmit,
    });
    return {
      backend, models: gpu.models,
      get completedSteps() { return gpu.step; },
      async step(n = 1) { return gpu.run(checkInt(`${fn}: step`, 'n', n, 0)); },
      async params(i: number) { return splitParams({ heads: options.models[i]!.heads, d }, await gpu.params(i)); },
      dispose() { gpu.dispose(); },
    };
  }
  const cpus: CpuModel[] = specs.map(({ spec, r }) => {
    const m = createCpuModel({ heads: r.heads, d }, r.L, r.batch, spec.seed, r.adam, r.noiseStd);
    if (spec.init) m.state.set(Array.from(spec.init), 0);
    return m;
  });
  const dataSeeds = specs.map(({ spec }) => spec.dataSeed ?? spec.seed);
  const first = specs[0]!.r;
  const shared = allocBatch(first.batch, first.L, d);
  let t = 0;
  return {
    backend, models: cpus.length,
    get completedSteps() { return t; },
    async step(n = 1) {
      checkInt(`${fn}: step`, 'n', n, 0);
      const out = cpus.map(() => new Float32Array(n));
      for (let k = 0; k < n; k++) {
        let filledFor = -1;
        for (let i = 0; i < cpus.length; i++) {
          const ds = dataSeeds[i]!;
          if (ds !== filledFor) { fillIclBatch(shared, ds, t, first.batch, first.L, d, first.noiseStd, 0); filledFor = ds; }
          cpus[i]!.t = t;
          out[i]![k] = cpuModelStep(cpus[i]!, shared);
        }
        t += 1;
      }
      return out;
    },
    async params(i: number) {
      const m = cpus[i];
      if (!m) throw new RangeError(`${fn}: params(i): i must be an integer in [0, ${cpus.length - 1}]; got ${i}`);
      return splitParams(m.shape, m.state.subarray(0, paramCount(m.shape)));
    },
    dispose() { /* nothing to free */ },
  };
}

/**
 * @attnlab/fused/bench (Node only): benchmarks of seed 004's training step. The fast engines
 * (`createIclEngine`: WebAssembly SIMD on two threads and on one, float64 TypeScript) in seed
 * 004's setting and in the paper's setting, the causal stack, the many-models trainers, the fused
 * tfjs kernels and the reference path (@attnlab/attention's model + tfjs autodiff + @attnlab/train's
 * Adam) on every tfjs backend that initialises, and the WGSL trainer. Wall-clock timing of whole
 * steps (data generation included unless a row says otherwise), after warm-up; losses are awaited
 * at the end of each timed block.
 */
import * as tf from '@tensorflow/tfjs-core';
import { allocBatch, fillIclBatch, iclDataParams, normalsPerExample } from '../data.js';
import { createIclEngine, type IclEngine } from '../engine.js';
import { createMultiIclTrainer } from '../multi.js';
import { adamFlatUpdate, iclLossGrad } from '../kernels/ops.js';
import { optimizeFlat } from '../optimizer.js';
import { allocWork, fusedLossGrad, paramCount, type IclShape } from '../single/float64.js';
import { initialSingleParams } from '../single/init.js';
import { createIclWasm, dataBlockValues, simdAvailable, writeDataBlock } from '../simd/module.js';
import type { IclTrainingSpec } from '../spec.js';
import { createWebGPUIclTrainer } from '../wgsl/trainer.js';
import { referenceEngine } from './reference.js';

export { referenceEngine, referenceLosses } from './reference.js';

/** Options of `runBenchmark`. */
export interface BenchmarkOptions {
  /** Head counts; default [1, 2, 4, 8]. */
  heads?: number[];
  /** tfjs backends to try; default ['cpu', 'wasm', 'webgpu']. */
  backends?: Array<'cpu' | 'wasm' | 'webgpu'>;
  /** Seconds per timed measurement (roughly); default 2. */
  seconds?: number;
  /** Include the reference path; default true. */
  reference?: boolean;
  /** Models in flight for the many-models rows; default [1, 128]. */
  models?: number[];
  /** Pass Dawn options (e.g. ['backend=null'] to measure host cost only) when creating WebGPU. */
  dawnOptions?: string[];
  /** Progress lines. */
  log?: (line: string) => void;
  /**
   * Initialises a tfjs backend by name (the CLI passes `@attnlab/backend`'s initBackend); default:
   * `@attnlab/backend` loaded on demand.
   */
  initBackend?: (options: { prefer: 'cpu' | 'wasm' | 'webgpu'; dawnOptions?: string[] }) => Promise<unknown>;
}

/** One measured row. */
export interface BenchmarkRow {
  path: string;
  backend: string;
  heads: number;
  models: number;
  /** Which training setting: seed 004's or the paper's (see BenchmarkResult.settings). */
  setting: BenchmarkSetting;
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  modelStepsPerSecond: number;
  note?: string;
}

/** The two training settings the benchmark measures. */
export type BenchmarkSetting = 'seed' | 'paper';

/** The benchmark's JSON result. */
export interface BenchmarkResult {
  config: { d: number; L: number; batch: number; optimizer: string };
  /** What each setting trains. */
  settings: Record<BenchmarkSetting, string>;
  machine: { cpus: number; cpuModel: string; node: string; platform: string; loadAverage?: number[] };
  rows: BenchmarkRow[];
  skipped: Array<{ what: string; reason: string }>;
  memory: { peakRssMB: number; tfNumTensors: number; tfNumBytes: number };
}

const d = 5;
const L = 40;
const B = 128;
const ADAM = { method: 'adam' as const, lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0 };

/**
 * The benchmark's two settings for H heads: seed 004's (β ~ N(0, I), δ = 0.01, y_q noiseless,
 * batch 128) and the paper's (β ~ N(0, I/d), σ² = 0.1 i.e. δ = √(0.1/5), noisy y_q, batch 256);
 * d = 5, L = 40, Adam 1e-3, the single query-only layer (or the causal stack of `layers`).
 * @example
 * const engine = await createIclEngine(benchmarkSpec('paper', 2));
 */
export function benchmarkSpec(setting: BenchmarkSetting, heads: number, layers = 1, seed = 1): IclTrainingSpec {
  const model = { d, numHeads: heads, layers, seed };
  if (setting === 'seed')
    return { model, task: { L, dx: d, noiseStd: 0.01 }, batch: B, dataSeed: seed, optimizer: ADAM };
  return {
    model,
    task: { L, dx: d, noiseStd: Math.sqrt(0.1 / d), betaScale: 'inverse-d', queryNoise: true },
    batch: 256,
    dataSeed: seed,
    optimizer: ADAM,
  };
}

async function timeLoop(
  seconds: number,
  warm: number,
  run: (n: number) => Promise<void> | void,
  first = 4,
): Promise<{ steps: number; secs: number }> {
  await run(warm);
  let n = first;
  for (;;) {
    const t0 = performance.now();
    await run(n);
    const secs = (performance.now() - t0) / 1000;
    if (secs >= seconds * 0.5 || n > 1e8) return { steps: n, secs };
    n = Math.max(n * 2, Math.ceil((n * seconds) / Math.max(secs, 1e-3)));
  }
}

function row(
  path: string,
  backend: string,
  heads: number,
  models: number,
  r: { steps: number; secs: number },
  note?: string,
  setting: BenchmarkSetting = 'seed',
): BenchmarkRow {
  const sps = r.steps / r.secs;
  return {
    path,
    backend,
    heads,
    models,
    setting,
    steps: r.steps,
    seconds: r.secs,
    stepsPerSecond: sps,
    modelStepsPerSecond: sps * models,
    ...(note ? { note } : {}),
  };
}

/**
 * Runs the benchmark and returns JSON-serialisable figures (steps/s and model-steps/s per path,
 * backend, head count and setting, plus peak memory).
 *
 * @example
 * const result = await runBenchmark({ heads: [2], backends: ['wasm'], seconds: 1 });
 * console.table(result.rows);
 */
export async function runBenchmark(options: BenchmarkOptions = {}): Promise<BenchmarkResult> {
  const heads = options.heads ?? [1, 2, 4, 8];
  const backends = options.backends ?? ['cpu', 'wasm', 'webgpu'];
  const seconds = options.seconds ?? 2;
  const log = options.log ?? (() => undefined);
  const modelsList = options.models ?? [1, 128];
  const rows: BenchmarkRow[] = [];
  const skipped: BenchmarkResult['skipped'] = [];
  const push = (r: BenchmarkRow) => {
    rows.push(r);
    log(
      `${r.path.padEnd(32)} ${r.backend.padEnd(9)} H=${r.heads} M=${r.models}  ${r.stepsPerSecond.toFixed(1)} steps/s  ${r.modelStepsPerSecond.toFixed(0)} model-steps/s${r.note ? `  (${r.note})` : ''}`,
    );
  };
  const engineRow = async (
    path: string,
    backend: string,
    H: number,
    spec: IclTrainingSpec,
    engine: 'simd' | 'float64',
    workerThread: boolean | undefined,
    warm: number,
    first: number,
    note: (e: IclEngine) => string,
    setting: BenchmarkSetting,
  ) => {
    const e = await createIclEngine(spec, { engine, ...(workerThread === undefined ? {} : { workerThread }) });
    try {
      push(
        row(
          path,
          backend,
          H,
          1,
          await timeLoop(
            seconds,
            warm,
            async (n) => {
              await e.run(n);
            },
            first,
          ),
          note(e),
          setting,
        ),
      );
    } finally {
      e.dispose();
    }
  };

  // 0. The SIMD engine (createIclEngine): on two threads, on one, and measured (the default in Node:
  // whichever of the two is faster as it trains), in both settings.
  if (simdAvailable()) {
    for (const setting of ['seed', 'paper'] as const) {
      const tag = setting === 'paper' ? ' paper' : '';
      for (const H of heads) {
        const spec = benchmarkSpec(setting, H);
        for (const workerThread of [true, false, undefined]) {
          await engineRow(
            `fused-simd${tag} (${workerThread === undefined ? 'measured' : workerThread ? '2 threads' : '1 thread'})`,
            'wasm-simd',
            H,
            spec,
            'simd',
            workerThread,
            300,
            64,
            (e) =>
              `${e.name}; batch ${spec.batch}, data made each step${setting === 'paper' ? '; β ~ N(0, I/d), σ² = 0.1, noisy y_q' : ''}`,
            setting,
          );
        }
      }
    }
    for (const M of [16, 128]) {
      const multi = await createMultiIclTrainer({
        models: Array.from({ length: M }, (_, i) => ({ heads: 2, seed: i + 1, dataSeed: 1 })),
        backend: 'simd',
      });
      push(
        row(
          'fused-simd multi (shared data)',
          'wasm-simd',
          2,
          M,
          await timeLoop(
            seconds,
            5,
            async (n) => {
              await multi.step(n);
            },
            1,
          ),
          `${M} models, one batch per step shared, one thread`,
        ),
      );
      multi.dispose();
    }
    // The causal stack (2 layers), on the SIMD engine and on the float64 engine.
    for (const H of heads) {
      const spec = benchmarkSpec('seed', H, 2);
      await engineRow(
        'fused-simd stack (2 layers)',
        'wasm-simd',
        H,
        spec,
        'simd',
        undefined,
        20,
        8,
        (e) => `causal stack, ${e.name}, data made each step`,
        'seed',
      );
      await engineRow(
        'fused-js stack (2 layers)',
        'js',
        H,
        spec,
        'float64',
        undefined,
        2,
        1,
        () => 'causal stack, the float64 TypeScript engine',
        'seed',
      );
    }
    const w = await createIclWasm();
    const data = iclDataParams(benchmarkSpec('seed', 1).task, 7);
    const { zi, zqi, yq, nb, tmp } = w.allocBatch(B, data);
    const db = writeDataBlock(w, dataBlockValues(data), null);
    let s = 0;
    push(
      row(
        'data only (SIMD ICL batch)',
        'wasm-simd',
        0,
        1,
        await timeLoop(seconds, 50, (n) => {
          for (let i = 0; i < n; i++) w.exports.iclBatch(db, zi, zqi, yq, s++, B, 0, nb, tmp);
        }),
        `batch of ${B} examples, ${B * normalsPerExample(data)} normals`,
      ),
    );
  } else {
    skipped.push({ what: 'fused-simd', reason: 'this JavaScript engine has no WebAssembly SIMD' });
  }

  // 1. The float64 TypeScript engine (one core), with and without data generation.
  for (const H of heads) {
    await engineRow(
      'fused-js',
      'js',
      H,
      benchmarkSpec('seed', H),
      'float64',
      undefined,
      50,
      4,
      () => 'the float64 TypeScript engine; data made each step',
      'seed',
    );
    const shape: IclShape = { heads: H, d };
    const P = paramCount(shape);
    const batch = allocBatch(B, L, d);
    fillIclBatch(batch, iclDataParams(benchmarkSpec('seed', H).task, 7), 0, B);
    const p = initialSingleParams(shape, 1),
      m = new Float64Array(P),
      v = new Float64Array(P),
      steps = [0];
    const work = allocWork(shape, L);
    const segs = [{ offset: 0, length: P }];
    push(
      row(
        'fused-js (fixed batch)',
        'js',
        H,
        1,
        await timeLoop(seconds, 50, (n) => {
          for (let i = 0; i < n; i++) {
            fusedLossGrad(p, 0, shape, L, B, batch.z, batch.zq, batch.yq, work);
            optimizeFlat(ADAM, p, m, v, work.grad, segs, steps);
          }
        }),
        'compute only: forward, backward, Adam',
      ),
    );
  }
  {
    const batch = allocBatch(B, L, d);
    const data = iclDataParams(benchmarkSpec('seed', 1).task, 7);
    let s = 0;
    push(
      row(
        'data only (Philox ICL batch)',
        'js',
        0,
        1,
        await timeLoop(seconds, 20, (n) => {
          for (let i = 0; i < n; i++) fillIclBatch(batch, data, s++, B);
        }),
        `batch of ${B} examples, ${B * normalsPerExample(data)} normals`,
      ),
    );
  }
  {
    const M = 16;
    const multi = await createMultiIclTrainer({
      models: Array.from({ length: M }, (_, i) => ({ heads: 2, seed: i + 1, dataSeed: 1 })),
      backend: 'float64',
    });
    push(
      row(
        'fused-js multi (shared data)',
        'js',
        2,
        M,
        await timeLoop(
          seconds,
          5,
          async (n) => {
            await multi.step(n);
          },
          1,
        ),
        `${M} models, one batch per step shared`,
      ),
    );
  }

  // 2. tfjs backends: the reference path and the fused kernels; the WGSL trainer on webgpu.
  for (const be of backends) {
    try {
      const init = options.initBackend ?? (await import('@attnlab/backend')).initBackend;
      await init({ prefer: be, ...(options.dawnOptions ? { dawnOptions: options.dawnOptions } : {}) });
      if (be === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
    } catch (err) {
      skipped.push({ what: `backend ${be}`, reason: (err as Error).message });
      log(`skip ${be}: ${(err as Error).message}`);
      continue;
    }
    for (const H of heads) {
      const spec = benchmarkSpec('seed', H);
      if (options.reference !== false) {
        const ref = referenceEngine(spec);
        const r = await timeLoop(
          seconds,
          3,
          async (n) => {
            await ref.run(n);
          },
          2,
        );
        ref.dispose();
        push(
          row(
            'reference (tfjs autodiff + adam)',
            be,
            H,
            1,
            r,
            "@attnlab/attention's model, tfjs autodiff, @attnlab/train's adam",
          ),
        );
      }
      if (be !== 'webgpu') {
        const shape: IclShape = { heads: H, d };
        const P = paramCount(shape);
        let p = tf.tensor1d(Float32Array.from(initialSingleParams(shape, 1)));
        let m = tf.zeros([P]) as tf.Tensor1D;
        let v = tf.zeros([P]) as tf.Tensor1D;
        const host = allocBatch(B, L, d);
        const data = iclDataParams(spec.task, 1);
        let t = 0;
        const r = await timeLoop(seconds, 10, async (n) => {
          const losses: tf.Scalar[] = [];
          for (let i = 0; i < n; i++) {
            fillIclBatch(host, data, t, B);
            const z = tf.tensor3d(Float32Array.from(host.z), [B, L, d + 1]);
            const zq = tf.tensor2d(Float32Array.from(host.zq), [B, d + 1]);
            const yq = tf.tensor1d(Float32Array.from(host.yq));
            const [loss, g] = iclLossGrad(p, z, zq, yq, shape);
            t += 1;
            const [p1, m1, v1] = adamFlatUpdate(p, m, v, g, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, t);
            tf.dispose([p, m, v, g, z, zq, yq]);
            p = p1;
            m = m1;
            v = v1;
            losses.push(loss);
          }
          const all = tf.stack(losses);
          await all.data();
          tf.dispose([all, ...losses]);
        });
        tf.dispose([p, m, v]);
        push(
          row(
            'fused tfjs kernels',
            be,
            H,
            1,
            r,
            'AttnlabIclLossGrad + AttnlabAdamFlat per step, plus the uploads of z, zq, yq',
          ),
        );
      } else {
        const device = (tf.backend() as unknown as { device: GPUDevice }).device;
        for (const M of modelsList) {
          const gpu = await createWebGPUIclTrainer({
            device,
            d,
            L,
            batch: B,
            stepsPerDispatch: 50,
            dispatchesPerSubmit: 10,
            models: Array.from({ length: M }, (_, i) => ({ heads: H, seed: i + 1 })),
          });
          push(
            row(
              'WGSL trainer',
              be,
              H,
              M,
              await timeLoop(
                seconds,
                50,
                async (n) => {
                  await gpu.run(n);
                },
                50,
              ),
              '50 steps/dispatch, 10 dispatches/submit',
            ),
          );
          gpu.dispose();
        }
      }
    }
  }
  const usage = typeof process !== 'undefined' ? process.resourceUsage?.() : undefined;
  let mem = { numTensors: 0, numBytes: 0 };
  try {
    mem = tf.memory();
  } catch {
    /* no backend was initialised */
  }
  const os = await import('node:os');
  return {
    config: { d, L, batch: B, optimizer: 'Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8)' },
    settings: {
      seed: "seed 004's: β ~ N(0, I), δ = 0.01, y_q noiseless, batch 128, d = 5, L = 40, Adam 1e-3",
      paper: "the paper's: β ~ N(0, I/d), σ² = 0.1 (δ = √(0.1/5)), noisy y_q, batch 256, d = 5, L = 40, Adam 1e-3",
    },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '',
      node: process.versions.node,
      platform: `${os.platform()} ${os.arch()}`,
      loadAverage: os.loadavg(),
    },
    rows,
    skipped,
    memory: { peakRssMB: usage ? usage.maxRSS / 1024 : 0, tfNumTensors: mem.numTensors, tfNumBytes: mem.numBytes },
  };
}

/**
 * Benchmarks of seed 004's training step: the naive tfjs reference (autodiff + tf.train.adam)
 * against the fused paths (WebAssembly SIMD engine, plain TS, fused tfjs kernels, WGSL trainer), for several head counts,
 * on every backend that initialises. Wall-clock timing of whole steps (data generation included
 * unless a row says otherwise), after warm-up; losses are awaited at the end of each timed block.
 */
import * as tf from '@tensorflow/tfjs-core';
import { allocBatch, fillIclBatch } from '../data.js';
import { createCpuModel, cpuModelStep, initParams, type IclShape } from '../single/float64.js';
import { createReferenceModel, referenceStep } from '../reference.js';
import { createFusedIclTrainer, createMultiIclTrainer } from '../multi.js';
import { createWebGPUIclTrainer } from '../wgsl/trainer.js';
import { createIclWasm, createSimdIclModel, createSimdStackModel, simdAvailable } from '../simd/module.js';
import { createStackModel, stackParamCount, type StackShape } from '../stack/float64.js';

/** Options of `runBenchmark`. */
export interface BenchmarkOptions {
  /** Head counts; default [1, 2, 4, 8]. */
  heads?: number[];
  /** tfjs backends to try; default ['cpu', 'wasm', 'webgpu']. */
  backends?: Array<'cpu' | 'wasm' | 'webgpu'>;
  /** Seconds per timed measurement (roughly); default 2. */
  seconds?: number;
  /** Include the naive reference path; default true. */
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
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  modelStepsPerSecond: number;
  note?: string;
}

/** The benchmark's JSON result. */
export interface BenchmarkResult {
  config: { d: number; L: number; batch: number; optimizer: string };
  machine: { cpus: number; cpuModel: string; node: string; platform: string; loadAverage?: number[] };
  rows: BenchmarkRow[];
  skipped: Array<{ what: string; reason: string }>;
  memory: { peakRssMB: number; tfNumTensors: number; tfNumBytes: number };
}

const d = 5;
const L = 40;
const B = 128;
const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

async function timeLoop(seconds: number, warm: number, run: (n: number) => Promise<void> | void, first = 4): Promise<{ steps: number; secs: number }> {
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

function row(path: string, backend: string, heads: number, models: number, r: { steps: number; secs: number }, note?: string): BenchmarkRow {
  const sps = r.steps / r.secs;
  return { path, backend, heads, models, steps: r.steps, seconds: r.secs, stepsPerSecond: sps, modelStepsPerSecond: sps * models, ...(note ? { note } : {}) };
}

/**
 * Runs the benchmark and returns JSON-serialisable figures (steps/s and model-steps/s per path,
 * backend and head count, plus peak memory).
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
    log(`${r.path.padEnd(28)} ${r.backend.padEnd(7)} H=${r.heads} M=${r.models}  ${r.stepsPerSecond.toFixed(1)} steps/s  ${r.modelStepsPerSecond.toFixed(0)} model-steps/s${r.note ? `  (${r.note})` : ''}`);
  };

  // 0. The SIMD engine: on two threads (the default in Node), on one thread, data alone.
  if (simdAvailable()) {
    for (const H of heads) {
      const shape: IclShape = { heads: H, d };
      for (const workerThread of [true, false]) {
        const m = await createSimdIclModel(shape, L, B, 1, adam, 0.01, { workerThread });
        const r = await timeLoop(seconds, 300, (n) => { m.train(n); }, 64);
        push(row(workerThread ? 'fused-simd (2 threads)' : 'fused-simd (1 thread)', 'wasm-simd', H, 1, r,
          workerThread ? `Philox data made each step; a worker thread takes ${m.workerExamples} of ${B} examples (data and gradient)` : 'Philox data made each step'));
        m.dispose();
      }
    }
    for (const M of [16, 128]) {
      const multi = await createMultiIclTrainer({ models: Array.from({ length: M }, (_, i) => ({ heads: 2, seed: i + 1, dataSeed: 1 })), backend: 'simd' });
      push(row('fused-simd multi (shared data)', 'wasm-simd', 2, M, await timeLoop(seconds, 5, async (n) => { await multi.step(n); }, 1), `${M} models, one batch per step shared, one thread`));
      multi.dispose();
    }
    // The causal stack (2 layers), on the SIMD engine and on the float64 TypeScript engine.
    for (const H of heads) {
      const shape: StackShape = { heads: H, d, layers: 2, tied: false, residual: false };
      const P = stackParamCount(shape);
      const init = new Float64Array(3 * P).map((_, i) => (i < P ? 0.3 * Math.sin(i + 1) : 0));
      const sm = await createSimdStackModel(shape, L, B, 1, adam, 0.01, init);
      push(row('fused-simd stack (2 layers)', 'wasm-simd', H, 1, await timeLoop(seconds, 20, (n) => { sm.train(n); }, 8), `causal stack, Philox data each step; a worker thread takes ${sm.workerExamples} of ${B} examples`));
      sm.dispose();
      const js = createStackModel(shape, L, B, 1, adam, 0.01, init);
      push(row('fused-js stack (2 layers)', 'js', H, 1, await timeLoop(seconds, 2, (n) => { js.train(n); }, 1), 'causal stack, float64 TypeScript'));
    }
    const w = await createIclWasm();
    const { zi, zqi, yq, nb, tmp } = w.allocBatch(B, L);
    let s = 0;
    push(row('data only (SIMD ICL batch)', 'wasm-simd', 0, 1, await timeLoop(seconds, 50, (n) => {
      for (let i = 0; i < n; i++) w.exports.iclBatch(zi, zqi, yq, 7, 0, s++, B, L, d, Math.sqrt(d) * 0.01, 0, 0, nb, tmp);
    }), 'batch of 128 examples, 32,000 normals'));
  } else {
    skipped.push({ what: 'fused-simd', reason: 'this JavaScript engine has no WebAssembly SIMD' });
  }

  // 1. Plain TypeScript fused step (one core), with and without data generation.
  for (const H of heads) {
    const shape: IclShape = { heads: H, d };
    const m = createCpuModel(shape, L, B, 1, adam);
    push(row('fused-js', 'js', H, 1, await timeLoop(seconds, 50, (n) => { for (let i = 0; i < n; i++) cpuModelStep(m); }), 'Philox data made each step'));
    const batch = allocBatch(B, L, d);
    fillIclBatch(batch, 7, 0, B, L, d);
    const m2 = createCpuModel(shape, L, B, 1, adam);
    push(row('fused-js (fixed batch)', 'js', H, 1, await timeLoop(seconds, 50, (n) => { for (let i = 0; i < n; i++) cpuModelStep(m2, batch); }), 'compute only: forward, backward, Adam'));
  }
  {
    const batch = allocBatch(B, L, d);
    let s = 0;
    push(row('data only (Philox ICL batch)', 'js', 0, 1, await timeLoop(seconds, 20, (n) => { for (let i = 0; i < n; i++) fillIclBatch(batch, 7, s++, B, L, d); }), 'batch of 128 examples, 32,000 normals'));
  }
  {
    const M = 16;
    const multi = await createMultiIclTrainer({ models: Array.from({ length: M }, (_, i) => ({ heads: 2, seed: i + 1, dataSeed: 1 })), backend: 'js' });
    push(row('fused-js multi (shared data)', 'js', 2, M, await timeLoop(seconds, 5, async (n) => { await multi.step(n); }, 1), `${M} models, one batch per step shared`));
  }

  // 2. tfjs backends: reference vs fused kernels; WGSL trainer on webgpu.
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
      const shape: IclShape = { heads: H, d };
      if (options.reference !== false) {
        const ref = createReferenceModel(shape, initParams(shape, 1), adam);
        const host = allocBatch(B, L, d);
        let s = 0;
        const r = await timeLoop(seconds, 3, async (n) => {
          let last: tf.Scalar | undefined;
          for (let i = 0; i < n; i++) {
            fillIclBatch(host, 1, s++, B, L, d);
            const z = tf.tensor3d(Float32Array.from(host.z), [B, L, d + 1]);
            const zq = tf.tensor2d(Float32Array.from(host.zq), [B, d + 1]);
            const yq = tf.tensor1d(Float32Array.from(host.yq));
            last?.dispose();
            last = referenceStep(ref, z, zq, yq);
            tf.dispose([z, zq, yq]);
          }
          if (last) { await last.data(); last.dispose(); }
        }, 2);
        ref.dispose();
        push(row('reference (tfjs autodiff + adam)', be, H, 1, r));
      }
      if (be !== 'webgpu') {
        const tr = await createFusedIclTrainer({ heads: H, seed: 1, backend: be });
        push(row('fused tfjs kernels', be, H, 1, await timeLoop(seconds, 10, async (n) => { await tr.step(n); })));
        tr.dispose();
      } else {
        const device = (tf.backend() as unknown as { device: GPUDevice }).device;
        for (const M of modelsList) {
          const gpu = await createWebGPUIclTrainer({
            device, d, L, batch: B, stepsPerDispatch: 50, dispatchesPerSubmit: 10,
            models: Array.from({ length: M }, (_, i) => ({ heads: H, seed: i + 1 })),
          });
          push(row('WGSL trainer', be, H, M, await timeLoop(seconds, 50, async (n) => { await gpu.run(n); }, 50), '50 steps/dispatch, 10 dispatches/submit'));
          gpu.dispose();
        }
      }
    }
  }
  const usage = typeof process !== 'undefined' ? process.resourceUsage?.() : undefined;
  let mem = { numTensors: 0, numBytes: 0 };
  try { mem = tf.memory(); } catch { /* no backend was initialised */ }
  const os = await import('node:os');
  return {
    config: { d, L, batch: B, optimizer: 'Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8)' },
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', node: process.versions.node, platform: `${os.platform()} ${os.arch()}`, loadAverage: os.loadavg() },
    rows,
    skipped,
    memory: { peakRssMB: usage ? usage.maxRSS / 1024 : 0, tfNumTensors: mem.numTensors, tfNumBytes: mem.numBytes },
  };
}

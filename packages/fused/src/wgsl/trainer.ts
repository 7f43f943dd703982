/**
 * The standalone WebGPU trainer: M independent models (own seeds, head counts, learning rates,
 * parameters and Adam state) × K steps per dispatch, several dispatches per submission, Philox
 * data generated in-shader, losses read back once per submission.
 */
import { paramCount, type IclShape } from '../single/float64.js';
import { initialSingleParams } from '../single/init.js';
import { iclShaderSource, stateStride } from './single.js';

/** One model of a multi-model run. */
export interface ModelSpec {
  heads: number;
  /** Seed of the initial weights (`iclInitialParams` of @attnlab/attention, init 'random') and of the data stream. */
  seed: number;
  /** Seed of the data stream when it should differ from `seed`. */
  dataSeed?: number;
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Initial flat parameters (layout of `paramCount`); default `iclInitialParams({ d, numHeads: heads, layers: 1, seed })`. */
  init?: ArrayLike<number>;
}

/** Options of `createWebGPUIclTrainer`. */
export interface WebGPUTrainerOptions {
  device: GPUDevice;
  models: ModelSpec[];
  d?: number;
  L?: number;
  batch?: number;
  noiseStd?: number;
  /** Steps each dispatch runs in-shader (K). */
  stepsPerDispatch?: number;
  /** Dispatches per queue submission; losses are read back once per submission. */
  dispatchesPerSubmit?: number;
}

/** A running multi-model WebGPU trainer. */
export interface WebGPUIclTrainer {
  readonly models: number;
  /** Completed steps (all models step together). */
  readonly step: number;
  /** Runs `steps` steps of every model; resolves to each model's losses of those steps. */
  run(steps: number): Promise<Float32Array[]>;
  /** Current flat parameters of model i (float32). */
  params(i: number): Promise<Float32Array>;
  dispose(): void;
}

const MODEL_WORDS = 12;

function check(fn: string, name: string, v: unknown, ok: boolean, allowed: string): void {
  if (!ok) throw new RangeError(`${fn}: ${name} must be ${allowed}; got ${JSON.stringify(v)}`);
}

/** Throws with the compiler's messages if a WGSL module has errors. */
export async function checkShader(module: GPUShaderModule, what: string): Promise<void> {
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length)
    throw new Error(
      `${what}: WGSL compilation failed: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`,
    );
}

/**
 * Creates a WebGPU trainer for many independent seed-004 models on one device.
 *
 * @example
 * const device = (tf.backend() as unknown as { device: GPUDevice }).device; // after initBackend({ prefer: 'webgpu' })
 * const gpu = await createWebGPUIclTrainer({ device, models: [{ heads: 2, seed: 1 }, { heads: 1, seed: 2, lr: 3e-3 }] });
 * const losses = await gpu.run(1000); // losses[i]: Float32Array(1000)
 */
export async function createWebGPUIclTrainer(options: WebGPUTrainerOptions): Promise<WebGPUIclTrainer> {
  const fn = 'createWebGPUIclTrainer';
  const { device, models } = options;
  check(fn, 'device', '(not a GPUDevice)', typeof device?.createBuffer === 'function', 'a GPUDevice');
  check(
    fn,
    'models',
    models?.length,
    Array.isArray(models) && models.length > 0 && models.length <= 65535,
    'a non-empty array of at most 65535 model specs',
  );
  const d = options.d ?? 5;
  const L = options.L ?? 40;
  const B = options.batch ?? 128;
  const noiseStd = options.noiseStd ?? 0.01;
  const K = options.stepsPerDispatch ?? 50;
  const S = options.dispatchesPerSubmit ?? 10;
  for (const [name, v] of [
    ['d', d],
    ['L', L],
    ['batch', B],
    ['stepsPerDispatch', K],
    ['dispatchesPerSubmit', S],
  ] as const) {
    check(fn, name, v, Number.isInteger(v) && v >= 1, 'a positive integer');
  }
  models.forEach((m, i) => {
    check(
      fn,
      `models[${i}].heads`,
      m.heads,
      Number.isInteger(m.heads) && m.heads >= 1 && m.heads <= 64,
      'an integer in [1, 64]',
    );
    check(fn, `models[${i}].seed`, m.seed, Number.isSafeInteger(m.seed) && m.seed >= 0, 'a non-negative safe integer');
  });
  const M = models.length;
  const hmax = Math.max(...models.map((m) => m.heads));
  const stride = stateStride(d, hmax);
  const module = device.createShaderModule({ code: iclShaderSource({ d, L, B, hmax, mode: 'train' }) });
  await checkShader(module, fn);
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });

  const state = new Float32Array(M * stride);
  const modelWords = new ArrayBuffer(M * MODEL_WORDS * 4);
  const mu = new Uint32Array(modelWords);
  const mf = new Float32Array(modelWords);
  models.forEach((m, i) => {
    const shape: IclShape = { heads: m.heads, d };
    const P = paramCount(shape);
    const p0 = m.init ?? initialSingleParams(shape, m.seed);
    check(fn, `models[${i}].init`, `length ${p0.length}`, p0.length === P, `${P} floats`);
    for (let j = 0; j < P; j++) state[i * stride + j] = p0[j]!;
    const ds = m.dataSeed ?? m.seed;
    const o = i * MODEL_WORDS;
    mu[o] = ds >>> 0;
    mu[o + 1] = Math.floor(ds / 2 ** 32) >>> 0;
    mu[o + 2] = m.heads;
    mu[o + 3] = 0; // training stream
    mf[o + 4] = m.lr ?? 1e-3;
    mf[o + 5] = m.beta1 ?? 0.9;
    mf[o + 6] = m.beta2 ?? 0.999;
    mf[o + 7] = m.eps ?? 1e-8;
    mf[o + 8] = Math.sqrt(d) * noiseStd;
  });
  const lossStride = K * S;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const stateBuf = device.createBuffer({ size: state.byteLength, usage });
  device.queue.writeBuffer(stateBuf, 0, state);
  const modelBuf = device.createBuffer({ size: modelWords.byteLength, usage });
  device.queue.writeBuffer(modelBuf, 0, modelWords);
  const counterBuf = device.createBuffer({ size: Math.max(16, 4 * M), usage });
  device.queue.writeBuffer(counterBuf, 0, new Uint32Array(M));
  const lossBuf = device.createBuffer({ size: 4 * M * lossStride, usage });
  const runBuf = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const lossRead = device.createBuffer({
    size: 4 * M * lossStride,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [stateBuf, modelBuf, counterBuf, lossBuf, runBuf].map((buffer, binding) => ({
      binding,
      resource: { buffer },
    })),
  });
  let t = 0;
  let disposed = false;

  async function submit(k: number, nd: number): Promise<Float32Array[]> {
    device.queue.writeBuffer(runBuf, 0, new Uint32Array([k, t, lossStride, stride]));
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    for (let j = 0; j < nd; j++) pass.dispatchWorkgroups(M);
    pass.end();
    enc.copyBufferToBuffer(lossBuf, 0, lossRead, 0, 4 * M * lossStride);
    device.queue.submit([enc.finish()]);
    await lossRead.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(lossRead.getMappedRange().slice(0));
    lossRead.unmap();
    t += k * nd;
    return models.map((_, i) => all.slice(i * lossStride, i * lossStride + k * nd));
  }

  return {
    models: M,
    get step() {
      return t;
    },
    async run(steps: number): Promise<Float32Array[]> {
      check('WebGPUIclTrainer.run', 'steps', steps, Number.isInteger(steps) && steps >= 0, 'a non-negative integer');
      if (disposed) throw new Error('WebGPUIclTrainer.run: the trainer was disposed');
      const out = models.map(() => new Float32Array(steps));
      let done = 0;
      while (done < steps) {
        const left = steps - done;
        const k = Math.min(K, left);
        const nd = Math.min(S, Math.floor(left / k));
        const part = await submit(k, nd);
        part.forEach((p, i) => out[i]!.set(p, done));
        done += k * nd;
      }
      return out;
    },
    async params(i: number): Promise<Float32Array> {
      check('WebGPUIclTrainer.params', 'i', i, Number.isInteger(i) && i >= 0 && i < M, `an integer in [0, ${M - 1}]`);
      const P = paramCount({ heads: models[i]!.heads, d });
      const read = device.createBuffer({ size: 4 * P, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(stateBuf, 4 * i * stride, read, 0, 4 * P);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const p = new Float32Array(read.getMappedRange().slice(0));
      read.unmap();
      read.destroy();
      return p;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const b of [stateBuf, modelBuf, counterBuf, lossBuf, runBuf, lossRead]) b.destroy();
    },
  };
}

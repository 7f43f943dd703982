/**
 * The fused kernels on tfjs's webgpu backend: our own pipelines, encoded on the backend's command
 * encoder (so they stay ordered with tfjs ops), reading and writing tfjs tensors' GPU buffers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { paramCount } from '../single/float64.js';
import { iclShaderSource, type ShaderConfig } from '../wgsl/single.js';
import { stackExampleShader, stackReduceShader, stackScratchFloats, type StackShaderMode } from '../wgsl/stack.js';
import { stackParamCount, type StackShape } from '../stack/float64.js';

/** The parts of tfjs-backend-webgpu's WebGPUBackend we use (public or reachable at run time). */
interface WebGPUBackendLike {
  device: GPUDevice;
  queue: GPUQueue;
  tensorMap: { get(id: unknown): { resource: GPUBuffer } };
  commandEncoder: GPUCommandEncoder;
  commandQueueOwnedIds: WeakSet<object>;
  uniformPendingDisposal: GPUBuffer[];
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer };
  makeTensorInfo(shape: number[], dtype: string): tf.TensorInfo;
  uploadToGPU(id: unknown): void;
  disposeData(id: unknown): boolean;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function pipelineFor(dev: GPUDevice, key: string, code: () => string): GPUComputePipeline {
  let m = pipelines.get(dev);
  if (!m) { m = new Map(); pipelines.set(dev, m); }
  let p = m.get(key);
  if (!p) {
    p = dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code: code() }), entryPoint: 'main' } });
    m.set(key, p);
  }
  return p;
}

function bufferOf(be: WebGPUBackendLike, t: tf.TensorInfo): GPUBuffer {
  be.uploadToGPU(t.dataId);
  be.commandQueueOwnedIds.add(t.dataId as object);
  return be.tensorMap.get(t.dataId).resource;
}

function uniform(be: WebGPUBackendLike, data: ArrayBuffer): GPUBuffer {
  const buf = be.bufferManager.acquireBuffer(data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  be.queue.writeBuffer(buf, 0, data);
  be.uniformPendingDisposal.push(buf);
  return buf;
}

function dispatch(be: WebGPUBackendLike, pipeline: GPUComputePipeline, buffers: GPUBuffer[], groups: number): void {
  const bindGroup = be.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  be.ensureCommandEncoderReady();
  be.endComputePassEncoder();
  const pass = be.commandEncoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(groups);
  pass.end();
}

const ADAM_WGSL = (wg: number) => /* wgsl */ `
struct U { lr: f32, b1: f32, b2: f32, eps: f32, stepSize: f32, rbc2: f32, n: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> p: array<f32>;
@group(0) @binding(1) var<storage, read> m: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> po: array<f32>;
@group(0) @binding(5) var<storage, read_write> mo: array<f32>;
@group(0) @binding(6) var<storage, read_write> vo: array<f32>;
@group(0) @binding(7) var<uniform> u: U;
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= u.n) { return; }
  let gi = g[i];
  let mi = u.b1 * m[i] + (1.0 - u.b1) * gi;
  let vi = u.b2 * v[i] + (1.0 - u.b2) * gi * gi;
  mo[i] = mi;
  vo[i] = vi;
  po[i] = p[i] - u.stepSize * mi / (sqrt(vi) * u.rbc2 + u.eps);
}
`;

let registered = false;

/** Registers AttnlabIclForward/Backward/LossGrad and AttnlabAdamFlat for the 'webgpu' backend. */
export function registerWebGPUKernels(names: { forward: string; backward: string; lossGrad: string; adam: string }): void {
  if (registered) return;
  registered = true;
  const icl = (mode: ShaderConfig['mode']) => ({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => {
    const be = backend as WebGPUBackendLike;
    const { heads, d } = attrs as unknown as { heads: number; d: number };
    const { params, z, zq } = inputs as Record<string, tf.TensorInfo>;
    const third = (mode === 'backward' ? inputs.dy : mode === 'lossgrad' ? inputs.yq : inputs.zq)!;
    const [B, L] = z!.shape as [number, number, number];
    const P = paramCount({ heads, d });
    const cfg: ShaderConfig = { d, L, B, hmax: heads, mode };
    const pipeline = pipelineFor(be.device, `icl/${mode}/${d}/${L}/${B}/${heads}`, () => iclShaderSource(cfg));
    const outLen = mode === 'forward' ? B : mode === 'lossgrad' ? P + 1 : P;
    const out = be.makeTensorInfo([outLen], 'float32');
    const buffers = [bufferOf(be, params!), bufferOf(be, z!), bufferOf(be, zq!), bufferOf(be, third), bufferOf(be, out)];
    buffers.push(uniform(be, new Uint32Array([heads, 0, 0, 0]).buffer));
    dispatch(be, pipeline, buffers, 1);
    if (mode !== 'lossgrad') return out;
    // Split [loss, grad…] into the two outputs.
    const loss = be.makeTensorInfo([], 'float32');
    const grad = be.makeTensorInfo([P], 'float32');
    const lb = bufferOf(be, loss);
    const gb = bufferOf(be, grad);
    be.commandEncoder.copyBufferToBuffer(buffers[4]!, 0, lb, 0, 4);
    be.commandEncoder.copyBufferToBuffer(buffers[4]!, 4, gb, 0, 4 * P);
    be.disposeData(out.dataId);
    return [loss, grad];
  };
  tf.registerKernel({ kernelName: names.forward, backendName: 'webgpu', kernelFunc: icl('forward') as tf.KernelFunc });
  tf.registerKernel({ kernelName: names.backward, backendName: 'webgpu', kernelFunc: icl('backward') as tf.KernelFunc });
  tf.registerKernel({ kernelName: names.lossGrad, backendName: 'webgpu', kernelFunc: icl('lossgrad') as tf.KernelFunc });
  tf.registerKernel({
    kernelName: names.adam, backendName: 'webgpu',
    kernelFunc: (({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => {
      const be = backend as WebGPUBackendLike;
      const a = attrs as unknown as { lr: number; beta1: number; beta2: number; eps: number; step: number };
      const { param, m, v, grad } = inputs as Record<string, tf.TensorInfo>;
      const n = param!.shape[0]!;
      const wg = 64;
      const pipeline = pipelineFor(be.device, `adam/${wg}`, () => ADAM_WGSL(wg));
      const outs = [0, 1, 2].map(() => be.makeTensorInfo([n], 'float32'));
      const u = new ArrayBuffer(32);
      const f = new Float32Array(u);
      // Bias corrections in float64 on the host (the step is an attribute).
      f.set([a.lr, a.beta1, a.beta2, a.eps, a.lr / (1 - a.beta1 ** a.step), 1 / Math.sqrt(1 - a.beta2 ** a.step)]);
      new Uint32Array(u)[6] = n;
      const buffers = [param!, m!, v!, grad!, ...outs].map((t) => bufferOf(be, t));
      buffers.push(uniform(be, u));
      dispatch(be, pipeline, buffers, Math.ceil(n / wg));
      return outs;
    }) as tf.KernelFunc,
  });
}

let stackRegistered = false;

/**
 * Registers the causal stack's kernels (forward, backward, loss + gradient) for the 'webgpu'
 * backend: one invocation per example (wgsl-stack.ts), then a reduction over the batch.
 */
export function registerWebGPUStackKernels(
  names: { forward: string; backward: string; lossGrad: string },
  check: (name: string, params: tf.TensorInfo, z: tf.TensorInfo, zq: tf.TensorInfo, attrs: never) => { shape: StackShape; L: number; B: number },
): void {
  if (stackRegistered) return;
  stackRegistered = true;
  const run = (mode: StackShaderMode, name: string) => ({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => {
    const be = backend as WebGPUBackendLike;
    const { params, z, zq } = inputs as Record<string, tf.TensorInfo>;
    const { shape, L, B } = check(name, params!, z!, zq!, attrs as never);
    const third = (mode === 'backward' ? inputs.dy : mode === 'lossgrad' ? inputs.yq : inputs.zq)!;
    const P = stackParamCount(shape);
    const key = `${shape.heads}/${shape.d}/${shape.layers}/${shape.tied}/${shape.residual}/${L}/${B}`;
    const scratch = be.makeTensorInfo([B * stackScratchFloats(shape, L)], 'float32');
    const out1 = be.makeTensorInfo([mode === 'forward' ? B : B * (P + 1)], 'float32');
    const p1 = pipelineFor(be.device, `stack/${mode}/${key}`, () => stackExampleShader(shape, L, B, mode));
    dispatch(be, p1, [params!, z!, zq!, third, scratch, out1].map((t) => bufferOf(be, t)), Math.ceil(B / 64));
    be.disposeData(scratch.dataId);
    if (mode === 'forward') return out1;
    const withLoss = mode === 'lossgrad';
    const out2 = be.makeTensorInfo([withLoss ? P + 1 : P], 'float32');
    const p2 = pipelineFor(be.device, `stack-reduce/${withLoss}/${P}/${B}`, () => stackReduceShader(P, B, withLoss));
    dispatch(be, p2, [bufferOf(be, out1), bufferOf(be, out2)], Math.ceil((P + 1) / 64));
    be.disposeData(out1.dataId);
    if (!withLoss) return out2;
    const loss = be.makeTensorInfo([], 'float32');
    const grad = be.makeTensorInfo([P], 'float32');
    const lb = bufferOf(be, loss);
    const gb = bufferOf(be, grad);
    const ob = bufferOf(be, out2);
    be.commandEncoder.copyBufferToBuffer(ob, 0, lb, 0, 4);
    be.commandEncoder.copyBufferToBuffer(ob, 4, gb, 0, 4 * P);
    be.disposeData(out2.dataId);
    return [loss, grad];
  };
  tf.registerKernel({ kernelName: names.forward, backendName: 'webgpu', kernelFunc: run('forward', names.forward) as tf.KernelFunc });
  tf.registerKernel({ kernelName: names.backward, backendName: 'webgpu', kernelFunc: run('backward', names.backward) as tf.KernelFunc });
  tf.registerKernel({ kernelName: names.lossGrad, backendName: 'webgpu', kernelFunc: run('lossgrad', names.lossGrad) as tf.KernelFunc });
}

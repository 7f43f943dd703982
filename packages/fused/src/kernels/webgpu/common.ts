/**
 * What the fused kernels on tfjs's webgpu backend share: our own pipelines, encoded on the
 * backend's command encoder (so they stay ordered with tfjs ops), reading and writing tfjs
 * tensors' GPU buffers; and the kernel functions of the single layer and of the stack by mode.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { paramCount } from '../../single/float64.js';
import { iclShaderSource, type ShaderConfig } from '../../wgsl/single.js';
import { stackExampleShader, stackReduceShader, stackScratchFloats, type StackShaderMode } from '../../wgsl/stack.js';
import { stackParamCount } from '../../stack/float64.js';
import { checkStackInputs } from '../host.js';
import type { IclStackAttrs } from '../names.js';

/** The parts of tfjs-backend-webgpu's WebGPUBackend we use (public or reachable at run time). */
export interface WebGPUBackendLike {
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

export function pipelineFor(dev: GPUDevice, key: string, code: () => string): GPUComputePipeline {
  let m = pipelines.get(dev);
  if (!m) {
    m = new Map();
    pipelines.set(dev, m);
  }
  let p = m.get(key);
  if (!p) {
    p = dev.createComputePipeline({
      layout: 'auto',
      compute: { module: dev.createShaderModule({ code: code() }), entryPoint: 'main' },
    });
    m.set(key, p);
  }
  return p;
}

export function bufferOf(be: WebGPUBackendLike, t: tf.TensorInfo): GPUBuffer {
  be.uploadToGPU(t.dataId);
  be.commandQueueOwnedIds.add(t.dataId as object);
  return be.tensorMap.get(t.dataId).resource;
}

export function uniform(be: WebGPUBackendLike, data: ArrayBuffer): GPUBuffer {
  const buf = be.bufferManager.acquireBuffer(data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  be.queue.writeBuffer(buf, 0, data);
  be.uniformPendingDisposal.push(buf);
  return buf;
}

export function dispatch(
  be: WebGPUBackendLike,
  pipeline: GPUComputePipeline,
  buffers: GPUBuffer[],
  groups: number,
): void {
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

/** The single layer's forward, backward or loss + gradient kernel (one workgroup; wgsl/single.ts). */
export function singleKernelFunc(mode: ShaderConfig['mode']): tf.KernelFunc {
  return (({
    inputs,
    backend,
    attrs,
  }: {
    inputs: tf.NamedTensorInfoMap;
    backend: unknown;
    attrs?: tf.NamedAttrMap;
  }) => {
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
    const buffers = [
      bufferOf(be, params!),
      bufferOf(be, z!),
      bufferOf(be, zq!),
      bufferOf(be, third),
      bufferOf(be, out),
    ];
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
  }) as tf.KernelFunc;
}

/** The causal stack's forward, backward or loss + gradient kernel: one invocation per example (wgsl/stack.ts), then a reduction over the batch. */
export function stackKernelFunc(mode: StackShaderMode, name: string): tf.KernelFunc {
  return (({
    inputs,
    backend,
    attrs,
  }: {
    inputs: tf.NamedTensorInfoMap;
    backend: unknown;
    attrs?: tf.NamedAttrMap;
  }) => {
    const be = backend as WebGPUBackendLike;
    const { params, z, zq } = inputs as Record<string, tf.TensorInfo>;
    const { shape, L, B } = checkStackInputs(name, params!, z!, zq!, attrs as unknown as IclStackAttrs);
    const third = (mode === 'backward' ? inputs.dy : mode === 'lossgrad' ? inputs.yq : inputs.zq)!;
    const P = stackParamCount(shape);
    const key = `${shape.heads}/${shape.d}/${shape.layers}/${shape.tied}/${shape.residual}/${L}/${B}`;
    const scratch = be.makeTensorInfo([B * stackScratchFloats(shape, L)], 'float32');
    const out1 = be.makeTensorInfo([mode === 'forward' ? B : B * (P + 1)], 'float32');
    const p1 = pipelineFor(be.device, `stack/${mode}/${key}`, () => stackExampleShader(shape, L, B, mode));
    dispatch(
      be,
      p1,
      [params!, z!, zq!, third, scratch, out1].map((t) => bufferOf(be, t)),
      Math.ceil(B / 64),
    );
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
  }) as tf.KernelFunc;
}

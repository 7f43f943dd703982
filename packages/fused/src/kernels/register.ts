/**
 * The fused step as custom tfjs kernels (cpu and wasm here; webgpu in `webgpu-kernels.ts`):
 *   AttnlabIclForward  {params [P], z [B,L,D], zq [B,D]}            → pred [B]    (with gradient)
 *   AttnlabIclBackward {params, z, zq, dy [B]}                       → dParams [P]
 *   AttnlabIclLossGrad {params, z, zq, yq [B]}                       → [loss [], dParams [P]]
 *   AttnlabAdamFlat    {param, m, v, grad} (lr, beta1, beta2, eps, step) → [param', m', v']
 * and the causal stack (cpu, wasm and webgpu; attributes heads, d, layers, tied, residual):
 *   AttnlabIclStackForward  {params, z, zq}      → pred [B]    (with gradient)
 *   AttnlabIclStackBackward {params, z, zq, dy}  → dParams [P]
 *   AttnlabIclStackLossGrad {params, z, zq, yq}  → [loss [], dParams [P]]
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  adamFlat, allocWork, fusedForward, fusedLossGrad, paramCount, type AdamConfig, type IclShape, type StepWork,
} from '../single/float64.js';
import { allocStackWork, stackForward, stackLossGrad, stackParamCount, type StackShape, type StackWork } from '../stack/float64.js';
import { registerWebGPUKernels, registerWebGPUStackKernels } from './webgpu.js';

export const ICL_FORWARD = 'AttnlabIclForward';
export const ICL_BACKWARD = 'AttnlabIclBackward';
export const ICL_LOSS_GRAD = 'AttnlabIclLossGrad';
export const ADAM_FLAT = 'AttnlabAdamFlat';
export const ICL_STACK_FORWARD = 'AttnlabIclStackForward';
export const ICL_STACK_BACKWARD = 'AttnlabIclStackBackward';
export const ICL_STACK_LOSS_GRAD = 'AttnlabIclStackLossGrad';

/** Attributes of the stack kernels. */
export interface IclStackAttrs { heads: number; d: number; layers: number; tied: boolean; residual: boolean }

/** Attributes of the ICL kernels. */
export interface IclAttrs { heads: number; d: number }

type AnyBackend = {
  data: { get(id: unknown): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): tf.TensorInfo;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
};

function input(wasm: boolean, be: AnyBackend, t: tf.TensorInfo): Float32Array {
  return wasm ? be.typedArrayFromHeap(t) : (be.data.get(t.dataId).values as Float32Array);
}

function outputs(wasm: boolean, be: AnyBackend, specs: Array<[number[], Float32Array]>): tf.TensorInfo[] {
  if (!wasm) return specs.map(([shape, vals]) => be.makeTensorInfo(shape, 'float32', vals));
  const outs = specs.map(([shape]) => be.makeOutput(shape, 'float32'));
  // Heap views only after every makeOutput: heap growth detaches earlier views.
  outs.forEach((o, i) => be.typedArrayFromHeap(o).set(specs[i]![1]));
  return outs;
}

const works = new Map<string, StepWork>();
function workFor(shape: IclShape, L: number): StepWork {
  const key = `${shape.heads}/${shape.d}/${L}`;
  let w = works.get(key);
  if (!w) { w = allocWork(shape, L); works.set(key, w); }
  return w;
}

/** Checks z [B, L, D] and zq [B, D] of a kernel; returns B and L. */
function checkTokens(name: string, z: tf.TensorInfo, zq: tf.TensorInfo, D: number): { B: number; L: number } {
  if (z.shape.length !== 3 || z.shape[2] !== D) throw new RangeError(`${name}: z must have shape [B, L, ${D}]; got [${z.shape.join(', ')}]`);
  const [B, L] = z.shape as [number, number, number];
  if (zq.shape.length !== 2 || zq.shape[0] !== B || zq.shape[1] !== D) {
    throw new RangeError(`${name}: zq must have shape [${B}, ${D}]; got [${zq.shape.join(', ')}]`);
  }
  return { B, L };
}

/** Checks the inputs of an ICL kernel and returns the shape, L and B. */
export function checkIclInputs(name: string, params: tf.TensorInfo, z: tf.TensorInfo, zq: tf.TensorInfo, attrs: IclAttrs): { shape: IclShape; L: number; B: number } {
  const shape = { heads: attrs.heads, d: attrs.d };
  const D = shape.d + 1;
  const P = paramCount(shape);
  if (params.shape.length !== 1 || params.shape[0] !== P) {
    throw new RangeError(`${name}: params must have shape [${P}] for heads ${shape.heads}, d ${shape.d}; got [${params.shape.join(', ')}]`);
  }
  return { shape, ...checkTokens(name, z, zq, D) };
}

const stackWorks = new Map<string, StackWork>();
function stackWorkFor(s: StackShape, L: number): StackWork {
  const key = `${s.heads}/${s.d}/${s.layers}/${s.tied}/${s.residual}/${L}`;
  let w = stackWorks.get(key);
  if (!w) { w = allocStackWork(s, L); stackWorks.set(key, w); }
  return w;
}

/** Checks the inputs of a stack kernel and returns the shape, L and B. */
export function checkStackInputs(name: string, params: tf.TensorInfo, z: tf.TensorInfo, zq: tf.TensorInfo, attrs: IclStackAttrs): { shape: StackShape; L: number; B: number } {
  const shape: StackShape = { heads: attrs.heads, d: attrs.d, layers: attrs.layers, tied: !!attrs.tied, residual: !!attrs.residual };
  for (const k of ['heads', 'd', 'layers'] as const) {
    if (!(Number.isInteger(shape[k]) && shape[k] >= 1)) throw new RangeError(`${name}: attrs.${k} must be an integer ≥ 1; got ${String(attrs[k])}`);
  }
  const D = shape.d + 1;
  const P = stackParamCount(shape);
  if (params.shape.length !== 1 || params.shape[0] !== P) {
    throw new RangeError(`${name}: params must have shape [${P}] for heads ${shape.heads}, d ${shape.d}, layers ${shape.layers}${shape.tied ? ' (tied)' : ''}; got [${params.shape.join(', ')}]`);
  }
  return { shape, ...checkTokens(name, z, zq, D) };
}

let f64z = new Float64Array(0);
let f64q = new Float64Array(0);
function asF64(src: Float32Array, which: 'z' | 'q'): Float64Array {
  let buf = which === 'z' ? f64z : f64q;
  if (buf.length < src.length) {
    buf = new Float64Array(src.length);
    if (which === 'z') f64z = buf; else f64q = buf;
  }
  const v = buf.length === src.length ? buf : buf.subarray(0, src.length);
  v.set(src);
  return v;
}

let registered = false;

/**
 * Registers the fused kernels for the cpu, wasm and webgpu backends and the forward kernel's
 * gradient (idempotent).
 *
 * @example
 * registerFusedKernels();
 * const pred = tf.engine().runKernel('AttnlabIclForward', { params, z, zq }, { heads: 2, d: 5 });
 */
export function registerFusedKernels(): void {
  if (registered) return;
  registered = true;
  registerWebGPUKernels({ forward: ICL_FORWARD, backward: ICL_BACKWARD, lossGrad: ICL_LOSS_GRAD, adam: ADAM_FLAT });
  registerWebGPUStackKernels({ forward: ICL_STACK_FORWARD, backward: ICL_STACK_BACKWARD, lossGrad: ICL_STACK_LOSS_GRAD }, checkStackInputs as never);
  for (const bn of ['cpu', 'wasm']) {
    const wasm = bn === 'wasm';
    tf.registerKernel({
      kernelName: ICL_FORWARD, backendName: bn,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as AnyBackend;
        const a = attrs as unknown as IclAttrs;
        const { params, z, zq } = inputs as Record<string, tf.TensorInfo>;
        const { shape, L, B } = checkIclInputs(ICL_FORWARD, params!, z!, zq!, a);
        const out = new Float32Array(B);
        fusedForward(input(wasm, be, params!), 0, shape, L, B, input(wasm, be, z!), input(wasm, be, zq!), out, workFor(shape, L));
        return outputs(wasm, be, [[[B], out]])[0]!;
      },
    });
    tf.registerKernel({
      kernelName: ICL_BACKWARD, backendName: bn,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as AnyBackend;
        const a = attrs as unknown as IclAttrs;
        const { params, z, zq, dy } = inputs as Record<string, tf.TensorInfo>;
        const { shape, L, B } = checkIclInputs(ICL_BACKWARD, params!, z!, zq!, a);
        const work = workFor(shape, L);
        fusedLossGrad(input(wasm, be, params!), 0, shape, L, B, input(wasm, be, z!), input(wasm, be, zq!), null, work, input(wasm, be, dy!));
        return outputs(wasm, be, [[[paramCount(shape)], Float32Array.from(work.grad)]])[0]!;
      },
    });
    tf.registerKernel({
      kernelName: ICL_LOSS_GRAD, backendName: bn,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as AnyBackend;
        const a = attrs as unknown as IclAttrs;
        const { params, z, zq, yq } = inputs as Record<string, tf.TensorInfo>;
        const { shape, L, B } = checkIclInputs(ICL_LOSS_GRAD, params!, z!, zq!, a);
        const work = workFor(shape, L);
        const p64 = Float64Array.from(input(wasm, be, params!));
        const loss = fusedLossGrad(p64, 0, shape, L, B, asF64(input(wasm, be, z!), 'z'), asF64(input(wasm, be, zq!), 'q'), input(wasm, be, yq!), work);
        return outputs(wasm, be, [[[], Float32Array.of(loss)], [[paramCount(shape)], Float32Array.from(work.grad)]]);
      },
    });
    tf.registerKernel({
      kernelName: ICL_STACK_FORWARD, backendName: bn,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as AnyBackend;
        const { params, z, zq } = inputs as Record<string, tf.TensorInfo>;
        const { shape, L, B } = checkStackInputs(ICL_STACK_FORWARD, params!, z!, zq!, attrs as unknown as IclStackAttrs);
        const out = new Float32Array(B);
        stackForward(input(wasm, be, params!), 0, shape, L, B, input(wasm, be, z!), input(wasm, be, zq!), out, stackWorkFor(shape, L));
        return outputs(wasm, be, [[[B], out]])[0]!;
      },
    });
    tf.registerKernel({
      kernelName: ICL_STACK_BACKWARD, backendName: bn,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as AnyBackend;
        const { params, z, zq, dy } = inputs as Record<string, tf.TensorInfo>;
        const { shape, L, B } = checkStackInputs(ICL_STACK_BACKWARD, params!, z!, zq!, attrs as unknown as IclStackAttrs);
        const work = stackWorkFor(shape, L);
        stackLossGrad(input(wasm, be, params!), 0, shape, L, B, input(wasm, be, z!), input(wasm, be, zq!), null, work, input(wasm, be, dy!));
        return outputs(wasm, be, [[[stackParamCount(shape)], Float32Array.from(work.grad)]])[0]!;
      },
    });
    tf.registerKernel({
      kernelName: ICL_STACK_LOSS_GRAD, backendName: bn,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as AnyBackend;
        const { params, z, zq, yq } = inputs as Record<string, tf.TensorInfo>;
        const { shape, L, B } = checkStackInputs(ICL_STACK_LOSS_GRAD, params!, z!, zq!, attrs as unknown as IclStackAttrs);
        const work = stackWorkFor(shape, L);
        const loss = stackLossGrad(Float64Array.from(input(wasm, be, params!)), 0, shape, L, B, asF64(input(wasm, be, z!), 'z'), asF64(input(wasm, be, zq!), 'q'), input(wasm, be, yq!), work);
        return outputs(wasm, be, [[[], Float32Array.of(loss)], [[stackParamCount(shape)], Float32Array.from(work.grad)]]);
      },
    });
    tf.registerKernel({
      kernelName: ADAM_FLAT, backendName: bn,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as AnyBackend;
        const cfg = attrs as unknown as AdamConfig & { step: number };
        const { param, m, v, grad } = inputs as Record<string, tf.TensorInfo>;
        const n = param!.shape[0]!;
        const state = new Float32Array(3 * n);
        state.set(input(wasm, be, param!), 0);
        state.set(input(wasm, be, m!), n);
        state.set(input(wasm, be, v!), 2 * n);
        adamFlat(state, 0, n, input(wasm, be, grad!), cfg.step, cfg);
        return outputs(wasm, be, [[[n], state.slice(0, n)], [[n], state.slice(n, 2 * n)], [[n], state.slice(2 * n)]]);
      },
    });
  }
  registerParamsGradient(ICL_STACK_FORWARD, ICL_STACK_BACKWARD);
  registerParamsGradient(ICL_FORWARD, ICL_BACKWARD);
}

/**
 * The gradient of a fused forward kernel {params, z, zq} → ŷ: with respect to params through its
 * backward kernel. z and zq are data, not trained, so their gradients are not provided (asking
 * for them throws, naming the kernel).
 */
function registerParamsGradient(forward: string, backward: string): void {
  tf.registerGradient({
    kernelName: forward, inputsToSave: ['params', 'z', 'zq'],
    gradFunc: (dy, saved, attrs) => {
      const [params, z, zq] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const dataOnly = (what: string) => () => {
        throw new Error(`${forward}: no gradient with respect to ${what}: the fused kernels differentiate the parameters only (z and zq are data)`);
      };
      return {
        params: () => tf.engine().runKernel(backward, { params, z, zq, dy: dy as tf.Tensor }, attrs as never) as tf.Tensor,
        z: dataOnly('z'),
        zq: dataOnly('zq'),
      };
    },
  });
}

/** Validates Adam's attributes. */
export function checkAdam(name: string, a: AdamConfig): void {
  for (const [k, v, lo, hi] of [['lr', a.lr, 0, Infinity], ['beta1', a.beta1, 0, 1], ['beta2', a.beta2, 0, 1], ['eps', a.eps, 0, Infinity]] as const) {
    if (!(typeof v === 'number' && v >= lo && v < hi)) throw new RangeError(`${name}: ${k} must be a number in [${lo}, ${hi}); got ${String(v)}`);
  }
}

/**
 * Fused forward of seed 004's query-only attention: predictions [B] from flat params, z and zq
 * (differentiable with respect to params).
 *
 * @example
 * const pred = iclForward(params, z, zq, { heads: 2, d: 5 });
 */
export function iclForward(params: tf.Tensor1D, z: tf.Tensor3D, zq: tf.Tensor2D, attrs: IclAttrs): tf.Tensor1D {
  registerFusedKernels();
  return tf.engine().runKernel(ICL_FORWARD, { params, z, zq }, attrs as never) as tf.Tensor1D;
}

/**
 * Fused MSE loss and its parameter gradient in one kernel.
 *
 * @example
 * const [loss, grad] = iclLossGrad(params, z, zq, yq, { heads: 2, d: 5 });
 */
export function iclLossGrad(params: tf.Tensor1D, z: tf.Tensor3D, zq: tf.Tensor2D, yq: tf.Tensor1D, attrs: IclAttrs): [tf.Scalar, tf.Tensor1D] {
  registerFusedKernels();
  return tf.engine().runKernel(ICL_LOSS_GRAD, { params, z, zq, yq }, attrs as never) as unknown as [tf.Scalar, tf.Tensor1D];
}

/**
 * One fused Adam update (PyTorch form) of a flat parameter vector; returns new [param, m, v].
 *
 * @example
 * const [p1, m1, v1] = adamFlatUpdate(p, m, v, g, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 1);
 */
export function adamFlatUpdate(
  param: tf.Tensor1D, m: tf.Tensor1D, v: tf.Tensor1D, grad: tf.Tensor1D, cfg: AdamConfig, step: number,
): [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] {
  registerFusedKernels();
  checkAdam('adamFlatUpdate', cfg);
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`adamFlatUpdate: step must be an integer ≥ 1; got ${step}`);
  const attrs = { lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, step };
  return tf.engine().runKernel(ADAM_FLAT, { param, m, v, grad }, attrs as never) as unknown as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
}

/**
 * Fused forward of seed 004's causal stack (cpu, wasm and webgpu backends): predictions [B] from flat
 * params (stack.ts's layout), z and zq, differentiable with respect to params.
 *
 * @example
 * const pred = iclStackForward(params, z, zq, { heads: 2, d: 5, layers: 2, tied: false, residual: false });
 */
export function iclStackForward(params: tf.Tensor1D, z: tf.Tensor3D, zq: tf.Tensor2D, attrs: IclStackAttrs): tf.Tensor1D {
  registerFusedKernels();
  return tf.engine().runKernel(ICL_STACK_FORWARD, { params, z, zq }, attrs as never) as tf.Tensor1D;
}

/**
 * The causal stack's MSE loss and its parameter gradient in one kernel (cpu, wasm and webgpu backends).
 *
 * @example
 * const [loss, grad] = iclStackLossGrad(params, z, zq, yq, { heads: 2, d: 5, layers: 2, tied: false, residual: false });
 */
export function iclStackLossGrad(params: tf.Tensor1D, z: tf.Tensor3D, zq: tf.Tensor2D, yq: tf.Tensor1D, attrs: IclStackAttrs): [tf.Scalar, tf.Tensor1D] {
  registerFusedKernels();
  return tf.engine().runKernel(ICL_STACK_LOSS_GRAD, { params, z, zq, yq }, attrs as never) as unknown as [tf.Scalar, tf.Tensor1D];
}

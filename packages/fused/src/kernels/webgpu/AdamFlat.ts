/** AttnlabAdamFlat on webgpu: one invocation per parameter, bias corrections on the host in float64. */
import type * as tf from '@tensorflow/tfjs-core';
import { ADAM_FLAT } from '../names.js';
import { bufferOf, dispatch, pipelineFor, uniform, type WebGPUBackendLike } from './common.js';

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

export const adamFlatWebGPUConfig: tf.KernelConfig = {
  kernelName: ADAM_FLAT,
  backendName: 'webgpu',
  kernelFunc: (({
    inputs,
    backend,
    attrs,
  }: {
    inputs: tf.NamedTensorInfoMap;
    backend: unknown;
    attrs?: tf.NamedAttrMap;
  }) => {
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
};

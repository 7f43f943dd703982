/** AttnlabAdamFlat {param, m, v, grad} (lr, beta1, beta2, eps, step) → [param', m', v'] (cpu, wasm): PyTorch's Adam (src/optimizer.ts). */
import type * as tf from '@tensorflow/tfjs-core';
import { optimizeFlat } from '../optimizer.js';
import { ADAM_FLAT, type AdamFlatAttrs } from './names.js';
import { hostIO, type HostBackendName } from './host.js';

function kernelFunc(backendName: HostBackendName): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const io = hostIO(backendName, backend);
    const a = attrs as unknown as AdamFlatAttrs;
    const { param, m, v, grad } = inputs as Record<string, tf.TensorInfo>;
    const n = param!.shape[0]!;
    const p1 = Float32Array.from(io.input(param!));
    const m1 = Float32Array.from(io.input(m!));
    const v1 = Float32Array.from(io.input(v!));
    const adam = {
      method: 'adam' as const,
      lr: a.lr,
      betas: [a.beta1, a.beta2] as [number, number],
      eps: a.eps,
      weightDecay: 0,
    };
    optimizeFlat(adam, p1, m1, v1, io.input(grad!), [{ offset: 0, length: n }], [a.step - 1]);
    return io.outputs([
      [[n], p1],
      [[n], m1],
      [[n], v1],
    ]);
  };
}

export const adamFlatCpuConfig: tf.KernelConfig = {
  kernelName: ADAM_FLAT,
  backendName: 'cpu',
  kernelFunc: kernelFunc('cpu'),
};
export const adamFlatWasmConfig: tf.KernelConfig = {
  kernelName: ADAM_FLAT,
  backendName: 'wasm',
  kernelFunc: kernelFunc('wasm'),
};

/** AttnlabIclStackForward {params, z, zq} → ŷ [B] (cpu, wasm): the causal stack's forward. */
import type * as tf from '@tensorflow/tfjs-core';
import { stackForward } from '../stack/float64.js';
import { ICL_STACK_FORWARD, type IclStackAttrs } from './names.js';
import { checkStackInputs, hostIO, stackWorkFor, type HostBackendName } from './host.js';

function kernelFunc(backendName: HostBackendName): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const io = hostIO(backendName, backend);
    const { params, z, zq } = inputs as Record<string, tf.TensorInfo>;
    const { shape, L, B } = checkStackInputs(ICL_STACK_FORWARD, params!, z!, zq!, attrs as unknown as IclStackAttrs);
    const out = new Float32Array(B);
    stackForward(io.input(params!), 0, shape, L, B, io.input(z!), io.input(zq!), out, stackWorkFor(shape, L));
    return io.outputs([[[B], out]])[0]!;
  };
}

export const iclStackForwardCpuConfig: tf.KernelConfig = {
  kernelName: ICL_STACK_FORWARD,
  backendName: 'cpu',
  kernelFunc: kernelFunc('cpu'),
};
export const iclStackForwardWasmConfig: tf.KernelConfig = {
  kernelName: ICL_STACK_FORWARD,
  backendName: 'wasm',
  kernelFunc: kernelFunc('wasm'),
};

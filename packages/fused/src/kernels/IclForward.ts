/** AttnlabIclForward {params [P], z [B, L, D], zq [B, D]} → ŷ [B] (cpu, wasm): the single layer's forward. */
import type * as tf from '@tensorflow/tfjs-core';
import { fusedForward } from '../single/float64.js';
import { ICL_FORWARD, type IclAttrs } from './names.js';
import { checkIclInputs, hostIO, workFor, type HostBackendName } from './host.js';

function kernelFunc(backendName: HostBackendName): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const io = hostIO(backendName, backend);
    const { params, z, zq } = inputs as Record<string, tf.TensorInfo>;
    const { shape, L, B } = checkIclInputs(ICL_FORWARD, params!, z!, zq!, attrs as unknown as IclAttrs);
    const out = new Float32Array(B);
    fusedForward(io.input(params!), 0, shape, L, B, io.input(z!), io.input(zq!), out, workFor(shape, L));
    return io.outputs([[[B], out]])[0]!;
  };
}

export const iclForwardCpuConfig: tf.KernelConfig = {
  kernelName: ICL_FORWARD,
  backendName: 'cpu',
  kernelFunc: kernelFunc('cpu'),
};
export const iclForwardWasmConfig: tf.KernelConfig = {
  kernelName: ICL_FORWARD,
  backendName: 'wasm',
  kernelFunc: kernelFunc('wasm'),
};

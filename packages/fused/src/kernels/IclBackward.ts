/** AttnlabIclBackward {params, z, zq, dy [B]} → ∂(Σ dy·ŷ)/∂params [P] (cpu, wasm): the gradient of AttnlabIclForward. */
import type * as tf from '@tensorflow/tfjs-core';
import { fusedLossGrad, paramCount } from '../single/float64.js';
import { ICL_BACKWARD, type IclAttrs } from './names.js';
import { checkIclInputs, hostIO, workFor, type HostBackendName } from './host.js';

function kernelFunc(backendName: HostBackendName): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const io = hostIO(backendName, backend);
    const { params, z, zq, dy } = inputs as Record<string, tf.TensorInfo>;
    const { shape, L, B } = checkIclInputs(ICL_BACKWARD, params!, z!, zq!, attrs as unknown as IclAttrs);
    const work = workFor(shape, L);
    fusedLossGrad(io.input(params!), 0, shape, L, B, io.input(z!), io.input(zq!), null, work, io.input(dy!));
    return io.outputs([[[paramCount(shape)], Float32Array.from(work.grad)]])[0]!;
  };
}

export const iclBackwardCpuConfig: tf.KernelConfig = {
  kernelName: ICL_BACKWARD,
  backendName: 'cpu',
  kernelFunc: kernelFunc('cpu'),
};
export const iclBackwardWasmConfig: tf.KernelConfig = {
  kernelName: ICL_BACKWARD,
  backendName: 'wasm',
  kernelFunc: kernelFunc('wasm'),
};

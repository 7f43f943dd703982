/** AttnlabIclStackBackward {params, z, zq, dy} → ∂(Σ dy·ŷ)/∂params [P] (cpu, wasm): the gradient of AttnlabIclStackForward. */
import type * as tf from '@tensorflow/tfjs-core';
import { stackLossGrad, stackParamCount } from '../stack/float64.js';
import { ICL_STACK_BACKWARD, type IclStackAttrs } from './names.js';
import { checkStackInputs, hostIO, stackWorkFor, type HostBackendName } from './host.js';

function kernelFunc(backendName: HostBackendName): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const io = hostIO(backendName, backend);
    const { params, z, zq, dy } = inputs as Record<string, tf.TensorInfo>;
    const { shape, L, B } = checkStackInputs(ICL_STACK_BACKWARD, params!, z!, zq!, attrs as unknown as IclStackAttrs);
    const work = stackWorkFor(shape, L);
    stackLossGrad(io.input(params!), 0, shape, L, B, io.input(z!), io.input(zq!), null, work, io.input(dy!));
    return io.outputs([[[stackParamCount(shape)], Float32Array.from(work.grad)]])[0]!;
  };
}

export const iclStackBackwardCpuConfig: tf.KernelConfig = {
  kernelName: ICL_STACK_BACKWARD,
  backendName: 'cpu',
  kernelFunc: kernelFunc('cpu'),
};
export const iclStackBackwardWasmConfig: tf.KernelConfig = {
  kernelName: ICL_STACK_BACKWARD,
  backendName: 'wasm',
  kernelFunc: kernelFunc('wasm'),
};

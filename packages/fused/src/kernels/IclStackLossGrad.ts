/** AttnlabIclStackLossGrad {params, z, zq, yq} → [MSE loss [], ∂loss/∂params [P]] (cpu, wasm), in float64 inside. */
import type * as tf from '@tensorflow/tfjs-core';
import { stackLossGrad, stackParamCount } from '../stack/float64.js';
import { ICL_STACK_LOSS_GRAD, type IclStackAttrs } from './names.js';
import { checkStackInputs, hostIO, asF64, stackWorkFor, type HostBackendName } from './host.js';

function kernelFunc(backendName: HostBackendName): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const io = hostIO(backendName, backend);
    const { params, z, zq, yq } = inputs as Record<string, tf.TensorInfo>;
    const { shape, L, B } = checkStackInputs(ICL_STACK_LOSS_GRAD, params!, z!, zq!, attrs as unknown as IclStackAttrs);
    const work = stackWorkFor(shape, L);
    const loss = stackLossGrad(
      Float64Array.from(io.input(params!)),
      0,
      shape,
      L,
      B,
      asF64(io.input(z!), 'z'),
      asF64(io.input(zq!), 'q'),
      io.input(yq!),
      work,
    );
    return io.outputs([
      [[], Float32Array.of(loss)],
      [[stackParamCount(shape)], Float32Array.from(work.grad)],
    ]);
  };
}

export const iclStackLossGradCpuConfig: tf.KernelConfig = {
  kernelName: ICL_STACK_LOSS_GRAD,
  backendName: 'cpu',
  kernelFunc: kernelFunc('cpu'),
};
export const iclStackLossGradWasmConfig: tf.KernelConfig = {
  kernelName: ICL_STACK_LOSS_GRAD,
  backendName: 'wasm',
  kernelFunc: kernelFunc('wasm'),
};

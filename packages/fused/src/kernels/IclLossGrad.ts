/** AttnlabIclLossGrad {params, z, zq, yq [B]} → [MSE loss [], ∂loss/∂params [P]] (cpu, wasm), in float64 inside. */
import type * as tf from '@tensorflow/tfjs-core';
import { fusedLossGrad, paramCount } from '../single/float64.js';
import { ICL_LOSS_GRAD, type IclAttrs } from './names.js';
import { checkIclInputs, hostIO, asF64, workFor, type HostBackendName } from './host.js';

function kernelFunc(backendName: HostBackendName): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const io = hostIO(backendName, backend);
    const { params, z, zq, yq } = inputs as Record<string, tf.TensorInfo>;
    const { shape, L, B } = checkIclInputs(ICL_LOSS_GRAD, params!, z!, zq!, attrs as unknown as IclAttrs);
    const work = workFor(shape, L);
    const p64 = Float64Array.from(io.input(params!));
    const loss = fusedLossGrad(
      p64,
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
      [[paramCount(shape)], Float32Array.from(work.grad)],
    ]);
  };
}

export const iclLossGradCpuConfig: tf.KernelConfig = {
  kernelName: ICL_LOSS_GRAD,
  backendName: 'cpu',
  kernelFunc: kernelFunc('cpu'),
};
export const iclLossGradWasmConfig: tf.KernelConfig = {
  kernelName: ICL_LOSS_GRAD,
  backendName: 'wasm',
  kernelFunc: kernelFunc('wasm'),
};

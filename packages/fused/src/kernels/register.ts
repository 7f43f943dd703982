/**
 * Registers every fused kernel (cpu, wasm, webgpu) from one flat list, as tfjs's backends do, and
 * the gradients of the two forward kernels (with respect to params).
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamFlatCpuConfig, adamFlatWasmConfig } from './AdamFlat.js';
import { iclBackwardCpuConfig, iclBackwardWasmConfig } from './IclBackward.js';
import { iclForwardCpuConfig, iclForwardWasmConfig } from './IclForward.js';
import { iclLossGradCpuConfig, iclLossGradWasmConfig } from './IclLossGrad.js';
import { iclStackBackwardCpuConfig, iclStackBackwardWasmConfig } from './IclStackBackward.js';
import { iclStackForwardCpuConfig, iclStackForwardWasmConfig } from './IclStackForward.js';
import { iclStackLossGradCpuConfig, iclStackLossGradWasmConfig } from './IclStackLossGrad.js';
import { ICL_BACKWARD, ICL_FORWARD, ICL_STACK_BACKWARD, ICL_STACK_FORWARD } from './names.js';
import { adamFlatWebGPUConfig } from './webgpu/AdamFlat.js';
import { iclBackwardWebGPUConfig } from './webgpu/IclBackward.js';
import { iclForwardWebGPUConfig } from './webgpu/IclForward.js';
import { iclLossGradWebGPUConfig } from './webgpu/IclLossGrad.js';
import { iclStackBackwardWebGPUConfig } from './webgpu/IclStackBackward.js';
import { iclStackForwardWebGPUConfig } from './webgpu/IclStackForward.js';
import { iclStackLossGradWebGPUConfig } from './webgpu/IclStackLossGrad.js';

/** Every kernel of this package on every backend. */
export const FUSED_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  iclForwardCpuConfig,
  iclForwardWasmConfig,
  iclForwardWebGPUConfig,
  iclBackwardCpuConfig,
  iclBackwardWasmConfig,
  iclBackwardWebGPUConfig,
  iclLossGradCpuConfig,
  iclLossGradWasmConfig,
  iclLossGradWebGPUConfig,
  adamFlatCpuConfig,
  adamFlatWasmConfig,
  adamFlatWebGPUConfig,
  iclStackForwardCpuConfig,
  iclStackForwardWasmConfig,
  iclStackForwardWebGPUConfig,
  iclStackBackwardCpuConfig,
  iclStackBackwardWasmConfig,
  iclStackBackwardWebGPUConfig,
  iclStackLossGradCpuConfig,
  iclStackLossGradWasmConfig,
  iclStackLossGradWebGPUConfig,
];

let registered = false;

/**
 * Registers the fused kernels for the cpu, wasm and webgpu backends and the forward kernels'
 * gradients (idempotent; the ops call it).
 *
 * @example
 * registerFusedKernels();
 * const pred = tf.engine().runKernel('AttnlabIclForward', { params, z, zq }, { heads: 2, d: 5 });
 */
export function registerFusedKernels(): void {
  if (registered) return;
  registered = true;
  for (const config of FUSED_KERNEL_CONFIGS) tf.registerKernel(config);
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
    kernelName: forward,
    inputsToSave: ['params', 'z', 'zq'],
    gradFunc: (dy, saved, attrs) => {
      const [params, z, zq] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const dataOnly = (what: string) => () => {
        throw new Error(
          `${forward}: no gradient with respect to ${what}: the fused kernels differentiate the parameters only (z and zq are data)`,
        );
      };
      return {
        params: () =>
          tf.engine().runKernel(backward, { params, z, zq, dy: dy as tf.Tensor }, attrs as never) as tf.Tensor,
        z: dataOnly('z'),
        zq: dataOnly('zq'),
      };
    },
  });
}

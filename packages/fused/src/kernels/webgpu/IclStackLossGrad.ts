/** AttnlabIclStackLossGrad on webgpu. */
import type * as tf from '@tensorflow/tfjs-core';
import { ICL_STACK_LOSS_GRAD } from '../names.js';
import { stackKernelFunc } from './common.js';

export const iclStackLossGradWebGPUConfig: tf.KernelConfig = {
  kernelName: ICL_STACK_LOSS_GRAD,
  backendName: 'webgpu',
  kernelFunc: stackKernelFunc('lossgrad', ICL_STACK_LOSS_GRAD),
};

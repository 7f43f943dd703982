/** AttnlabIclLossGrad on webgpu. */
import type * as tf from '@tensorflow/tfjs-core';
import { ICL_LOSS_GRAD } from '../names.js';
import { singleKernelFunc } from './common.js';

export const iclLossGradWebGPUConfig: tf.KernelConfig = {
  kernelName: ICL_LOSS_GRAD,
  backendName: 'webgpu',
  kernelFunc: singleKernelFunc('lossgrad'),
};

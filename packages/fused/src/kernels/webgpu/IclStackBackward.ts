/** AttnlabIclStackBackward on webgpu. */
import type * as tf from '@tensorflow/tfjs-core';
import { ICL_STACK_BACKWARD } from '../names.js';
import { stackKernelFunc } from './common.js';

export const iclStackBackwardWebGPUConfig: tf.KernelConfig = {
  kernelName: ICL_STACK_BACKWARD,
  backendName: 'webgpu',
  kernelFunc: stackKernelFunc('backward', ICL_STACK_BACKWARD),
};

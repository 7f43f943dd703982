/** AttnlabIclStackForward on webgpu. */
import type * as tf from '@tensorflow/tfjs-core';
import { ICL_STACK_FORWARD } from '../names.js';
import { stackKernelFunc } from './common.js';

export const iclStackForwardWebGPUConfig: tf.KernelConfig = {
  kernelName: ICL_STACK_FORWARD,
  backendName: 'webgpu',
  kernelFunc: stackKernelFunc('forward', ICL_STACK_FORWARD),
};

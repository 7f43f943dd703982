/** AttnlabIclForward on webgpu. */
import type * as tf from '@tensorflow/tfjs-core';
import { ICL_FORWARD } from '../names.js';
import { singleKernelFunc } from './common.js';

export const iclForwardWebGPUConfig: tf.KernelConfig = {
  kernelName: ICL_FORWARD,
  backendName: 'webgpu',
  kernelFunc: singleKernelFunc('forward'),
};

/** AttnlabIclBackward on webgpu. */
import type * as tf from '@tensorflow/tfjs-core';
import { ICL_BACKWARD } from '../names.js';
import { singleKernelFunc } from './common.js';

export const iclBackwardWebGPUConfig: tf.KernelConfig = {
  kernelName: ICL_BACKWARD,
  backendName: 'webgpu',
  kernelFunc: singleKernelFunc('backward'),
};

import * as tf from '@tensorflow/tfjs-core';
import { registerAllGradients } from './generated/register-gradients.js';
import { registerMatMulGradient } from './matmul-gradient.js';

let registered = false;

/**
 * Registers tfjs-core's gradient configs once per process. tfjs-core alone registers none,
 * and ships them only as ESM that Node cannot load; we bundle them from tfjs-core itself
 * (`scripts/gen-gradients.mjs`), then replaces BatchMatMul's with ours (`matmul-gradient.ts`: explicit
 * transposes where the backend's transposed products are slow, broadcast batch axes summed back).
 * Returns how many tfjs-core configs this call registered (0 after the first).
 */
export function registerGradients(): number {
  if (registered) return 0;
  registered = true;
  // tfjs keeps its gradient registry on the global object: another copy of this module (a second
  // bundle, or a test runner reloading modules) may have registered them already.
  const n = tf.getGradient('Softmax') !== undefined ? 0 : registerAllGradients();
  registerMatMulGradient();
  return n;
}

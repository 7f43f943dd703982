import * as tf from '@tensorflow/tfjs-core';
import { registerAllGradients } from './generated/register-gradients.js';

let registered = false;

/**
 * Registers tfjs-core's gradient configs once per process. tfjs-core alone registers none,
 * and ships them only as ESM that Node cannot load; we bundle them from tfjs-core itself
 * (`scripts/gen-gradients.mjs`). Returns how many configs this call registered (0 after the first).
 */
export function registerGradients(): number {
  if (registered) return 0;
  registered = true;
  // tfjs keeps its gradient registry on the global object: another copy of this module (a second
  // bundle, or a test runner reloading modules) may have registered them already.
  if (tf.getGradient('Softmax') !== undefined) return 0;
  return registerAllGradients();
}

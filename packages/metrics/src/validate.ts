/** Argument checks shared by the metrics: each error names the function, argument, value and what is allowed. */
import type * as tf from '@tensorflow/tfjs-core';

export function checkTensor(fn: string, arg: string, t: unknown, ranks?: number[]): asserts t is tf.Tensor {
  if (typeof t !== 'object' || t === null || !('shape' in t) || typeof (t as tf.Tensor).data !== 'function') {
    throw new TypeError(`${fn}: ${arg} must be a tf.Tensor; got ${t === null ? 'null' : typeof t}`);
  }
  const tensor = t as tf.Tensor;
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') {
    throw new TypeError(`${fn}: ${arg} must have dtype float32 or int32; got ${tensor.dtype}`);
  }
  if (ranks && !ranks.includes(tensor.rank)) {
    throw new RangeError(`${fn}: ${arg} must be rank ${ranks.join(' or ')}; got shape [${tensor.shape.join(', ')}]`);
  }
}

export function checkInteger(fn: string, arg: string, v: unknown, min: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`${fn}: ${arg} must be an integer ≥ ${min}; got ${String(v)}`);
  }
}

export function checkNumber(
  fn: string,
  arg: string,
  v: unknown,
  min: number,
  max: number,
  openLow = false,
): asserts v is number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (openLow ? v > min : v >= min) && v <= max;
  if (!ok)
    throw new RangeError(`${fn}: ${arg} must be a number in ${openLow ? '(' : '['}${min}, ${max}]; got ${String(v)}`);
}

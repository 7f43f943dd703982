/** Argument checks of the seed-004 attention (internal). Messages name function, argument, value, allowed. */
import * as tf from '@tensorflow/tfjs-core';

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function checkInt(fn: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new RangeError(`${fn}: ${name} must be an integer ≥ ${min}; got ${String(v)}`);
  return v;
}

export function checkSeed(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`${fn}: ${name} must be an integer in [0, 2^53 − 1]; got ${String(v)}`);
  return v;
}

export function checkU32(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new RangeError(`${fn}: ${name} must be an integer in [0, 4294967295]; got ${String(v)}`);
  return v;
}

export function checkOneOf<T extends string>(fn: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new RangeError(
      `${fn}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${typeof v === 'string' ? `'${v}'` : String(v)}`,
    );
  }
  return v as T;
}

export function checkTensor(fn: string, name: string, t: unknown): asserts t is tf.Tensor {
  if (!(t instanceof tf.Tensor))
    throw new TypeError(`${fn}: ${name} must be a tf.Tensor; got ${t === null ? 'null' : typeof t}`);
}

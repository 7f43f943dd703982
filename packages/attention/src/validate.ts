/** Internal argument checks shared by the attention functions (not exported from the package). */
import type * as tf from '@tensorflow/tfjs-core';

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function assertTensor(fn: string, name: string, t: unknown): asserts t is tf.Tensor {
  if (
    t === null ||
    typeof t !== 'object' ||
    !('shape' in t) ||
    !('dtype' in t) ||
    !Array.isArray((t as tf.Tensor).shape)
  ) {
    throw new TypeError(`${fn}: ${name} must be a tf.Tensor; got ${t === null ? 'null' : typeof t}`);
  }
}

export function assertFloat(fn: string, name: string, t: tf.Tensor): void {
  if (t.dtype !== 'float32') {
    throw new TypeError(`${fn}: ${name} must have dtype float32; got ${t.dtype}`);
  }
}

export function assertRank(fn: string, name: string, t: tf.Tensor, rank: number, layout: string): void {
  if (t.rank !== rank) {
    throw new RangeError(`${fn}: ${name} must be rank ${rank} ${layout}; got shape ${shapeStr(t.shape)}`);
  }
}

export function assertPositiveInt(fn: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`${fn}: ${name} must be a positive integer; got ${String(v)}`);
  }
}

export function assertNonNegativeInt(fn: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new RangeError(`${fn}: ${name} must be a non-negative integer; got ${String(v)}`);
  }
}

export function assertOneOf<T extends string>(
  fn: string,
  name: string,
  v: unknown,
  allowed: readonly T[],
): asserts v is T {
  if (!allowed.includes(v as T)) {
    throw new RangeError(
      `${fn}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${JSON.stringify(v)}`,
    );
  }
}

export function assertBoolean(fn: string, name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') {
    throw new TypeError(`${fn}: ${name} must be a boolean; got ${JSON.stringify(v)}`);
  }
}

export function assertShape(fn: string, name: string, t: tf.Tensor, expected: readonly number[], layout: string): void {
  const ok = t.rank === expected.length && t.shape.every((d, i) => d === expected[i]);
  if (!ok) {
    throw new RangeError(`${fn}: ${name} must have shape ${shapeStr(expected)} ${layout}; got ${shapeStr(t.shape)}`);
  }
}

/** True when `shape` broadcasts (numpy rules, right-aligned) to `target` without changing it. */
export function broadcastsTo(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false;
  const off = target.length - shape.length;
  return shape.every((d, i) => d === 1 || d === target[i + off]);
}

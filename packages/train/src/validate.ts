/** Argument checks shared by the package; every message names the function, the argument, the value and what is allowed. */
import * as tf from '@tensorflow/tfjs-core';

export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v instanceof tf.Tensor) return `Tensor(shape [${v.shape.join(', ')}], ${v.dtype})`;
  if (Array.isArray(v))
    return `[${v.length > 8 ? `${v.slice(0, 8).map(show).join(', ')}, …` : v.map(show).join(', ')}]`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object' && v !== null) {
    if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
    try {
      const s = JSON.stringify(v);
      return s.length > 120 ? `${s.slice(0, 117)}…` : s;
    } catch {
      return Object.prototype.toString.call(v);
    }
  }
  return String(v);
}

export function checkNumber(fn: string, name: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new RangeError(`${fn}: ${name} must be a finite number in [${min}, ${max}]; got ${show(v)}`);
  }
  return v;
}

export function checkInt(fn: string, name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
    throw new RangeError(`${fn}: ${name} must be ${range}; got ${show(v)}`);
  }
  return v;
}

export function checkFunction(fn: string, name: string, v: unknown): void {
  if (typeof v !== 'function') throw new TypeError(`${fn}: ${name} must be a function; got ${show(v)}`);
}

export function checkObject(fn: string, name: string, v: unknown): asserts v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new TypeError(`${fn}: ${name} must be an object; got ${show(v)}`);
  }
}

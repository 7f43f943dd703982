/** Small shared argument checks; every message names the function, the argument, the value and what is allowed. */

export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v))
    return `[${v.length > 8 ? `${v.slice(0, 8).map(show).join(', ')}, …` : v.map(show).join(', ')}]`;
  if (typeof v === 'object' && v !== null)
    return ArrayBuffer.isView(v)
      ? `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`
      : JSON.stringify(v);
  return String(v);
}

export function checkInt(fn: string, name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
    throw new RangeError(`${fn}: ${name} must be ${range}; got ${show(v)}`);
  }
  return v;
}

export function checkNumber(fn: string, name: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new RangeError(`${fn}: ${name} must be a finite number in [${min}, ${max}]; got ${show(v)}`);
  }
  return v;
}

export function checkSeed(fn: string, v: unknown, name = 'seed'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${fn}: ${name} must be an integer in [0, 2^53 − 1]; got ${show(v)}`);
  }
  return v;
}

const U32_MAX = 0xffffffff;

export function checkU32(fn: string, name: string, v: unknown): number {
  return checkInt(fn, name, v, 0, U32_MAX);
}

export function checkOneOf<T extends string>(fn: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new RangeError(`${fn}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${show(v)}`);
  }
  return v as T;
}

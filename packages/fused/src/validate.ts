/** Argument checks: every message names the function, the argument, the value and what is allowed. */

export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v))
    return `[${v.length > 8 ? `${v.slice(0, 8).map(show).join(', ')}, …` : v.map(show).join(', ')}]`;
  if (typeof v === 'object' && v !== null) {
    if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}

export function checkObject(
  fn: string,
  name: string,
  v: unknown,
  what = 'an object',
): asserts v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new TypeError(`${fn}: ${name} must be ${what}; got ${show(v)}`);
}

export function checkInt(fn: string, name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
    throw new RangeError(`${fn}: ${name} must be ${range}; got ${show(v)}`);
  }
  return v;
}

export function checkNumber(
  fn: string,
  name: string,
  v: unknown,
  min: number,
  max = Infinity,
  maxOpen = false,
): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (maxOpen && v === max)) {
    throw new RangeError(
      `${fn}: ${name} must be a finite number in [${min}, ${max}${maxOpen ? ')' : ']'}; got ${show(v)}`,
    );
  }
  return v;
}

export function checkOneOf<T extends string>(fn: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new RangeError(`${fn}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${show(v)}`);
  }
  return v as T;
}

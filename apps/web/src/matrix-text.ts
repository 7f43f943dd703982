/** Matrices as text (textareas) and in URLs. */

/** Parses rows of numbers (one row per line, separated by spaces or commas); errors name the row and the bad token. */
export function parseMatrix(text: string, name: string, cols?: number): number[][] {
  const rows = text
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l, i) =>
      l.split(/[\s,]+/).map((x) => {
        const v = Number(x);
        if (x === '' || !Number.isFinite(v)) throw new Error(`${name}, row ${i + 1}: '${x}' is not a number`);
        return v;
      }),
    );
  if (!rows.length) throw new Error(`${name} is empty`);
  const c = cols ?? rows[0]!.length;
  rows.forEach((r, i) => {
    if (r.length !== c) throw new Error(`${name}, row ${i + 1}: expected ${c} numbers, got ${r.length}`);
  });
  return rows;
}

export const matrixText = (m: number[][]): string => m.map((r) => r.join(' ')).join('\n');

/** `1,0;0,1` ⇄ [[1,0],[0,1]] (compact enough for a URL). */
export const matrixToParam = (m: number[][]): string => m.map((r) => r.join(',')).join(';');
export function matrixFromParam(s: string | null): number[][] | undefined {
  if (!s) return undefined;
  const m = s.split(';').map((r) => r.split(',').map(Number));
  return m.every((r) => r.every(Number.isFinite)) ? m : undefined;
}

export const sameMatrix = (a: number[][], b: number[][]): boolean =>
  a.length === b.length && a.every((r, i) => r.length === b[i]!.length && r.every((x, j) => x === b[i]![j]));

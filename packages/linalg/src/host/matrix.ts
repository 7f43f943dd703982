/**
 * Dense float64 matrices on the host: the representation every algorithm in this package
 * works on. Row-major, `data[i * cols + j]` is entry (i, j).
 */
export interface HostMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** A zero-filled `rows × cols` float64 matrix.  * @example
 * zeros(2, 3).data.length;   // 6
 */
export function zeros(rows: number, cols: number): HostMatrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** The `n × n` identity.  * @example
 * identity(3).data;   // [1,0,0, 0,1,0, 0,0,1]
 */
export function identity(n: number): HostMatrix {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

/** Builds a host matrix from nested arrays (rows of equal length).  * @example
 * const a = fromRows([[1, 2], [3, 4]]);   // { rows: 2, cols: 2, data: [1, 2, 3, 4] }
 */
export function fromRows(rows: ArrayLike<ArrayLike<number>>): HostMatrix {
  const r = rows.length;
  const c = r === 0 ? 0 : rows[0]!.length;
  const m = zeros(r, c);
  for (let i = 0; i < r; i++) {
    const row = rows[i]!;
    if (row.length !== c)
      throw new RangeError(`fromRows: row ${i} has length ${row.length}; expected ${c} (all rows equal)`);
    for (let j = 0; j < c; j++) m.data[i * c + j] = row[j]!;
  }
  return m;
}

/** The transpose, as a new matrix.  * @example
 * transpose(fromRows([[1, 2, 3]])).rows;   // 3
 */
export function transpose(a: HostMatrix): HostMatrix {
  const t = zeros(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) t.data[j * a.rows + i] = a.data[i * a.cols + j]!;
  return t;
}

/** The product `a · b`.  * @example
 * matmul(fromRows([[1, 2]]), fromRows([[3], [4]])).data;   // [11]
 */
export function matmul(a: HostMatrix, b: HostMatrix): HostMatrix {
  if (a.cols !== b.rows)
    throw new RangeError(`matmul: inner dimensions differ (${a.rows}×${a.cols} · ${b.rows}×${b.cols})`);
  const c = zeros(a.rows, b.cols);
  const n = b.cols;
  for (let i = 0; i < a.rows; i++) {
    const ci = i * n;
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k]!;
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) c.data[ci + j]! += aik * b.data[bk + j]!;
    }
  }
  return c;
}

/** True when every entry is finite.  * @example
 * allFinite([1, NaN]);   // false
 */
export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

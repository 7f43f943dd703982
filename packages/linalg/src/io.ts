/** Moving batches of matrices between tfjs tensors (float32) and the host (float64). */
import * as tf from '@tensorflow/tfjs-core';
import { allFinite, type HostMatrix } from './host/matrix.js';

export interface MatrixBatch {
  /** Leading (batch) dimensions. */
  batchShape: number[];
  count: number;
  rows: number;
  cols: number;
  /** All matrices back to back, row-major, float64. */
  data: Float64Array;
}

export interface ReadOptions {
  /** Smallest accepted rank (2 for matrices). */
  minRank?: number;
  square?: boolean;
  /** Reject NaN and ±Infinity (iterative algorithms would not converge on them). */
  finite?: boolean;
}

/** Throws unless `t` is a numeric tfjs tensor. */
export function checkTensor(fn: string, arg: string, t: unknown): asserts t is tf.Tensor {
  if (
    typeof t !== 'object' ||
    t === null ||
    !('shape' in t) ||
    !('dtype' in t) ||
    typeof (t as tf.Tensor).data !== 'function'
  ) {
    throw new TypeError(`${fn}: ${arg} must be a tf.Tensor; got ${t === null ? 'null' : typeof t}`);
  }
  const dtype = (t as tf.Tensor).dtype;
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new TypeError(`${fn}: ${arg} must have dtype float32 or int32; got ${dtype}`);
  }
}

/** Reads a tensor `[...batch, rows, cols]` to float64 on the host, validating its shape. */
export async function readMatrices(
  fn: string,
  arg: string,
  t: tf.Tensor,
  options: ReadOptions = {},
): Promise<MatrixBatch> {
  checkTensor(fn, arg, t);
  const minRank = options.minRank ?? 2;
  const shape = t.shape;
  if (shape.length < minRank) {
    throw new RangeError(`${fn}: ${arg} must be rank ≥ ${minRank} [..., rows, cols]; got shape [${shape.join(', ')}]`);
  }
  const rows = shape[shape.length - 2]!;
  const cols = shape[shape.length - 1]!;
  if (options.square && rows !== cols) {
    throw new RangeError(
      `${fn}: ${arg} must be square in its last two dimensions [..., n, n]; got shape [${shape.join(', ')}]`,
    );
  }
  const batchShape = shape.slice(0, -2);
  const count = batchShape.reduce((a, b) => a * b, 1);
  const data = Float64Array.from(await t.data());
  if (options.finite && !allFinite(data)) {
    throw new RangeError(`${fn}: ${arg} contains NaN or Infinity; only finite values are allowed`);
  }
  return { batchShape, count, rows, cols, data };
}

/** The b-th matrix of a batch as a host matrix (a copy). */
export function matrixAt(batch: MatrixBatch, b: number): HostMatrix {
  const size = batch.rows * batch.cols;
  return { rows: batch.rows, cols: batch.cols, data: batch.data.slice(b * size, (b + 1) * size) };
}

/** A float32 tensor from float64 host values. */
export function toTensor(values: ArrayLike<number>, shape: number[]): tf.Tensor {
  return tf.tensor(Float32Array.from(values), shape, 'float32');
}

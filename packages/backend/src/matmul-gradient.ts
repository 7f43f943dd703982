/**
 * BatchMatMul's gradient in forms that each backend runs on its fast kernel.
 *
 * tfjs-core's own gradient (`gradients/BatchMatMul_grad.ts`) returns transposed products, e.g.
 * dA = matMul(dy, b, false, true) and dB = matMul(a, dy, true, false). tfjs-backend-wasm 4.22 sends a
 * product to XNNPACK only when both operands are unbatched and neither is transposed; every other
 * form goes to a scalar loop. Measured on a 2-core EPYC (wasm, SIMD, one thread), [4000, 256] × [256, 256]:
 * NN 25 GFLOP/s, NT/TN/TT 2.4 GFLOP/s, an explicit tf.transpose then NN 11–27 GFLOP/s. So on wasm
 * the unbatched backward products become an explicit transpose plus a plain product. Batched products
 * (batch > 1) run the scalar loop in every form (1.1–2.4 GFLOP/s, no form faster), and on cpu and webgpu
 * the transposed forms are as fast as NN or faster than an extra transpose kernel (cpu: NT/TN within
 * 10% of NN, a separate transpose adds 20–200%; webgpu reads transposed operands in the shader), so those
 * keep tfjs's forms. Numbers: BENCHMARKS.md, "Seeds 003 and 000".
 *
 * Batch dimensions that were broadcast in the forward pass (one operand with fewer or size-1 batch
 * dimensions) are summed back to the operand's shape, which tfjs-core's gradient does not do.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Backends whose BatchMatMul is fast only for unbatched, untransposed operands. */
const EXPLICIT_TRANSPOSE_BACKENDS = new Set(['wasm']);

const batchSize = (shape: readonly number[]): number => shape.slice(0, -2).reduce((p, n) => p * n, 1);

/** Swaps the last two axes. */
function transposeLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}

/** Sums `g` over the batch axes that were broadcast to produce it, and reshapes it to `shape`. */
function unbroadcast(g: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((n, i) => n === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank - 2; i++) {
    if (i < lead || shape[i - lead] === 1) axes.push(i);
  }
  const summed = axes.length > 0 ? tf.sum(g, axes) : g;
  return tf.reshape(summed, [...shape]);
}

/**
 * The four products of the gradient: for C = op(A)·op(B) with op = identity or transpose,
 *   NN: dA = dy Bᵀ,     dB = Aᵀ dy
 *   NT: dA = dy B,      dB = dyᵀ A
 *   TN: dA = B dyᵀ,     dB = A dy
 *   TT: dA = Bᵀ dyᵀ,    dB = dyᵀ Aᵀ
 * `fast` writes every transposed operand as an explicit transpose and every product as NN.
 */
function products(
  dy: tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA: boolean,
  transposeB: boolean,
  fast: boolean,
): { a: () => tf.Tensor; b: () => tf.Tensor } {
  const mm = (x: tf.Tensor, tx: boolean, y: tf.Tensor, ty: boolean) =>
    fast ? tf.matMul(tx ? transposeLast(x) : x, ty ? transposeLast(y) : y) : tf.matMul(x, y, tx, ty);
  if (!transposeA && !transposeB) return { a: () => mm(dy, false, b, true), b: () => mm(a, true, dy, false) };
  if (!transposeA && transposeB) return { a: () => mm(dy, false, b, false), b: () => mm(dy, true, a, false) };
  if (transposeA && !transposeB) return { a: () => mm(b, false, dy, true), b: () => mm(a, false, dy, false) };
  // TT: (dy B)ᵀ and (A dy)ᵀ need one transpose each instead of two.
  if (fast) return { a: () => transposeLast(tf.matMul(dy, b)), b: () => transposeLast(tf.matMul(a, dy)) };
  return { a: () => tf.matMul(b, dy, true, true), b: () => tf.matMul(dy, a, true, true) };
}

/** The gradient config registered for BatchMatMul (replacing tfjs-core's). */
export const batchMatMulGradConfig: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const g = dy as tf.Tensor;
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    const fast =
      EXPLICIT_TRANSPOSE_BACKENDS.has(tf.getBackend()) && batchSize(a.shape) === 1 && batchSize(b.shape) === 1;
    const p = products(g, a, b, Boolean(transposeA), Boolean(transposeB), fast);
    return { a: () => unbroadcast(p.a(), a.shape), b: () => unbroadcast(p.b(), b.shape) };
  },
};

/** Registers {@link batchMatMulGradConfig} (idempotent: the registry keeps one config per kernel). */
export function registerMatMulGradient(): void {
  tf.registerGradient(batchMatMulGradConfig);
}
